import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { StoredChecksum } from '../shared/api-types';
import { storedChecksumOf } from '../shared/upload-checksums';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Config } from '../shared/config';
import { errorName, isNotFound } from '../shared/errors';
import { fromS3Key, profileKeyFor, S3_MAX_KEY_BYTES, userIdOfS3Key, validateKey } from '../shared/keys';
import { quotedEtag } from '../shared/etag';
import { lambdaLogger, type Logger } from '../shared/log';
import { SERVICE_FUNCTIONS } from '../shared/grants';
import { ContentError } from './profile/errors';

/**
 * A batch's profiles must be written before the function times out: profiling stops this long
 * before it (the profile says `truncated`, reason `deadline`), leaving time to write it; a record
 * whose turn comes later than PROCESS_START_BY_MS before the timeout is left for a retry.
 */
const PROCESS_WRITE_MARGIN_MS = 20_000;
const PROCESS_START_BY_MS = 60_000;

/**
 * Profiles the stored object by reading it itself, in byte ranges on worker threads
 * (lambda/core/ranged-profile.ts), injected so unit tests can use a fake: the profile equals the
 * engine's single pass (`profileObject`) over the same bytes. Throws the S3 errors of its reads
 * (PreconditionFailed when the object changed) and the engine's ContentErrors.
 */
export type ProfileStoredFn = (
  input: { bucket: string; key: string; etag?: string; size: number; name: string; contentType?: string },
  options?: { deadline?: number },
) => Promise<object>;

export interface ProcessDeps {
  s3: S3Client;
  config: Config;
  /** One pass over an object: the ranged profiler, on all cores. */
  profileStored: ProfileStoredFn;
  now?: () => Date;
  /** One structured line per record (lambda/shared/log.ts); Lambda's console by default. */
  log?: Logger;
  /** Starts the fan-out for an object too big for one pass; without it such objects get a `skipped` profile. */
  fanOut?: FanOutStarter;
}

/** What starting a fan-out run is asked: the S3 record as received, and how many runs of it failed before. */
export interface FanOutRequest {
  record: S3NotificationRecord;
  attempt: number;
}

/** Starts one fan-out run per (object, event, attempt): a duplicate request starts none. */
export interface FanOutStarter {
  start(request: FanOutRequest): Promise<'started' | 'already-started'>;
}

/** The parts of an S3 event notification record the processor uses. */
export interface S3NotificationRecord {
  eventName?: string;
  eventTime?: string;
  s3?: {
    bucket?: { name?: string };
    object?: { key?: string; size?: number; eTag?: string; sequencer?: string };
  };
}

export type Outcome =
  | 'profiled'
  | 'failed-profile'
  | 'skipped-not-created'
  | 'skipped-foreign-bucket'
  | 'skipped-outside-user-area'
  | 'skipped-undecodable-key'
  | 'skipped-key-too-long'
  | 'skipped-deleted'
  | 'skipped-overwritten'
  | 'skipped-stale'
  | 'skipped-too-large'
  | 'fanned-out'
  | 'fan-out-already-started';

/** How many times a conditional profile write is re-tried when another writer got there first. */
const MAX_WRITE_ATTEMPTS = 3;

/** S3 event keys are URL-encoded, with "+" for a space. */
export function decodeEventKey(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

/**
 * S3 sequencers order events for one key: hexadecimal strings of varying length. As the S3 user
 * guide says, the shorter one is RIGHT-padded with zeros, then the two compared lexically.
 * Negative when `a` is older than `b`.
 */
export function compareSequencers(a: string, b: string): number {
  const width = Math.max(a.length, b.length);
  const pa = a.toUpperCase().padEnd(width, '0');
  const pb = b.toUpperCase().padEnd(width, '0');
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}

/**
 * Errors that say the file's content cannot be profiled: retrying will never help. The engine's own
 * ContentErrors only (a zlib error is one, as CorruptGzipError; a range thread's is rebuilt as one
 * on this side), never a name or code matched as a string.
 */
export function isContentError(err: unknown): err is ContentError {
  return err instanceof ContentError;
}

const isPreconditionFailed = (err: unknown) =>
  errorName(err) === 'PreconditionFailed' || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412;
const isWriteConflict = (err: unknown) => isPreconditionFailed(err) || errorName(err) === 'ConditionalRequestFailed' || errorName(err) === 'ConditionalRequestConflict' || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 409;


interface ExistingProfile {
  etag: string;
  sequencer?: string;
}

async function readExistingProfile(deps: Pick<ProcessDeps, 's3' | 'config'>, key: string): Promise<ExistingProfile | undefined> {
  try {
    const out = await deps.s3.send(new GetObjectCommand({ Bucket: deps.config.resultsBucket, Key: key }));
    const text = out.Body ? await out.Body.transformToString('utf8') : '';
    let sequencer: unknown;
    try {
      sequencer = (JSON.parse(text) as { source?: { sequencer?: unknown } }).source?.sequencer;
    } catch {
      sequencer = undefined; // an unreadable profile is replaced
    }
    return { etag: out.ETag ?? '', ...(typeof sequencer === 'string' ? { sequencer } : {}) };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** True when the stored profile comes from a later (or, with `orSame`, the same) event. */
function isSuperseded(existing: ExistingProfile | undefined, sequencer: string | undefined, orSame: boolean): boolean {
  if (!existing?.sequencer || !sequencer) return false;
  const cmp = compareSequencers(existing.sequencer, sequencer);
  return orSame ? cmp >= 0 : cmp > 0;
}

/** What an S3 record names, once checked: the object to profile and where its profile goes. */
export interface ProfileTarget {
  s3Key: string;
  /** The key as the API names it (without `users/<sub>/`). */
  apiKey: string;
  etag: string;
  sequencer?: string;
  eventTime?: string;
  /** The size the event announced. */
  size: number;
  resultKey: string;
}

/** Step 1: the record's object, or why there is nothing to profile (no I/O). */
export function targetOfRecord(config: Config, record: S3NotificationRecord): { target: ProfileTarget } | { outcome: Outcome; key?: string } {
  if (!record.eventName?.startsWith('ObjectCreated:')) return { outcome: 'skipped-not-created' };
  const object = record.s3?.object;
  if (record.s3?.bucket?.name !== config.uploadsBucket || !object?.key) return { outcome: 'skipped-foreign-bucket' };

  let s3Key: string;
  try {
    s3Key = decodeEventKey(object.key);
  } catch {
    // Not valid percent-encoding: S3 never sends such a key, so this is a forged or mangled event.
    return { outcome: 'skipped-undecodable-key', key: object.key };
  }
  const userId = userIdOfS3Key(s3Key);
  const apiKey = userId === undefined ? undefined : fromS3Key(userId, s3Key);
  // Written with S3 tools, not the API (which refuses such keys): its profile's key would be over
  // S3's limit, so there is nowhere to write one; retrying would only fill the dead-letter queue.
  if (apiKey !== undefined && Buffer.byteLength(profileKeyFor(s3Key), 'utf8') > S3_MAX_KEY_BYTES) return { outcome: 'skipped-key-too-long', key: s3Key };
  try {
    validateKey(apiKey);
  } catch {
    return { outcome: 'skipped-outside-user-area', key: s3Key };
  }
  return {
    target: {
      s3Key,
      apiKey: apiKey!,
      etag: object.eTag ?? '',
      ...(object.sequencer ? { sequencer: object.sequencer } : {}),
      ...(record.eventTime ? { eventTime: record.eventTime } : {}),
      size: object.size ?? 0,
      resultKey: profileKeyFor(s3Key),
    },
  };
}

/** Step 2: a duplicate, or an event older than the stored profile, needs no work (nor a read of the file). */
export async function isStale(deps: Pick<ProcessDeps, 's3' | 'config'>, target: ProfileTarget): Promise<boolean> {
  return isSuperseded(await readExistingProfile(deps, target.resultKey), target.sequencer, true);
}

/** How the processor treats an object, from its size and the time this invocation has left. */
export type Route =
  | { route: 'one-pass' }
  | { route: 'fan-out'; reason: 'size' | 'estimate' }
  | { route: 'skip'; reason: 'size' | 'estimate'; estimateSeconds: number; budgetSeconds: number };

/**
 * Step 3: one pass here, the fan-out, or (with no fan-out to hand it to) a `skipped` profile. An
 * object goes to the fan-out when it is at least `fanOutBytes`, or when one pass at the assumed
 * throughput would not end before `budgetMs` (the time this invocation has left for it): so a
 * batch never runs into the function's timeout, whatever sizes it holds, and no receive of the
 * message is spent on an attempt that cannot finish.
 */
export function routeObject(input: { size: number; budgetMs: number; fanOutBytes: number; profileBytesPerSecond: number; canFanOut: boolean }): Route {
  const estimateMs = (input.size / input.profileBytesPerSecond) * 1000;
  const reason = input.size >= input.fanOutBytes ? 'size' : estimateMs > input.budgetMs ? 'estimate' : undefined;
  if (reason === undefined) return { route: 'one-pass' };
  if (input.canFanOut) return { route: 'fan-out', reason };
  return { route: 'skip', reason, estimateSeconds: Math.ceil(estimateMs / 1000), budgetSeconds: Math.floor(Math.max(0, input.budgetMs) / 1000) };
}

/** The `source` every profile document carries: which object and event it describes. */
export function profileSource(target: ProfileTarget, size: number, checksum: StoredChecksum | null): Record<string, unknown> {
  return {
    bucket: 'uploads',
    key: target.apiKey,
    etag: target.etag,
    size,
    checksum,
    sequencer: target.sequencer ?? null,
    eventTime: target.eventTime ?? null,
  };
}

/** The document a profile (or a failed one) is stored as; `status` says which. */
export function profileDocument(profile: object): Record<string, unknown> {
  // A profile of the content before a limit (gzip expansion, the deadline) says so in `status` too.
  return { status: 'truncated' in profile && profile.truncated ? 'truncated' : 'ok', ...profile };
}

/** A profile that could not be made because the content is not what it claims (no retry helps). */
export function failedDocument(err: unknown): Record<string, unknown> {
  return { status: 'failed', error: { name: errorName(err) ?? 'Error', message: (err as Error).message } };
}

type OnePassResult = { outcome: Outcome; code?: string; document?: Record<string, unknown>; size?: number; checksum?: StoredChecksum | null };

/**
 * Step 4 (one pass, on all cores): a HEAD of the event's version (size, type, and the checksum S3
 * stored, which it returns only when asked: a GET asking for it would also make the SDK verify the
 * body as it streams), then the ranged profiler, which reads the object itself.
 */
async function profileOnePass(deps: ProcessDeps, target: ProfileTarget, deadline: number | undefined): Promise<OnePassResult> {
  const object = { Bucket: deps.config.uploadsBucket, Key: target.s3Key, ...(target.etag ? { IfMatch: quotedEtag(target.etag) } : {}) };
  let size = target.size;
  let checksum: StoredChecksum | null = null;
  try {
    const head = await deps.s3.send(new HeadObjectCommand({ ...object, ChecksumMode: 'ENABLED' }));
    checksum = storedChecksumOf(head);
    size = head.ContentLength ?? target.size;
    const input = {
      bucket: object.Bucket,
      key: target.s3Key,
      ...(target.etag ? { etag: target.etag } : {}),
      size,
      name: target.apiKey,
      ...(head.ContentType ? { contentType: head.ContentType } : {}),
    };
    const profile = await deps.profileStored(input, deadline !== undefined ? { deadline } : {});
    return { outcome: 'profiled', document: profileDocument(profile), size, checksum };
  } catch (err) {
    if (isPreconditionFailed(err)) return { outcome: 'skipped-overwritten' }; // the newer write has its own event
    if (isNotFound(err)) return { outcome: 'skipped-deleted' };
    if (!isContentError(err)) throw err;
    return { outcome: 'failed-profile', code: errorName(err) ?? 'Error', document: failedDocument(err), size, checksum };
  }
}

/**
 * Step 5: stores a profile document for `target` with a compare-and-swap on the stored profile, so
 * a concurrent writer with a newer event wins. 'stale' when a newer event's profile is there.
 * The fan-out's merge writes through this too.
 */
export async function writeProfile(
  deps: Pick<ProcessDeps, 's3' | 'config' | 'now'>,
  target: ProfileTarget,
  document: Record<string, unknown>,
  size: number,
  /** What S3 stored with the object, recorded in the profile's source. */
  checksum: StoredChecksum | null = null,
): Promise<'written' | 'stale'> {
  const profiledAt = (deps.now ? deps.now() : new Date()).toISOString();
  const payload = JSON.stringify({ ...document, source: profileSource(target, size, checksum), profiledAt });
  for (let attempt = 1; ; attempt++) {
    const existing = await readExistingProfile(deps, target.resultKey);
    if (isSuperseded(existing, target.sequencer, false)) return 'stale';
    try {
      await deps.s3.send(
        new PutObjectCommand({
          Bucket: deps.config.resultsBucket,
          Key: target.resultKey,
          Body: payload,
          ContentType: 'application/json',
          ...(existing ? { IfMatch: existing.etag } : { IfNoneMatch: '*' }),
        }),
      );
      return 'written';
    } catch (err) {
      if (!isWriteConflict(err) || attempt >= MAX_WRITE_ATTEMPTS) throw err;
    }
  }
}

/**
 * Profiles the object one S3 notification announced, in named steps: check the record, skip a
 * stale event, route by size and time left, then profile in one pass (or hand the object to the
 * fan-out, or write a `skipped` profile) and write. Throws only for failures worth a retry.
 */
export async function processS3Record(
  deps: ProcessDeps,
  record: S3NotificationRecord,
  /** Epoch milliseconds: the profiler stops reading then, and the profile says `truncated`. */
  deadline?: number,
  /** How many fan-out runs of this event failed before (a replayed dead letter says). */
  fanOutAttempt = 0,
): Promise<{ outcome: Outcome; key?: string; code?: string }> {
  const checked = targetOfRecord(deps.config, record);
  if (!('target' in checked)) return checked;
  const { target } = checked;
  const key = target.s3Key;

  if (await isStale(deps, target)) return { outcome: 'skipped-stale', key };

  const now = Date.now();
  const route = routeObject({
    size: target.size,
    budgetMs: deadline === undefined ? Number.POSITIVE_INFINITY : deadline - now,
    fanOutBytes: deps.config.fanOutBytes,
    profileBytesPerSecond: deps.config.profileBytesPerSecond,
    canFanOut: deps.fanOut !== undefined,
  });
  if (route.route === 'fan-out') {
    const started = await deps.fanOut!.start({ record, attempt: fanOutAttempt });
    return { outcome: started === 'started' ? 'fanned-out' : 'fan-out-already-started', key };
  }
  if (route.route === 'skip') {
    const document = {
      status: 'skipped',
      reason: {
        code: route.reason === 'size' ? 'TooLarge' : 'OverTimeBudget',
        message:
          route.reason === 'size'
            ? `The object is at least ${deps.config.fanOutBytes} bytes (the fan-out threshold) and no fan-out is configured`
            : `One pass would take about ${route.estimateSeconds} s, more than the ${route.budgetSeconds} s left, and no fan-out is configured`,
      },
      bytes: target.size,
      etag: target.etag || null,
    };
    return { outcome: (await writeProfile(deps, target, document, target.size)) === 'stale' ? 'skipped-stale' : 'skipped-too-large', key };
  }

  const result = await profileOnePass(deps, target, deadline);
  if (!result.document) return { outcome: result.outcome, key };
  const written = await writeProfile(deps, target, result.document, result.size ?? target.size, result.checksum ?? null);
  return { outcome: written === 'stale' ? 'skipped-stale' : result.outcome, key, ...(result.code ? { code: result.code } : {}) };
}

/**
 * Handles a batch of SQS messages carrying S3 notifications. A message whose processing failed
 * for a reason worth retrying is reported in `batchItemFailures`; SQS redelivers it and, after
 * the queue's receive limit, moves it to the dead-letter queue.
 */
export async function processSqsEvent(
  deps: ProcessDeps,
  event: SQSEvent,
  /** Lambda's context: the time left is its; without one (a test), the function's full timeout. */
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<SQSBatchResponse> {
  const log = deps.log ?? lambdaLogger;
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  const timeoutAt = Date.now() + (context ? context.getRemainingTimeInMillis() : SERVICE_FUNCTIONS.process.timeoutSeconds * 1000);
  for (const message of event.Records) {
    if (Date.now() > timeoutAt - PROCESS_START_BY_MS) {
      // Too little time left to profile it: SQS delivers it again, in a batch of its own time.
      log({ level: 'warn', outcome: 'retry-out-of-time', messageId: message.messageId });
      batchItemFailures.push({ itemIdentifier: message.messageId });
      continue;
    }
    try {
      await processMessage(deps, message, log, timeoutAt - PROCESS_WRITE_MARGIN_MS);
    } catch (err) {
      log({
        level: 'error',
        outcome: 'retry',
        messageId: message.messageId,
        error: { name: errorName(err), message: (err as Error)?.message },
      });
      batchItemFailures.push({ itemIdentifier: message.messageId });
    }
  }
  return { batchItemFailures };
}

async function processMessage(
  deps: ProcessDeps,
  message: SQSRecord,
  log: Logger,
  deadline: number,
): Promise<void> {
  // `fanOutAttempt`: set on the dead letter of a failed fan-out run, so that its replay starts a new run.
  let notification: { Event?: string; Records?: S3NotificationRecord[]; fanOutAttempt?: unknown };
  try {
    notification = JSON.parse(message.body) as typeof notification;
  } catch {
    // Not an S3 notification and never will be: retrying would only fill the dead-letter queue.
    log({ level: 'warn', outcome: 'skipped-unreadable-message', messageId: message.messageId });
    return;
  }
  if (notification?.Event === 's3:TestEvent') {
    log({ level: 'info', outcome: 'skipped-test-event', messageId: message.messageId });
    return;
  }
  for (const record of notification?.Records ?? []) {
    const attempt = typeof notification.fanOutAttempt === 'number' && Number.isSafeInteger(notification.fanOutAttempt) ? notification.fanOutAttempt : 0;
    const started = Date.now();
    const { outcome, key, code } = await processS3Record(deps, record, deadline, attempt);
    log({
      level: outcome === 'failed-profile' ? 'warn' : 'info',
      outcome,
      ...(code ? { code } : {}),
      durationMs: Date.now() - started,
      messageId: message.messageId,
      key: key ?? record.s3?.object?.key,
      etag: record.s3?.object?.eTag,
      sequencer: record.s3?.object?.sequencer,
    });
  }
}
