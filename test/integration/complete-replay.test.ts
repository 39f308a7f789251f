import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createS3Client } from '../../lambda/shared/clients';
import { ADMIN_CREDENTIALS, startEmbeddedS3 } from '../../local/s3/server';
import { MOTO, MOTO_CREDENTIALS, startMoto } from './support/moto';
import { describeWith } from './support/optional-tools';

/**
 * S3 answers a CompleteMultipartUpload repeated after the upload completed with the object it
 * made (200, the same ETag) for as long as that object is the current one at its key; moto does the
 * same ("Operation is idempotent"), and so must the embedded S3, or local mode would hide what two
 * concurrent completions of one upload get in AWS: two 200s. Checked against both servers.
 */
jest.setTimeout(120_000);

interface Target {
  s3: S3Client;
  stop(): Promise<void>;
}

async function embedded(): Promise<Target> {
  const dir = await mkdtemp(join(tmpdir(), 's3fs-replay-'));
  const server = await startEmbeddedS3({ directory: dir, port: 0, buckets: ['replay-bucket'], corsOrigins: [] });
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

async function moto(): Promise<Target> {
  const server = await startMoto();
  const s3 = createS3Client({ region: 'us-east-1', s3Endpoint: server.endpoint }, { credentials: { ...MOTO_CREDENTIALS } });
  await s3.send(new CreateBucketCommand({ Bucket: 'replay-bucket' }));
  return {
    s3,
    stop: async () => {
      s3.destroy();
      await server.stop();
    },
  };
}

async function completedUpload(target: Target, Bucket: string, Key: string) {
  const { UploadId } = await target.s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  const part = await target.s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: 'one part' }));
  const complete = () =>
    target.s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag! }] } }));
  const first = await complete();
  return { UploadId: UploadId!, first, complete };
}

function serverSuite(start: () => Promise<Target>): void {
  const Bucket = 'replay-bucket';
  let target: Target;
  beforeAll(async () => {
    target = await start();
  });
  afterAll(async () => {
    await target?.stop();
  });

  it('answers 200 with the same ETag while the object it made is the current one', async () => {
    const { first, complete } = await completedUpload(target, Bucket, 'replayed.bin');

    const again = await complete();

    expect(again.ETag).toBe(first.ETag);
    expect((await target.s3.send(new HeadObjectCommand({ Bucket, Key: 'replayed.bin' }))).ETag).toBe(first.ETag);
  });
}

describe('a repeated CompleteMultipartUpload on the embedded S3', () => serverSuite(embedded));
describeWith(MOTO, 'a repeated CompleteMultipartUpload on moto_server', () => serverSuite(moto));

// Not checked against moto: moto 5.2 answers a completion of an upload it no longer has with a 500
// (a KeyError), where S3 answers 404 NoSuchUpload.
describe('a completion of an upload that is gone, on the embedded S3', () => {
  const Bucket = 'replay-bucket';
  let target: Target;
  beforeAll(async () => {
    target = await embedded();
  });
  afterAll(async () => {
    await target?.stop();
  });

  it('answers NoSuchUpload once the object the upload made was overwritten', async () => {
    const { complete } = await completedUpload(target, Bucket, 'overwritten.bin');
    await target.s3.send(new PutObjectCommand({ Bucket, Key: 'overwritten.bin', Body: 'newer' }));

    await expect(complete()).rejects.toMatchObject({ name: 'NoSuchUpload' });
  });

  it('answers NoSuchUpload for an aborted upload', async () => {
    const { UploadId } = await target.s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'aborted.bin' }));
    const part = await target.s3.send(new UploadPartCommand({ Bucket, Key: 'aborted.bin', UploadId, PartNumber: 1, Body: 'x' }));
    await target.s3.send(new AbortMultipartUploadCommand({ Bucket, Key: 'aborted.bin', UploadId }));

    await expect(
      target.s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'aborted.bin', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag! }] } })),
    ).rejects.toMatchObject({ name: 'NoSuchUpload' });
  });
});
