/**
 * Pagination cursors: opaque to callers and tamper-evident. A cursor carries S3's continuation
 * token and is bound by an HMAC to the user, bucket, prefix and delimiter it was issued for, so a
 * changed cursor, or one replayed by another user or for another listing, is refused with 400.
 */
import { BadRequestError } from './errors';
import { canonicalBase64url, macVerifies, signedMac } from './signed-token';
import type { KeyRing } from './signing-keys';

export interface CursorScope {
  userId: string;
  bucket: string;
  prefix: string;
  delimiter: string;
}

const fieldsOf = (scope: CursorScope, token: string) => [scope.userId, scope.bucket, scope.prefix, scope.delimiter, token];

/** `keys`: the cursor key ring (signs with the current key, accepts the previous one after a rotation). */
export function encodeCursor(keys: KeyRing, scope: CursorScope, continuationToken: string): string {
  const token = Buffer.from(continuationToken, 'utf8').toString('base64url');
  return `${token}.${signedMac(keys, 'cursor', fieldsOf(scope, continuationToken)).toString('base64url')}`;
}

export function decodeCursor(keys: KeyRing, scope: CursorScope, cursor: string): string {
  const invalid = () => new BadRequestError('InvalidCursor', 'The cursor is malformed, was changed, or belongs to another listing');
  const dot = cursor.indexOf('.');
  if (dot <= 0 || cursor.length > 4096) throw invalid();
  const bytes = canonicalBase64url(cursor.slice(0, dot));
  if (!bytes) throw invalid();
  const token = bytes.toString('utf8');
  if (!macVerifies(keys, 'cursor', fieldsOf(scope, token), cursor.slice(dot + 1))) throw invalid();
  return token;
}
