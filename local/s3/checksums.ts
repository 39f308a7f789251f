/**
 * The checksums S3 computes and checks (`x-amz-checksum-*`): CRC32, CRC32C, CRC64NVME, SHA1 and
 * SHA256, each as a streaming hash, and the CRC combination S3 uses for a multipart object's
 * full-object checksum. CRC32 is zlib's (native); CRC32C and CRC64NVME are table-driven here, since
 * Node has neither.
 */
import { createHash } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { combineCrc as combineBytes } from '../../client/crc';

export const CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];
export type ChecksumType = 'FULL_OBJECT' | 'COMPOSITE';

export interface StreamingHash {
  update(data: Uint8Array): void;
  /** The raw digest (4 bytes for CRC32/CRC32C, 8 for CRC64NVME, 20 for SHA1, 32 for SHA256). */
  digest(): Buffer;
}

export const isChecksumAlgorithm = (s: string): s is ChecksumAlgorithm => (CHECKSUM_ALGORITHMS as readonly string[]).includes(s);

/** `x-amz-checksum-crc32`, … */
export const checksumHeader = (algorithm: ChecksumAlgorithm) => `x-amz-checksum-${algorithm.toLowerCase()}`;
/** `ChecksumCRC32`, … (the XML element and SDK field). */
export const checksumElement = (algorithm: ChecksumAlgorithm) => `Checksum${algorithm}`;

/** Digest length in bytes. */
export function digestBytes(algorithm: ChecksumAlgorithm): number {
  return { CRC32: 4, CRC32C: 4, CRC64NVME: 8, SHA1: 20, SHA256: 32 }[algorithm];
}

/** Full-object checksums exist for the CRCs only; SHA digests of a multipart object are composite. */
export const supportsFullObject = (algorithm: ChecksumAlgorithm) => algorithm.startsWith('CRC');

// -------------------------------------------------------------------------------------------------
// CRCs. All are reflected, with all-ones initial value and final XOR.

/** CRC32C (Castagnoli), reflected polynomial 0x82F63B78, slice-by-8. */
const CRC32C_TABLES: Uint32Array[] = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    tables[0]![n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let t = 1; t < 8; t++) tables[t]![n] = ((tables[t - 1]![n]! >>> 8) ^ tables[0]![tables[t - 1]![n]! & 0xff]!) >>> 0;
  }
  return tables;
})();

function crc32cUpdate(crc: number, data: Uint8Array): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC32C_TABLES as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  let c = ~crc >>> 0;
  let i = 0;
  const end8 = data.length - (data.length % 8);
  for (; i < end8; i += 8) {
    const a = (c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))) >>> 0;
    c =
      t7[a & 0xff]! ^
      t6[(a >>> 8) & 0xff]! ^
      t5[(a >>> 16) & 0xff]! ^
      t4[a >>> 24]! ^
      t3[data[i + 4]!]! ^
      t2[data[i + 5]!]! ^
      t1[data[i + 6]!]! ^
      t0[data[i + 7]!]!;
  }
  for (; i < data.length; i++) c = t0[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC64NVME, reflected polynomial 0x9A6C9329AC4BC9B5, as two 32-bit halves, slice-by-8. */
const CRC64_POLY = 0x9a6c9329ac4bc9b5n;
const CRC64_TABLES: { hi: Uint32Array; lo: Uint32Array }[] = (() => {
  const big: bigint[][] = [[]];
  for (let n = 0; n < 256; n++) {
    let c = BigInt(n);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ CRC64_POLY : c >> 1n;
    big[0]!.push(c);
  }
  for (let t = 1; t < 8; t++) big.push(big[0]!.map((_, n) => (big[t - 1]![n]! >> 8n) ^ big[0]![Number(big[t - 1]![n]! & 0xffn)]!));
  return big.map((table) => ({
    hi: Uint32Array.from(table, (v) => Number(v >> 32n)),
    lo: Uint32Array.from(table, (v) => Number(v & 0xffffffffn)),
  }));
})();

function crc64Update(state: { hi: number; lo: number }, data: Uint8Array): void {
  const T = CRC64_TABLES;
  let hi = ~state.hi >>> 0;
  let lo = ~state.lo >>> 0;
  let i = 0;
  const end8 = data.length - (data.length % 8);
  for (; i < end8; i += 8) {
    const a = (lo ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))) >>> 0;
    const b = (hi ^ (data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24))) >>> 0;
    const i7 = a & 0xff, i6 = (a >>> 8) & 0xff, i5 = (a >>> 16) & 0xff, i4 = a >>> 24;
    const i3 = b & 0xff, i2 = (b >>> 8) & 0xff, i1 = (b >>> 16) & 0xff, i0 = b >>> 24;
    lo = T[7]!.lo[i7]! ^ T[6]!.lo[i6]! ^ T[5]!.lo[i5]! ^ T[4]!.lo[i4]! ^ T[3]!.lo[i3]! ^ T[2]!.lo[i2]! ^ T[1]!.lo[i1]! ^ T[0]!.lo[i0]!;
    hi = T[7]!.hi[i7]! ^ T[6]!.hi[i6]! ^ T[5]!.hi[i5]! ^ T[4]!.hi[i4]! ^ T[3]!.hi[i3]! ^ T[2]!.hi[i2]! ^ T[1]!.hi[i1]! ^ T[0]!.hi[i0]!;
  }
  for (; i < data.length; i++) {
    const idx = (lo ^ data[i]!) & 0xff;
    lo = ((lo >>> 8) | (hi << 24)) ^ T[0]!.lo[idx]!;
    hi = (hi >>> 8) ^ T[0]!.hi[idx]!;
  }
  state.hi = ~hi >>> 0;
  state.lo = ~lo >>> 0;
}

function crcDigest(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0);
  return out;
}

export function createChecksum(algorithm: ChecksumAlgorithm): StreamingHash {
  switch (algorithm) {
    case 'CRC32': {
      let crc = 0;
      return { update: (d) => void (crc = zlibCrc32(d, crc)), digest: () => crcDigest(crc) };
    }
    case 'CRC32C': {
      let crc = 0;
      return { update: (d) => void (crc = crc32cUpdate(crc, d)), digest: () => crcDigest(crc) };
    }
    case 'CRC64NVME': {
      const state = { hi: 0, lo: 0 };
      return {
        update: (d) => crc64Update(state, d),
        digest: () => {
          const out = Buffer.alloc(8);
          out.writeUInt32BE(state.hi, 0);
          out.writeUInt32BE(state.lo, 4);
          return out;
        },
      };
    }
    case 'SHA1':
    case 'SHA256': {
      const hash = createHash(algorithm === 'SHA1' ? 'sha1' : 'sha256');
      return { update: (d) => void hash.update(d), digest: () => hash.digest() };
    }
  }
}

export function checksumOf(algorithm: ChecksumAlgorithm, data: Uint8Array): Buffer {
  const hash = createChecksum(algorithm);
  hash.update(data);
  return hash.digest();
}

// Combining CRCs (for a multipart object's full-object checksum): the math lives in client/crc.ts,
// shared with the upload clients that compute the same value.

/** crc(A ‖ B) for a CRC algorithm, given the digests of A and B and B's length. */
export function combineCrc(algorithm: ChecksumAlgorithm, first: Buffer, second: Buffer, secondLength: number): Buffer {
  if (algorithm !== 'CRC32' && algorithm !== 'CRC32C' && algorithm !== 'CRC64NVME') throw new Error(`${algorithm} is not a CRC`);
  return Buffer.from(combineBytes(algorithm, first, second, secondLength));
}

/** The checksum of a multipart object from its parts' checksums, S3's way for each type. */
export function multipartChecksum(
  algorithm: ChecksumAlgorithm,
  type: ChecksumType,
  parts: readonly { checksum: Buffer; size: number }[],
): string {
  if (type === 'COMPOSITE') {
    return `${checksumOf(algorithm, Buffer.concat(parts.map((p) => p.checksum))).toString('base64')}-${parts.length}`;
  }
  let crc = checksumOf(algorithm, new Uint8Array(0));
  for (const part of parts) crc = combineCrc(algorithm, crc, part.checksum, part.size);
  return crc.toString('base64');
}
