import { S3Client } from '@aws-sdk/client-s3';
import type { Config } from './config';

/**
 * The one way the service builds its S3 client.
 * - `WHEN_REQUIRED` checksums: the SDK's default CRC32 (since 3.729) adds checksum parameters that
 *   break presigned PUT URLs and some S3-compatible servers (s3rver stores the aws-chunked framing).
 * - An explicit endpoint (local mode, tests) implies path-style addressing.
 */
export function createS3Client(config: Pick<Config, 'region' | 's3Endpoint'>): S3Client {
  return new S3Client({
    region: config.region,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(config.s3Endpoint ? { endpoint: config.s3Endpoint, forcePathStyle: true } : {}),
  });
}
