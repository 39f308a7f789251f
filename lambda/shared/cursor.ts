import { BadRequestError } from './errors';
import { canonicalBase64url, mac as signedMac, macMatches } from './signed-token';

/**
 * Pagination cursors: opaque to callers and tamper-evident. A cursor carries S3's continuation
 * token and is bound by an HMAC to the user, bucket, prefix and delimiter it was issued for, so a
 * changed cursor, or one replayed by another user or for another listing, is refused with 400.
 */
export interface CursorScope {
  userId: string;
  bucket: string;
  prefix: string;
  delimiter: string;
}

function mac(secret: string, scope: CursorScope, token: string): Buffer {
  return signedMac(secret, 'cursor', [scope.userId, scope.bucket, scope.prefix, scope.delimiter, token]);
}

export function encodeCursor(secret: string, scope: CursorScope, continuationToken: string): string {
  const token = Buffer.from(continuationToken, 'utf8').toString('base64url');
  return `${token}.${mac(secret, scope, continuationToken).toString('base64url')}`;
}

export function decodeCursor(secret: string, scope: CursorScope, cursor: string): string {
  const invalid = () => new BadRequestError('InvalidCursor', 'The cursor is malformed, was changed, or belongs to another listing');
  const dot = cursor.indexOf('.');
  if (dot <= 0 || cursor.length > 4096) throw invalid();
  const bytes = canonicalBase64url(cursor.slice(0, dot));
  if (!bytes) throw invalid();
  const token = bytes.toString('utf8');
  if (!macMatches(cursor.slice(dot + 1), mac(secret, scope, token))) throw invalid();
  return token;
}
