/**
 * The HTTP rules S3 applies to object reads: one byte range (`bytes=0-0`, suffix ranges, ends past
 * the object), and the conditional headers in RFC 9110's order of precedence.
 */
import { etagListMatches } from '../../lambda/shared/etag';
import { S3Error } from './xml';

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

const unsatisfiable = (header: string, size: number) =>
  new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable', { RangeRequested: header, ActualObjectSize: size }, { 'content-range': `bytes */${size}` });

/**
 * The range a `Range` header selects, or undefined to serve the whole object: S3 ignores a header it
 * cannot parse (and more than one range) and answers 200, and 416 for a range the object cannot satisfy.
 */
export function selectRange(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) throw unsatisfiable(header, size);
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) throw unsatisfiable(header, size);
  return { start, end: m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1) };
}

/** HTTP dates have whole seconds. */
const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

function parseDate(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * Conditional GET/HEAD: `'ok'`, `'not-modified'` (304) or `'precondition-failed'` (412).
 * If-Match overrides If-Unmodified-Since and If-None-Match overrides If-Modified-Since, as S3 does.
 */
export function evaluateReadConditions(
  headers: Record<string, string | string[] | undefined>,
  object: { etag: string; lastModified: string },
): 'ok' | 'not-modified' | 'precondition-failed' {
  const get = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v.join(',') : v;
  };
  const modified = new Date(object.lastModified);
  const ifMatch = get('if-match');
  const ifUnmodifiedSince = parseDate(get('if-unmodified-since'));
  if (ifMatch !== undefined) {
    if (!etagListMatches(ifMatch, object.etag)) return 'precondition-failed';
  } else if (ifUnmodifiedSince && seconds(modified) > seconds(ifUnmodifiedSince)) return 'precondition-failed';
  const ifNoneMatch = get('if-none-match');
  const ifModifiedSince = parseDate(get('if-modified-since'));
  if (ifNoneMatch !== undefined) {
    if (etagListMatches(ifNoneMatch, object.etag)) return 'not-modified';
  } else if (ifModifiedSince && seconds(modified) <= seconds(ifModifiedSince)) return 'not-modified';
  return 'ok';
}

/**
 * Conditional writes (PutObject, CompleteMultipartUpload, CopyObject's destination): `If-None-Match: *`
 * fails when the key exists, `If-Match` when it is missing (404) or has another ETag (412).
 */
export function checkWriteConditions(headers: Record<string, string | string[] | undefined>, existing: { etag: string } | undefined): void {
  const ifMatch = headers['if-match'];
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    if (String(ifNoneMatch).trim() !== '*') throw new S3Error(501, 'NotImplemented', 'A header you provided implies functionality that is not implemented (If-None-Match other than *).');
    if (existing) throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-None-Match' });
  }
  if (ifMatch !== undefined) {
    if (!existing) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.');
    if (!etagListMatches(String(ifMatch), existing.etag)) {
      throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Match' });
    }
  }
}
