/**
 * `partsSha256`: what a client sends to `POST /uploads/{uploadId}/complete` instead of its list of
 * parts, to complete from the parts S3 holds only if they are exactly the ones it uploaded. The
 * list of 10,000 parts does not fit in a small request; its digest does. The text digested is
 * defined once in parts-digest-text.ts, which the clients (CLI and console) hash with WebCrypto.
 */
import { createHash } from 'node:crypto';
import { partsDigestText } from './parts-digest-text';

/** SHA-256, in lower-case hex, of `partsDigestText(parts)`. */
export function partsSha256(parts: readonly { partNumber: number; etag: string }[]): string {
  return createHash('sha256').update(partsDigestText(parts), 'utf8').digest('hex');
}
