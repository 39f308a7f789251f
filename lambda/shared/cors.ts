/**
 * CORS, in one place: the API's (the stack's preflight in lib/constructs/api.ts, the CORS headers
 * every function adds in ./http.ts, and the local gateway in local/gateway.ts, which answers
 * preflights as the stack's do; test/infra/local-parity.test.ts compares the two), and the buckets'.
 */
import { ROUTES } from './routes';

/** Request headers a browser client sends to the API; the preflight must allow each of them. */
export const API_CORS_ALLOWED_HEADERS: readonly string[] = ['Authorization', 'Content-Type', 'Range', 'If-Match', 'If-None-Match', 'X-Amz-Date'];

/** The methods of the route table, which is all a preflight needs to allow. */
export const API_CORS_ALLOWED_METHODS: readonly string[] = [...new Set(ROUTES.map((r) => r.method))];

/**
 * Response headers of the API a browser may read beyond the CORS-safelisted ones: `ETag` for
 * conditional requests, `Content-Range`/`Content-Disposition` of a ranged or attachment read,
 * `Location` of a redirect to a presigned URL. (`Content-Length` is safelisted; it is listed for
 * older browsers that did not treat it so.)
 */
export const API_EXPOSED_HEADERS: readonly string[] = ['ETag', 'Content-Range', 'Content-Length', 'Content-Disposition', 'Location'];

/** How long a browser may cache a preflight answer: ten minutes, Chromium's own cap being two hours. */
export const API_CORS_MAX_AGE_SECONDS = 600;

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
