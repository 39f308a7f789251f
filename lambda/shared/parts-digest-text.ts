/**
 * What `partsSha256` digests, apart from the hashing: the one definition the server (node:crypto, in
 * parts-digest.ts) and the clients (WebCrypto, in client/api-client.ts, which the browser console
 * bundles too) share. No Node import here, so the console's bundle can take it.
 */
import { bareEtag } from './etag';

/**
 * The UTF-8 lines `<partNumber>:<etag>` joined by `\n` (no trailing newline), parts in ascending
 * order of number, each ETag without its quotes:
 * `1:9b2cf535f27731c974343645a3985328\n2:6f5902ac237024bdd0c176cb93063dc4`.
 */
export function partsDigestText(parts: readonly { partNumber: number; etag: string }[]): string {
  return parts.map((p) => `${p.partNumber}:${bareEtag(p.etag)}`).join('\n');
}
