/**
 * The checksums the upload API takes (issue #16): which algorithms, the header each travels in and
 * what a well-formed value is. S3 verifies the bytes against the value; the API only checks its
 * shape, so a malformed value is a 400 naming it instead of a URL that S3 would refuse. No SDK
 * import: the s3files command loads this too.
 */
import type { StoredChecksum } from './api-types';

/** A single PUT: the CRCs S3 computes, and SHA-256. */
export const SINGLE_PUT_CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA256'] as const;
/** A multipart session: full-object checksums, which S3 has for the CRCs only. */
export const MULTIPART_CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME'] as const;

export type UploadChecksumAlgorithm = (typeof SINGLE_PUT_CHECKSUM_ALGORITHMS)[number];
export type MultipartChecksumAlgorithm = (typeof MULTIPART_CHECKSUM_ALGORITHMS)[number];

const DIGEST_BYTES: Record<UploadChecksumAlgorithm, number> = { CRC32: 4, CRC32C: 4, CRC64NVME: 8, SHA256: 32 };

/** `x-amz-checksum-crc32`, …: the header S3 reads the value from and answers it in. */
export const checksumHeaderName = (algorithm: UploadChecksumAlgorithm): string => `x-amz-checksum-${algorithm.toLowerCase()}`;

/** `ChecksumCRC32`, …: the SDK's field for the value. */
export const checksumField = (algorithm: UploadChecksumAlgorithm) => `Checksum${algorithm}` as const;

export const isSinglePutChecksumAlgorithm = (v: unknown): v is UploadChecksumAlgorithm =>
  typeof v === 'string' && (SINGLE_PUT_CHECKSUM_ALGORITHMS as readonly string[]).includes(v);
export const isMultipartChecksumAlgorithm = (v: unknown): v is MultipartChecksumAlgorithm =>
  typeof v === 'string' && (MULTIPART_CHECKSUM_ALGORITHMS as readonly string[]).includes(v);

/** Base64 (with padding) of exactly the algorithm's digest length, as S3 accepts it. */
export function isWellFormedChecksum(algorithm: UploadChecksumAlgorithm, value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const bytes = DIGEST_BYTES[algorithm];
  if (value.length !== 4 * Math.ceil(bytes / 3) || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return false;
  // Canonical only: the unused bits of the last character must be zero (Buffer would ignore them).
  return Buffer.from(value, 'base64').length === bytes && Buffer.from(value, 'base64').toString('base64') === value;
}

/** What a 400 says a value must be. */
export const checksumShape = (algorithm: UploadChecksumAlgorithm) =>
  `the base64 of the ${DIGEST_BYTES[algorithm]}-byte ${algorithm} digest (${4 * Math.ceil(DIGEST_BYTES[algorithm] / 3)} characters)`;

type StoredAlgorithm = StoredChecksum['algorithm'];
const STORED_ALGORITHMS: readonly StoredAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];

/**
 * The checksum S3 stored with an object, from a HeadObject asked with ChecksumMode ENABLED (S3
 * returns it only when asked), or null when it was written without one. The type is S3's, or read
 * from the value (a composite one ends in `-<parts>`) where an S3-compatible server leaves it out.
 */
export function storedChecksumOf(head: Partial<Record<`Checksum${StoredAlgorithm}`, string>> & { ChecksumType?: string }): StoredChecksum | null {
  const algorithm = STORED_ALGORITHMS.find((a) => head[`Checksum${a}`] !== undefined);
  if (!algorithm) return null;
  const value = head[`Checksum${algorithm}`]!;
  const type = head.ChecksumType === 'COMPOSITE' || head.ChecksumType === 'FULL_OBJECT' ? head.ChecksumType : /-\d+$/.test(value) ? 'COMPOSITE' : 'FULL_OBJECT';
  return { algorithm, type, value };
}

/** `x-amz-checksum-<alg>` and `x-amz-checksum-type` of a stored checksum, as S3 answers them. */
export const storedChecksumHeaders = (checksum: StoredChecksum | null | undefined): Record<string, string> =>
  checksum ? { [`x-amz-checksum-${checksum.algorithm.toLowerCase()}`]: checksum.value, 'x-amz-checksum-type': checksum.type } : {};
