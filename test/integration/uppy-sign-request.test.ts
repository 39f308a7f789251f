import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GetObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { startLocalService, type LocalService } from '../../local/service';

/**
 * The real `@uppy/aws-s3` (v6) in its signRequest mode against the local service: the app's
 * signRequest (uppy/sign-request-client.mjs) asks POST /uploads/sign, with a bearer token, for
 * each S3 request, and Uppy sends it to the embedded S3. Uppy runs in a child `node` process (it
 * ships ESM only) with a small XMLHttpRequest stand-in built on fetch (uppy/node-xhr.mjs).
 */
jest.setTimeout(120_000);

const MiB = 1024 * 1024;
const CEILING = 30 * MiB;
const DRIVER = resolve(__dirname, 'uppy/upload-with-uppy.mjs');

let service: LocalService;
let dir: string;
let userId: string;
let token: string;

interface UppyOutcome {
  successful: number;
  failed: number;
  error: string | null;
  key: string | null;
  parts: number[];
  requests: string[];
}

function uploadWithUppy(options: { file: string; multipart: boolean; key?: string; token?: string; type?: string }): Promise<UppyOutcome> {
  const { token: bearer = token, ...rest } = options;
  const args = JSON.stringify({ apiUrl: service.apiUrl, token: bearer, ...rest });
  return new Promise((resolveRun, reject) => {
    execFile(process.execPath, [DRIVER, args], { cwd: dir }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`Uppy driver failed: ${err.message}\n${stderr}`));
      resolveRun(JSON.parse(stdout.trim().split('\n').pop()!) as UppyOutcome);
    });
  });
}

async function signRequest(body: unknown, bearer: string | null = token): Promise<{ status: number; body: { url?: string; key?: string; headers?: Record<string, string>; error?: { code: string } } }> {
  const res = await fetch(`${service.apiUrl}/uploads/sign`, {
    method: 'POST',
    headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as never };
}

async function stored(key: string): Promise<{ sha: string; type: string | undefined }> {
  const out = await service.s3.send(new GetObjectCommand({ Bucket: service.buckets.uploads, Key: `users/${userId}/${key}` }));
  return { sha: createHash('sha256').update(await out.Body!.transformToByteArray()).digest('hex'), type: out.ContentType };
}

async function storedKeys(prefix: string): Promise<string[]> {
  const out = await service.s3.send(new ListObjectsV2Command({ Bucket: service.buckets.uploads, Prefix: `users/${userId}/${prefix}` }));
  return (out.Contents ?? []).map((o) => o.Key!);
}

function writeRandom(name: string, bytes: number): { path: string; sha: string } {
  const data = randomBytes(bytes);
  const path = join(dir, name);
  writeFileSync(path, data);
  return { path, sha: createHash('sha256').update(data).digest('hex') };
}

/** S3's upload id of a multipart upload created the way Uppy creates it. */
async function createdUpload(key: string, size: number): Promise<{ s3Key: string; uploadId: string }> {
  const signed = await signRequest({ method: 'POST', key, contentType: 'application/octet-stream', size });
  const res = await fetch(signed.body.url!, { method: 'POST', headers: signed.body.headers });
  const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(await res.text())?.[1];
  if (!uploadId) throw new Error(`CreateMultipartUpload answered ${res.status}`);
  return { s3Key: signed.body.key!, uploadId };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'uppy-sign-'));
  service = await startLocalService({ dataDir: join(dir, 'data'), port: 0, s3Port: 0, env: { MAX_UPLOAD_BYTES: String(CEILING) } });
  userId = `uppy-${randomUUID().slice(0, 8)}`;
  token = service.token(userId);
});

afterAll(async () => {
  await service?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('@uppy/aws-s3 in signRequest mode, through POST /uploads/sign', () => {
  it('uploads a small file with one signed PUT and stores the same bytes with its type', async () => {
    const file = writeRandom('notes.csv', 3000);

    const outcome = await uploadWithUppy({ file: file.path, multipart: false, key: 'uppy/notes.csv', type: 'text/csv' });

    expect(outcome).toMatchObject({ successful: 1, failed: 0, key: `users/${userId}/uppy/notes.csv` });
    expect(outcome.requests).toEqual(['sign PUT', `PUT /s3fs-uploads/users/${userId}/uppy/notes.csv`]);
    expect(await stored('uppy/notes.csv')).toEqual({ sha: file.sha, type: 'text/csv' });
  });

  it('uploads a 20 MiB file in the server-planned parts and stores the same bytes', async () => {
    const file = writeRandom('video.bin', 20 * MiB);

    const outcome = await uploadWithUppy({ file: file.path, multipart: true, key: 'uppy/video.bin' });

    expect(outcome).toMatchObject({ successful: 1, failed: 0, error: null, key: `users/${userId}/uppy/video.bin` });
    expect(outcome.parts).toEqual([1, 2, 3]);
    const object = `/s3fs-uploads/users/${userId}/uppy/video.bin`;
    expect(outcome.requests).toEqual([
      'sign POST',
      `POST ${object}?uploads`,
      'sign PUT part 1',
      `PUT ${object}?partNumber=1`,
      'sign PUT part 2',
      `PUT ${object}?partNumber=2`,
      'sign PUT part 3',
      `PUT ${object}?partNumber=3`,
      'sign POST upload',
      `POST ${object}?uploadId`,
    ]);
    expect(await stored('uppy/video.bin')).toEqual({ sha: file.sha, type: 'application/octet-stream' });
  });

  it('fails the upload without a token: the sign call answers 401 and nothing is stored', async () => {
    const file = writeRandom('anon.bin', 1000);

    const outcome = await uploadWithUppy({ file: file.path, multipart: false, key: 'uppy/anon.bin', token: '' });

    expect(outcome).toMatchObject({ successful: 0, failed: 1 });
    expect(outcome.error).toContain('401 Unauthorized');
    expect(await storedKeys('uppy/anon.bin')).toEqual([]);
  });

  it('fails an upload over the size ceiling before anything reaches S3 (413)', async () => {
    const file = writeRandom('huge.bin', CEILING + 1);

    const outcome = await uploadWithUppy({ file: file.path, multipart: true, key: 'uppy/huge.bin' });

    expect(outcome).toMatchObject({ successful: 0, failed: 1 });
    expect(outcome.error).toContain('413 EntityTooLarge');
    expect(outcome.requests).toEqual(['sign POST']);
    expect(await storedKeys('uppy/huge.bin')).toEqual([]);
  });

  it('refuses to sign any request on another user\'s upload (403 KeyOutsideArea)', async () => {
    const other = service.token(`other-${randomUUID().slice(0, 8)}`);
    const { s3Key, uploadId } = await createdUpload('theirs.bin', 9 * MiB);

    const attempts = await Promise.all([
      signRequest({ method: 'PUT', key: s3Key, uploadId, partNumber: 1, size: 9 * MiB }, other),
      signRequest({ method: 'GET', key: s3Key, uploadId }, other),
      signRequest({ method: 'POST', key: s3Key, uploadId, size: 9 * MiB }, other),
      signRequest({ method: 'DELETE', key: s3Key, uploadId }, other),
    ]);

    expect(attempts.map((a) => [a.status, a.body.error?.code])).toEqual(Array(4).fill([403, 'KeyOutsideArea']));
  });

  it('refuses the sign call without a token with 401', async () => {
    const res = await signRequest({ method: 'PUT', key: 'x.bin', contentType: 'application/octet-stream', size: 1 }, null);
    expect([res.status, res.body.error?.code]).toEqual([401, 'Unauthorized']);
  });

  it('leaves S3 to refuse a part of another length than the one signed', async () => {
    const { s3Key, uploadId } = await createdUpload('short-part.bin', 9 * MiB);
    const signed = await signRequest({ method: 'PUT', key: s3Key, uploadId, partNumber: 1, size: 9 * MiB });

    const put = await fetch(signed.body.url!, { method: 'PUT', body: Buffer.alloc(1024, 1) });

    expect(put.status).toBe(403);
    const listed = await service.s3.send(new ListMultipartUploadsCommand({ Bucket: service.buckets.uploads, Prefix: s3Key }));
    expect(listed.Uploads?.map((u) => u.UploadId)).toEqual([uploadId]);
  });

  it('leaves S3 to refuse a new object of another type than the one signed', async () => {
    const signed = await signRequest({ method: 'PUT', key: 'typed.csv', contentType: 'text/csv', size: 3 });

    const put = await fetch(signed.body.url!, { method: 'PUT', headers: { 'content-type': 'text/html' }, body: 'a,b' });

    expect(put.status).toBe(403);
    expect(await storedKeys('typed.csv')).toEqual([]);
  });

  it('refuses to sign the completion of an upload missing a part (400), and signs its abort', async () => {
    const { s3Key, uploadId } = await createdUpload('liar.bin', 12 * MiB);
    const part = await signRequest({ method: 'PUT', key: s3Key, uploadId, partNumber: 2, size: 12 * MiB });
    expect((await fetch(part.body.url!, { method: 'PUT', body: Buffer.alloc(4 * MiB, 2) })).status).toBe(200);

    const complete = await signRequest({ method: 'POST', key: s3Key, uploadId, size: 12 * MiB });
    const abort = await signRequest({ method: 'DELETE', key: s3Key, uploadId });
    const aborted = await fetch(abort.body.url!, { method: 'DELETE' });

    expect([complete.status, complete.body.error?.code]).toEqual([400, 'InvalidPart']);
    expect(aborted.status).toBe(204);
    expect(await storedKeys('liar.bin')).toEqual([]);
  });
});
