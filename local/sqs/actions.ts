/**
 * The SQS actions the local queue serves, as the JSON protocol names them (`X-Amz-Target:
 * AmazonSQS.<Action>`): each takes the parsed request body, checks it as SQS does (parameter
 * ranges and SQS's messages for them) and answers the response body. The semantics are the
 * store's (./store.ts); this is the protocol around them.
 */
import { createHash } from 'node:crypto';
import {
  batchEntryIdsNotDistinct,
  batchRequestTooLong,
  emptyBatchRequest,
  invalidBatchEntryId,
  invalidMessageContents,
  invalidParameterValue,
  missingParameter,
  queueDoesNotExist,
  serializationError,
  SqsError,
  tooManyEntriesInBatchRequest,
} from './errors';
import { md5OfMessageAttributes, parseMessageAttributes, type MessageAttributes } from './message-attributes';
import type { NewMessage, QueueStore, ReceivedMessage } from './store';

export interface ActionContext {
  store: QueueStore;
  /** Who signed the request: the messages' SenderId. */
  accessKeyId: string;
  queueUrl(name: string): string;
  /** Aborted when the caller goes away (ends a long poll). */
  signal: AbortSignal;
}

type Input = Record<string, unknown>;
type Action = (input: Input, ctx: ActionContext) => Promise<Record<string, unknown>>;

const MAX_BATCH = 10;
const BATCH_ID = /^[A-Za-z0-9_-]{1,80}$/;
/** The characters SQS accepts in a message body. */
const INVALID_BODY = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const SYSTEM_ATTRIBUTES = ['SenderId', 'SentTimestamp', 'ApproximateReceiveCount', 'ApproximateFirstReceiveTimestamp', 'DeadLetterQueueSourceArn'];
/** FIFO-only attributes: a standard queue has none to give. */
const FIFO_SYSTEM_ATTRIBUTES = new Set(['SequenceNumber', 'MessageDeduplicationId', 'MessageGroupId', 'AWSTraceHeader']);

function str(input: Input, name: string): string {
  const value = input[name];
  if (value === undefined || value === null || value === '') throw missingParameter(name);
  if (typeof value !== 'string') throw serializationError(`${name} must be a string.`);
  return value;
}

function optionalInt(input: Input, name: string): number | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw serializationError(`${name} must be an integer.`);
  return value;
}

function stringList(input: Input, name: string): string[] {
  const value = input[name];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw serializationError(`${name} must be a list of strings.`);
  return value as string[];
}

function stringMap(input: Input, name: string): Record<string, string> {
  const value = input[name];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw serializationError(`${name} must be a map of strings.`);
  }
  return value as Record<string, string>;
}

function entries(input: Input, entryName: string): Input[] {
  const value = input.Entries;
  if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) throw emptyBatchRequest(entryName);
  if (!Array.isArray(value) || value.some((e) => typeof e !== 'object' || e === null)) throw serializationError('Entries must be a list.');
  if (value.length > MAX_BATCH) throw tooManyEntriesInBatchRequest(value.length);
  const seen = new Set<string>();
  for (const entry of value as Input[]) {
    const id = entry.Id;
    if (typeof id !== 'string' || !BATCH_ID.test(id)) throw invalidBatchEntryId();
    if (seen.has(id)) throw batchEntryIdsNotDistinct(id);
    seen.add(id);
  }
  return value as Input[];
}

function inRange(name: string, value: number | undefined, min: number, max: number, reason: string): void {
  if (value !== undefined && (value < min || value > max)) {
    throw invalidParameterValue(`Value ${value} for parameter ${name} is invalid. Reason: ${reason}`);
  }
}

/** A batch entry's failure as SQS reports it, for errors a caller can see per entry. */
function failure(id: string, err: unknown): Record<string, unknown> {
  if (!(err instanceof SqsError)) throw err;
  return { Id: id, SenderFault: err.senderFault, Code: err.code, Message: err.message };
}

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

/** Checks one message to send; the queue's MaximumMessageSize bounds body and attributes together. */
function newMessage(input: Input, ctx: ActionContext, maxSize: number): NewMessage & { size: number } {
  const body = str(input, 'MessageBody');
  if (INVALID_BODY.test(body)) throw invalidMessageContents();
  const delay = optionalInt(input, 'DelaySeconds');
  inRange('DelaySeconds', delay, 0, 900, 'DelaySeconds must be >= 0 and <= 900.');
  for (const fifoOnly of ['MessageDeduplicationId', 'MessageSystemAttributes'] as const) {
    if (input[fifoOnly] !== undefined && input[fifoOnly] !== null) {
      throw invalidParameterValue(`Value for parameter ${fifoOnly} is invalid. Reason: The request include parameter that is not valid for this queue type.`);
    }
  }
  const attributes = parseMessageAttributes(input.MessageAttributes);
  const size = Buffer.byteLength(body) + (attributes?.bytes ?? 0);
  if (size > maxSize) throw invalidParameterValue(`One or more parameters are invalid. Reason: Message must be shorter than ${maxSize} bytes.`);
  return {
    body,
    md5OfBody: md5(body),
    ...(attributes ? { messageAttributes: attributes.attributes, md5OfMessageAttributes: md5OfMessageAttributes(attributes.attributes) } : {}),
    ...(delay !== undefined ? { delaySeconds: delay } : {}),
    senderId: ctx.accessKeyId,
    size,
  };
}

/** The message attributes a receive asked for: `All`, `.*`, a `prefix.*`, or names. */
function selectMessageAttributes(all: MessageAttributes, names: readonly string[]): MessageAttributes | undefined {
  const out: MessageAttributes = {};
  for (const [name, value] of Object.entries(all)) {
    const wanted = names.some((n) => n === 'All' || n === '.*' || n === name || (n.endsWith('.*') && name.startsWith(n.slice(0, -1))));
    if (wanted) out[name] = value;
  }
  return Object.keys(out).length ? out : undefined;
}

function toWire(m: ReceivedMessage, systemNames: readonly string[], attributeNames: readonly string[]): Record<string, unknown> {
  const wire: Record<string, unknown> = { MessageId: m.messageId, ReceiptHandle: m.receiptHandle, MD5OfBody: m.md5OfBody, Body: m.body };
  const all = systemNames.includes('All');
  const attributes: Record<string, string> = {};
  for (const name of SYSTEM_ATTRIBUTES) {
    const value = m.attributes[name];
    if (value !== undefined && (all || systemNames.includes(name))) attributes[name] = value;
  }
  if (Object.keys(attributes).length) wire.Attributes = attributes;
  const selected = m.messageAttributes ? selectMessageAttributes(m.messageAttributes, attributeNames) : undefined;
  if (selected) {
    // The digest covers the attributes returned, so a client can check what it got.
    wire.MD5OfMessageAttributes = md5OfMessageAttributes(selected);
    wire.MessageAttributes = selected;
  }
  return wire;
}

export const ACTIONS: Record<string, Action> = {
  async CreateQueue(input, ctx) {
    const name = str(input, 'QueueName');
    await ctx.store.createQueue(name, stringMap(input, 'Attributes'));
    return { QueueUrl: ctx.queueUrl(name) };
  },

  async GetQueueUrl(input, ctx) {
    const name = str(input, 'QueueName');
    const owner = input.QueueOwnerAWSAccountId;
    const queue = ctx.store.queueNamed(name);
    if (owner !== undefined && owner !== null && owner !== ctx.store.accountId) throw queueDoesNotExist();
    return { QueueUrl: ctx.queueUrl(queue.name) };
  },

  async ListQueues(input, ctx) {
    const prefix = typeof input.QueueNamePrefix === 'string' ? input.QueueNamePrefix : '';
    const max = optionalInt(input, 'MaxResults');
    inRange('MaxResults', max, 1, 1000, 'MaxResults must be an integer between 1 and 1000.');
    let names = ctx.store.listQueueNames(prefix);
    const token = typeof input.NextToken === 'string' ? input.NextToken : undefined;
    if (token !== undefined) {
      const after = Buffer.from(token, 'base64url').toString('utf8');
      names = names.filter((n) => n > after);
    }
    const page = names.slice(0, max ?? 1000);
    const out: Record<string, unknown> = {};
    if (page.length) out.QueueUrls = page.map((n) => ctx.queueUrl(n));
    // Like SQS, a NextToken only when the caller asked for pages.
    if (max !== undefined && names.length > page.length) out.NextToken = Buffer.from(page[page.length - 1]!).toString('base64url');
    return out;
  },

  async DeleteQueue(input, ctx) {
    await ctx.store.deleteQueue(ctx.store.queueForUrl(str(input, 'QueueUrl')));
    return {};
  },

  async GetQueueAttributes(input, ctx) {
    const queue = ctx.store.queueForUrl(str(input, 'QueueUrl'));
    const attributes = ctx.store.getQueueAttributes(queue, stringList(input, 'AttributeNames'));
    return Object.keys(attributes).length ? { Attributes: attributes } : {};
  },

  async SetQueueAttributes(input, ctx) {
    const queue = ctx.store.queueForUrl(str(input, 'QueueUrl'));
    if (input.Attributes === undefined || input.Attributes === null) throw missingParameter('Attributes');
    await ctx.store.setQueueAttributes(queue, stringMap(input, 'Attributes'));
    return {};
  },

  async ListDeadLetterSourceQueues(input, ctx) {
    const queue = ctx.store.queueForUrl(str(input, 'QueueUrl'));
    const sources = ctx.store.listQueueNames().filter((n) => ctx.store.queueNamed(n).redrivePolicy?.deadLetterTargetArn === queue.arn);
    // `queueUrls`, lower-case: that is the member's name in SQS's model.
    return { queueUrls: sources.map((n) => ctx.queueUrl(n)) };
  },

  async SendMessage(input, ctx) {
    const queue = ctx.store.queueForUrl(str(input, 'QueueUrl'));
    const message = newMessage(input, ctx, queue.integer('MaximumMessageSize'));
    const { messageId } = await ctx.store.send(queue, message);
    return {
      MessageId: messageId,
      MD5OfMessageBody: message.md5OfBody,
      ...(message.md5OfMessageAttributes ? { MD5OfMessageAttributes: message.md5OfMessageAttributes } : {}),
    };
  },

  async SendMessageBatch(input, ctx) {
    const queue = ctx.store.queueForUrl(str(input, 'QueueUrl'));
    const list = entries(input, 'SendMessageBatchRequestEntry');
    const maxSize = queue.integer('MaximumMessageSize');
    const total = list.reduce((sum, e) => sum + (typeof e.MessageBody === 'string' ? Buffer.byteLength(e.MessageBody) : 0), 0);
    if (total > maxSize) throw batchRequestTooLong(maxSize, total);
    const results = await Promise.all(
      list.map(async (entry) => {
        const id = entry.Id as string;
        try {
          const message = newMessage(entry, ctx, maxSize);
          const { messageId } = await ctx.store.send(queue, message);
          return {
            ok: {
              Id: id,
              MessageId: messageId,
              MD5OfMessageBody: message.md5OfBody,
              ...(message.md5OfMessageAttributes ? { MD5OfMessageAttributes: message.md5OfMessageAttributes } : {}),
            },
          };
        } catch (err) {
          return { failed: failure(id, err) };
        }
      }),
    );
    return batchResult(results);
  },

  async ReceiveMessage(input, ctx) {
    const queue = ctx.store.queueForUrl(str(input, 'QueueUrl'));
    const max = optionalInt(input, 'MaxNumberOfMessages') ?? 1;
    inRange('MaxNumberOfMessages', max, 1, 10, 'Must be between 1 and 10, if provided.');
    const visibility = optionalInt(input, 'VisibilityTimeout');
    inRange('VisibilityTimeout', visibility, 0, 43_200, 'Must be >= 0 and <= 43200, if provided.');
    const wait = optionalInt(input, 'WaitTimeSeconds') ?? queue.integer('ReceiveMessageWaitTimeSeconds');
    inRange('WaitTimeSeconds', wait, 0, 20, 'Must be >= 0 and <= 20, if provided.');
    // AttributeNames is the older name of MessageSystemAttributeNames; SQS takes both.
    const systemNames = [...stringList(input, 'AttributeNames'), ...stringList(input, 'MessageSystemAttributeNames')];
    for (const name of systemNames) {
      if (name !== 'All' && !SYSTEM_ATTRIBUTES.includes(name) && !FIFO_SYSTEM_ATTRIBUTES.has(name)) {
        throw invalidParameterValue(`Value ${name} for parameter AttributeName is invalid.`);
      }
    }
    const attributeNames = stringList(input, 'MessageAttributeNames');
    const messages = await ctx.store.receive(queue, max, visibility, wait, ctx.signal);
    return messages.length ? { Messages: messages.map((m) => toWire(m, systemNames, attributeNames)) } : {};
  },

  async DeleteMessage(input, ctx) {
    const queue = ctx.store.queueForUrl(str(input, 'QueueUrl'));
    await ctx.store.deleteMessage(queue, str(input, 'ReceiptHandle'));
    return {};
  },

  async DeleteMessageBatch(input, ctx) {
    const queue = ctx.store.queueForUrl(str(input, 'QueueUrl'));
    const list = entries(input, 'DeleteMessageBatchRequestEntry');
    const results = await Promise.all(
      list.map(async (entry) => {
        const id = entry.Id as string;
        try {
          await ctx.store.deleteMessage(queue, str(entry, 'ReceiptHandle'));
          return { ok: { Id: id } };
        } catch (err) {
          return { failed: failure(id, err) };
        }
      }),
    );
    return batchResult(results);
  },

  async ChangeMessageVisibility(input, ctx) {
    const queue = ctx.store.queueForUrl(str(input, 'QueueUrl'));
    const handle = str(input, 'ReceiptHandle');
    const timeout = requiredVisibility(input);
    await ctx.store.changeMessageVisibility(queue, handle, timeout);
    return {};
  },

  async ChangeMessageVisibilityBatch(input, ctx) {
    const queue = ctx.store.queueForUrl(str(input, 'QueueUrl'));
    const list = entries(input, 'ChangeMessageVisibilityBatchRequestEntry');
    const results = await Promise.all(
      list.map(async (entry) => {
        const id = entry.Id as string;
        try {
          await ctx.store.changeMessageVisibility(queue, str(entry, 'ReceiptHandle'), requiredVisibility(entry));
          return { ok: { Id: id } };
        } catch (err) {
          return { failed: failure(id, err) };
        }
      }),
    );
    return batchResult(results);
  },

  async PurgeQueue(input, ctx) {
    await ctx.store.purge(ctx.store.queueForUrl(str(input, 'QueueUrl')));
    return {};
  },

  async StartMessageMoveTask(input, ctx) {
    const destination = input.DestinationArn;
    if (destination !== undefined && destination !== null && typeof destination !== 'string') throw serializationError('DestinationArn must be a string.');
    const taskHandle = ctx.store.startMoveTask(str(input, 'SourceArn'), destination ?? undefined, optionalInt(input, 'MaxNumberOfMessagesPerSecond'));
    return { TaskHandle: taskHandle };
  },

  async ListMessageMoveTasks(input, ctx) {
    const max = optionalInt(input, 'MaxResults') ?? 1;
    inRange('MaxResults', max, 1, 10, 'MaxResults must be between 1 and 10.');
    const tasks = ctx.store.listMoveTasks(str(input, 'SourceArn'), max);
    return {
      Results: tasks.map((t) => ({
        // SQS gives the handle of a running task only: only that one can be cancelled.
        ...(t.status === 'RUNNING' ? { TaskHandle: t.taskHandle } : {}),
        Status: t.status,
        SourceArn: t.sourceArn,
        ...(t.destinationArn !== undefined ? { DestinationArn: t.destinationArn } : {}),
        ...(t.maxNumberOfMessagesPerSecond !== undefined ? { MaxNumberOfMessagesPerSecond: t.maxNumberOfMessagesPerSecond } : {}),
        ApproximateNumberOfMessagesMoved: t.approximateNumberOfMessagesMoved,
        ApproximateNumberOfMessagesToMove: t.approximateNumberOfMessagesToMove,
        ...(t.failureReason !== undefined ? { FailureReason: t.failureReason } : {}),
        StartedTimestamp: t.startedTimestamp,
      })),
    };
  },

  async CancelMessageMoveTask(input, ctx) {
    return { ApproximateNumberOfMessagesMoved: ctx.store.cancelMoveTask(str(input, 'TaskHandle')) };
  },
};

/** Actions SQS has that the local queue does not serve (permissions, tags): refused by name rather than as unknown. */
export const NOT_SERVED = new Set(['AddPermission', 'RemovePermission', 'TagQueue', 'UntagQueue', 'ListQueueTags']);

function requiredVisibility(input: Input): number {
  const timeout = optionalInt(input, 'VisibilityTimeout');
  if (timeout === undefined) throw missingParameter('VisibilityTimeout');
  inRange('VisibilityTimeout', timeout, 0, 43_200, 'VisibilityTimeout must be an integer between 0 and 43200.');
  return timeout;
}

function batchResult(results: ({ ok: Record<string, unknown> } | { failed: Record<string, unknown> })[]): Record<string, unknown> {
  return {
    Successful: results.flatMap((r) => ('ok' in r ? [r.ok] : [])),
    Failed: results.flatMap((r) => ('failed' in r ? [r.failed] : [])),
  };
}
