/**
 * One completion per upload. S3 does not give that: a CompleteMultipartUpload repeated after the
 * upload completed is answered 200 with the same object (for as long as it is the current one), so
 * two requests completing one upload at the same time could both be told they did, and each
 * CompleteMultipartUpload S3 acts on is an event and a profile. Before it completes, a request
 * claims the upload with a conditional write (`If-None-Match: *`) of a small object in the results
 * bucket under `completions/`; S3 lets exactly one such write create it, and the others learn who
 * holds it and get 409. The claim is dropped when the completion fails (so the caller can fix and
 * try again), becomes `completed` when it succeeds (so a later request is told so), and can be taken
 * over (`If-Match` on its ETag) once older than a lease, in case its request died in between. A
 * lifecycle rule deletes claims after the upload ids that could name them have expired.
 */
import { createHash } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ConflictError, errorName } from '../shared/errors';
import { SERVICE_FUNCTIONS } from '../shared/grants';
import { COMPLETIONS_ROOT } from '../shared/keys';
import type { MultipartTarget, UploadDeps } from './upload';

/**
 * How long a claim holds off other requests. A request lives at most the upload function's
 * timeout; past six times that its claimant is gone (the queue's visibility timeout uses the same
 * factor), and another request may complete the upload instead.
 */
export const COMPLETION_LEASE_SECONDS = 6 * SERVICE_FUNCTIONS.upload.timeoutSeconds;

interface Claim {
  v: 1;
  state: 'completing' | 'completed';
  /** Epoch milliseconds, when it was claimed or completed. */
  at: number;
  etag?: string | null;
  size?: number;
}

// Types only from ./upload, which imports this module.
const nowMs = (deps: UploadDeps) => (deps.now ? deps.now() : new Date()).getTime();

/** The claim's key: the S3 upload id, hashed (ids are long, and their characters are S3's to choose). */
export function completionClaimKey(uploadId: string): string {
  return COMPLETIONS_ROOT + createHash('sha256').update(uploadId, 'utf8').digest('hex');
}

export interface CompletionClaim {
  /** Records the outcome, so that a request arriving later is told it was completed. */
  completed(result: { etag: string | null; size: number }): Promise<void>;
  /** Lets another request complete the upload (this one failed before S3 completed it). */
  release(): Promise<void>;
}

/** A conditional write that lost: the key exists or has another ETag (412), or a concurrent conditional write won (409). */
const lostRace = (err: unknown) => ['PreconditionFailed', 'ConditionalRequestConflict'].includes(errorName(err) ?? '');

const alreadyCompleted = (claim: Claim) =>
  new ConflictError(
    'UploadAlreadyCompleted',
    `This upload was already completed by another request (ETag ${claim.etag ?? 'unknown'}, ${claim.size ?? 'unknown'} bytes)`,
  );
const beingCompleted = () =>
  new ConflictError('UploadCompleting', 'Another request is completing this upload; ask again in a few seconds to learn how it ended');

/**
 * Claims the completion of `target`, or throws 409: `UploadAlreadyCompleted` when another request
 * completed it, `UploadCompleting` while another request is completing it.
 */
export async function claimCompletion(deps: UploadDeps, target: MultipartTarget): Promise<CompletionClaim> {
  const Bucket = deps.config.resultsBucket;
  const Key = completionClaimKey(target.uploadId);
  const write = (claim: Omit<Claim, 'v' | 'at'>, condition: { IfNoneMatch?: '*'; IfMatch?: string } = {}) =>
    deps.s3.send(
      new PutObjectCommand({
        Bucket,
        Key,
        Body: JSON.stringify({ v: 1, at: nowMs(deps), ...claim } satisfies Claim),
        ContentType: 'application/json',
        ...condition,
      }),
    );
  const owned: CompletionClaim = {
    completed: async (result) => {
      await write({ state: 'completed', etag: result.etag, size: result.size });
    },
    release: async () => {
      await deps.s3.send(new DeleteObjectCommand({ Bucket, Key }));
    },
  };

  // A claim released between our write and our read is gone when we look: try again.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await write({ state: 'completing' }, { IfNoneMatch: '*' });
      return owned;
    } catch (err) {
      if (!lostRace(err)) throw err;
    }
    const held = await readClaim(deps, Key);
    if (!held) continue;
    if (held.claim.state === 'completed') throw alreadyCompleted(held.claim);
    if (nowMs(deps) - held.claim.at < COMPLETION_LEASE_SECONDS * 1000) throw beingCompleted();
    try {
      await write({ state: 'completing' }, { IfMatch: held.etag });
      return owned;
    } catch (err) {
      if (lostRace(err)) throw beingCompleted(); // another request took it over first
      throw err;
    }
  }
  throw new Error(`The completion claim ${Key} exists but could not be read`);
}

/**
 * The claim and its ETag, or undefined when there is none. Without s3:ListBucket on the bucket, S3
 * answers a GET of a missing key 403 rather than 404: both mean it is gone here, since a claim
 * was there a moment before.
 */
async function readClaim(deps: UploadDeps, Key: string): Promise<{ claim: Claim; etag: string } | undefined> {
  try {
    const out = await deps.s3.send(new GetObjectCommand({ Bucket: deps.config.resultsBucket, Key }));
    const claim = JSON.parse((await out.Body?.transformToString('utf-8')) ?? '') as Claim;
    if (claim.v !== 1 || (claim.state !== 'completing' && claim.state !== 'completed') || typeof claim.at !== 'number' || !out.ETag) {
      throw new Error(`The completion claim ${Key} is not one this code writes`);
    }
    return { claim, etag: out.ETag };
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (errorName(err) === 'NoSuchKey' || status === 404 || status === 403) return undefined;
    throw err;
  }
}
