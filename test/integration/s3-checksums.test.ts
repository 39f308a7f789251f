import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type ChecksumAlgorithm,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ADMIN_CREDENTIALS, startEmbeddedS3, type EmbeddedS3 } from '../../local/s3/server';
import { checksumOf } from '../../local/s3/checksums';
import { MOTO, MOTO_CREDENTIALS, startMoto, type Moto } from './support/moto';
import { describeWith } from './support/optional-tools';

/**
 * Checksums as S3 keeps them (`x-amz-checksum-*`), over HTTP with the real SDK, which computes its
 * own values: the server must compute the same ones, refuse bytes that do not match (400
 * BadDigest, nothing written) and return the stored checksum when asked. The behaviour both S3
 * servers share runs against moto_server too, when it is on PATH.
 */
jest.setTimeout(120_000);

const MiB = 1024 * 1024;
const crc32Base64 = (data: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data));
  return out.toString('base64');
};

interface Target {
  s3: S3Client;
  /** The same credentials with the SDK computing checksums whenever it can (its default). */
  s3Default: S3Client;
  bucket: string;
}

const errorOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected the request to fail');
};

/** What S3 does and both servers agree on. */
function sharedSuite(target: () => Target) {
  const head = (Key: string) => target().s3.send(new HeadObjectCommand({ Bucket: target().bucket, Key, ChecksumMode: 'ENABLED' }));

  it("stores the checksum the SDK computes by default (CRC32, in an aws-chunked trailer) and returns it when asked", async () => {
    const body = randomBytes(70_000);
    await target().s3Default.send(new PutObjectCommand({ Bucket: target().bucket, Key: 'default.bin', Body: body }));
    const out = await head('default.bin');
    expect(out.ChecksumCRC32).toBe(crc32Base64(body));
  });

  it.each(['CRC32', 'CRC32C', 'SHA1', 'SHA256'] as const)('computes %s as the SDK does', async (algorithm) => {
    const body = randomBytes(20_000);
    const key = `algo-${algorithm}.bin`;
    await target().s3Default.send(new PutObjectCommand({ Bucket: target().bucket, Key: key, Body: body, ChecksumAlgorithm: algorithm as ChecksumAlgorithm }));
    const out = await head(key);
    expect(out[`Checksum${algorithm}`]).toBe(checksumOf(algorithm, body).toString('base64'));
  });

}

/** What the embedded S3 checks as S3 does, and moto_server does not (it stores a mismatched body, for one). */
function embeddedOnlySuite(target: () => Target) {
  const { bucket } = { bucket: 'b' };
  const head = (Key: string, Range?: string) => target().s3.send(new HeadObjectCommand({ Bucket: bucket, Key, ChecksumMode: 'ENABLED', ...(Range ? { Range } : {}) }));

  it('computes CRC64NVME as the SDK does', async () => {
    const body = randomBytes(33_333);
    await target().s3Default.send(new PutObjectCommand({ Bucket: bucket, Key: 'nvme.bin', Body: body, ChecksumAlgorithm: 'CRC64NVME' }));
    expect((await head('nvme.bin')).ChecksumCRC64NVME).toBe(checksumOf('CRC64NVME', body).toString('base64'));
  });

  it('refuses a body whose checksum does not match (400 BadDigest) and writes nothing', async () => {
    const body = Buffer.from('the bytes the user had');
    const other = Buffer.from('the bytes S3 received!');
    expect(other.length).toBe(body.length);
    const failure = await errorOf(target().s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'bad.txt', Body: other, ChecksumCRC32: crc32Base64(body) })));
    expect(failure).toEqual({ name: 'BadDigest', status: 400 });
    expect(await errorOf(head('bad.txt'))).toMatchObject({ status: 404 });
  });

  it('refuses a SHA256 that does not match', async () => {
    const failure = await errorOf(
      target().s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'bad-sha.txt', Body: 'abc', ChecksumSHA256: createHash('sha256').update('abd').digest('base64') })),
    );
    expect(failure.status).toBe(400);
  });


  it('refuses a malformed value and two checksums at once (400 InvalidRequest)', async () => {
    expect(await errorOf(target().s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'm.txt', Body: 'x', ChecksumCRC32: 'not base64 of 4 bytes' })))).toEqual({ name: 'InvalidRequest', status: 400 });
    const body = Buffer.from('x');
    expect(
      await errorOf(target().s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'm.txt', Body: body, ChecksumCRC32: crc32Base64(body), ChecksumSHA256: createHash('sha256').update(body).digest('base64') }))),
    ).toEqual({ name: 'InvalidRequest', status: 400 });
  });

  it('returns no checksum for a range, since it is the whole object\'s', async () => {
    await target().s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'r.txt', Body: 'hello', ChecksumCRC32: crc32Base64(Buffer.from('hello')) }));
    expect((await head('r.txt')).ChecksumCRC32).toBe(crc32Base64(Buffer.from('hello')));
    const ranged = await target().s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'r.txt', Range: 'bytes=0-1', ChecksumMode: 'ENABLED' }));
    await ranged.Body!.transformToByteArray();
    expect(ranged.ChecksumCRC32).toBeUndefined();
  });

  it('holds a presigned PUT to the checksum it signed', async () => {
    const body = Buffer.from('signed with its checksum');
    const checksum = crc32Base64(body);
    const url = await getSignedUrl(target().s3, new PutObjectCommand({ Bucket: bucket, Key: 'presigned.txt', ChecksumCRC32: checksum }), {
      expiresIn: 300,
      signableHeaders: new Set(['x-amz-checksum-crc32']),
      unhoistableHeaders: new Set(['x-amz-checksum-crc32']),
    });
    expect(url).not.toContain('x-amz-checksum-crc32=');
    const same = Buffer.from('signed with its checksum'.toUpperCase());
    const refused = await fetch(url, { method: 'PUT', body: same, headers: { 'x-amz-checksum-crc32': checksum } });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('<Code>BadDigest</Code>');
    const unsigned = await fetch(url, { method: 'PUT', body });
    expect(unsigned.status).toBe(403);
    const ok = await fetch(url, { method: 'PUT', body, headers: { 'x-amz-checksum-crc32': checksum } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-amz-checksum-crc32')).toBe(checksum);
    expect((await head('presigned.txt')).ChecksumCRC32).toBe(checksum);
  });

  const multipart = async (key: string, algorithm: ChecksumAlgorithm, type: 'COMPOSITE' | 'FULL_OBJECT', parts: Buffer[]) => {
    const s3 = target().s3Default;
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ChecksumAlgorithm: algorithm, ChecksumType: type }));
    const completed: CompletedPart[] = [];
    for (const [i, Body] of parts.entries()) {
      const out = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: algorithm }));
      completed.push({ PartNumber: i + 1, ETag: out.ETag, [`Checksum${algorithm}`]: out[`Checksum${algorithm}` as 'ChecksumCRC32'] });
    }
    return { UploadId: UploadId!, completed };
  };

  it('completes a composite upload from its parts\' checksums, and refuses a request that omits them', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(1000)];
    const { UploadId, completed } = await multipart('composite.bin', 'CRC32C', 'COMPOSITE', parts);
    const listed = await target().s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'composite.bin', UploadId }));
    expect(listed.ChecksumAlgorithm).toBe('CRC32C');
    expect(listed.Parts!.map((p) => p.ChecksumCRC32C)).toEqual(parts.map((p) => checksumOf('CRC32C', p).toString('base64')));

    const bare = completed.map(({ PartNumber, ETag }) => ({ PartNumber, ETag }));
    expect(await errorOf(target().s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'composite.bin', UploadId, MultipartUpload: { Parts: bare } })))).toEqual({
      name: 'InvalidRequest',
      status: 400,
    });
    const done = await target().s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'composite.bin', UploadId, MultipartUpload: { Parts: completed } }));
    const composite = `${checksumOf('CRC32C', Buffer.concat(parts.map((p) => checksumOf('CRC32C', p)))).toString('base64')}-2`;
    expect(done.ChecksumCRC32C).toBe(composite);
    const out = await head('composite.bin');
    expect(out.ChecksumCRC32C).toBe(composite);
    expect(out.ChecksumType).toBe('COMPOSITE');
  });

  it("completes a full-object upload with the whole object's CRC, and refuses a request that says another", async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB + 17), randomBytes(3)];
    const whole = crc32Base64(Buffer.concat(parts));
    const { UploadId, completed } = await multipart('full.bin', 'CRC32', 'FULL_OBJECT', parts);
    const complete = (extra: object) =>
      target().s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'full.bin', UploadId, MultipartUpload: { Parts: completed }, ...extra }));
    expect(await errorOf(complete({ ChecksumCRC32: crc32Base64(parts[0]!), ChecksumType: 'FULL_OBJECT' }))).toEqual({ name: 'BadDigest', status: 400 });
    expect(await errorOf(complete({ ChecksumType: 'COMPOSITE' }))).toEqual({ name: 'BadDigest', status: 400 });
    const done = await complete({ ChecksumCRC32: whole, ChecksumType: 'FULL_OBJECT' });
    expect(done.ChecksumCRC32).toBe(whole);
    const out = await head('full.bin');
    expect(out.ChecksumCRC32).toBe(whole);
    expect(out.ChecksumType).toBe('FULL_OBJECT');
  });

  it('refuses a part checksummed with another algorithm than its upload\'s', async () => {
    const { UploadId } = await target().s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mixed.bin', ChecksumAlgorithm: 'SHA256' }));
    const failure = await errorOf(target().s3Default.send(new UploadPartCommand({ Bucket: bucket, Key: 'mixed.bin', UploadId, PartNumber: 1, Body: 'x', ChecksumAlgorithm: 'CRC32' })));
    expect(failure).toEqual({ name: 'InvalidRequest', status: 400 });
  });

  it('refuses a full-object SHA256 upload (only CRCs combine)', async () => {
    expect(await errorOf(target().s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'x', ChecksumAlgorithm: 'SHA256', ChecksumType: 'FULL_OBJECT' })))).toEqual({
      name: 'InvalidRequest',
      status: 400,
    });
  });
}

const clients = (endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string }) => {
  const base = { region: 'us-east-1', endpoint, forcePathStyle: true, credentials };
  return {
    s3: new S3Client({ ...base, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }),
    s3Default: new S3Client(base),
  };
};

describe('checksums on the embedded S3', () => {
  let dir: string;
  let server: EmbeddedS3;
  let target: Target;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3fs-checksums-'));
    server = await startEmbeddedS3({ directory: dir, port: 0, buckets: ['b'], corsOrigins: [] });
    target = { ...clients(server.endpoint, ADMIN_CREDENTIALS), bucket: 'b' };
  });
  afterAll(async () => {
    target?.s3.destroy();
    target?.s3Default.destroy();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });
  sharedSuite(() => target);
  embeddedOnlySuite(() => target);
});

describeWith(MOTO, 'checksums on moto_server (the behaviour both servers share)', () => {
  let moto: Moto;
  let target: Target;
  beforeAll(async () => {
    moto = await startMoto();
    target = { ...clients(moto.endpoint, MOTO_CREDENTIALS), bucket: 'checksums' };
    await target.s3.send(new CreateBucketCommand({ Bucket: 'checksums' }));
  });
  afterAll(async () => {
    target?.s3.destroy();
    target?.s3Default.destroy();
    await moto?.stop();
  });
  sharedSuite(() => target);
});
