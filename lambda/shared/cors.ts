/**
 * Response headers a browser may read from the buckets (presigned PUTs, part uploads, ranged GETs).
 * `ETag` is what a browser needs to complete a multipart upload; the `x-amz-checksum-*` headers are
 * what S3 stored and checked (issue #16), for a browser to compare with what it sent or downloads.
 * S3's ExposeHeaders takes no wildcard, so each is named. (Request headers need nothing: the
 * buckets allow any, `AllowedHeaders: *`.) Shared by the stack's bucket CORS
 * (lib/constructs/storage.ts) and local mode's buckets (local/s3-server.ts), so they cannot drift.
 */
export const BUCKET_EXPOSED_HEADERS: readonly string[] = [
  'ETag',
  'Content-Length',
  'Content-Range',
  'Content-Type',
  'x-amz-request-id',
  'x-amz-version-id',
  'x-amz-checksum-crc32',
  'x-amz-checksum-crc32c',
  'x-amz-checksum-crc64nvme',
  'x-amz-checksum-sha1',
  'x-amz-checksum-sha256',
  'x-amz-checksum-type',
];
