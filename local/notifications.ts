/**
 * S3 event notifications as local mode makes them: the stack's filter (objects created under
 * `users/` in the uploads bucket), the S3 event record AWS would send to SQS, and, for external
 * S3-compatible servers that raise no events the service can see, a poller that finds new objects
 * by listing. The records go to the local SQS queue (local/sqs/), as S3 sends them to SQS.
 */
import { randomUUID } from 'node:crypto';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { S3EventRecord } from 'aws-lambda';
import { USER_ROOT } from '../lambda/shared/keys';
import type { ObjectCreatedEvent } from './s3/server';
import { bareEtag } from '../lambda/shared/etag';

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
