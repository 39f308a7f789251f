import { CreateMultipartUploadCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { BadRequestError, UnauthorizedError } from '../shared/errors';
import { bodyObject, isObject } from '../shared/http';
import { toS3Key, validateUploadKey } from '../shared/keys';
import { signToken, verifyToken } from '../shared/signed-token';
import { MAX_PARTS, S3_MIN_PART_BYTES } from './multipart';
import {
  abortMultipartUpload,
  completeCheckedUpload,
  listAllParts,
  nowOf,
  openUploadToken,
  parseChosenParts,
  signUploadToken,
  UPLOAD_SESSION_SECONDS,
  validateContentType,
  validateSize,
  type ChosenPart,
  type MultipartTarget,
  type UploadDeps,
} from './upload';

/**
 * The S3 routes of Uppy's Companion server, served over our own upload rules, so that
 * `@uppy/aws-s3` works with `companionEndpoint` pointed at the API and no other code.
 *
 * Two things differ from our own upload routes, both because of what Uppy sends:
 * - Auth. In Companion mode Uppy (v6) sends no headers at all, so a bearer token cannot reach
 *   us. The caller first asks `POST /uppy/grants` (bearer auth) for a grant: a signed, short-lived
 *   token naming the user, and uses `<api>/uppy/<grant>` as `companionEndpoint`. The grant only
 *   opens these routes, only for that user's area, and expires after GRANT_SECONDS.
 * - Size. Companion's create-multipart call carries no file size and Uppy picks its own part size.
 *   When the file's metadata carries `size` (`uppy.setFileMeta(id, { size })`, or the `meta`
 *   option) it is declared exactly like `POST /uploads` does, refused over the limit up front and
 *   checked at completion (409 SizeMismatch). Without it the session has no declared size and
 *   completion checks what can still be checked: ETags, S3's 5 MiB minimum for all but the last
 *   part, and the assembled size against the configured maximum (413, and the upload is aborted).
 *   The limit therefore still holds; only "is what was declared" is lost, as nothing was.
 */
export const GRANT_SECONDS = 60 * 60;
const GRANT_PURPOSE = 'uppy-grant';
const UPLOAD_PURPOSE = 'uppy-upload';
const DEFAULT_TYPE = 'application/octet-stream';

const nowMs = (deps: UploadDeps) => nowOf(deps).getTime();

// ---------------------------------------------------------------------------------------------
// Grants

export function createGrant(deps: UploadDeps, userId: string): { grant: string; path: string; expiresAt: string } {
  const expiresAt = Math.floor(nowMs(deps) / 1000) + GRANT_SECONDS;
  const grant = signToken(deps.keys.ring('grant'), GRANT_PURPOSE, { v: 1, s: userId, e: expiresAt });
  return { grant, path: `/uppy/${grant}`, expiresAt: new Date(expiresAt * 1000).toISOString() };
}

/** The user a grant was issued to; 401 for a forged or expired grant. */
export function verifyGrant(deps: UploadDeps, grant: string): string {
  const p = verifyToken(deps.keys.ring('grant'), GRANT_PURPOSE, grant) as { v?: unknown; s?: unknown; e?: unknown } | undefined;
  if (!p || p.v !== 1 || typeof p.s !== 'string' || typeof p.e !== 'number' || p.e * 1000 <= nowMs(deps)) {
    throw new UnauthorizedError('The Uppy grant is invalid or has expired; ask POST /uppy/grants for a new one');
  }
  return p.s;
}

// ---------------------------------------------------------------------------------------------
// Upload ids (separate purpose from /uploads ids: the sessions follow different size rules)

interface CompanionSession {
  uploadId: string;
  key: string;
  /** Declared size, or undefined when Uppy sent none. */
  size: number | undefined;
}

function encodeSession(deps: UploadDeps, userId: string, session: CompanionSession): string {
  const expiresAt = Math.floor(nowMs(deps) / 1000) + UPLOAD_SESSION_SECONDS;
  return signUploadToken(deps.keys.ring('upload'), UPLOAD_PURPOSE, userId, {
    uploadId: session.uploadId,
    key: session.key,
    size: session.size ?? -1,
    expiresAt,
  });
}

function decodeSession(deps: UploadDeps, userId: string, uploadId: string, key: unknown): CompanionSession {
  const t = openUploadToken(deps, UPLOAD_PURPOSE, userId, uploadId, key);
  return { uploadId: t.uploadId, key: t.key, size: t.size >= 0 ? t.size : undefined };
}

// ---------------------------------------------------------------------------------------------
// POST /s3/multipart  {filename, type, metadata}

/**
 * Digits only: no sign, spaces, leading zeros, fraction, exponent or hex. What `String(n)` gives for
 * a size, so a form field holding one is read, and "0x10", " 12 " or "1e3" (which Number() would
 * read as 16, 12 and 1000) are refused.
 */
const CANONICAL_DECIMAL = /^(0|[1-9][0-9]*)$/;

/**
 * `metadata.size`: a JSON integer (what `setFileMeta(id, { size: file.size })` sends, as
 * @uppy/aws-s3 v6 posts the file's meta as JSON), or the same number as a canonical decimal string
 * (meta read from a form field is a string).
 */
function declaredSize(deps: UploadDeps, metadata: Record<string, unknown>): number | undefined {
  const raw = metadata.size;
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw === 'string' && !CANONICAL_DECIMAL.test(raw)) {
    throw new BadRequestError('InvalidSize', 'metadata.size must be a non-negative integer, or a string of decimal digits without sign, spaces, leading zeros or exponent');
  }
  return validateSize(typeof raw === 'string' ? Number(raw) : raw, deps.config);
}

export async function createMultipart(deps: UploadDeps, userId: string, body: unknown): Promise<{ key: string; uploadId: string }> {
  const b = bodyObject(body);
  const metadata = isObject(b.metadata) ? b.metadata : {};
  // Uppy sends the file name as `filename`; a `key` in the file's metadata names a folder path.
  // NFC: a browser may hand over a file name in NFD (macOS). Uppy uses the key we answer with, so
  // normalising here costs the caller nothing, where /uploads refuses a key it would have to change.
  const named = typeof metadata.key === 'string' && metadata.key !== '' ? metadata.key : b.filename;
  const key = validateUploadKey(typeof named === 'string' ? named.normalize('NFC') : named);
  const contentType = validateContentType(typeof b.type === 'string' && b.type !== '' ? b.type : DEFAULT_TYPE);
  const size = declaredSize(deps, metadata);
  const out = await deps.s3.send(
    new CreateMultipartUploadCommand({ Bucket: deps.config.uploadsBucket, Key: toS3Key(userId, key), ContentType: contentType }),
  );
  if (!out.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
  return { key, uploadId: encodeSession(deps, userId, { uploadId: out.UploadId, key, size }) };
}

// ---------------------------------------------------------------------------------------------
// GET /s3/multipart/{uploadId}/{partNumber}?key=

export async function signPart(deps: UploadDeps, userId: string, uploadId: string, partNumber: string, key: unknown): Promise<{ url: string; expires: number }> {
  const session = decodeSession(deps, userId, uploadId, key);
  const n = Number(partNumber);
  if (!CANONICAL_DECIMAL.test(partNumber) || n < 1 || n > MAX_PARTS) {
    throw new BadRequestError('InvalidPartNumber', `partNumber must be an integer from 1 to ${MAX_PARTS}`);
  }
  const expires = deps.config.presignExpiresSeconds;
  const url = await getSignedUrl(
    deps.s3,
    new UploadPartCommand({ Bucket: deps.config.uploadsBucket, Key: toS3Key(userId, session.key), UploadId: session.uploadId, PartNumber: n }),
    { expiresIn: expires },
  );
  return { url, expires };
}

// ---------------------------------------------------------------------------------------------
// GET /s3/multipart/{uploadId}?key=   (Companion answers with S3's own part records)

export interface CompanionPart {
  PartNumber: number;
  ETag: string;
  Size: number;
}

const targetOf = (userId: string, session: CompanionSession): MultipartTarget => ({ s3Key: toS3Key(userId, session.key), uploadId: session.uploadId });

export async function listParts(deps: UploadDeps, userId: string, uploadId: string, key: unknown): Promise<CompanionPart[]> {
  const parts = await listAllParts(deps, targetOf(userId, decodeSession(deps, userId, uploadId, key)));
  return parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag, Size: p.size }));
}

// ---------------------------------------------------------------------------------------------
// POST /s3/multipart/{uploadId}/complete?key=  {parts: [{PartNumber, ETag}]}

/** The parts of Companion's complete request (Uppy always lists every part it sent). */
export function parseCompanionParts(body: unknown): ChosenPart[] {
  return parseChosenParts(isObject(body) ? body.parts : undefined, { number: 'PartNumber', etag: 'ETag' });
}

export async function completeMultipart(
  deps: UploadDeps,
  userId: string,
  uploadId: string,
  key: unknown,
  parts: ChosenPart[],
): Promise<{ location: string; key: string; size: number }> {
  const session = decodeSession(deps, userId, uploadId, key);
  // Uppy chooses its own part sizes, so only S3's minimum applies; the declared size when Uppy sent one.
  const { size } = await completeCheckedUpload(deps, targetOf(userId, session), { parts }, {
    minPartSize: S3_MIN_PART_BYTES,
    ...(session.size !== undefined ? { declaredSize: session.size } : {}),
  });
  const location = `/buckets/uploads/objects/${session.key.split('/').map(encodeURIComponent).join('/')}`;
  return { location, key: session.key, size };
}

// ---------------------------------------------------------------------------------------------
// DELETE /s3/multipart/{uploadId}?key=

export async function abortMultipart(deps: UploadDeps, userId: string, uploadId: string, key: unknown): Promise<void> {
  await abortMultipartUpload(deps, targetOf(userId, decodeSession(deps, userId, uploadId, key)));
}
