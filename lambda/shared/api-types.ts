/**
 * The API's response bodies (contract v1), in one place: the core functions return them and the
 * s3files client reads them, so a change to the contract fails the type-check on both sides.
 * Contract limits the client must respect live here too. No runtime imports: the CLI loads this
 * without the AWS SDK.
 */

import type { MultipartChecksumAlgorithm, UploadChecksumAlgorithm } from './upload-checksums';

/**
 * The lowest multipart threshold a deployment may configure (MULTIPART_THRESHOLD_BYTES, S3's
 * minimum part size): an upload of at most this many bytes is always a single PUT.
 */
export const MIN_MULTIPART_THRESHOLD_BYTES = 5 * 1024 * 1024;

/** At most this many part numbers per `POST /uploads/{uploadId}/parts`. */
export const MAX_PARTS_PER_SIGN_REQUEST = 100;
export interface BucketInfo {
  name: 'uploads' | 'results';
  writable: boolean;
}

export interface ObjectInfo {
  key: string;
  size: number;
  lastModified: string | null;
  etag: string | null;
}

export interface ObjectPage {
  objects: ObjectInfo[];
  prefixes: string[];
  nextCursor: string | null;
}

/** `POST /uploads` at or under the multipart threshold: one presigned PUT. */
export interface SinglePutSession {
  uploadId: null;
  key: string;
  method: 'PUT';
  url: string;
  headers: Record<string, string>;
  expiresAt: string;
}

/** `POST /uploads` above the threshold: a multipart session with a server-chosen part size. */
export interface MultipartSession {
  uploadId: string;
  key: string;
  partSize: number;
  partCount: number;
  expiresAt: string;
  /** The session's full-object checksum algorithm, when it was created with one. */
  checksumAlgorithm?: MultipartChecksumAlgorithm;
}

/** One part URL of `POST /uploads/{uploadId}/parts`. */
export interface SignedPart {
  partNumber: number;
  url: string;
  /** Signed headers the PUT must carry exactly (the part's `x-amz-checksum-*`), when the session has an algorithm. */
  headers?: Record<string, string>;
}

/**
 * A checksum as S3 stores it with an object: `FULL_OBJECT` (of the whole object's bytes) or
 * `COMPOSITE` (a multipart object's checksum of its parts' checksums, `<base64>-<parts>`).
 */
export interface StoredChecksum {
  algorithm: 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';
  type: 'FULL_OBJECT' | 'COMPOSITE';
  value: string;
}

/** `checksum` of `POST /uploads` for a single PUT. */
export interface SinglePutChecksum {
  algorithm: UploadChecksumAlgorithm;
  /** Base64 of the digest. */
  value: string;
}

export type UploadSessionResponse = SinglePutSession | MultipartSession;

export interface UploadedPart {
  partNumber: number;
  etag: string;
  size: number;
  /** The part's checksum (base64) in the session's algorithm, when it was sent with one. */
  checksum?: string;
}

export interface CompletedUpload {
  key: string;
  etag: string | null;
  size: number;
  /** The object's full-object checksum as S3 computed it, when the session has an algorithm. */
  checksum?: { algorithm: MultipartChecksumAlgorithm; value: string };
}

export interface RowsPage {
  columns: string[];
  rows: unknown[][];
  nextOffset: number | null;
  /**
   * Present when the page ends before the rows asked for, with `nextOffset` at the first row not
   * returned: `response-size` (the next row would take the response past Lambda's 6 MB), `deadline`
   * (the read function's time ran out), or a gzip limit (`gzip-expansion`, `gzip-size`).
   */
  truncated?: { reason: 'response-size' | 'deadline' | 'gzip-expansion' | 'gzip-size' };
}

/**
 * `GET /buckets/{bucket}/objects/{key+}` with `Accept: application/json`, wherever the route would
 * otherwise answer `307` to a presigned GET: the same URL as JSON, for clients that cannot follow
 * that redirect (a cross-origin `fetch()`, or a client that would send its bearer token on to S3).
 */
export interface ObjectUrl {
  /** A presigned GET; with `?download=1` it carries the attachment disposition. */
  url: string;
  expiresAt: string;
  size: number;
  contentType: string;
  /** Quoted, as S3 and the listings give it. */
  etag: string;
  /** What S3 stored, when the object was written with a checksum: a download can be checked against it. */
  checksum?: StoredChecksum;
}
