/**
 * An S3 to run one suite against twice: the embedded S3 (local/s3/) and moto_server, each with one
 * bucket and an admin client. Suites that check the embedded S3 behaves as S3 does use both.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../../../lambda/shared/clients';
import { ADMIN_CREDENTIALS, startEmbeddedS3 } from '../../../local/s3/server';
import { MOTO_CREDENTIALS, startMoto } from './moto';

export interface S3Target {
  s3: S3Client;
  stop(): Promise<void>;
}

export async function embeddedS3Target(bucket: string): Promise<S3Target> {
  const dir = await mkdtemp(join(tmpdir(), 's3fs-target-'));
  const server = await startEmbeddedS3({ directory: dir, port: 0, buckets: [bucket], corsOrigins: [] });
  const s3 = createS3Client({ region: 'us-east-1', s3Endpoint: server.endpoint }, { credentials: ADMIN_CREDENTIALS });
  return {
    s3,
    stop: async () => {
      s3.destroy();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function motoS3Target(bucket: string): Promise<S3Target> {
  const server = await startMoto();
  const s3 = createS3Client({ region: 'us-east-1', s3Endpoint: server.endpoint }, { credentials: { ...MOTO_CREDENTIALS } });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    s3,
    stop: async () => {
      s3.destroy();
      await server.stop();
    },
  };
}
