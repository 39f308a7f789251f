/**
 * What Lambda's SQS event source mapping does, for local mode: pollers long-poll the queue, each
 * batch becomes an `SQSEvent` shaped exactly as Lambda delivers it, the function runs under its
 * timeout, and the records it did not report in `batchItemFailures` are deleted
 * (ReportBatchItemFailures). Everything else is the queue's doing: a failed record stays invisible
 * until its visibility timeout passes, comes back with a higher ApproximateReceiveCount, and moves
 * to the dead-letter queue when it would be received once more than the redrive policy allows.
 *
 * As Lambda does:
 * - up to `maxConcurrency` pollers, each with one batch at a time, so at most that many invocations;
 * - MaxNumberOfMessages = `batchSize`, WaitTimeSeconds 20, all system and message attributes;
 * - a function that throws, or has not answered within its timeout, fails the whole batch: nothing
 *   is deleted (the late answer of a timed-out handler is dropped: it cannot be stopped in-process);
 * - an answer whose batchItemFailures names an empty, missing or unknown itemIdentifier fails the
 *   whole batch; no answer, or an empty or absent list, succeeds the whole batch.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord, SQSRecordAttributes } from 'aws-lambda';

export type SqsHandler = (event: SQSEvent) => Promise<SQSBatchResponse | void>;

export interface EventSourceMappingOptions {
  sqs: SQSClient;
  queueUrl: string;
  /** The record's eventSourceARN. */
  queueArn: string;
  /** The record's awsRegion. */
  region: string;
  handler: SqsHandler;
  /** MaxNumberOfMessages of each receive (1-10). */
  batchSize: number;
  /** Pollers, hence invocations at once, at most. */
  maxConcurrency: number;
  /** The function's timeout: a batch not answered within it fails as a whole. */
  functionTimeoutMs: number;
  log: (line: string) => void;
  /** Long-poll wait of each receive. Default 20 s, as Lambda. */
  waitTimeSeconds?: number;
  /**
   * Local mode only, not Lambda: failed records are made visible again after this many seconds
   * rather than after the queue's visibility timeout (the stack's is 30 minutes, too long to wait
   * for a retry on a laptop). Unset: as Lambda, they wait for the visibility timeout.
   */
  retryAfterSeconds?: number;
  /** How often idle() asks the queue for its counts. Default 50 ms. */
  idlePollMs?: number;
}

export interface EventSourceMapping {
  /**
   * Resolves when the queue has no visible, in-flight or delayed message and no batch is being
   * handled: every message sent before has been processed or dead-lettered, retries included.
   * Rejects if the mapping is stopped first.
   */
  idle(): Promise<void>;
  /** Stops polling; a batch being handled is finished (and its records deleted) first. */
  stop(): Promise<void>;
}

/** After a receive fails (queue gone, server down): wait before polling again. */
const RECEIVE_RETRY_MS = 1000;

export function startEventSourceMapping(options: EventSourceMappingOptions): EventSourceMapping {
  const { sqs, queueUrl, log } = options;
  if (!Number.isInteger(options.batchSize) || options.batchSize < 1 || options.batchSize > 10) {
    throw new RangeError(`batchSize must be 1 to 10 for an SQS event source, not ${options.batchSize}`);
  }
  if (!Number.isInteger(options.maxConcurrency) || options.maxConcurrency < 1) {
    throw new RangeError(`maxConcurrency must be a positive integer, not ${options.maxConcurrency}`);
  }
  const polls = new AbortController();
  let stopping = false;
  /** Batches between their receive and the end of their delete. */
  let handling = 0;

  async function poller(): Promise<void> {
    while (!stopping) {
      let messages: Message[];
      try {
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: options.batchSize,
            WaitTimeSeconds: options.waitTimeSeconds ?? 20,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: polls.signal },
        );
        messages = out.Messages ?? [];
      } catch (err) {
        if (stopping) break;
        log(`event source mapping: receive failed (${errorText(err)}); polling again in ${RECEIVE_RETRY_MS / 1000} s`);
        await sleep(RECEIVE_RETRY_MS, polls.signal);
        continue;
      }
      if (messages.length === 0) continue;
      // Received before a stop took effect: these are in flight, so they are handled, not dropped.
      handling++;
      try {
        await handleBatch(messages);
      } catch (err) {
        log(`event source mapping: batch not settled (${errorText(err)}); its records come back after the visibility timeout`);
      } finally {
        handling--;
      }
    }
  }

  async function handleBatch(messages: Message[]): Promise<void> {
    const event: SQSEvent = { Records: messages.map((m) => toRecord(m, options)) };
    let failed: ReadonlySet<string> | 'all';
    try {
      failed = reportedFailures(await withinTimeout(options.handler(event), options.functionTimeoutMs), event);
      if (failed === 'all') log(`event source mapping: batch of ${messages.length} failed: batchItemFailures names an empty or unknown itemIdentifier`);
    } catch (err) {
      log(`event source mapping: batch of ${messages.length} failed: ${errorText(err)}`);
      failed = 'all';
    }
    if (failed !== 'all' && failed.size > 0) {
      log(`event source mapping: ${failed.size} of ${messages.length} records failed; they come back after the visibility timeout`);
    }
    const done = failed === 'all' ? [] : event.Records.filter((r) => !failed.has(r.messageId));
    const retried = failed === 'all' ? event.Records : event.Records.filter((r) => failed.has(r.messageId));
    if (options.retryAfterSeconds !== undefined && retried.length > 0) {
      await sqs
        .send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: queueUrl,
            Entries: retried.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle, VisibilityTimeout: options.retryAfterSeconds })),
          }),
        )
        .catch((err: unknown) => log(`event source mapping: could not bring failed records back early (${errorText(err)}); they come back after the visibility timeout`));
    }
    if (done.length === 0) return;
    const out = await sqs.send(
      new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })) }),
    );
    for (const f of out.Failed ?? []) {
      const record = done[Number(f.Id)];
      log(`event source mapping: could not delete ${record?.messageId ?? f.Id} (${f.Code}: ${f.Message}); it will be delivered again`);
    }
  }

  const pollers = Array.from({ length: options.maxConcurrency }, () => poller());

  return {
    async idle() {
      for (;;) {
        if (stopping) throw new Error('The event source mapping was stopped before its queue was empty.');
        if (handling === 0) {
          const { Attributes = {} } = await sqs.send(
            new GetQueueAttributesCommand({
              QueueUrl: queueUrl,
              AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
            }),
          );
          const pending = Number(Attributes.ApproximateNumberOfMessages ?? 0) + Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) + Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0);
          // Counted again after the answer: a batch may have been received while it was on its way.
          if (pending === 0 && handling === 0) return;
        }
        await sleep(options.idlePollMs ?? 50);
      }
    },
    async stop() {
      stopping = true;
      polls.abort();
      await Promise.all(pollers);
    },
  };
}

/** One received message as Lambda puts it in an SQSEvent. */
function toRecord(m: Message, options: EventSourceMappingOptions): SQSRecord {
  const a = m.Attributes ?? {};
  const attributes: SQSRecordAttributes = {
    ApproximateReceiveCount: a.ApproximateReceiveCount ?? '',
    SentTimestamp: a.SentTimestamp ?? '',
    SenderId: a.SenderId ?? '',
    ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? '',
    ...(a.AWSTraceHeader !== undefined ? { AWSTraceHeader: a.AWSTraceHeader } : {}),
  };
  return {
    messageId: m.MessageId ?? '',
    receiptHandle: m.ReceiptHandle ?? '',
    body: m.Body ?? '',
    attributes,
    messageAttributes: toLambdaAttributes(m.MessageAttributes ?? {}),
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: options.queueArn,
    awsRegion: options.region,
  };
}

/** SQS's `{ StringValue, BinaryValue, DataType }` as Lambda writes it: camel case, lists always present, binary as base64. */
function toLambdaAttributes(attributes: Record<string, MessageAttributeValue>): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes)) {
    out[name] = {
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
      dataType: value.DataType ?? 'String',
    };
  }
  return out;
}

/** The records to keep, or 'all' when the answer fails the whole batch (Lambda's rules). */
function reportedFailures(response: unknown, event: SQSEvent): ReadonlySet<string> | 'all' {
  if (response === undefined || response === null) return new Set();
  if (typeof response !== 'object' || Array.isArray(response)) return 'all';
  const list = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (list === undefined || list === null) return new Set();
  if (!Array.isArray(list)) return 'all';
  const ids = new Set(event.Records.map((r) => r.messageId));
  const failed = new Set<string>();
  for (const item of list as unknown[]) {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !ids.has(id)) return 'all';
    failed.add(id);
  }
  return failed;
}

/** The function's timeout as Lambda enforces it; the handler cannot be stopped, its late answer is dropped. */
function withinTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`)), timeoutMs);
  });
  work.catch(() => undefined); // a failure after the timeout is not an unhandled rejection
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

function errorText(err: unknown): string {
  return (err as Error)?.message ?? String(err);
}
