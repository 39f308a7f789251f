import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { S3Event, S3EventRecord, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { SERVICE_FUNCTIONS } from '../lambda/shared/grants';
import { USER_ROOT } from '../lambda/shared/keys';
import type { ObjectCreatedEvent } from './s3/server';
import { bareEtag } from '../lambda/shared/etag';

/**
 * What AWS does between an upload and the processor, done in-process: S3 object-created
 * notifications (filtered to `users/` in the uploads bucket) go onto an SQS-like queue, which
 * delivers batches to the process handler, retries the records it reports as failed (with
 * backoff, like a visibility timeout) and moves a message to a dead-letter store after
 * `maxReceives` receives, like a redrive policy.
 */
export type ProcessHandler = (event: SQSEvent) => Promise<SQSBatchResponse | void>;

/** An object-created notification before it becomes an S3 event record (the embedded S3's, or a poller's). */
export type ObjectCreated = ObjectCreatedEvent;

/**
 * Keys in S3 event notifications are URL-encoded the way HTML forms are: a space becomes `+`,
 * bytes outside `A-Za-z0-9.-_*` become `%XX` of their UTF-8, and `/` is kept.
 * `decodeURIComponent(key.replace(/\+/g, ' '))` reverses it.
 */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+')
    .replace(/%2F/g, '/');
}

let lastSequencer = 0n;
/** Monotonic hex sequencer, as S3 gives to order events for one key. */
function nextSequencer(): string {
  const now = BigInt(Date.now()) * 1_000_000n;
  lastSequencer = now > lastSequencer ? now : lastSequencer + 1n;
  return lastSequencer.toString(16).toUpperCase().padStart(16, '0');
}

export function toS3EventRecord(created: ObjectCreated, region: string): S3EventRecord {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: region,
    eventTime: new Date().toISOString(),
    eventName: created.eventName,
    userIdentity: { principalId: 'AWS:LOCAL' },
    requestParameters: { sourceIPAddress: created.sourceIp ?? '127.0.0.1' },
    responseElements: { 'x-amz-request-id': randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase(), 'x-amz-id-2': 'local' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'local-uploads',
      bucket: { name: created.bucket, ownerIdentity: { principalId: 'LOCAL' }, arn: `arn:aws:s3:::${created.bucket}` },
      object: { key: encodeEventKey(created.key), size: created.size, eTag: bareEtag(created.eTag), sequencer: nextSequencer() },
    },
  };
}

/** The notification filter of the stack: objects created under `users/` in the uploads bucket. */
export function isWatched(bucket: string, key: string, uploadsBucket: string): boolean {
  return bucket === uploadsBucket && key.startsWith(USER_ROOT);
}

export interface QueueMessage {
  messageId: string;
  body: string;
  sentTimestamp: number;
  firstReceiveTimestamp?: number;
  receiveCount: number;
}

export interface DeadLetter {
  message: QueueMessage;
  deadLetteredAt: string;
  reason: string;
}

export interface NotificationQueueOptions {
  process: ProcessHandler;
  /** Where dead letters are written, one JSON file per message. */
  deadLetterDir: string;
  region: string;
  queueName?: string;
  batchSize?: number;
  maxReceives?: number;
  /** Delay before the first retry; doubles per receive (a visibility timeout with backoff). */
  retryBaseMs?: number;
  /** The process function's timeout; the grants table's (the stack's) by default. */
  handlerTimeoutMs?: number;
  concurrency?: number;
  log?: (line: string) => void;
}

export class NotificationQueue {
  private readonly ready: QueueMessage[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private inFlight = 0;
  private stopped = false;
  private waiters: (() => void)[] = [];
  private readonly batchSize: number;
  private readonly maxReceives: number;
  private readonly retryBaseMs: number;
  private readonly handlerTimeoutMs: number;
  private readonly concurrency: number;
  private readonly arn: string;
  private readonly log: (line: string) => void;

  constructor(private readonly options: NotificationQueueOptions) {
    this.batchSize = options.batchSize ?? 10;
    this.maxReceives = options.maxReceives ?? 3;
    this.retryBaseMs = options.retryBaseMs ?? 1000;
    this.handlerTimeoutMs = options.handlerTimeoutMs ?? SERVICE_FUNCTIONS.process.timeoutSeconds * 1000;
    this.concurrency = options.concurrency ?? 2;
    this.arn = `arn:aws:sqs:${options.region}:000000000000:${options.queueName ?? 'local-uploads'}`;
    this.log = options.log ?? (() => undefined);
  }

  /** Sends one S3 event (as S3 does: one record per message). */
  sendS3Event(record: S3EventRecord): void {
    const event: S3Event = { Records: [record] };
    this.send(JSON.stringify(event));
  }

  send(body: string): void {
    if (this.stopped) return;
    this.ready.push({ messageId: randomUUID(), body, sentTimestamp: Date.now(), receiveCount: 0 });
    // Deliver on the next turn so a burst of uploads shares batches, and never inside the upload.
    setImmediate(() => this.pump());
  }

  /** Resolves when nothing is queued, waiting for a retry, or being processed. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Stops delivering: pending retries are abandoned, in-flight batches are awaited. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.ready.length = 0;
    await this.idle();
  }

  async deadLetters(): Promise<DeadLetter[]> {
    let names: string[];
    try {
      names = (await readdir(this.options.deadLetterDir)).filter((n) => n.endsWith('.json')).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const letters = await Promise.all(names.map(async (n) => JSON.parse(await readFile(join(this.options.deadLetterDir, n), 'utf8')) as DeadLetter));
    return letters.sort((a, b) => a.deadLetteredAt.localeCompare(b.deadLetteredAt));
  }

  /** Sends dead letters (all, or those with the given ids) back to the queue; returns how many. */
  async replayDeadLetters(ids?: readonly string[]): Promise<number> {
    const letters = (await this.deadLetters()).filter((l) => !ids || ids.includes(l.message.messageId));
    for (const letter of letters) {
      await rm(join(this.options.deadLetterDir, `${letter.message.messageId}.json`), { force: true });
      this.send(letter.message.body);
    }
    return letters.length;
  }

  private isIdle(): boolean {
    return this.ready.length === 0 && this.inFlight === 0 && this.timers.size === 0;
  }

  private settle(): void {
    if (!this.isIdle()) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private pump(): void {
    while (!this.stopped && this.ready.length > 0 && this.inFlight < this.concurrency) {
      const batch = this.ready.splice(0, this.batchSize);
      this.inFlight++;
      this.deliver(batch)
        .catch((err: unknown) => this.log(`queue: delivery error ${String(err)}`))
        .finally(() => {
          this.inFlight--;
          this.pump();
          this.settle();
        });
    }
    this.settle();
  }

  private toSqsRecord(m: QueueMessage): SQSRecord {
    return {
      messageId: m.messageId,
      receiptHandle: `${m.messageId}#${m.receiveCount}`,
      body: m.body,
      attributes: {
        ApproximateReceiveCount: String(m.receiveCount),
        SentTimestamp: String(m.sentTimestamp),
        SenderId: 'LOCAL',
        ApproximateFirstReceiveTimestamp: String(m.firstReceiveTimestamp ?? Date.now()),
      },
      messageAttributes: {},
      md5OfBody: createHash('md5').update(m.body).digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: this.arn,
      awsRegion: this.options.region,
    };
  }

  private async deliver(batch: QueueMessage[]): Promise<void> {
    const now = Date.now();
    for (const m of batch) {
      m.receiveCount++;
      m.firstReceiveTimestamp ??= now;
    }
    let failed: Set<string>;
    let reason = 'reported in batchItemFailures';
    try {
      const response = await this.withinTimeout(this.options.process({ Records: batch.map((m) => this.toSqsRecord(m)) }));
      const ids = (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier);
      // Lambda treats an unknown or empty identifier as a failure of the whole batch.
      failed = ids.some((id) => !batch.some((m) => m.messageId === id)) ? new Set(batch.map((m) => m.messageId)) : new Set(ids);
    } catch (err) {
      reason = `handler threw: ${String((err as Error)?.message ?? err)}`;
      failed = new Set(batch.map((m) => m.messageId));
    }
    for (const m of batch) {
      if (!failed.has(m.messageId)) continue;
      if (m.receiveCount >= this.maxReceives) {
        await this.deadLetter(m, reason);
      } else {
        this.retryLater(m);
      }
    }
  }

  /**
   * The process function's timeout, as Lambda enforces it: a batch not answered in time failed as a
   * whole. The handler cannot be stopped in-process; its late answer is ignored.
   */
  private withinTimeout<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`Task timed out after ${this.handlerTimeoutMs / 1000} seconds`)), this.handlerTimeoutMs);
    });
    work.catch(() => undefined); // a late failure after the timeout is not unhandled
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }

  private retryLater(m: QueueMessage): void {
    if (this.stopped) return;
    const delay = this.retryBaseMs * 2 ** (m.receiveCount - 1);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.ready.push(m);
      this.pump();
    }, delay);
    this.timers.add(timer);
  }

  private async deadLetter(m: QueueMessage, reason: string): Promise<void> {
    await mkdir(this.options.deadLetterDir, { recursive: true });
    const letter: DeadLetter = { message: m, deadLetteredAt: new Date().toISOString(), reason };
    await writeFile(join(this.options.deadLetterDir, `${m.messageId}.json`), JSON.stringify(letter, null, 2) + '\n');
    this.log(`queue: message ${m.messageId} moved to the dead-letter store after ${m.receiveCount} receives (${reason})`);
  }
}

/** One entry of a ListObjectsV2 page, ETag without quotes. */
export interface ListedObject {
  key: string;
  eTag: string;
  size: number;
  lastModified?: Date;
}

/** The pages of a ListObjectsV2 listing of `prefix`, fetched one at a time as they are consumed. */
export async function* listObjectPages(s3: S3Client, bucket: string, prefix: string): AsyncGenerator<ListedObject[]> {
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    const objects: ListedObject[] = [];
    for (const o of page.Contents ?? []) {
      if (!o.Key) continue;
      objects.push({ key: o.Key, eTag: bareEtag(o.ETag ?? ''), size: o.Size ?? 0, ...(o.LastModified ? { lastModified: o.LastModified } : {}) });
    }
    yield objects;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/**
 * The event for an object found in a listing rather than announced by the server (poller,
 * start-up reconciliation): a listing cannot tell how it was written, so `Put`, or
 * `CompleteMultipartUpload` when the ETag has the multipart `-N` suffix.
 */
export function createdFromListing(bucket: string, o: ListedObject): ObjectCreated {
  return {
    eventName: o.eTag.includes('-') ? 'ObjectCreated:CompleteMultipartUpload' : 'ObjectCreated:Put',
    bucket,
    key: o.key,
    size: o.size,
    eTag: o.eTag,
  };
}

/**
 * For S3-compatible servers that emit no events in-process (MinIO, LocalStack, moto): lists the
 * watched prefix every `intervalMs` and reports keys that are new or whose ETag changed since the
 * last scan. The first scan only records what is there, so a restart does not re-process, unless
 * `onFirstScan` is given: it gets the first listing to decide itself (start-up reconciliation).
 * A first scan that fails is repeated as a first scan.
 */
export class ObjectPoller {
  private seen = new Map<string, string>();
  private baselineDone = false;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private scans = 0;
  private scanWaiters: (() => void)[] = [];

  constructor(
    private readonly options: {
      s3: S3Client;
      bucket: string;
      prefix?: string;
      intervalMs?: number;
      onCreated: (created: ObjectCreated) => void;
      onFirstScan?: (objects: ListedObject[]) => Promise<void>;
      log?: (line: string) => void;
    },
  ) {}

  /** Runs the first scan, then polls; the returned promise settles with the first scan. */
  start(): Promise<void> {
    const first = this.scan();
    this.running = first
      .catch(() => undefined) // the caller gets this error from the returned promise
      .finally(() => {
        this.running = undefined;
        this.schedule();
      });
    return first;
  }

  /** Resolves after a complete scan that started after this call: objects written before it are seen. */
  nextScan(): Promise<void> {
    return new Promise((resolve) => this.scanWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    for (const w of this.scanWaiters.splice(0)) w();
  }

  get scanCount(): number {
    return this.scans;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.scan()
        .catch((err: unknown) => this.options.log?.(`poller: scan failed: ${String((err as Error)?.message ?? err)}`))
        .finally(() => {
          this.running = undefined;
          this.schedule();
        });
    }, this.options.intervalMs ?? 500);
  }

  private async scan(): Promise<void> {
    // Only callers waiting before this scan started can rely on it having seen their objects.
    const waiters = this.scanWaiters.splice(0);
    const baseline = !this.baselineDone;
    try {
      const current = new Map<string, string>();
      const listed: ListedObject[] = [];
      const created: ObjectCreated[] = [];
      for await (const page of listObjectPages(this.options.s3, this.options.bucket, this.options.prefix ?? USER_ROOT)) {
        for (const o of page) {
          current.set(o.key, o.eTag);
          if (baseline) {
            if (this.options.onFirstScan) listed.push(o);
          } else if (this.seen.get(o.key) !== o.eTag) created.push(createdFromListing(this.options.bucket, o));
        }
      }
      if (baseline && this.options.onFirstScan) await this.options.onFirstScan(listed);
      this.seen = current;
      this.baselineDone = true;
      this.scans++;
      for (const c of created) this.options.onCreated(c);
    } finally {
      for (const w of waiters) w();
    }
  }
}
