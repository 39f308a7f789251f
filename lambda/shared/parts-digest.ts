/**
 * `partsSha256`: what a client sends to `POST /uploads/{uploadId}/complete` instead of its list of
 * parts, to complete from the parts S3 holds only if they are exactly the ones it uploaded. The
 * list of 10,000 parts does not fit in a small request; its digest does. Shared by the server and
 * the s3files command, so the two compute it the same way (no SDK import: the CLI loads this).
 */
import { createHash } from 'node:crypto';
import { bareEtag } from './etag';

/**
 * SHA-256, in lower-case hex, of the UTF-8 lines `<partNumber>:<etag>` joined by `\n` (no trailing
 * newline), parts in ascending order of number, each ETag without its quotes:
 * `1:9b2cf535f27731c974343645a3985328\n2:6f5902ac237024bdd0c176cb93063dc4`.
 */
export function partsSha256(parts: readonly { partNumber: number; etag: string }[]): string {
  return createHash('sha256')
    .update(parts.map((p) => `${p.partNumber}:${bareEtag(p.etag)}`).join('\n'), 'utf8')
    .digest('hex');
}
