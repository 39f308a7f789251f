/**
 * Response headers a browser may read from the buckets (presigned PUTs, part uploads, ranged GETs).
 * `ETag` is what a browser needs to complete a multipart upload. Shared by the stack's bucket CORS
 * (lib/constructs/storage.ts) and local mode's buckets (local/s3-server.ts), so they cannot drift.
 */
export const BUCKET_EXPOSED_HEADERS: readonly string[] = [
  'ETag',
  'Content-Length',
  'Content-Range',
  'Content-Type',
  'x-amz-request-id',
  'x-amz-version-id',
];
