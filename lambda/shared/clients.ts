import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { Config } from './config';

/**
 * The one way the service builds its S3 client.
 * - `WHEN_REQUIRED` checksums: the SDK's default CRC32 (since 3.729) adds checksum parameters that
 *   break presigned PUT URLs and some S3-compatible servers (s3rver stores the aws-chunked framing).
 * - An explicit endpoint (local mode, tests) implies path-style addressing.
 * - `credentials` only for local mode, whose S3 server takes fixed keys; in AWS the role's are used.
 */
export function createS3Client(
  config: Pick<Config, 'region' | 's3Endpoint'>,
  options: Pick<S3ClientConfig, 'credentials'> = {},
): S3Client {
  return new S3Client({
    ...options,
    region: config.region,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(config.s3Endpoint ? { endpoint: config.s3Endpoint, forcePathStyle: true } : {}),
  });
}
