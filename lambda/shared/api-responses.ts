/**
 * The API's response bodies as valibot schemas (contract v1), beside the request schemas of
 * api-schemas.ts: the OpenAPI document (lib/openapi.ts) is generated from them, the contract test
 * checks real answers against that document, and api-types.ts infers the client types from them.
 * No Lambda function imports this module (the functions build their answers as typed values), so
 * no bundle pays for it.
 */
import * as v from 'valibot';
import { byteCount, isoTime, multipartChecksumAlgorithm, partNumberField } from './api-schemas';

export const ErrorBody = v.object({
  error: v.object({
    code: v.pipe(v.string(), v.description('Stable, machine-readable: InvalidKey, NoSuchUpload, …')),
    message: v.string(),
  }),
});

export const BucketInfo = v.object({ name: v.picklist(['uploads', 'results']), writable: v.boolean() });
export const BucketList = v.object({ buckets: v.array(BucketInfo) });

export const ObjectInfo = v.object({
  key: v.string(),
  size: byteCount,
  lastModified: v.nullable(isoTime),
  etag: v.nullable(v.string()),
});

export const ObjectPage = v.object({
  objects: v.array(ObjectInfo),
  prefixes: v.array(v.string()),
  nextCursor: v.nullable(v.string()),
});

/** `POST /uploads` at or under the multipart threshold: one presigned PUT. */
export const SinglePutSession = v.object({
  uploadId: v.null(),
  key: v.string(),
  method: v.literal('PUT'),
  url: v.string(),
  headers: v.record(v.string(), v.string()),
  expiresAt: isoTime,
});

/** `POST /uploads` above the threshold: a multipart session with a server-chosen part size. */
export const MultipartSession = v.object({
  uploadId: v.string(),
  key: v.string(),
  partSize: byteCount,
  partCount: v.pipe(v.number(), v.integer(), v.minValue(1)),
  expiresAt: isoTime,
  checksumAlgorithm: v.optional(multipartChecksumAlgorithm),
});

export const UploadSession = v.union([SinglePutSession, MultipartSession]);

export const SignedParts = v.object({
  parts: v.array(
    v.object({
      partNumber: partNumberField,
      url: v.string(),
      headers: v.optional(v.pipe(v.record(v.string(), v.string()), v.description('Headers the part\'s PUT must carry'))),
    }),
  ),
});

/**
 * A checksum as S3 stores it with an object: `FULL_OBJECT` (of the whole object's bytes) or
 * `COMPOSITE` (a multipart object's checksum of its parts' checksums, `<base64>-<parts>`).
 */
export const StoredChecksum = v.object({
  algorithm: v.picklist(['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256']),
  type: v.picklist(['FULL_OBJECT', 'COMPOSITE']),
  value: v.string(),
});

export const UploadedPart = v.object({
  partNumber: partNumberField,
  etag: v.string(),
  size: byteCount,
  checksum: v.optional(v.pipe(v.string(), v.description('The part\'s checksum (base64) in the session\'s algorithm, when it was sent with one'))),
});
export const UploadedParts = v.object({ parts: v.array(UploadedPart) });

export const CompletedUpload = v.object({
  key: v.string(),
  etag: v.nullable(v.string()),
  size: byteCount,
  checksum: v.optional(
    v.pipe(v.object({ algorithm: multipartChecksumAlgorithm, value: v.string() }), v.description('The full-object checksum S3 computed, when the session has an algorithm')),
  ),
});

export const SignedS3Request = v.object({
  url: v.string(),
  key: v.pipe(v.string(), v.description('The S3 key (users/<sub>/<key>); Uppy uses it for the rest of the upload')),
  headers: v.optional(v.record(v.string(), v.string())),
  expiresAt: isoTime,
});

export const TRUNCATION_REASONS = ['response-size', 'deadline', 'gzip-expansion', 'gzip-size'] as const;
export const RowsPage = v.object({
  columns: v.array(v.string()),
  rows: v.array(v.array(v.unknown())),
  nextOffset: v.nullable(v.pipe(v.number(), v.integer(), v.minValue(0))),
  truncated: v.optional(v.object({ reason: v.picklist(TRUNCATION_REASONS) })),
});

export const ObjectUrl = v.object({
  url: v.pipe(v.string(), v.description('A presigned GET; with ?download=1 it carries the attachment disposition')),
  expiresAt: isoTime,
  size: byteCount,
  contentType: v.string(),
  etag: v.pipe(v.string(), v.description('Quoted, as S3 and the listings give it')),
  checksum: v.optional(v.pipe(StoredChecksum, v.description('What S3 stored, when the object was written with a checksum: a download can be checked against it'))),
});
