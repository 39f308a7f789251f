import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { StoredChecksum } from '../shared/api-types';
import { storedChecksumOf } from '../shared/upload-checksums';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Config } from '../shared/config';
import { errorName, isNotFound } from '../shared/errors';
import { fromS3Key, profileKeyFor, S3_MAX_KEY_BYTES, userIdOfS3Key, validateKey } from '../shared/keys';
import { quotedEtag } from '../shared/etag';
import { SERVICE_FUNCTIONS } from '../shared/grants';
import { lambdaLogger, type Logger } from '../shared/log';
import { ContentError } from './profile/errors';

/**
 * A batch's profiles must be written before the function times out: profiling stops this long
 * before it (the profile says `truncated`, reason `deadline`), leaving time to write it; a record
 * whose turn comes later than PROCESS_START_BY_MS before the timeout is left for a retry.
 */
const PROCESS_WRITE_MARGIN_MS = 20_000;
const PROCESS_START_BY_MS = 60_000;

/** The engine's profiler (lambda/core/profile), injected so tests can use a fake. */
export type ProfileObjectFn = (
  input: {
    body: AsyncIterable<Uint8Array>;
    key: string;
    contentType?: string;
    size?: number;
    etag?: string;
  },
  options?: { deadline?: number },
) => Promise<object>;

export interface ProcessDeps {
  s3: S3Client;
  config: Config;
  profileObject: ProfileObjectFn;
  now?: () => Date;
  /** One structured line per record (lambda/shared/log.ts); Lambda's console by default. */
  log?: Logger;
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
  | 'skipped-stale';

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

/** Errors that say the file's content cannot be profiled: retrying will never help. */
export function isContentError(err: unknown): boolean {
  if (err instanceof ContentError) return true;
  const name = errorName(err) ?? '';
  const code = (err as { code?: unknown } | undefined)?.code;
  return name.endsWith('FormatError') || name.endsWith('ProfileError') || (typeof code === 'string' && code.startsWith('Z_'));
}

const isPreconditionFailed = (err: unknown) =>
  errorName(err) === 'PreconditionFailed' || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 412;
const isWriteConflict = (err: unknown) => isPreconditionFailed(err) || errorName(err) === 'ConditionalRequestFailed' || errorName(err) === 'ConditionalRequestConflict' || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 409;


interface ExistingProfile {
  etag: string;
  sequencer?: string;
}

async function readExistingProfile(deps: ProcessDeps, key: string): Promise<ExistingProfile | undefined> {
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

/** Profiles the object one S3 notification announced. Throws only for failures worth a retry. */
export async function processS3Record(
  deps: ProcessDeps,
  record: S3NotificationRecord,
  /** Epoch milliseconds: the profiler stops reading then, and the profile says `truncated`. */
  deadline?: number,
): Promise<{ outcome: Outcome; key?: string; code?: string }> {
  const { config, s3 } = deps;
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
  const etag = object.eTag ?? '';
  const sequencer = object.sequencer;
  const resultKey = profileKeyFor(s3Key);

  // A duplicate, or an event older than the stored profile: nothing to do, and no need to read the file.
  if (isSuperseded(await readExistingProfile(deps, resultKey), sequencer, true)) return { outcome: 'skipped-stale', key: s3Key };

  let out;
  let checksum: StoredChecksum | null;
  try {
    const target = { Bucket: config.uploadsBucket, Key: s3Key, ...(etag ? { IfMatch: quotedEtag(etag) } : {}) };
    // S3 returns the stored checksum only when asked, and on a GET the SDK would then also verify
    // the body as it streams (a CPU cost the profiler does not need, and an error mid-profile):
    // a HEAD of the same version (If-Match) asks for it alone.
    checksum = storedChecksumOf(await s3.send(new HeadObjectCommand({ ...target, ChecksumMode: 'ENABLED' })));
    out = await s3.send(new GetObjectCommand(target));
  } catch (err) {
    if (isPreconditionFailed(err)) return { outcome: 'skipped-overwritten', key: s3Key }; // the newer write has its own event
    if (isNotFound(err)) return { outcome: 'skipped-deleted', key: s3Key };
    throw err;
  }
  const body = out.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
  const size = out.ContentLength ?? object.size ?? 0;
  const source = {
    bucket: 'uploads',
    key: apiKey,
    etag,
    size,
    checksum,
    sequencer: sequencer ?? null,
    eventTime: record.eventTime ?? null,
  };

  let document: Record<string, unknown>;
  let outcome: Outcome;
  let code: string | undefined;
  try {
    const profile = await deps.profileObject(
      {
        body: body ?? (async function* () {})(),
        key: apiKey!,
        ...(out.ContentType ? { contentType: out.ContentType } : {}),
        size,
        ...(etag ? { etag } : {}),
      },
      deadline !== undefined ? { deadline } : {},
    );
    // A profile of the content before a limit (gzip expansion, the deadline) says so in `status` too.
    document = { status: 'truncated' in profile && profile.truncated ? 'truncated' : 'ok', ...profile };
    outcome = 'profiled';
  } catch (err) {
    if (!isContentError(err)) throw err;
    document = { status: 'failed', error: { name: errorName(err) ?? 'Error', message: (err as Error).message } };
    outcome = 'failed-profile';
    code = errorName(err) ?? 'Error';
  } finally {
    body?.destroy?.();
  }
  const profiledAt = (deps.now ? deps.now() : new Date()).toISOString();
  const payload = JSON.stringify({ ...document, source, profiledAt });

  // Compare-and-swap on the stored profile: a concurrent writer with a newer event wins.
  for (let attempt = 1; ; attempt++) {
    const existing = await readExistingProfile(deps, resultKey);
    if (isSuperseded(existing, sequencer, false)) return { outcome: 'skipped-stale', key: s3Key };
    try {
      await s3.send(
        new PutObjectCommand({
          Bucket: config.resultsBucket,
          Key: resultKey,
          Body: payload,
          ContentType: 'application/json',
          ...(existing ? { IfMatch: existing.etag } : { IfNoneMatch: '*' }),
        }),
      );
      return { outcome, key: s3Key, ...(code ? { code } : {}) };
    } catch (err) {
      if (!isWriteConflict(err) || attempt >= MAX_WRITE_ATTEMPTS) throw err;
    }
  }
}

/**
 * Handles a batch of SQS messages carrying S3 notifications. A message whose processing failed
 * for a reason worth retrying is reported in `batchItemFailures`; SQS redelivers it and, after
 * the queue's receive limit, moves it to the dead-letter queue.
 */
export async function processSqsEvent(deps: ProcessDeps, event: SQSEvent): Promise<SQSBatchResponse> {
  const log = deps.log ?? lambdaLogger;
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  const timeoutAt = Date.now() + SERVICE_FUNCTIONS.process.timeoutSeconds * 1000;
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
  let notification: { Event?: string; Records?: S3NotificationRecord[] };
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
    const started = Date.now();
    const { outcome, key, code } = await processS3Record(deps, record, deadline);
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
