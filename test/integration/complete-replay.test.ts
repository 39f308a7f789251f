import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand
} from '@aws-sdk/client-s3';
import { MOTO } from './support/moto';
import { embeddedS3Target, motoS3Target, type S3Target } from './support/s3-targets';
import { describeWith } from './support/optional-tools';

/**
 * S3 answers a CompleteMultipartUpload repeated after the upload completed with the object it
 * made (200, the same ETag) for as long as that object is the current one at its key; moto does the
 * same ("Operation is idempotent"), and so must the embedded S3, or local mode would hide what two
 * concurrent completions of one upload get in AWS: two 200s. Checked against both servers.
 */
jest.setTimeout(120_000);

async function completedUpload(target: S3Target, Bucket: string, Key: string) {
  const { UploadId } = await target.s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
  const part = await target.s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: 'one part' }));
  const complete = () =>
    target.s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag! }] } }));
  const first = await complete();
  return { UploadId: UploadId!, first, complete };
}

function serverSuite(start: () => Promise<S3Target>): void {
  const Bucket = 'replay-bucket';
  let target: S3Target;
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

describe('a repeated CompleteMultipartUpload on the embedded S3', () => serverSuite(() => embeddedS3Target('replay-bucket')));
describeWith(MOTO, 'a repeated CompleteMultipartUpload on moto_server', () => serverSuite(() => motoS3Target('replay-bucket')));

// Not checked against moto: moto 5.2 answers a completion of an upload it no longer has with a 500
// (a KeyError), where S3 answers 404 NoSuchUpload.
describe('a completion of an upload that is gone, on the embedded S3', () => {
  const Bucket = 'replay-bucket';
  let target: S3Target;
  beforeAll(async () => {
    target = await embeddedS3Target('replay-bucket');
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
