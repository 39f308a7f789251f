import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Config } from '../shared/config';
import {
  BadRequestError,
  ConflictError,
  ForbiddenError,
  isNotFound,
  NotFoundError,
  PayloadTooLargeError,
} from '../shared/errors';
import { profileKeyFor, resolveBucket, S3_MAX_KEY_BYTES, toS3Key, validateKey } from '../shared/keys';
import { signPayload, verifyPayload } from '../shared/signed-token';
import type { KeyRing, SigningKeys } from '../shared/signing-keys';
import type { CompletedUpload, SignedPart, SignedParts, SinglePutChecksum, UploadedPart, UploadSessionResponse } from '../shared/api-types';
import {
  checksumField,
  checksumHeaderName,
  checksumShape,
  isMultipartChecksumAlgorithm,
  isWellFormedChecksum,
  type MultipartChecksumAlgorithm,
} from '../shared/upload-checksums';
import { MAX_PARTS, planParts } from './multipart';
import { claimCompletion } from './completion-claims';
import { bareEtag } from '../shared/etag';
import { partsSha256 } from '../shared/parts-digest';
import { UPLOAD_LIFETIME_SECONDS } from '../shared/upload-lifetime';
import { lambdaLogger } from '../shared/log';

export interface UploadDeps {
  s3: S3Client;
  config: Config;
  /** The upload-id key. */
  keys: SigningKeys;
  now?: () => Date;
}

/** How long an upload id stays valid: as long as S3's lifecycle rule lets the upload live (shared/upload-lifetime.ts). */
export const UPLOAD_SESSION_SECONDS = UPLOAD_LIFETIME_SECONDS;
const TOKEN_PURPOSE = 'upload';

export function nowOf(deps: UploadDeps): Date {
  return deps.now ? deps.now() : new Date();
}

// ---------------------------------------------------------------------------------------------
// Upload ids: a signed token carrying S3's upload id and what completion must check against.

/** What an upload id carries, whichever route issued it. */
export interface UploadToken {
  /** S3's own upload id. */
  uploadId: string;
  key: string;
  /** Declared size; -1 when none was declared (Uppy). */
  size: number;
  /** The server-chosen part size (our sessions only). */
  partSize?: number;
  /** The full-object checksum algorithm the session was created with (our sessions only). */
  checksumAlgorithm?: MultipartChecksumAlgorithm;
  /** Epoch seconds. */
  expiresAt: number;
}

interface TokenPayload {
  v: 1;
  u: string;
  s: string;
  k: string;
  z: number;
  p?: number;
  c?: MultipartChecksumAlgorithm;
  e: number;
}

export function signUploadToken(keys: KeyRing, purpose: string, userId: string, t: UploadToken): string {
  const payload: TokenPayload = {
    v: 1,
    u: t.uploadId,
    s: userId,
    k: t.key,
    z: t.size,
    ...(t.partSize !== undefined ? { p: t.partSize } : {}),
    ...(t.checksumAlgorithm !== undefined ? { c: t.checksumAlgorithm } : {}),
    e: t.expiresAt,
  };
  return signPayload(keys, purpose, payload);
}

const noSuchUpload = () => new NotFoundError('NoSuchUpload', 'No such upload (it may have been completed, aborted or expired)');

/**
 * The upload behind an id signed for `purpose`. Forged, expired and other users' ids all get the
 * same 404 so a caller learns nothing about uploads that are not theirs. A matching id with another
 * key is the caller's mistake, and says so.
 */
export function openUploadToken(deps: UploadDeps, purpose: string, userId: string, token: string, key: string | undefined): UploadToken {
  const p = verifyPayload(deps.keys.ring('upload'), purpose, token) as Partial<TokenPayload> | undefined;
  if (
    !p ||
    p.v !== 1 ||
    typeof p.u !== 'string' ||
    typeof p.k !== 'string' ||
    typeof p.z !== 'number' ||
    (p.p !== undefined && typeof p.p !== 'number') ||
    (p.c !== undefined && !isMultipartChecksumAlgorithm(p.c)) ||
    typeof p.e !== 'number' ||
    p.s !== userId ||
    p.e * 1000 <= nowOf(deps).getTime()
  ) {
    throw noSuchUpload();
  }
  if (validateKey(key) !== p.k) throw new BadRequestError('KeyMismatch', 'key is not the key this upload was created for');
  return {
    uploadId: p.u,
    key: p.k,
    size: p.z,
    ...(p.p !== undefined ? { partSize: p.p } : {}),
    ...(p.c !== undefined ? { checksumAlgorithm: p.c } : {}),
    expiresAt: p.e,
  };
}

export interface UploadSession {
  /** S3's own upload id. */
  uploadId: string;
  userId: string;
  key: string;
  size: number;
  partSize: number;
  partCount: number;
  checksumAlgorithm?: MultipartChecksumAlgorithm;
  /** Epoch seconds. */
  expiresAt: number;
}

export function encodeUploadId(keys: KeyRing, session: Omit<UploadSession, 'partCount'>): string {
  const { userId, ...token } = session;
  return signUploadToken(keys, TOKEN_PURPOSE, userId, token);
}

/** The session behind one of our upload ids (POST /uploads); 404 and 400 as openUploadToken. */
export function decodeUploadId(deps: UploadDeps, userId: string, uploadId: string, key: string | undefined): UploadSession {
  const t = openUploadToken(deps, TOKEN_PURPOSE, userId, uploadId, key);
  if (t.partSize === undefined || t.size < 0) throw noSuchUpload();
  return { ...t, userId, partSize: t.partSize, partCount: Math.ceil(t.size / t.partSize) };
}

// ---------------------------------------------------------------------------------------------
// POST /uploads

export interface CreateUploadInput {
  key: string;
  contentType: string;
  size: number;
  /** A single PUT's algorithm and value; a multipart session's algorithm (no value). */
  checksum?: { algorithm: SinglePutChecksum['algorithm']; value?: string };
}

export async function createUpload(deps: UploadDeps, userId: string, input: CreateUploadInput): Promise<UploadSessionResponse> {
  const { config, s3 } = deps;
  const s3Key = toS3Key(userId, input.key);
  const now = nowOf(deps).getTime();

  if (input.size <= config.multipartThresholdBytes) {
    const expiresIn = config.presignExpiresSeconds;
    // Content type and length are signed, so S3 refuses a body of another size or type; so is the
    // checksum, if given, so S3 refuses (400 BadDigest) a body of that size with other bytes.
    const checksum = input.checksum?.value !== undefined ? { header: checksumHeaderName(input.checksum.algorithm), value: input.checksum.value } : undefined;
    const url = await getSignedUrl(
      s3,
      new PutObjectCommand({
        Bucket: config.uploadsBucket,
        Key: s3Key,
        ContentType: input.contentType,
        ContentLength: input.size,
        ...(input.checksum?.value !== undefined ? { [checksumField(input.checksum.algorithm)]: input.checksum.value } : {}),
      }),
      { expiresIn, ...signedHeaders(['content-type', 'content-length'], checksum?.header) },
    );
    return {
      uploadId: null,
      key: input.key,
      method: 'PUT',
      url,
      headers: { 'content-type': input.contentType, ...(checksum ? { [checksum.header]: checksum.value } : {}) },
      expiresAt: new Date(now + expiresIn * 1000).toISOString(),
    };
  }

  const plan = planParts(input.size);
  const checksumAlgorithm = input.checksum && isMultipartChecksumAlgorithm(input.checksum.algorithm) ? input.checksum.algorithm : undefined;
  const out = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket: config.uploadsBucket,
      Key: s3Key,
      ContentType: input.contentType,
      // Full-object: the object's checksum is the CRC of its bytes, which a client can compute as it
      // reads and combine from its parts', whatever the part size (a composite one depends on it).
      ...(checksumAlgorithm ? { ChecksumAlgorithm: checksumAlgorithm, ChecksumType: 'FULL_OBJECT' as const } : {}),
    }),
  );
  if (!out.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
  const expiresAt = Math.floor(now / 1000) + UPLOAD_SESSION_SECONDS;
  return {
    uploadId: encodeUploadId(deps.keys.ring('upload'), {
      uploadId: out.UploadId,
      userId,
      key: input.key,
      size: input.size,
      partSize: plan.partSize,
      ...(checksumAlgorithm ? { checksumAlgorithm } : {}),
      expiresAt,
    }),
    key: input.key,
    partSize: plan.partSize,
    partCount: plan.partCount,
    expiresAt: new Date(expiresAt * 1000).toISOString(),
    ...(checksumAlgorithm ? { checksumAlgorithm } : {}),
  };
}

/**
 * Presigner options signing these headers. A checksum header stays a header (not hoisted into the
 * query, as the presigner does with `x-amz-*`): the client must send it, with exactly that value.
 */
function signedHeaders(headers: string[], checksumHeader: string | undefined) {
  if (!checksumHeader) return { signableHeaders: new Set(headers) };
  return { signableHeaders: new Set([...headers, checksumHeader]), unhoistableHeaders: new Set([checksumHeader]) };
}

// ---------------------------------------------------------------------------------------------
// POST /uploads/{uploadId}/parts

export interface SignPartsInput {
  /** Checked against the upload's key, after its id. */
  key: string;
  partNumbers: number[];
  /** Each part's checksum by part number (base64), when the session has an algorithm. */
  checksums?: Record<string, string>;
}

export async function signParts(deps: UploadDeps, userId: string, uploadId: string, input: SignPartsInput): Promise<SignedParts> {
  const session = decodeUploadId(deps, userId, uploadId, input.key);
  const numbers = input.partNumbers;
  const seen = new Set<number>();
  for (const n of numbers) {
    if (n > Math.min(session.partCount, MAX_PARTS) || seen.has(n)) {
      throw new BadRequestError(
        'InvalidPartNumber',
        `partNumbers must be distinct integers from 1 to ${session.partCount}; got ${JSON.stringify(n)}`,
      );
    }
    seen.add(n);
  }
  const checksums = partChecksums(input.checksums, session, numbers);
  const expiresIn = deps.config.presignExpiresSeconds;
  const Key = toS3Key(userId, session.key);
  const parts = await Promise.all(
    numbers.map(async (partNumber): Promise<SignedPart> => {
      const command = { Bucket: deps.config.uploadsBucket, Key, UploadId: session.uploadId, PartNumber: partNumber };
      const checksum = checksums?.get(partNumber);
      if (!checksum) return { partNumber, url: await getSignedUrl(deps.s3, new UploadPartCommand(command), { expiresIn }) };
      const header = checksumHeaderName(checksum.algorithm);
      const url = await getSignedUrl(deps.s3, new UploadPartCommand({ ...command, [checksumField(checksum.algorithm)]: checksum.value }), {
        expiresIn,
        ...signedHeaders([], header),
      });
      return { partNumber, url, headers: { [header]: checksum.value } };
    }),
  );
  return { parts };
}

/**
 * `checksums` of a parts request: `{"<partNumber>": "<base64>"}` with one for every part asked
 * for when the session has an algorithm, none otherwise. Undefined when the session has none.
 */
function partChecksums(
  given: Record<string, string> | undefined,
  session: UploadSession,
  numbers: readonly number[],
): Map<number, { algorithm: MultipartChecksumAlgorithm; value: string }> | undefined {
  const algorithm = session.checksumAlgorithm;
  if (!algorithm) {
    if (given !== undefined) throw new BadRequestError('InvalidChecksum', 'checksums are not taken: this upload was created without a checksum algorithm');
    return undefined;
  }
  if (given === undefined) {
    throw new BadRequestError('InvalidChecksum', `checksums must map each part number to its ${algorithm} (this upload was created with ${algorithm})`);
  }
  const wanted = new Set(numbers.map(String));
  const extra = Object.keys(given).find((n) => !wanted.has(n));
  if (extra !== undefined) throw new BadRequestError('InvalidChecksum', `checksums names part ${JSON.stringify(extra)}, which is not in partNumbers`);
  const out = new Map<number, { algorithm: MultipartChecksumAlgorithm; value: string }>();
  for (const n of numbers) {
    const value = given[String(n)];
    if (value === undefined) throw new BadRequestError('InvalidChecksum', `checksums has no ${algorithm} for part ${n}; this upload needs one for every part`);
    if (!isWellFormedChecksum(algorithm, value)) throw new BadRequestError('InvalidChecksum', `checksums["${n}"] must be ${checksumShape(algorithm)}`);
    out.set(n, { algorithm, value });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Multipart uploads in S3: listing, aborting and checked completion

/** Where a multipart upload lives in S3: shared by the upload routes and Uppy's sign-request. */
export interface MultipartTarget {
  s3Key: string;
  /** S3's own upload id. */
  uploadId: string;
}

/** Every part uploaded so far, paging through ListParts past 1,000 parts. 404 NoSuchUpload when gone. */
export async function listAllParts(deps: UploadDeps, target: MultipartTarget): Promise<UploadedPart[]> {
  const parts: UploadedPart[] = [];
  let marker: string | undefined;
  try {
    for (;;) {
      const out = await deps.s3.send(
        new ListPartsCommand({
          Bucket: deps.config.uploadsBucket,
          Key: target.s3Key,
          UploadId: target.uploadId,
          ...(marker ? { PartNumberMarker: marker } : {}),
        }),
      );
      for (const p of out.Parts ?? []) {
        if (p.PartNumber !== undefined && p.ETag !== undefined) {
          const checksum = p.ChecksumCRC32 ?? p.ChecksumCRC32C ?? p.ChecksumCRC64NVME;
          parts.push({ partNumber: p.PartNumber, etag: p.ETag, size: p.Size ?? 0, ...(checksum !== undefined ? { checksum } : {}) });
        }
      }
      if (!out.IsTruncated || !out.NextPartNumberMarker || out.NextPartNumberMarker === marker) break;
      marker = out.NextPartNumberMarker;
    }
  } catch (err) {
    if (isNotFound(err)) throw noSuchUpload();
    throw err;
  }
  return parts;
}

/** Aborts an upload; one already aborted or completed counts as done. */
export async function abortMultipartUpload(deps: UploadDeps, target: MultipartTarget): Promise<void> {
  try {
    await deps.s3.send(
      new AbortMultipartUploadCommand({ Bucket: deps.config.uploadsBucket, Key: target.s3Key, UploadId: target.uploadId }),
    );
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

export interface ChosenPart {
  partNumber: number;
  etag: string;
}

/**
 * Which parts a completion is made of: the ones the caller lists, or every part S3 lists for the
 * upload, the latter optionally pinned by the caller's `partsSha256` of them.
 */
export type PartsToComplete = { parts: ChosenPart[] } | { listed: true; partsSha256?: string };

/** What completion checks the uploaded parts against. */
export interface CompletionRules {
  /** Every part but the last must have exactly this size (our sessions: the server chose it). */
  exactPartSize?: number;
  /** Every part but the last must have at least this size (S3's rule; Uppy picks its own sizes). */
  minPartSize?: number;
  /** The size the caller declared; the parts must add up to it (409 SizeMismatch). */
  declaredSize?: number;
  /** Parts 1 to this many must all be uploaded, when completing from S3's list (409 IncompleteUpload). */
  partCount?: number;
  /** The whole object's full-object checksum, which S3 checks against the parts (400 BadDigest). */
  checksum?: { algorithm: MultipartChecksumAlgorithm; value: string };
}

/** The caller's parts as S3 holds them: each must exist with that ETag. */
function partsNamed(uploaded: readonly UploadedPart[], chosen: readonly ChosenPart[]): UploadedPart[] {
  const byNumber = new Map(uploaded.map((p) => [p.partNumber, p]));
  return chosen.map((part) => {
    const found = byNumber.get(part.partNumber);
    if (!found || bareEtag(found.etag) !== bareEtag(part.etag)) {
      throw new BadRequestError('InvalidPart', `Part ${part.partNumber} was not uploaded with that ETag`);
    }
    return found;
  });
}

/** Every part S3 lists, if they are the ones the caller digested and none of 1..partCount is missing. */
function partsListed(uploaded: readonly UploadedPart[], which: { partsSha256?: string }, rules: CompletionRules): UploadedPart[] {
  if (which.partsSha256 !== undefined) {
    const held = partsSha256(uploaded);
    if (held !== which.partsSha256) {
      throw new ConflictError(
        'PartsMismatch',
        `The ${uploaded.length} parts S3 holds for this upload have partsSha256 ${held}, not ${which.partsSha256}: ` +
          'a part is missing or was sent again with other bytes (GET the upload to see its parts)',
      );
    }
  }
  const numbers = new Set(uploaded.map((p) => p.partNumber));
  const expected = rules.partCount ?? Math.max(0, ...numbers);
  const missing: number[] = [];
  for (let n = 1; n <= expected && missing.length <= 10; n++) if (!numbers.has(n)) missing.push(n);
  if (uploaded.length === 0 || missing.length > 0) {
    const named = missing.length > 10 ? `${missing.slice(0, 10).join(', ')}…` : missing.join(', ');
    throw new ConflictError(
      'IncompleteUpload',
      uploaded.length === 0 ? 'No part of this upload has been uploaded yet' : `Parts ${named} of ${expected} have not been uploaded yet`,
    );
  }
  return [...uploaded];
}

/**
 * Completes a multipart upload only after checking what S3 holds: the parts exist (with the
 * caller's ETags, or as the caller digested them), the part sizes follow the rules, and the total
 * is within the limit and equal to the declared size. Nothing becomes visible unless all of that
 * holds. Of requests completing one upload at the same time exactly one does; the others get 409
 * (completion-claims.ts).
 */
export async function completeCheckedUpload(
  deps: UploadDeps,
  target: MultipartTarget,
  which: PartsToComplete,
  rules: CompletionRules,
): Promise<Omit<CompletedUpload, 'key'>> {
  const claim = await claimCompletion(deps, target);
  let done: Omit<CompletedUpload, 'key'>;
  try {
    done = await checkAndComplete(deps, target, which, rules);
  } catch (err) {
    // Best effort: a claim left behind stops holding others off after its lease.
    await claim.release().catch((e: unknown) => logClaimFailure('release', target, e));
    throw err;
  }
  // The upload is complete whatever happens next; a claim still marked in progress only makes a
  // late request wait for the lease, then answer 404 NoSuchUpload instead of 409.
  await claim.completed(done).catch((e: unknown) => logClaimFailure('record the completion of', target, e));
  return done;
}

function logClaimFailure(what: string, target: MultipartTarget, err: unknown): void {
  lambdaLogger({ level: 'error', message: `Could not ${what} the completion claim`, key: target.s3Key, error: String((err as Error)?.message ?? err) });
}

async function checkAndComplete(
  deps: UploadDeps,
  target: MultipartTarget,
  which: PartsToComplete,
  rules: CompletionRules,
): Promise<Omit<CompletedUpload, 'key'>> {
  const uploaded = await listAllParts(deps, target);
  const parts = 'parts' in which ? partsNamed(uploaded, which.parts) : partsListed(uploaded, which, rules);
  let total = 0;
  parts.forEach((part, i) => {
    const last = i === parts.length - 1;
    if (!last && rules.exactPartSize !== undefined && part.size !== rules.exactPartSize) {
      throw new BadRequestError('InvalidPart', `Part ${part.partNumber} has ${part.size} bytes; every part but the last must have ${rules.exactPartSize}`);
    }
    if (!last && rules.minPartSize !== undefined && part.size < rules.minPartSize) {
      throw new BadRequestError('EntityTooSmall', `Part ${part.partNumber} has ${part.size} bytes; every part but the last needs at least ${rules.minPartSize}`);
    }
    total += part.size;
  });
  if (total > deps.config.maxUploadBytes) {
    await abortMultipartUpload(deps, target).catch(() => undefined); // best effort: the lifecycle rule cleans up the rest
    throw new PayloadTooLargeError('EntityTooLarge', `The parts add up to ${total} bytes, over the ${deps.config.maxUploadBytes}-byte limit; the upload was aborted`);
  }
  if (rules.declaredSize !== undefined && total !== rules.declaredSize) {
    throw new ConflictError('SizeMismatch', `The parts add up to ${total} bytes; the upload was declared as ${rules.declaredSize}`);
  }

  try {
    const out = await deps.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: deps.config.uploadsBucket,
        Key: target.s3Key,
        UploadId: target.uploadId,
        MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
        ...(rules.checksum ? { [checksumField(rules.checksum.algorithm)]: rules.checksum.value, ChecksumType: 'FULL_OBJECT' as const } : {}),
      }),
    );
    const checksum = rules.checksum && out[checksumField(rules.checksum.algorithm)];
    return { etag: out.ETag ?? null, size: total, ...(rules.checksum && checksum ? { checksum: { algorithm: rules.checksum.algorithm, value: checksum } } : {}) };
  } catch (err) {
    if (isNotFound(err)) throw noSuchUpload();
    throw err; // InvalidPart, InvalidPartOrder, EntityTooSmall, BadDigest: 400 by fromCallerS3Error (shared/errors.ts)
  }
}

const targetOf = (session: UploadSession): MultipartTarget => ({ s3Key: toS3Key(session.userId, session.key), uploadId: session.uploadId });

// ---------------------------------------------------------------------------------------------
// GET /uploads/{uploadId}

export async function listParts(deps: UploadDeps, userId: string, uploadId: string, key: string | undefined): Promise<{ parts: UploadedPart[] }> {
  const session = decodeUploadId(deps, userId, uploadId, key);
  return { parts: await listAllParts(deps, targetOf(session)) };
}

// ---------------------------------------------------------------------------------------------
// POST /uploads/{uploadId}/complete

export interface CompleteUploadInput {
  /** Checked with the upload id, which comes first: another user's id is 404 whatever the key. */
  key: string;
  which: PartsToComplete;
  /** The object's full-object checksum (base64), checked against the session's algorithm with the id. */
  checksum?: string;
}

/** The `checksum` a completion sends: required, and well-formed, when the session has an algorithm. */
function completionChecksum(session: UploadSession, given: string | undefined): CompletionRules['checksum'] {
  const algorithm = session.checksumAlgorithm;
  if (!algorithm) {
    if (given !== undefined) throw new BadRequestError('InvalidChecksum', 'checksum is not taken: this upload was created without a checksum algorithm');
    return undefined;
  }
  if (given === undefined) throw new BadRequestError('InvalidChecksum', `checksum is required: this upload was created with ${algorithm}; send the whole object's`);
  if (!isWellFormedChecksum(algorithm, given)) throw new BadRequestError('InvalidChecksum', `checksum must be ${checksumShape(algorithm)}`);
  return { algorithm, value: given };
}

export async function completeUpload(deps: UploadDeps, userId: string, uploadId: string, input: CompleteUploadInput): Promise<CompletedUpload> {
  const session = decodeUploadId(deps, userId, uploadId, input.key);
  const checksum = completionChecksum(session, input.checksum);
  const done = await completeCheckedUpload(deps, targetOf(session), input.which, {
    exactPartSize: session.partSize,
    declaredSize: session.size,
    partCount: session.partCount,
    ...(checksum ? { checksum } : {}),
  });
  return { key: session.key, ...done };
}

// ---------------------------------------------------------------------------------------------
// DELETE /uploads/{uploadId}

export async function abortUpload(deps: UploadDeps, userId: string, uploadId: string, key: string | undefined): Promise<void> {
  await abortMultipartUpload(deps, targetOf(decodeUploadId(deps, userId, uploadId, key)));
}

// ---------------------------------------------------------------------------------------------
// DELETE /buckets/{bucket}/objects/{key+}

/**
 * Deletes an upload and its profile, so no stale profile outlives the object. Idempotent. A key
 * whose profile key would be over S3's limit (longer than uploads may be, yet a valid key) has no
 * profile, and asking S3 to delete it would be refused with KeyTooLongError.
 */
export async function deleteObject(deps: UploadDeps, userId: string, bucketName: string, key: string): Promise<void> {
  const bucket = resolveBucket(deps.config, bucketName);
  if (!bucket.writable) throw new ForbiddenError('ReadOnlyBucket', `The ${bucket.name} bucket is read-only`);
  const s3Key = toS3Key(userId, validateKey(key));
  await deps.s3.send(new DeleteObjectCommand({ Bucket: bucket.physical, Key: s3Key }));
  const profileKey = profileKeyFor(s3Key);
  if (Buffer.byteLength(profileKey, 'utf8') > S3_MAX_KEY_BYTES) return;
  await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.config.resultsBucket, Key: profileKey }));
}
