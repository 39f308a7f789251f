/**
 * CRC math for checksummed uploads (issue #16), free of Node so a browser can use it: a
 * table-driven CRC32 for where no native one exists, the combination of CRCs that gives a
 * multipart object's full-object checksum from its parts' (zlib's crc32_combine, for CRC32, CRC32C
 * and CRC64NVME), and base64 of digests. The one copy: the embedded S3 (local/s3/checksums.ts)
 * combines with this too.
 */

/** zlib's `crc32(data, value)`: the CRC32 of `data`, continuing from the CRC32 `value` of what came before. */
export type Crc32Fn = (data: Uint8Array, value?: number) => number;

// -------------------------------------------------------------------------------------------------
// CRC32 in JavaScript: reflected polynomial 0xEDB88320, slice-by-8 (eight 1 KiB tables).

// Pure: a bundle that never calls crc32 (a console not sending checksums) drops the tables.
const CRC32_TABLES: Uint32Array[] = /* @__PURE__ */ (() => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    tables[0]![n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    for (let t = 1; t < 8; t++) tables[t]![n] = ((tables[t - 1]![n]! >>> 8) ^ tables[0]![tables[t - 1]![n]! & 0xff]!) >>> 0;
  }
  return tables;
})();

/** CRC32 for environments without zlib (a browser); Node's `zlib.crc32` gives the same values, natively. */
export const crc32: Crc32Fn = (data, value = 0) => {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC32_TABLES as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  let c = ~value >>> 0;
  let i = 0;
  const end8 = data.length - (data.length % 8);
  for (; i < end8; i += 8) {
    const a = (c ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))) >>> 0;
    c = t7[a & 0xff]! ^ t6[(a >>> 8) & 0xff]! ^ t5[(a >>> 16) & 0xff]! ^ t4[a >>> 24]! ^ t3[data[i + 4]!]! ^ t2[data[i + 5]!]! ^ t1[data[i + 6]!]! ^ t0[data[i + 7]!]!;
  }
  for (; i < data.length; i++) c = t0[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
};

// -------------------------------------------------------------------------------------------------
// Combining CRCs: crc(A ‖ B) from crc(A), crc(B) and len(B), by multiplying crc(A) by x^(8·len(B))
// modulo the polynomial. A multipart object's full-object CRC then costs a few thousand bigint
// operations per part instead of a second pass over its bytes.

export type CombinableCrc = 'CRC32' | 'CRC32C' | 'CRC64NVME';

const REFLECTED_POLY: Record<CombinableCrc, { poly: bigint; width: bigint }> = {
  CRC32: { poly: 0xedb88320n, width: 32n },
  CRC32C: { poly: 0x82f63b78n, width: 32n },
  CRC64NVME: { poly: 0x9a6c9329ac4bc9b5n, width: 64n },
};

/** a·b modulo the reflected polynomial (bit-reflected representation: x^0 is the top bit). */
function multiplyModP(a: bigint, b: bigint, poly: bigint, width: bigint): bigint {
  const top = 1n << (width - 1n);
  let product = 0n;
  for (let m = top; m > 0n; m >>= 1n) {
    if (a & m) product ^= b;
    b = b & 1n ? (b >> 1n) ^ poly : b >> 1n;
  }
  return product;
}

/** x^(8·bytes) modulo the polynomial, by square-and-multiply over the bits of 8·bytes. */
function xPow8n(bytes: bigint, poly: bigint, width: bigint): bigint {
  let result = 1n << (width - 1n); // x^0
  let square = 1n << (width - 2n); // x^1
  for (let n = bytes * 8n; n > 0n; n >>= 1n) {
    if (n & 1n) result = multiplyModP(square, result, poly, width);
    square = multiplyModP(square, square, poly, width);
  }
  return result;
}

const toBigInt = (bytes: Uint8Array) => bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
function toBytes(value: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--, value >>= 8n) out[i] = Number(value & 0xffn);
  return out;
}

/** crc(A ‖ B) given the (big-endian) digests of A and B and B's length in bytes. */
export function combineCrc(algorithm: CombinableCrc, first: Uint8Array, second: Uint8Array, secondLength: number): Uint8Array {
  const { poly, width } = REFLECTED_POLY[algorithm];
  const combined = multiplyModP(xPow8n(BigInt(secondLength), poly, width), toBigInt(first), poly, width) ^ toBigInt(second);
  return toBytes(combined, Number(width) / 8);
}

/** CRC32 as numbers: crc32(A ‖ B) from crc32(A), crc32(B) and len(B). */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  return Number(toBigInt(combineCrc('CRC32', crc32Bytes(crcA), crc32Bytes(crcB), lengthB)));
}

/** The full-object CRC32 of consecutive parts, from each part's CRC32 and length. */
export function combinedCrc32(parts: readonly { crc32: number; length: number }[]): number {
  return parts.reduce((crc, part, i) => (i === 0 ? part.crc32 : crc32Combine(crc, part.crc32, part.length)), 0);
}

// -------------------------------------------------------------------------------------------------
// Digests as S3 writes them: base64 of the big-endian bytes.

export function crc32Bytes(value: number): Uint8Array {
  return toBytes(BigInt(value >>> 0), 4);
}

export function bytesToBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

export const crc32Base64 = (value: number): string => bytesToBase64(crc32Bytes(value));
