/**
 * The fan-out: an object too big for one pass of the processor is profiled in three steps, the
 * same in AWS (each a Lambda function of the state machine in lib/constructs/fan-out.ts) and in
 * local mode (local/fan-out.ts runs them in-process):
 *
 * 1. plan: HEAD the object, read its first bytes, cut it into byte ranges;
 * 2. range (one per range, in parallel): profile the records that start in the range, store the
 *    partial profile under `fan-out/<run>/` in the results bucket, return its small boundaries;
 * 3. merge: read the partials, check that each range ends where the next one starts (re-running a
 *    range from the known boundary when its first-record guess was wrong), merge, and write the
 *    profile with the processor's conditional, sequencer-ordered write.
 *
 * How a range is profiled and merged is the engine's business (`FanOutEngine`): this module only
 * moves bytes and results between S3 and it.
 */
import { createHash } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../shared/config';
import { HEAD_BYTES, mergeRanges, planRanges, profileRange, type ByteRangeSource, type Range, type RangePartial, type RangePlan } from './profile';
import { errorName, isNotFound } from '../shared/errors';
import { quotedEtag } from '../shared/etag';
import type { StoredChecksum } from '../shared/api-types';
import { storedChecksumOf } from '../shared/upload-checksums';
import { FAN_OUT, rangeBytesFor } from '../shared/fan-out';
import { FAN_OUT_ROOT } from '../shared/keys';
import { s3ByteRanges } from './ranged-profile';
import {
  failedDocument,
  isContentError,
  profileDocument,
  targetOfRecord,
  writeProfile,
  type FanOutRequest,
  type Outcome,
  type ProfileTarget,
} from './process';

/** One byte range of the object: the records that start in [start, end) are its (the engine's `Range`). */
export type RangeSpec = Range;

/** The object as every step sees it (JSON: it travels in the state machine's payloads). */
export interface FanOutJob {
  target: ProfileTarget;
  /** The object's size and type, from the plan's HEAD. */
  size: number;
  contentType?: string;
  /** The run's name: its partial profiles live under `fan-out/<runName>/`. */
  runName: string;
  /** What the engine's plan gives each range and the merge (format, header, options): tens of KB at most. */
  engineContext: unknown;
  /** What S3 stored with the object (the plan's HEAD asks for it), recorded in the profile. */
  checksum?: StoredChecksum | null;
}

/** What the range step returns: only boundaries, the partial profile itself is in S3. */
export interface RangeReport {
  index: number;
  /** The object changed under the run: its new version has its own event and run. */
  overwritten?: true;
  boundary?: unknown;
}

/**
 * The engine's split, range and merge, behind one small interface so that swapping the engine
 * touches only the code that builds one (lambda/functions/fan-out-*.ts, local/handlers.ts).
 */
export interface FanOutEngine {
  /** Bytes of the object's start the plan needs. */
  headBytes: number;
  plan(input: { key: string; contentType?: string; size: number; head: Uint8Array; rangeBytes: number }): { context: unknown; ranges: RangeSpec[] };
  /** Profiles one range, reading what it needs of the object from `source`. */
  profileRange(input: { source: ByteRangeSource; object: { key: string; contentType?: string; size: number; etag?: string }; range: RangeSpec; context: unknown }): Promise<{
    partial: unknown;
    boundary: unknown;
  }>;
  /** The merged profile, or the ranges to profile again (from the boundary the previous range proved). */
  merge(input: { context: unknown; parts: { range: RangeSpec; boundary: unknown; partial: unknown }[]; etag?: string }): { profile: object } | { rerun: RangeSpec[] };
}

/** Why a fanned-out profile has no `sha256`, and what stands in for it. */
export const SHA256_UNAVAILABLE =
  'profiled in byte ranges in parallel, so no SHA-256 of the whole object; source.checksum is the checksum S3 stored with it (null when it was uploaded without one)';

/**
 * The engine's byte-range split (lambda/core/profile/ranges.ts): ranges of `rangeBytes`, each worker
 * finding its first record (speculating on quotes), the merge checking the boundaries and asking
 * for re-runs. The whole-object SHA-256 cannot be computed from ranges: the profile's sha256 is null.
 */
export function rangeEngine(): FanOutEngine {
  return {
    headBytes: HEAD_BYTES,
    plan: ({ key, contentType, size, head, rangeBytes }) => {
      const plan = planRanges({ size, head, key, ...(contentType ? { contentType } : {}), rangeBytes });
      return { context: plan, ranges: plan.ranges };
    },
    profileRange: async ({ source, range, context }) => {
      const partial = await profileRange(source, context as RangePlan, range);
      const { index, start, end, firstRecordStart, nextRecordStart } = partial;
      return { partial, boundary: { index, start, end, firstRecordStart, nextRecordStart } };
    },
    merge: ({ context, parts, etag }) => {
      const partials = [...parts].sort((a, b) => a.range.index - b.range.index).map((p) => p.partial as RangePartial);
      return mergeRanges(context as RangePlan, partials, { etag: etag ?? null, sha256: null });
    },
  };
}

export interface FanOutDeps {
  s3: S3Client;
  config: Config;
  engine: FanOutEngine;
  now?: () => Date;
  /** Bytes per range at least (default FAN_OUT.minRangeBytes; local tests lower it). */
  minRangeBytes?: number;
}

/**
 * The run's name, from the object's key, its event's sequencer and the attempt: a duplicate event
 * gets the same name, and Step Functions starts a name once (ExecutionAlreadyExists). A replayed
 * dead letter carries the next attempt, so it starts a new run. At most 80 characters of
 * [A-Za-z0-9_-], as Step Functions requires.
 */
export function fanOutRunName(s3Key: string, sequencerOrEtag: string, attempt: number): string {
  const digest = createHash('sha256').update(`${s3Key}\n${sequencerOrEtag}\n${attempt}`).digest('hex');
  return `profile-${digest}`;
}

/** The run name for a request; undefined for a record with nothing to profile. */
export function runNameOf(config: Config, request: FanOutRequest): string | undefined {
  const checked = targetOfRecord(config, request.record);
  if (!('target' in checked)) return undefined;
  return fanOutRunName(checked.target.s3Key, checked.target.sequencer ?? checked.target.etag, request.attempt);
}

/** Where the range `index` of run `runName` keeps its partial profile. */
export function partKey(runName: string, index: number): string {
  return `${FAN_OUT_ROOT}${runName}/${String(index).padStart(5, '0')}.json`;
}

const isPreconditionFailed = (err: unknown) =>
  errorName(err) === 'PreconditionFailed' || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412;

export type PlanResult = { job: FanOutJob; ranges: RangeSpec[] } | { done: Outcome };

/** Step 1: HEAD the object, read its head, cut it into ranges. `done` when there is nothing to profile. */
export async function planFanOut(deps: FanOutDeps, request: FanOutRequest & { runName: string }): Promise<PlanResult> {
  const checked = targetOfRecord(deps.config, request.record);
  if (!('target' in checked)) return { done: checked.outcome };
  const { target } = checked;
  const ifMatch = target.etag ? { IfMatch: quotedEtag(target.etag) } : {};
  let size: number;
  let contentType: string | undefined;
  let head: Uint8Array;
  let checksum: StoredChecksum | null;
  try {
    const meta = await deps.s3.send(new HeadObjectCommand({ Bucket: deps.config.uploadsBucket, Key: target.s3Key, ...ifMatch, ChecksumMode: 'ENABLED' }));
    checksum = storedChecksumOf(meta);
    size = meta.ContentLength ?? target.size;
    contentType = meta.ContentType;
    if (size === 0) {
      head = new Uint8Array();
    } else {
      const first = await deps.s3.send(
        new GetObjectCommand({ Bucket: deps.config.uploadsBucket, Key: target.s3Key, Range: `bytes=0-${Math.min(size, deps.engine.headBytes) - 1}`, ...ifMatch }),
      );
      head = first.Body ? await first.Body.transformToByteArray() : new Uint8Array();
    }
  } catch (err) {
    if (isPreconditionFailed(err)) return { done: 'skipped-overwritten' };
    if (isNotFound(err)) return { done: 'skipped-deleted' };
    throw err;
  }
  const rangeBytes = rangeBytesFor(size, deps.minRangeBytes ?? FAN_OUT.minRangeBytes);
  const { context, ranges } = deps.engine.plan({ key: target.apiKey, ...(contentType ? { contentType } : {}), size, head, rangeBytes });
  return { job: { target, size, ...(contentType ? { contentType } : {}), runName: request.runName, engineContext: context, checksum }, ranges };
}

/** The object's bytes [start, end) from S3, of the version the event announced (If-Match). */
function s3Source(deps: FanOutDeps, job: FanOutJob): ByteRangeSource {
  return s3ByteRanges(deps.s3, { bucket: deps.config.uploadsBucket, key: job.target.s3Key, size: job.size, ...(job.target.etag ? { etag: job.target.etag } : {}) });
}

/** Profiles one range from S3; 'overwritten' when the object is no longer the version of the event. */
async function profileRangeFromS3(deps: FanOutDeps, job: FanOutJob, range: RangeSpec): Promise<{ partial: unknown; boundary: unknown } | 'overwritten'> {
  try {
    return await deps.engine.profileRange({
      source: s3Source(deps, job),
      object: { key: job.target.apiKey, ...(job.contentType ? { contentType: job.contentType } : {}), size: job.size, ...(job.target.etag ? { etag: job.target.etag } : {}) },
      range,
      context: job.engineContext,
    });
  } catch (err) {
    if (isPreconditionFailed(err) || isNotFound(err)) return 'overwritten';
    throw err;
  }
}

/** A range's stored result: the partial profile, or why the content cannot be profiled. */
interface StoredPart {
  range: RangeSpec;
  boundary: unknown;
  partial?: unknown;
  failed?: { name: string; message: string };
}

/**
 * Step 2: profiles one range and stores its partial profile. A content error is stored too (the
 * merge writes a `failed` profile, as the processor does); only failures worth a retry throw.
 */
export async function profileRangeStep(deps: FanOutDeps, input: { job: FanOutJob; range: RangeSpec }): Promise<RangeReport> {
  const { job, range } = input;
  let part: StoredPart;
  try {
    const result = await profileRangeFromS3(deps, job, range);
    if (result === 'overwritten') return { index: range.index, overwritten: true };
    part = { range, boundary: result.boundary, partial: result.partial };
  } catch (err) {
    if (!isContentError(err)) throw err;
    part = { range, boundary: null, failed: { name: errorName(err) ?? 'Error', message: (err as Error).message } };
  }
  await deps.s3.send(
    new PutObjectCommand({ Bucket: deps.config.resultsBucket, Key: partKey(job.runName, range.index), Body: JSON.stringify(part), ContentType: 'application/json' }),
  );
  return { index: range.index, boundary: part.boundary };
}

async function readPart(deps: FanOutDeps, job: FanOutJob, index: number): Promise<StoredPart> {
  const out = await deps.s3.send(new GetObjectCommand({ Bucket: deps.config.resultsBucket, Key: partKey(job.runName, index) }));
  return JSON.parse(out.Body ? await out.Body.transformToString('utf8') : 'null') as StoredPart;
}

async function deleteParts(deps: FanOutDeps, job: FanOutJob, ranges: readonly RangeSpec[]): Promise<void> {
  // Best effort: a lifecycle rule expires what is left (FAN_OUT.partsRetentionDays).
  await Promise.allSettled(ranges.map((r) => deps.s3.send(new DeleteObjectCommand({ Bucket: deps.config.resultsBucket, Key: partKey(job.runName, r.index) }))));
}

/**
 * Step 3: checks and merges the partial profiles (re-running, here, each range whose first record
 * was guessed wrong), writes the profile with the processor's conditional write, removes the parts.
 */
export async function mergeFanOut(deps: FanOutDeps, input: { job: FanOutJob; ranges: RangeSpec[] }): Promise<{ outcome: Outcome }> {
  const { job, ranges } = input;
  try {
    const parts = await Promise.all(ranges.map((r) => readPart(deps, job, r.index).catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)))));
    // A range that found the object changed stored nothing: the newer object has its own run.
    if (parts.some((p) => p === undefined)) return { outcome: 'skipped-overwritten' };
    const stored = parts as StoredPart[];
    const failed = stored.find((p) => p.failed);
    let document: Record<string, unknown>;
    let outcome: Outcome;
    if (failed) {
      document = failedDocument(Object.assign(new Error(failed.failed!.message), { name: failed.failed!.name }));
      outcome = 'failed-profile';
    } else {
      const merged = await mergeWithReruns(deps, job, stored);
      if (merged === 'overwritten') return { outcome: 'skipped-overwritten' };
      // No one reader saw every byte, so no SHA-256 of the whole object: S3's own checksum stands in.
      document = { ...merged, sha256Unavailable: SHA256_UNAVAILABLE };
      outcome = 'profiled';
    }
    const written = await writeProfile(deps, job.target, document, job.size, job.checksum ?? null);
    return { outcome: written === 'stale' ? 'skipped-stale' : outcome };
  } finally {
    await deleteParts(deps, job, ranges);
  }
}

async function mergeWithReruns(deps: FanOutDeps, job: FanOutJob, stored: StoredPart[]): Promise<Record<string, unknown> | 'overwritten'> {
  const parts = stored.map((p) => ({ range: p.range, boundary: p.boundary, partial: p.partial }));
  // Each re-run starts from a boundary the previous range proved, so it is right; one round per
  // range at most, and a wrong engine cannot loop for ever.
  for (let round = 0; round <= parts.length; round++) {
    let result;
    try {
      result = deps.engine.merge({ context: job.engineContext, parts, ...(job.target.etag ? { etag: job.target.etag } : {}) });
    } catch (err) {
      if (isContentError(err)) return failedDocument(err);
      throw err;
    }
    if ('profile' in result) return profileDocument(result.profile);
    for (const range of result.rerun) {
      let rerun;
      try {
        rerun = await profileRangeFromS3(deps, job, range);
      } catch (err) {
        if (isContentError(err)) return failedDocument(err);
        throw err;
      }
      if (rerun === 'overwritten') return 'overwritten';
      const at = parts.findIndex((p) => p.range.index === range.index);
      const part = { range, boundary: rerun.boundary, partial: rerun.partial };
      if (at === -1) parts.push(part);
      else parts[at] = part;
    }
  }
  throw new Error(`The merge still asked for re-runs after ${parts.length + 1} rounds`);
}
