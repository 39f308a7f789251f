import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createS3Client } from '../../lambda/shared/clients';
import { ADMIN_CREDENTIALS, startEmbeddedS3, type EmbeddedS3 } from '../../local/s3/server';

/**
 * The embedded S3 over HTTP, with the SDK as a client: what S3 stores, lists and refuses, for the
 * keys and requests that s3rver got wrong.
 */
describe('the embedded S3', () => {
  let dir: string;
  let server: EmbeddedS3;
  let s3: S3Client;

  const start = async () => {
    server = await startEmbeddedS3({ directory: dir, port: 0, buckets: ['b'], corsOrigins: ['http://localhost:*'] });
    s3 = createS3Client({ region: 'us-east-1', s3Endpoint: server.endpoint }, { credentials: ADMIN_CREDENTIALS });
  };
  const stop = async () => {
    s3.destroy();
    await server.close();
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3fs-embedded-'));
    await start();
  });
  afterAll(async () => {
    await stop();
    await rm(dir, { recursive: true, force: true });
  });

  const put = (Key: string, Body: string | Buffer = Key) => s3.send(new PutObjectCommand({ Bucket: 'b', Key, Body }));
  const read = async (Key: string, Range?: string) => {
    const out = await s3.send(new GetObjectCommand({ Bucket: 'b', Key, ...(Range ? { Range } : {}) }));
    return Buffer.from(await out.Body!.transformToByteArray());
  };
  const listAll = async (Prefix: string) => {
    const keys: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: 'b', Prefix, ContinuationToken }));
      keys.push(...(page.Contents ?? []).map((o) => o.Key!));
      ContinuationToken = page.NextContinuationToken;
    } while (ContinuationToken);
    return keys;
  };

  it.each([
    ['a 250-byte segment', `long/${'s'.repeat(250)}.csv`],
    ['a 1,000-byte segment', `long/${'é'.repeat(500)}`],
    ['a key of the full 1,024 bytes', `long/${'k'.repeat(1019)}`],
  ])('stores, lists, reads and deletes a key with %s', async (_what, key) => {
    await put(key);

    expect(await listAll('long/')).toContain(key);
    expect((await read(key)).toString()).toBe(key);
    await s3.send(new DeleteObjectCommand({ Bucket: 'b', Key: key }));
    expect(await listAll('long/')).not.toContain(key);
  });

  it('refuses a key of 1,025 bytes as S3 does', async () => {
    await expect(put(`long/${'k'.repeat(1020)}`)).rejects.toMatchObject({ name: 'KeyTooLongError' });
  });

  it('answers bytes=0-0 with exactly one byte', async () => {
    await put('range.txt', '0123456789');

    const out = await s3.send(new GetObjectCommand({ Bucket: 'b', Key: 'range.txt', Range: 'bytes=0-0' }));

    expect(out.ContentRange).toBe('bytes 0-0/10');
    expect(await out.Body!.transformToString()).toBe('0');
  });

  it('answers a suffix range and a range past the end as S3 does', async () => {
    await put('range.txt', '0123456789');

    expect((await read('range.txt', 'bytes=-3')).toString()).toBe('789');
    expect((await read('range.txt', 'bytes=8-100')).toString()).toBe('89');
    await expect(read('range.txt', 'bytes=10-')).rejects.toMatchObject({ $metadata: { httpStatusCode: 416 } });
  });

  it('makes an abort final: parts signed before it are refused and the upload is gone', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'b', Key: 'aborted.bin' }));
    await s3.send(new UploadPartCommand({ Bucket: 'b', Key: 'aborted.bin', UploadId, PartNumber: 1, Body: 'one' }));
    const signed = await getSignedUrl(s3, new UploadPartCommand({ Bucket: 'b', Key: 'aborted.bin', UploadId, PartNumber: 2 }), { expiresIn: 60 });

    await s3.send(new AbortMultipartUploadCommand({ Bucket: 'b', Key: 'aborted.bin', UploadId }));

    const late = await fetch(signed, { method: 'PUT', body: 'two' });
    expect(late.status).toBe(404);
    expect(await late.text()).toContain('<Code>NoSuchUpload</Code>');
    await expect(s3.send(new ListPartsCommand({ Bucket: 'b', Key: 'aborted.bin', UploadId }))).rejects.toMatchObject({ name: 'NoSuchUpload' });
  });

  it('refuses anonymous reads, writes, listings and deletes with 403 AccessDenied', async () => {
    await put('private.txt', 'secret');
    const url = `${server.endpoint}/b/private.txt`;

    const answers = await Promise.all([
      fetch(url),
      fetch(url, { method: 'PUT', body: 'overwritten' }),
      fetch(`${server.endpoint}/b?list-type=2`),
      fetch(url, { method: 'DELETE' }),
    ]);

    expect(answers.map((r) => r.status)).toEqual([403, 403, 403, 403]);
    expect(await answers[0]!.text()).toContain('<Code>AccessDenied</Code>');
    expect((await read('private.txt')).toString()).toBe('secret');
  });

  it('refuses a cross-site HTML form POST into a bucket', async () => {
    const form = new FormData();
    form.append('key', 'users/u/spoofed.csv.profile.json');
    form.append('file', new Blob(['{"status":"ok"}']));

    const res = await fetch(`${server.endpoint}/b`, { method: 'POST', body: form, headers: { origin: 'https://evil.example' } });

    expect(res.status).toBe(403);
    expect(await listAll('users/u/')).toEqual([]);
  });

  it('names its region as S3 does: us-east-1 is the empty location constraint', async () => {
    const { GetBucketLocationCommand } = await import('@aws-sdk/client-s3');

    expect((await s3.send(new GetBucketLocationCommand({ Bucket: 'b' }))).LocationConstraint).toBeUndefined();
  });

  it('keeps objects and their listing order across a restart', async () => {
    await put('restart/b.txt', 'b');
    await put('restart/a.txt', 'a');

    await stop();
    await start();

    expect(await listAll('restart/')).toEqual(['restart/a.txt', 'restart/b.txt']);
    expect((await read('restart/a.txt')).toString()).toBe('a');
  });
});

describe('a data folder written by s3rver', () => {
  it('is imported at start with its keys, ETags and content types, and the old folder kept aside', async () => {
    const dir = await mkdtemp(join(tmpdir(), 's3fs-s3rver-import-'));
    const { mkdir, writeFile, stat } = await import('node:fs/promises');
    await mkdir(join(dir, 'b', 'users', 'u1', 'dir with space'), { recursive: true });
    const base = join(dir, 'b', 'users', 'u1', 'dir with space', 'a.csv');
    await writeFile(`${base}._S3rver_object`, 'a,b\n1,2\n');
    await writeFile(`${base}._S3rver_object.md5`, 'f0a1b2c3d4e5f60718293a4b5c6d7e8f');
    await writeFile(`${base}._S3rver_metadata.json`, JSON.stringify({ 'content-type': 'text/csv', 'x-amz-meta-origin': 'old' }));

    const server = await startEmbeddedS3({ directory: dir, port: 0, buckets: ['b'], corsOrigins: [] });
    const s3 = createS3Client({ region: 'us-east-1', s3Endpoint: server.endpoint }, { credentials: ADMIN_CREDENTIALS });
    try {
      const out = await s3.send(new GetObjectCommand({ Bucket: 'b', Key: 'users/u1/dir with space/a.csv' }));
      expect([await out.Body!.transformToString(), out.ETag, out.ContentType, out.Metadata]).toEqual([
        'a,b\n1,2\n',
        '"f0a1b2c3d4e5f60718293a4b5c6d7e8f"',
        'text/csv',
        { origin: 'old' },
      ]);
      expect((await stat(join(dir, 's3rver-imported', 'b'))).isDirectory()).toBe(true);
    } finally {
      s3.destroy();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a GET of a missing key', () => {
  it('is 404 NoSuchKey for a caller allowed s3:ListBucket and 403 AccessDenied for one that is not, as in S3', async () => {
    const dir = await mkdtemp(join(tmpdir(), 's3fs-missing-'));
    const read = [{ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::b/*'] }];
    const server = await startEmbeddedS3({
      directory: dir,
      port: 0,
      buckets: ['b'],
      corsOrigins: [],
      principals: [
        { name: 'reader', accessKeyId: 'READERKEY', secretAccessKey: 'r', policy: read },
        { name: 'lister', accessKeyId: 'LISTERKEY', secretAccessKey: 'l', policy: [...read, { actions: ['s3:ListBucket'], resources: ['arn:aws:s3:::b'] }] },
      ],
    });
    const as = (accessKeyId: string, secretAccessKey: string) => createS3Client({ region: 'us-east-1', s3Endpoint: server.endpoint }, { credentials: { accessKeyId, secretAccessKey } });
    const [reader, lister] = [as('READERKEY', 'r'), as('LISTERKEY', 'l')];
    try {
      await expect(reader.send(new GetObjectCommand({ Bucket: 'b', Key: 'nothing-here' }))).rejects.toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
      await expect(lister.send(new GetObjectCommand({ Bucket: 'b', Key: 'nothing-here' }))).rejects.toMatchObject({ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
    } finally {
      reader.destroy();
      lister.destroy();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a completed multipart upload', () => {
  it('reads whole, in ranges across its parts, and copies byte-exact', async () => {
    const dir = await mkdtemp(join(tmpdir(), 's3fs-parts-'));
    const server = await startEmbeddedS3({ directory: dir, port: 0, buckets: ['b'], corsOrigins: [] });
    const s3 = createS3Client({ region: 'us-east-1', s3Endpoint: server.endpoint }, { credentials: ADMIN_CREDENTIALS });
    const { CompleteMultipartUploadCommand, CopyObjectCommand } = await import('@aws-sdk/client-s3');
    const MiB = 1024 * 1024;
    const data = Buffer.from(Array.from({ length: 5 * MiB + 3 * MiB + 7 }, (_v, i) => i % 253));
    try {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'b', Key: 'm.bin' }));
      const parts = [];
      for (const [n, [from, to]] of [[0, 5 * MiB], [5 * MiB, data.length]].entries()) {
        const out = await s3.send(new UploadPartCommand({ Bucket: 'b', Key: 'm.bin', UploadId, PartNumber: n + 1, Body: data.subarray(from, to) }));
        parts.push({ PartNumber: n + 1, ETag: out.ETag! });
      }
      const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'b', Key: 'm.bin', UploadId, MultipartUpload: { Parts: parts } }));
      await s3.send(new CopyObjectCommand({ Bucket: 'b', Key: 'copy.bin', CopySource: 'b/m.bin' }));
      const get = async (Key: string, Range?: string) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: 'b', Key, ...(Range ? { Range } : {}) }))).Body!.transformToByteArray());

      expect(done.ETag).toMatch(/^"[0-9a-f]{32}-2"$/);
      expect((await get('m.bin')).equals(data)).toBe(true);
      expect((await get('m.bin', `bytes=${5 * MiB - 2}-${5 * MiB + 1}`)).equals(data.subarray(5 * MiB - 2, 5 * MiB + 2))).toBe(true);
      expect((await get('m.bin', 'bytes=-3')).equals(data.subarray(-3))).toBe(true);
      expect((await get('copy.bin')).equals(data)).toBe(true);
    } finally {
      s3.destroy();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
