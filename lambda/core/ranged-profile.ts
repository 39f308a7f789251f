/**
 * The processor's profiler on all cores: a stored object is planned from its first bytes
 * (planRanges), each range is profiled by a range runner that reads its own bytes with a ranged
 * GetObject pinned to the event's version (If-Match on the ETag, as the fan-out's range step does),
 * and the partials are merged (profileRanges, re-running a range whose first record was guessed
 * wrong). The runner is injected: in this thread (one CPU, tests) or on worker threads (the process
 * function's own bundle in Lambda, a tsx worker locally). Small objects are one range: the same path.
 *
 * The profile equals the single pass's, `sha256` included: the worker of range 0 hashes the whole
 * object, its own range as it parses it and then the rest (a second read of most of the object,
 * after its range; past the deadline too, which the hash alone cannot overrun by much). The fan-out,
 * with no one reader of every byte, records S3's checksum instead; that would save the second read
 * but change every profile's sha256 to null.
 */
import { createHash } from 'node:crypto';
import type { MessagePort, Worker } from 'node:worker_threads';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ContentError, HEAD_BYTES, planRanges, rangeWorkers, profileRange, profileRanges, type ByteRangeSource, type Profile, type ProfileOptions, type Range, type RangePartial, type RangePlan } from './profile';
import { quotedEtag } from '../shared/etag';
import { errorName } from '../shared/errors';
import { serveRequests, ThreadPool, type ThreadReply } from '../shared/thread-pool';

/** Lambda's CPU time: one vCPU-second per second for each 1,769 MB of memory. */
export const LAMBDA_MB_PER_VCPU = 1769;

/**
 * Range threads for a Lambda function: one per vCPU its memory pays for, at most the cores it
 * sees. Lambda shows two cores from 128 to 3,008 MB but gives CPU time in proportion to memory, so
 * at 1,024 MB (0.58 vCPU) two threads would share 0.58 vCPU: no faster, two heaps. Outside Lambda
 * (no memory size), the cores.
 */
export function lambdaRangeThreads(cores: number, memoryMb: number | undefined): number {
  const paid = memoryMb && memoryMb > 0 ? Math.floor(memoryMb / LAMBDA_MB_PER_VCPU) : cores;
  return Math.max(1, Math.min(cores, paid));
}

/** One version of an S3 object. */
export interface StoredObject {
  bucket: string;
  key: string;
  /** Bare ETag of the version to read; every read is If-Match on it. */
  etag?: string;
  size: number;
}

/** Bytes [start, end) of one version of an S3 object: a changed object fails with PreconditionFailed. */
export function s3ByteRanges(s3: S3Client, object: StoredObject): ByteRangeSource {
  return {
    read: async function* (start, end) {
      const last = Math.min(end, object.size) - 1;
      if (last < start) return;
      const out = await s3.send(
        new GetObjectCommand({ Bucket: object.bucket, Key: object.key, Range: `bytes=${start}-${last}`, ...(object.etag ? { IfMatch: quotedEtag(object.etag) } : {}) }),
      );
      const body = out.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
      try {
        if (body) yield* body;
      } finally {
        // The engine may stop early (its last record ended): close the connection.
        body?.destroy?.();
      }
    },
  };
}

/** A range to profile: JSON-safe, it crosses to a worker thread. */
export interface RangeJob {
  object: StoredObject;
  plan: RangePlan;
  range: Range;
  /** Also hash the whole object (range 0 of a splittable plan): its own bytes as read, then the rest. */
  hash?: boolean;
  /** The object's first bytes, read already to plan it: range 0 starts from them rather than reading them again. */
  head?: Uint8Array;
}

export interface RangeResult {
  partial: RangePartial;
  /** With `hash`: the whole object's SHA-256, or null when the deadline cut the range. */
  sha256?: string | null;
}

/** `source` with bytes [0, head.length) served from `head`, already read, and the rest from `source`. */
function afterHead(source: ByteRangeSource, head: Uint8Array | undefined): ByteRangeSource {
  if (!head?.length) return source;
  return {
    read: async function* (start, end) {
      if (start < head.length) {
        const upTo = Math.min(end, head.length);
        yield head.subarray(start, upTo);
        start = upTo;
      }
      if (start < end) yield* source.read(start, end);
    },
  };
}

/** Profiles one range job, reading its bytes from S3 (all but the head it may carry). */
export async function runRangeJob(s3: S3Client, job: RangeJob): Promise<RangeResult> {
  const source = afterHead(s3ByteRanges(s3, job.object), job.head);
  if (!job.hash) return { partial: await profileRange(source, job.plan, job.range) };
  const hash = createHash('sha256');
  let hashed = 0;
  let teed = false;
  const hashing: ByteRangeSource = {
    read: (start, end) => {
      if (start !== 0 || teed) return source.read(start, end);
      teed = true;
      return (async function* () {
        for await (const chunk of source.read(start, end)) {
          hash.update(chunk);
          hashed += chunk.length;
          yield chunk;
        }
      })();
    },
  };
  const partial = await profileRange(hashing, job.plan, job.range);
  if (partial.truncated) return { partial, sha256: null };
  for await (const chunk of source.read(hashed, job.object.size)) hash.update(chunk);
  return { partial, sha256: hash.digest('hex') };
}

/** An error as it crosses the thread boundary: what the processor decides by (content or not, S3 status). */
interface ThreadError {
  name: string;
  message: string;
  /** A ContentError's code: the content cannot be profiled, a `failed` profile rather than a retry. */
  contentCode?: string;
  httpStatusCode?: number;
}

export type RangeReply = ThreadReply<RangeResult, ThreadError>;

/** A range worker's ContentError, rebuilt on the main thread with its name, code and message. */
class RangeContentError extends ContentError {
  constructor(
    name: string,
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = name;
  }
}

function toThreadError(err: unknown): ThreadError {
  const status = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  return {
    name: errorName(err) ?? 'Error',
    message: err instanceof Error ? err.message : String(err),
    ...(err instanceof ContentError ? { contentCode: err.code } : {}),
    ...(status !== undefined ? { httpStatusCode: status } : {}),
  };
}

function fromThreadError(e: ThreadError): Error {
  if (e.contentCode !== undefined) return new RangeContentError(e.name, e.message, e.contentCode);
  // S3's errors keep the name and status that the processor maps (PreconditionFailed, NoSuchKey).
  return Object.assign(new Error(e.message), { name: e.name, ...(e.httpStatusCode !== undefined ? { $metadata: { httpStatusCode: e.httpStatusCode } } : {}) });
}

/** Runs range jobs: in this thread, or on worker threads. `threads` is how many run at once. */
export interface RangeRunner {
  threads: number;
  run(job: RangeJob): Promise<RangeResult>;
  close(): Promise<void>;
}

/** Range jobs in this thread, one after another (one CPU, or a test). */
export function inlineRangeRunner(s3: S3Client): RangeRunner {
  return { threads: 1, run: (job) => runRangeJob(s3, job), close: async () => {} };
}

/**
 * Range jobs on `size` worker threads, each started by `start` (a script that calls
 * serveRangeJobs). The threads start on the first split plan and stay for the next ones; a plan
 * of one range runs in this thread with `s3` (a thread's start and the copy of its result would
 * be all a thread adds to it).
 */
export function threadRangeRunner(size: number, start: () => Worker, s3: S3Client): RangeRunner {
  const pool = new ThreadPool<RangeJob, RangeReply>(size, start);
  return {
    threads: size,
    run: async (job) => {
      if (job.plan.ranges.length === 1) return runRangeJob(s3, job);
      const reply = await pool.run(job);
      if (reply.error) throw fromThreadError(reply.error);
      return reply.result!;
    },
    close: () => pool.close(),
  };
}

/** The body of a range worker thread: answers each job on `port` with its result or its error. */
export function serveRangeJobs(port: MessagePort, s3: S3Client): void {
  serveRequests(port, (job: RangeJob) => runRangeJob(s3, job), toThreadError);
}

/** The object to profile: where it is stored, and the name and type its format is told from. */
export interface ProfileStoredInput extends StoredObject {
  /** The key as the profile names it (its extension hints the format). */
  name: string;
  contentType?: string;
}

/**
 * Profiles a stored object in byte ranges on the runner's threads and merges them: the profile
 * equals profileObject's for the same bytes (mean and stddev within 1e-9 relative). One range when
 * the object is under two `minRangeBytes` or the runner has one thread.
 */
export async function profileStoredObject(
  deps: { s3: S3Client; runner: RangeRunner; minRangeBytes?: number },
  input: ProfileStoredInput,
  options: ProfileOptions = {},
): Promise<Profile> {
  const object: StoredObject = { bucket: input.bucket, key: input.key, size: input.size, ...(input.etag ? { etag: input.etag } : {}) };
  const chunks: Uint8Array[] = [];
  for await (const chunk of s3ByteRanges(deps.s3, object).read(0, Math.min(input.size, HEAD_BYTES))) chunks.push(chunk);
  const head = Buffer.concat(chunks);
  const workers = rangeWorkers(input.size, deps.runner.threads, deps.minRangeBytes);
  const plan = planRanges({ size: input.size, head, key: input.name, ...(input.contentType ? { contentType: input.contentType } : {}), workers, options });
  let sha256: string | null = null;
  const run = async (range: Range): Promise<RangePartial> => {
    const hash = plan.splittable && range.index === 0;
    // Range 0 starts from the head read for the plan: an object within it takes one GET in all.
    const result = await deps.runner.run({ object, plan, range, ...(hash ? { hash } : {}), ...(range.start === 0 ? { head } : {}) });
    if (hash) sha256 = result.sha256 ?? null;
    return result.partial;
  };
  const profile = await profileRanges(plan, run, { etag: input.etag ?? null });
  // An unsplit range hashes as it reads (whole.sha256); a truncated profile has none.
  return plan.splittable && !profile.truncated ? { ...profile, sha256 } : profile;
}
