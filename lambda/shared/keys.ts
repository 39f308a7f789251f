/**
 * Key rules. Every object a caller touches lives under `users/<sub>/` in the uploads and results
 * buckets; API keys are relative to that area and the server adds the prefix, so a caller can
 * never name a key outside their own area. This module is the only place that builds or strips it.
 */
import { BadRequestError, NotFoundError } from './errors';
import type { Config } from './config';
import { PROFILE_SUFFIX } from './api-types';

export const USER_ROOT = 'users/';
export { PROFILE_SUFFIX };
/**
 * Where the upload function keeps, in the results bucket, which request is completing each upload
 * (lambda/core/completion-claims.ts): outside every user area, so no caller can list or read it.
 */
export const COMPLETIONS_ROOT = 'completions/';
/**
 * Where a fan-out run (lambda/core/fan-out.ts) keeps, in the results bucket, the partial profile of
 * each byte range until the merge: outside every user area, so no caller can list or read it, and
 * expired by a lifecycle rule in case a failed run leaves some behind.
 */
export const FAN_OUT_ROOT = 'fan-out/';
/** S3's limit on a key. */
export const S3_MAX_KEY_BYTES = 1024;
/** The longest user id: a Cognito `sub` is a UUID (36 characters); local ids are held to the same. */
export const MAX_USER_ID_CHARS = 36;
/**
 * The longest key the API can name: what is left of S3's 1,024 bytes after `users/<sub>/` with the
 * longest sub (981 bytes).
 */
export const MAX_KEY_BYTES = S3_MAX_KEY_BYTES - Buffer.byteLength(`${USER_ROOT}/`) - MAX_USER_ID_CHARS;
/**
 * The longest key an upload may have: one whose profile key (`<key>.profile.json`) still fits in
 * S3's limit too (968 bytes), so every upload the API accepts gets its profile.
 */
export const MAX_UPLOAD_KEY_BYTES = MAX_KEY_BYTES - Buffer.byteLength(PROFILE_SUFFIX);

// Control characters (C0, DEL, C1). Kept out of keys: they break logs, headers and listings.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const SUB_PATTERN = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,${MAX_USER_ID_CHARS - 1}}$`);

function invalid(message: string): never {
  throw new BadRequestError('InvalidKey', message);
}

function checkCharacters(value: string, what: string): void {
  if (!value.isWellFormed()) invalid(`${what} is not valid UTF-8`);
  if (CONTROL.test(value)) invalid(`${what} contains a control character`);
  if (value.includes('\\')) invalid(`${what} contains a backslash`);
  if (value.startsWith('/')) invalid(`${what} must not start with "/"`);
}

function checkSegments(segments: string[], what: string): void {
  for (const segment of segments) {
    if (segment === '') invalid(`${what} has an empty path segment ("//" or a trailing "/")`);
    if (segment === '.' || segment === '..') invalid(`${what} has a "${segment}" segment`);
  }
}

function checkLength(value: string, what: string, max = MAX_KEY_BYTES): void {
  if (Buffer.byteLength(value, 'utf8') > max) {
    invalid(`${what} is longer than ${max} bytes of UTF-8 (S3's ${S3_MAX_KEY_BYTES} less users/<id>/${max === MAX_UPLOAD_KEY_BYTES ? ` and ${PROFILE_SUFFIX}` : ''})`);
  }
}

/** A full object key relative to the caller's area: `reports/q1.csv`. */
export function validateKey(key: unknown): string {
  if (typeof key !== 'string' || key === '') invalid('key is required');
  checkCharacters(key, 'key');
  checkLength(key, 'key');
  checkSegments(key.split('/'), 'key');
  return key;
}

/**
 * Characters that make a name read differently from what it is: the bidirectional controls
 * (embeddings, overrides, isolates, marks: "invoice\u202Efdp.exe" shows as "invoiceexe.pdf") and
 * invisible separators (zero-width space, word joiner, byte-order mark, Mongolian vowel
 * separator). The zero-width joiner and non-joiner stay allowed: emoji sequences and Persian,
 * Arabic or Indic spellings need them.
 */
const DECEPTIVE = /[\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff\u180e]/u;

/**
 * The key of a new upload: a valid key short enough for its profile key to fit in S3 too, in
 * Unicode NFC (so "é" as one code point and as "e" + combining accent cannot become two objects
 * that look alike), without bidi controls or invisible separators. Existing keys are read, listed
 * and deleted as they are (validateKey): these rules only keep new look-alikes from being made.
 */
export function validateUploadKey(key: unknown): string {
  const valid = validateKey(key);
  checkLength(valid, 'key', MAX_UPLOAD_KEY_BYTES);
  const deceptive = DECEPTIVE.exec(valid);
  if (deceptive) {
    invalid(`key contains U+${deceptive[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}, a bidirectional control or invisible character`);
  }
  if (valid !== valid.normalize('NFC')) invalid('key is not in Unicode NFC; send its NFC form (String.prototype.normalize("NFC"))');
  return valid;
}

/** A listing prefix: empty, a folder (`reports/`) or the start of a name (`reports/q`). */
export function validatePrefix(prefix: unknown): string {
  if (prefix === undefined || prefix === null || prefix === '') return '';
  if (typeof prefix !== 'string') invalid('prefix must be a string');
  checkCharacters(prefix, 'prefix');
  checkLength(prefix, 'prefix');
  const segments = prefix.split('/');
  // The last segment may be empty (a folder) or partial; the ones before it are whole segments.
  segments.pop();
  checkSegments(segments, 'prefix');
  const last = prefix.slice(prefix.lastIndexOf('/') + 1);
  if (last === '.' || last === '..') invalid(`prefix has a "${last}" segment`);
  return prefix;
}

/** The caller's id as the authorizer passed it (Cognito `sub`). */
export function validateUserId(sub: string): string {
  if (!SUB_PATTERN.test(sub)) {
    throw new BadRequestError('InvalidUser', 'The caller id from the token is not a valid user id');
  }
  return sub;
}

export function userRoot(userId: string): string {
  return `${USER_ROOT}${userId}/`;
}

/** API key -> S3 key. `key` must already be validated. */
export function toS3Key(userId: string, key: string): string {
  return userRoot(userId) + key;
}

/** S3 key -> API key, or undefined when the S3 key is not in that user's area. */
export function fromS3Key(userId: string, s3Key: string): string | undefined {
  const root = userRoot(userId);
  return s3Key.startsWith(root) ? s3Key.slice(root.length) : undefined;
}

/** Where the processor writes the profile of an uploaded object (same key in the results bucket). */
export function profileKeyFor(uploadS3Key: string): string {
  return uploadS3Key + PROFILE_SUFFIX;
}

/** `users/<sub>/<rest>` -> sub, or undefined for keys outside any user area. */
export function userIdOfS3Key(s3Key: string): string | undefined {
  if (!s3Key.startsWith(USER_ROOT)) return undefined;
  const end = s3Key.indexOf('/', USER_ROOT.length);
  if (end <= USER_ROOT.length) return undefined;
  const sub = s3Key.slice(USER_ROOT.length, end);
  return SUB_PATTERN.test(sub) ? sub : undefined;
}

export type LogicalBucket = 'uploads' | 'results';
export const LOGICAL_BUCKETS: readonly { name: LogicalBucket; writable: boolean }[] = [
  { name: 'uploads', writable: true },
  { name: 'results', writable: false },
];

export function resolveBucket(config: Pick<Config, 'uploadsBucket' | 'resultsBucket'>, name: unknown): {
  name: LogicalBucket;
  physical: string;
  writable: boolean;
} {
  if (name === 'uploads') return { name, physical: config.uploadsBucket, writable: true };
  if (name === 'results') return { name, physical: config.resultsBucket, writable: false };
  throw new NotFoundError('NoSuchBucket', `No bucket named "${String(name)}"; the buckets are "uploads" and "results"`);
}
