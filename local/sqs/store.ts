/**
 * The queues and their messages: what SQS does with a message between SendMessage and
 * DeleteMessage, kept on disk so a restart loses nothing.
 *
 * Semantics, as SQS documents them for standard queues:
 * - a receive makes a message invisible for the visibility timeout (whole seconds, 0 allowed),
 *   counts the receive and gives a new receipt handle; only the latest handle deletes it (an older
 *   one is answered with success and deletes nothing, as SQS's DeleteMessage reference says);
 * - a message whose receive count has reached the redrive policy's maxReceiveCount moves to the
 *   dead-letter queue when it would be received again, keeping its id, its SentTimestamp and its
 *   receive count, and naming its source in DeadLetterQueueSourceArn;
 * - a move task (StartMessageMoveTask) sends a dead-letter queue's messages back as new messages
 *   (new id, new SentTimestamp, receive count 0), as SQS's redrive does;
 * - a message older than the retention period is dropped when a receive comes to it.
 *
 * On disk, under `<directory>/queues/<name>/`: `queue.json` (attributes), and per message
 * `messages/<id>.json` (id, body, attributes, sent time: written once, never changed) and
 * `messages/<id>.state.json` (receive count, visibility, receipt handle: rewritten on each receive
 * or visibility change). Every write goes to a temporary file renamed over the old one, so a file
 * is whole or absent after a crash. The content file is the commit point: a state file without
 * one is a leftover and is removed at start. Small files rather than an append-only log: deleting a
 * message frees its space at once (no compaction), a crash needs no log replay, a receive writes
 * only the small state file, and the messages can be looked at with `ls` and `cat`.
 *
 * Memory holds, per message, only its metadata (about ten numbers and short strings; never the
 * body, which is read from disk when it is received), so memory grows with the number of messages,
 * not with their size. Invisible messages sit in a heap ordered by when they become visible.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  invalidAttributeName,
  invalidAttributeValue,
  invalidParameterValue,
  messageNotInflight,
  purgeQueueInProgress,
  queueDeletedRecently,
  queueDoesNotExist,
  queueNameExists,
  receiptHandleIsInvalid,
  resourceNotFound,
  unsupportedOperation,
} from './errors';
import { TimeHeap } from './heap';
import type { MessageAttributes } from './message-attributes';
import { readJsonFile } from '../json-file';

/** The queue attributes a caller can set, with SQS's ranges and defaults. */
const INTEGER_ATTRIBUTES: Record<string, { min: number; max: number; default: number }> = {
  DelaySeconds: { min: 0, max: 900, default: 0 },
  MaximumMessageSize: { min: 1024, max: 262_144, default: 262_144 },
  MessageRetentionPeriod: { min: 60, max: 1_209_600, default: 345_600 },
  ReceiveMessageWaitTimeSeconds: { min: 0, max: 20, default: 0 },
  VisibilityTimeout: { min: 0, max: 43_200, default: 30 },
};
/** Set-able, kept and answered, but with no effect here (local mode has no KMS or encryption at rest). */
const OPAQUE_ATTRIBUTES = new Set(['SqsManagedSseEnabled']);
/** What GetQueueAttributes answers besides the set-able ones. */
const READ_ONLY_ATTRIBUTES = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
  'QueueArn',
] as const;
export const QUEUE_ATTRIBUTE_NAMES = new Set<string>([...Object.keys(INTEGER_ATTRIBUTES), ...OPAQUE_ATTRIBUTES, 'RedrivePolicy', ...READ_ONLY_ATTRIBUTES]);

const MAX_VISIBILITY_SECONDS = 43_200;
const PURGE_INTERVAL_MS = 60_000;
const DELETED_NAME_HOLD_MS = 60_000;
const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;

export interface RedrivePolicy {
  deadLetterTargetArn: string;
  maxReceiveCount: number;
}

/** A message as memory holds it: no body. */
interface Message {
  id: string;
  sentTimestamp: number;
  senderId: string;
  receiveCount: number;
  firstReceiveTimestamp?: number;
  /** When it is (or was, or will be) visible, ms. */
  visibleAt: number;
  /** The latest receive, ms: bounds ChangeMessageVisibility's 12 hours. */
  receivedAt?: number;
  receiptHandle?: string;
  deadLetterSourceArn?: string;
  where: 'ready' | 'inflight' | 'delayed';
  /** Bumped whenever visibleAt changes, so stale heap entries are skipped. */
  version: number;
}

/** The content file: written once. */
interface MessageContent {
  id: string;
  body: string;
  md5OfBody: string;
  messageAttributes?: MessageAttributes;
  md5OfMessageAttributes?: string;
  sentTimestamp: number;
  senderId: string;
  /** Visible from (DelaySeconds). */
  visibleAt: number;
}

/** The state file: rewritten on every receive and visibility change. */
interface MessageState {
  receiveCount: number;
  firstReceiveTimestamp?: number;
  visibleAt: number;
  receivedAt?: number;
  receiptHandle?: string;
  deadLetterSourceArn?: string;
}

interface QueueFile {
  name: string;
  createdTimestamp: number;
  lastModifiedTimestamp: number;
  attributes: Record<string, string>;
}

class Queue {
  readonly messages = new Map<string, Message>();
  /** Visible messages, in the order they became visible. */
  readonly ready = new Map<string, Message>();
  /** In flight and delayed messages, by when they become visible. */
  readonly invisible = new TimeHeap();
  inflight = 0;
  delayed = 0;
  lastPurge?: number;
  deleted = false;
  readonly waiters = new Set<() => void>();

  constructor(
    readonly name: string,
    readonly arn: string,
    readonly dir: string,
    public createdTimestamp: number,
    public lastModifiedTimestamp: number,
    public attributes: Record<string, string>,
  ) {}

  integer(name: string): number {
    return Number(this.attributes[name] ?? INTEGER_ATTRIBUTES[name]!.default);
  }

  get redrivePolicy(): RedrivePolicy | undefined {
    const text = this.attributes.RedrivePolicy;
    return text ? (JSON.parse(text) as RedrivePolicy) : undefined;
  }

  /** Wakes long polls: a message became visible, or the queue is gone. */
  wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

export interface NewMessage {
  body: string;
  md5OfBody: string;
  messageAttributes?: MessageAttributes;
  md5OfMessageAttributes?: string;
  delaySeconds?: number;
  senderId: string;
}

export interface ReceivedMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  md5OfBody: string;
  messageAttributes?: MessageAttributes;
  md5OfMessageAttributes?: string;
  /** The system attributes, all of them, as strings. */
  attributes: Record<string, string>;
}

export interface PeekedMessage {
  messageId: string;
  body: string;
  sentTimestamp: number;
  receiveCount: number;
  deadLetterSourceArn?: string;
}

export interface MoveTask {
  taskHandle: string;
  status: 'RUNNING' | 'COMPLETED' | 'CANCELLING' | 'CANCELLED' | 'FAILED';
  sourceArn: string;
  destinationArn?: string;
  maxNumberOfMessagesPerSecond?: number;
  approximateNumberOfMessagesMoved: number;
  approximateNumberOfMessagesToMove: number;
  failureReason?: string;
  startedTimestamp: number;
}

export interface QueueStoreOptions {
  directory: string;
  region: string;
  accountId: string;
  /** The clock of visibility, retention and timestamps (ms). */
  now?: () => number;
  log?: (line: string) => void;
}

export class QueueStore {
  private readonly queues = new Map<string, Queue>();
  private readonly deletedAt = new Map<string, number>();
  /** File operations per message id, in order: a delete never overtakes the write it follows. */
  private readonly io = new Map<string, Promise<void>>();
  private readonly tasks = new Map<string, MoveTask[]>();
  private closed = false;
  private readonly now: () => number;
  private readonly log: (line: string) => void;

  private constructor(private readonly options: QueueStoreOptions) {
    this.now = options.now ?? Date.now;
    this.log = options.log ?? (() => undefined);
  }

  static async open(options: QueueStoreOptions): Promise<QueueStore> {
    const store = new QueueStore(options);
    await store.load();
    return store;
  }

  get accountId(): string {
    return this.options.accountId;
  }

  arnOf(name: string): string {
    return `arn:aws:sqs:${this.options.region}:${this.options.accountId}:${name}`;
  }

  /** The queue a URL's path names (`/<account>/<name>`); the host is not looked at. */
  queueForUrl(url: string): Queue {
    let path: string;
    try {
      path = new URL(url).pathname;
    } catch {
      throw queueDoesNotExist();
    }
    const [, account, name, ...rest] = path.split('/');
    const queue = account === this.options.accountId && rest.length === 0 && name ? this.queues.get(name) : undefined;
    if (!queue) throw queueDoesNotExist();
    return queue;
  }

  queueNamed(name: string): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw queueDoesNotExist();
    return queue;
  }

  private queueForArn(arn: string): Queue | undefined {
    const prefix = this.arnOf('');
    return arn.startsWith(prefix) ? this.queues.get(arn.slice(prefix.length)) : undefined;
  }

  listQueueNames(prefix = ''): string[] {
    return [...this.queues.keys()].filter((name) => name.startsWith(prefix)).sort();
  }

  // --- queues -------------------------------------------------------------------------------

  async createQueue(name: string, attributes: Record<string, string>): Promise<Queue> {
    if (name.endsWith('.fifo') || attributes.FifoQueue !== undefined) {
      throw invalidParameterValue('FIFO queues are not served by the local queue; only standard queues are.');
    }
    if (!QUEUE_NAME.test(name)) {
      throw invalidParameterValue('Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length');
    }
    const normalized = this.checkAttributes(attributes, name);
    if (normalized.RedrivePolicy === '') delete normalized.RedrivePolicy;
    const existing = this.queues.get(name);
    if (existing) {
      // Idempotent for the same attributes; SQS names the first that differs.
      for (const [key, value] of Object.entries(normalized)) {
        if ((existing.attributes[key] ?? String(INTEGER_ATTRIBUTES[key]?.default ?? '')) !== value) {
          throw queueNameExists(`A queue already exists with the same name and a different value for attribute ${key}`);
        }
      }
      return existing;
    }
    const deletedAt = this.deletedAt.get(name);
    if (deletedAt !== undefined && this.now() - deletedAt < DELETED_NAME_HOLD_MS) throw queueDeletedRecently(name);
    const now = this.now();
    const queue = new Queue(name, this.arnOf(name), join(this.options.directory, 'queues', name), Math.floor(now / 1000), Math.floor(now / 1000), normalized);
    await mkdir(join(queue.dir, 'messages'), { recursive: true });
    await this.saveQueue(queue);
    this.queues.set(name, queue);
    return queue;
  }

  async setQueueAttributes(queue: Queue, attributes: Record<string, string>): Promise<void> {
    const normalized = this.checkAttributes(attributes, queue.name);
    const next = { ...queue.attributes, ...normalized };
    // An empty RedrivePolicy removes it, as in SQS.
    if (next.RedrivePolicy === '') delete next.RedrivePolicy;
    queue.attributes = next;
    queue.lastModifiedTimestamp = Math.floor(this.now() / 1000);
    await this.saveQueue(queue);
  }

  async deleteQueue(queue: Queue): Promise<void> {
    queue.deleted = true;
    this.queues.delete(queue.name);
    this.deletedAt.set(queue.name, this.now());
    queue.wake();
    await Promise.all([...queue.messages.keys()].map((id) => this.io.get(id)));
    await rm(queue.dir, { recursive: true, force: true });
  }

  getQueueAttributes(queue: Queue, names: readonly string[]): Record<string, string> {
    this.promote(queue);
    const all = names.includes('All');
    const wanted = all ? [...QUEUE_ATTRIBUTE_NAMES] : names;
    const out: Record<string, string> = {};
    for (const name of wanted) {
      if (!QUEUE_ATTRIBUTE_NAMES.has(name)) throw invalidAttributeName(name);
      const value = this.attributeValue(queue, name);
      if (value !== undefined) out[name] = value;
    }
    return out;
  }

  private attributeValue(queue: Queue, name: string): string | undefined {
    switch (name) {
      case 'ApproximateNumberOfMessages':
        return String(queue.ready.size);
      case 'ApproximateNumberOfMessagesNotVisible':
        return String(queue.inflight);
      case 'ApproximateNumberOfMessagesDelayed':
        return String(queue.delayed);
      case 'CreatedTimestamp':
        return String(queue.createdTimestamp);
      case 'LastModifiedTimestamp':
        return String(queue.lastModifiedTimestamp);
      case 'QueueArn':
        return queue.arn;
      default:
        return queue.attributes[name] ?? (INTEGER_ATTRIBUTES[name] ? String(INTEGER_ATTRIBUTES[name].default) : undefined);
    }
  }

  /** Checks set-able attributes; returns them as SQS answers them. */
  private checkAttributes(attributes: Record<string, string>, queueName: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, raw] of Object.entries(attributes)) {
      const value = String(raw);
      const range = INTEGER_ATTRIBUTES[name];
      if (range) {
        const n = Number(value);
        if (!/^\d+$/.test(value.trim()) || n < range.min || n > range.max) throw invalidAttributeValue(name);
        out[name] = String(n);
      } else if (name === 'RedrivePolicy') {
        out[name] = value === '' ? '' : JSON.stringify(this.checkRedrivePolicy(value, queueName));
      } else if (OPAQUE_ATTRIBUTES.has(name)) {
        if (value !== 'true' && value !== 'false') throw invalidAttributeValue(name);
        out[name] = value;
      } else {
        throw invalidAttributeName(name);
      }
    }
    return out;
  }

  private checkRedrivePolicy(text: string, queueName: string): RedrivePolicy {
    const invalid = (reason: string) => invalidParameterValue(`Value ${text} for parameter RedrivePolicy is invalid. Reason: ${reason}`);
    let policy: { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
    try {
      policy = JSON.parse(text) as typeof policy;
    } catch {
      throw invalid('Invalid value for RedrivePolicy.');
    }
    const count = Number(policy?.maxReceiveCount);
    if (typeof policy?.deadLetterTargetArn !== 'string') throw invalid('Redrive policy does not contain mandatory attribute: deadLetterTargetArn.');
    if (!Number.isInteger(count) || count < 1 || count > 1000) throw invalid('Invalid value for maxReceiveCount: must be an integer between 1 and 1000.');
    const target = this.queueForArn(policy.deadLetterTargetArn);
    if (!target || target.name === queueName) throw invalid('Dead letter target does not exist.');
    return { deadLetterTargetArn: policy.deadLetterTargetArn, maxReceiveCount: count };
  }

  // --- messages -----------------------------------------------------------------------------

  /** Stores a message; resolves once it is on disk, and only then can it be received. */
  async send(queue: Queue, message: NewMessage): Promise<{ messageId: string }> {
    const now = this.now();
    const delay = message.delaySeconds ?? queue.integer('DelaySeconds');
    const content: MessageContent = {
      id: randomUUID(),
      body: message.body,
      md5OfBody: message.md5OfBody,
      ...(message.messageAttributes ? { messageAttributes: message.messageAttributes, md5OfMessageAttributes: message.md5OfMessageAttributes! } : {}),
      sentTimestamp: now,
      senderId: message.senderId,
      visibleAt: now + delay * 1000,
    };
    await this.enqueue(queue, content, { receiveCount: 0, visibleAt: content.visibleAt });
    return { messageId: content.id };
  }

  private async enqueue(queue: Queue, content: MessageContent, state: MessageState): Promise<void> {
    await this.serially(content.id, async () => {
      if (state.receiveCount > 0 || state.deadLetterSourceArn) await writeJson(this.statePath(queue, content.id), state);
      await writeJson(this.contentPath(queue, content.id), content);
    });
    if (queue.deleted) return;
    const m: Message = {
      id: content.id,
      sentTimestamp: content.sentTimestamp,
      senderId: content.senderId,
      receiveCount: state.receiveCount,
      ...(state.firstReceiveTimestamp !== undefined ? { firstReceiveTimestamp: state.firstReceiveTimestamp } : {}),
      ...(state.receivedAt !== undefined ? { receivedAt: state.receivedAt } : {}),
      ...(state.receiptHandle !== undefined ? { receiptHandle: state.receiptHandle } : {}),
      ...(state.deadLetterSourceArn !== undefined ? { deadLetterSourceArn: state.deadLetterSourceArn } : {}),
      visibleAt: state.visibleAt,
      where: 'ready',
      version: 0,
    };
    queue.messages.set(m.id, m);
    this.place(queue, m);
  }

  /**
   * Up to `max` messages, waiting up to `waitSeconds` for the first one (long polling: answered as
   * soon as one is visible). `signal` ends the wait when the caller has gone.
   */
  async receive(queue: Queue, max: number, visibilityTimeout: number | undefined, waitSeconds: number, signal?: AbortSignal): Promise<ReceivedMessage[]> {
    const deadline = this.now() + waitSeconds * 1000;
    for (;;) {
      const picked = this.pick(queue, max, visibilityTimeout ?? queue.integer('VisibilityTimeout'));
      if (picked.length > 0) return this.deliver(queue, picked);
      if (this.closed || queue.deleted || signal?.aborted || this.now() >= deadline) return [];
      await this.waitForVisible(queue, deadline, signal);
    }
  }

  /** Takes visible messages in flight (synchronously, so two receives never share one). */
  private pick(queue: Queue, max: number, visibilityTimeout: number): Message[] {
    const now = this.now();
    this.promote(queue, now);
    const retentionMs = queue.integer('MessageRetentionPeriod') * 1000;
    const redrive = queue.redrivePolicy;
    const picked: Message[] = [];
    for (const m of queue.ready.values()) {
      if (picked.length >= max) break;
      if (now - m.sentTimestamp >= retentionMs) {
        this.forget(queue, m);
        this.removeFiles(queue, m.id).catch((err: unknown) => this.log(`sqs: removing expired ${m.id} failed: ${String(err)}`));
        continue;
      }
      if (redrive && m.receiveCount >= redrive.maxReceiveCount) {
        const target = this.queueForArn(redrive.deadLetterTargetArn);
        if (target) {
          this.moveToDeadLetterQueue(queue, target, m);
          continue;
        }
        this.log(`sqs: ${queue.name}: dead-letter queue ${redrive.deadLetterTargetArn} is gone; message ${m.id} stays`);
      }
      queue.ready.delete(m.id);
      m.receiveCount++;
      m.firstReceiveTimestamp ??= now;
      m.receivedAt = now;
      m.receiptHandle = encodeReceiptHandle(queue.name, m.id);
      m.visibleAt = now + visibilityTimeout * 1000;
      picked.push(m);
    }
    // After the loop: with a visibility timeout of 0 a message is visible again at once, and must
    // not come round a second time in the same answer.
    for (const m of picked) this.place(queue, m, now);
    return picked;
  }

  /** Persists the receives, then reads the bodies. */
  private async deliver(queue: Queue, picked: Message[]): Promise<ReceivedMessage[]> {
    const out = await Promise.all(
      picked.map(async (m) => {
        const handle = m.receiptHandle!;
        const attributes = systemAttributes(m);
        const content = await this.serially(m.id, async () => {
          await writeJson(this.statePath(queue, m.id), stateOf(m));
          return readJsonFile<MessageContent>(this.contentPath(queue, m.id));
        });
        if (!content) return undefined; // purged or deleted meanwhile
        const received: ReceivedMessage = { messageId: m.id, receiptHandle: handle, body: content.body, md5OfBody: content.md5OfBody, attributes };
        if (content.messageAttributes) {
          received.messageAttributes = content.messageAttributes;
          received.md5OfMessageAttributes = content.md5OfMessageAttributes!;
        }
        return received;
      }),
    );
    return out.filter((m): m is ReceivedMessage => m !== undefined);
  }

  /** Resolves when a message may have become visible, at the deadline, or when the caller has gone. */
  private waitForVisible(queue: Queue, deadline: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const next = queue.invisible.peek()?.at;
      const wakeAt = next !== undefined ? Math.min(deadline, next) : deadline;
      const done = () => {
        clearTimeout(timer);
        queue.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, wakeAt - this.now()) + 1);
      queue.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * Every message of a queue without receiving it (no receive count, no visibility change): for
   * local tooling such as the dead-letter listing, which SQS itself offers only as the console's
   * "poll for messages". In order of sending.
   */
  async peek(queue: Queue): Promise<PeekedMessage[]> {
    const out: PeekedMessage[] = [];
    for (const m of queue.messages.values()) {
      const content = await this.serially(m.id, () => readJsonFile<MessageContent>(this.contentPath(queue, m.id))).catch(() => undefined);
      if (content) out.push({ messageId: m.id, body: content.body, sentTimestamp: m.sentTimestamp, receiveCount: m.receiveCount, ...(m.deadLetterSourceArn ? { deadLetterSourceArn: m.deadLetterSourceArn } : {}) });
    }
    return out.sort((a, b) => a.sentTimestamp - b.sentTimestamp);
  }

  async deleteMessage(queue: Queue, handle: string): Promise<void> {
    const m = this.messageForHandle(queue, handle);
    // Already deleted, or an older receive's handle: SQS answers success and deletes nothing.
    if (!m || m.receiptHandle !== handle) return;
    this.forget(queue, m);
    await this.removeFiles(queue, m.id);
  }

  async changeMessageVisibility(queue: Queue, handle: string, visibilityTimeout: number): Promise<void> {
    const now = this.now();
    this.promote(queue, now);
    const m = this.messageForHandle(queue, handle);
    if (!m || m.receiptHandle !== handle) {
      throw invalidParameterValue(`Value ${handle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.`);
    }
    if (m.where !== 'inflight') throw messageNotInflight();
    if (now + visibilityTimeout * 1000 - (m.receivedAt ?? now) > MAX_VISIBILITY_SECONDS * 1000) {
      throw invalidParameterValue(
        `Value ${visibilityTimeout} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [${MAX_VISIBILITY_SECONDS} seconds]`,
      );
    }
    m.visibleAt = now + visibilityTimeout * 1000;
    this.place(queue, m, now);
    await this.serially(m.id, () => writeJson(this.statePath(queue, m.id), stateOf(m)));
  }

  async purge(queue: Queue): Promise<void> {
    const now = this.now();
    if (queue.lastPurge !== undefined && now - queue.lastPurge < PURGE_INTERVAL_MS) throw purgeQueueInProgress(queue.name);
    queue.lastPurge = now;
    const ids = [...queue.messages.keys()];
    queue.messages.clear();
    queue.ready.clear();
    queue.invisible.clear();
    queue.inflight = 0;
    queue.delayed = 0;
    await Promise.all(ids.map((id) => this.removeFiles(queue, id)));
  }

  private messageForHandle(queue: Queue, handle: string): Message | undefined {
    const decoded = decodeReceiptHandle(handle);
    if (!decoded || decoded.queue !== queue.name) throw receiptHandleIsInvalid(handle);
    return queue.messages.get(decoded.id);
  }

  // --- redrive and move tasks ---------------------------------------------------------------

  /** Same id, same SentTimestamp and receive count; the content file is renamed, not rewritten. */
  private moveToDeadLetterQueue(source: Queue, target: Queue, m: Message): void {
    this.forget(source, m);
    m.deadLetterSourceArn = source.arn;
    m.visibleAt = this.now();
    m.version++;
    target.messages.set(m.id, m);
    this.place(target, m);
    this.log(`sqs: message ${m.id} moved from ${source.name} to its dead-letter queue ${target.name} after ${m.receiveCount} receives`);
    void this.serially(m.id, async () => {
      await writeJson(this.statePath(target, m.id), stateOf(m));
      await rename(this.contentPath(source, m.id), this.contentPath(target, m.id));
      await unlink(this.statePath(source, m.id)).catch(ignoreMissing);
    }).catch((err: unknown) => this.log(`sqs: moving ${m.id} to ${target.name} failed: ${String(err)}`));
  }

  startMoveTask(sourceArn: string, destinationArn: string | undefined, perSecond: number | undefined): string {
    const source = this.queueForArn(sourceArn);
    if (!source) throw resourceNotFound('The resource that you specified for the SourceArn parameter doesn\'t exist.');
    if (![...this.queues.values()].some((q) => q.redrivePolicy?.deadLetterTargetArn === sourceArn)) {
      throw invalidParameterValue('Source queue must be configured as a Dead Letter Queue.');
    }
    const destination = destinationArn === undefined ? undefined : this.queueForArn(destinationArn);
    if (destinationArn !== undefined && !destination) throw resourceNotFound('The resource that you specified for the DestinationArn parameter doesn\'t exist.');
    if (perSecond !== undefined && (!Number.isInteger(perSecond) || perSecond < 1 || perSecond > 500)) {
      throw invalidParameterValue(`Value ${perSecond} for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: must be between 1 and 500.`);
    }
    const history = this.tasks.get(sourceArn) ?? [];
    if (history.some((t) => t.status === 'RUNNING' || t.status === 'CANCELLING')) {
      throw unsupportedOperation('There is already a task running. Only one active task is allowed for a source queue arn at a given time.');
    }
    this.promote(source);
    const ids = [...source.ready.keys()];
    const task: MoveTask = {
      taskHandle: Buffer.from(JSON.stringify({ taskId: randomUUID(), sourceArn })).toString('base64url'),
      status: 'RUNNING',
      sourceArn,
      ...(destinationArn !== undefined ? { destinationArn } : {}),
      ...(perSecond !== undefined ? { maxNumberOfMessagesPerSecond: perSecond } : {}),
      approximateNumberOfMessagesMoved: 0,
      approximateNumberOfMessagesToMove: ids.length,
      startedTimestamp: this.now(),
    };
    this.tasks.set(sourceArn, [task, ...history].slice(0, 10));
    void this.runMoveTask(task, source, destination, ids);
    return task.taskHandle;
  }

  listMoveTasks(sourceArn: string, max: number): MoveTask[] {
    if (!this.queueForArn(sourceArn)) throw resourceNotFound('The resource that you specified for the SourceArn parameter doesn\'t exist.');
    return (this.tasks.get(sourceArn) ?? []).slice(0, max).map((t) => ({ ...t }));
  }

  cancelMoveTask(taskHandle: string): number {
    for (const tasks of this.tasks.values()) {
      const task = tasks.find((t) => t.taskHandle === taskHandle);
      if (task && task.status === 'RUNNING') {
        task.status = 'CANCELLING';
        return task.approximateNumberOfMessagesMoved;
      }
    }
    throw resourceNotFound('Task does not exist.');
  }

  /** Moves the messages visible at the start, one by one, as new messages (SQS's redrive gives them new ids). */
  private async runMoveTask(task: MoveTask, source: Queue, destination: Queue | undefined, ids: string[]): Promise<void> {
    const pause = task.maxNumberOfMessagesPerSecond ? 1000 / task.maxNumberOfMessagesPerSecond : 0;
    try {
      for (const id of ids) {
        if (task.status === 'CANCELLING' || this.closed || source.deleted) break;
        const m = source.messages.get(id);
        if (!m || m.where !== 'ready') continue; // deleted, or being received from the dead-letter queue
        const target = destination ?? (m.deadLetterSourceArn ? this.queueForArn(m.deadLetterSourceArn) : undefined);
        if (!target || target.deleted) continue;
        this.forget(source, m);
        const moved = await this.serially(m.id, async () => {
          const content = await readJsonFile<MessageContent>(this.contentPath(source, m.id));
          if (!content) return false;
          const now = this.now();
          const fresh: MessageContent = { ...content, id: randomUUID(), sentTimestamp: now, visibleAt: now };
          await this.enqueue(target, fresh, { receiveCount: 0, visibleAt: now });
          await this.removeFilesNow(source, m.id);
          return true;
        });
        if (moved) task.approximateNumberOfMessagesMoved++;
        if (pause) await new Promise((r) => setTimeout(r, pause));
      }
      task.status = task.status === 'CANCELLING' ? 'CANCELLED' : 'COMPLETED';
    } catch (err) {
      task.status = 'FAILED';
      task.failureReason = String((err as Error)?.message ?? err);
      this.log(`sqs: move task from ${source.name} failed: ${task.failureReason}`);
    }
  }

  // --- bookkeeping --------------------------------------------------------------------------

  /** Files `m` under ready, in flight or delayed by its visibleAt. */
  private place(queue: Queue, m: Message, now = this.now()): void {
    this.unplace(queue, m);
    if (m.visibleAt <= now) {
      m.where = 'ready';
      queue.ready.set(m.id, m);
      queue.wake();
      return;
    }
    m.where = m.receiveCount > 0 ? 'inflight' : 'delayed';
    if (m.where === 'inflight') queue.inflight++;
    else queue.delayed++;
    m.version++;
    const entry = { at: m.visibleAt, id: m.id, version: m.version };
    queue.invisible.push(entry);
    // Long polls sleep until the earliest visibility they know of; this one may be earlier.
    if (queue.invisible.peek() === entry) queue.wake();
  }

  private unplace(queue: Queue, m: Message): void {
    if (!queue.messages.has(m.id)) return;
    if (queue.ready.delete(m.id)) return;
    if (m.where === 'inflight') queue.inflight--;
    else if (m.where === 'delayed') queue.delayed--;
    m.where = 'ready'; // its heap entry goes stale with the next version
    m.version++;
  }

  /** Messages whose visibility timeout or delay has passed become visible. */
  private promote(queue: Queue, now = this.now()): void {
    for (let top = queue.invisible.peek(); top && top.at <= now; top = queue.invisible.peek()) {
      queue.invisible.pop();
      const m = queue.messages.get(top.id);
      if (!m || m.version !== top.version || m.where === 'ready') continue;
      this.place(queue, m, now);
    }
  }

  private forget(queue: Queue, m: Message): void {
    this.unplace(queue, m);
    queue.ready.delete(m.id);
    queue.messages.delete(m.id);
  }

  private removeFiles(queue: Queue, id: string): Promise<void> {
    return this.serially(id, () => this.removeFilesNow(queue, id));
  }

  /** Content first: without it the message is gone, whatever happens to its state file. */
  private async removeFilesNow(queue: Queue, id: string): Promise<void> {
    await unlink(this.contentPath(queue, id)).catch(ignoreMissing);
    await unlink(this.statePath(queue, id)).catch(ignoreMissing);
  }

  private serially<T>(id: string, work: () => Promise<T>): Promise<T> {
    const previous = this.io.get(id) ?? Promise.resolve();
    const result = previous.then(work);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.io.set(id, settled);
    void settled.then(() => {
      if (this.io.get(id) === settled) this.io.delete(id);
    });
    return result;
  }

  private contentPath(queue: Queue, id: string): string {
    return join(queue.dir, 'messages', `${id}.json`);
  }

  private statePath(queue: Queue, id: string): string {
    return join(queue.dir, 'messages', `${id}.state.json`);
  }

  private async saveQueue(queue: Queue): Promise<void> {
    const file: QueueFile = {
      name: queue.name,
      createdTimestamp: queue.createdTimestamp,
      lastModifiedTimestamp: queue.lastModifiedTimestamp,
      attributes: queue.attributes,
    };
    await writeJson(join(queue.dir, 'queue.json'), file);
  }

  private async load(): Promise<void> {
    const root = join(this.options.directory, 'queues');
    await mkdir(root, { recursive: true });
    const now = this.now();
    for (const name of await readdir(root)) {
      const dir = join(root, name);
      const file = await readJsonFile<QueueFile>(join(dir, 'queue.json'));
      if (!file) continue;
      const queue = new Queue(file.name, this.arnOf(file.name), dir, file.createdTimestamp, file.lastModifiedTimestamp, file.attributes);
      this.queues.set(queue.name, queue);
      const messagesDir = join(dir, 'messages');
      await mkdir(messagesDir, { recursive: true });
      const names = await readdir(messagesDir);
      const present = new Set(names);
      const loaded: Message[] = [];
      for (const entry of names) {
        if (entry.endsWith('.tmp')) {
          await unlink(join(messagesDir, entry)).catch(ignoreMissing);
          continue;
        }
        if (entry.endsWith('.state.json')) {
          // A state without its content: the message was deleted or moved when the process stopped.
          if (!present.has(entry.replace(/\.state\.json$/, '.json'))) await unlink(join(messagesDir, entry)).catch(ignoreMissing);
          continue;
        }
        const content = await readJsonFile<MessageContent>(join(messagesDir, entry));
        if (!content) continue;
        const state = await readJsonFile<MessageState>(join(messagesDir, entry.replace(/\.json$/, '.state.json')));
        loaded.push({
          id: content.id,
          sentTimestamp: content.sentTimestamp,
          senderId: content.senderId,
          receiveCount: state?.receiveCount ?? 0,
          ...(state?.firstReceiveTimestamp !== undefined ? { firstReceiveTimestamp: state.firstReceiveTimestamp } : {}),
          ...(state?.receivedAt !== undefined ? { receivedAt: state.receivedAt } : {}),
          ...(state?.receiptHandle !== undefined ? { receiptHandle: state.receiptHandle } : {}),
          ...(state?.deadLetterSourceArn !== undefined ? { deadLetterSourceArn: state.deadLetterSourceArn } : {}),
          // In flight when the process stopped: visible again when its timeout passes, as if it had kept running.
          visibleAt: state?.visibleAt ?? content.visibleAt,
          where: 'ready',
          version: 0,
        });
      }
      loaded.sort((a, b) => a.sentTimestamp - b.sentTimestamp || a.id.localeCompare(b.id));
      for (const m of loaded) {
        queue.messages.set(m.id, m);
        this.place(queue, m, now);
      }
    }
  }

  /** Ends long polls and waits for file operations under way. */
  async close(): Promise<void> {
    this.closed = true;
    for (const queue of this.queues.values()) queue.wake();
    for (const tasks of this.tasks.values()) for (const t of tasks) if (t.status === 'RUNNING') t.status = 'CANCELLING';
    while (this.io.size > 0) await Promise.all([...this.io.values()]);
  }
}

function stateOf(m: Message): MessageState {
  return {
    receiveCount: m.receiveCount,
    ...(m.firstReceiveTimestamp !== undefined ? { firstReceiveTimestamp: m.firstReceiveTimestamp } : {}),
    visibleAt: m.visibleAt,
    ...(m.receivedAt !== undefined ? { receivedAt: m.receivedAt } : {}),
    ...(m.receiptHandle !== undefined ? { receiptHandle: m.receiptHandle } : {}),
    ...(m.deadLetterSourceArn !== undefined ? { deadLetterSourceArn: m.deadLetterSourceArn } : {}),
  };
}

/** Every system attribute of a received message; ReceiveMessage picks the ones asked for. */
function systemAttributes(m: Message): Record<string, string> {
  return {
    SenderId: m.senderId,
    SentTimestamp: String(m.sentTimestamp),
    ApproximateReceiveCount: String(m.receiveCount),
    ApproximateFirstReceiveTimestamp: String(m.firstReceiveTimestamp ?? m.receivedAt),
    ...(m.deadLetterSourceArn ? { DeadLetterQueueSourceArn: m.deadLetterSourceArn } : {}),
  };
}

/**
 * Opaque to callers, as SQS's are; inside: the queue, the message and a nonce, so each receive
 * gives a different handle and a handle names its message without a lookup table.
 */
function encodeReceiptHandle(queue: string, id: string): string {
  return Buffer.from(JSON.stringify([queue, id, randomBytes(12).toString('base64url')])).toString('base64url');
}

function decodeReceiptHandle(handle: string): { queue: string; id: string } | undefined {
  try {
    const parts = JSON.parse(Buffer.from(handle, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(parts) && parts.length === 3 && parts.every((p) => typeof p === 'string')) {
      return { queue: parts[0] as string, id: parts[1] as string };
    }
  } catch {
    // not one of ours
  }
  return undefined;
}

async function writeJson(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, JSON.stringify(value));
  await rename(tmp, path);
}


function ignoreMissing(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
}

export type { Queue };
