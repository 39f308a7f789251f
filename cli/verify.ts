/**
 * Checking a download against the checksum S3 stored with the object (issue #16), as the bytes
 * stream to disk: no second pass over the file. CRC32 (zlib, native), SHA-1 and SHA-256 of the
 * whole object can be checked; a composite checksum (a multipart object's checksum of its parts'
 * checksums, which needs the part boundaries) and CRC32C / CRC64NVME (no native implementation in
 * Node) are reported as not verified rather than guessed at.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { StoredChecksum } from '../client/api-client';
import { crc32Base64 } from '../client/crc';

export interface DownloadVerifier {
  update(chunk: Uint8Array): void;
  /** The digest of everything seen, base64 as S3 writes it. */
  digest(): string;
}

/** A verifier for the stored checksum, or undefined when this one cannot be checked here. */
export function downloadVerifier(stored: StoredChecksum): DownloadVerifier | undefined {
  if (stored.type !== 'FULL_OBJECT') return undefined;
  switch (stored.algorithm) {
    case 'CRC32': {
      let crc = 0;
      return { update: (chunk) => void (crc = crc32(chunk, crc)), digest: () => crc32Base64(crc) };
    }
    case 'SHA1':
    case 'SHA256': {
      const hash = createHash(stored.algorithm === 'SHA1' ? 'sha1' : 'sha256');
      return { update: (chunk) => void hash.update(chunk), digest: () => hash.digest('base64') };
    }
    default:
      return undefined;
  }
}
