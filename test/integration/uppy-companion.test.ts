import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { startLocalService, type LocalService } from '../../local/service';

/**
 * The real `@uppy/aws-s3` (v6, Companion mode) against the local service: the only setup is
 * `companionEndpoint: <api> + (POST /uppy/grants).path`. Uppy runs in a child `node` process
 * (it ships ESM only) with a small XMLHttpRequest stand-in built on fetch (uppy/node-xhr.mjs).
 */
jest.setTimeout(120_000);

const MiB = 1024 * 1024;
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

function uploadWithUppy(companionEndpoint: string, file: string, sizeInMeta: boolean, key?: string): Promise<UppyOutcome> {
  return new Promise((resolveRun, reject) => {
    execFile(process.execPath, [DRIVER, companionEndpoint, file, sizeInMeta ? 'yes' : 'no', ...(key ? [key] : [])], { cwd: dir }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`Uppy driver failed: ${err.message}\n${stderr}`));
      resolveRun(JSON.parse(stdout.trim().split('\n').pop()!) as UppyOutcome);
    });
  });
}

async function grantEndpoint(bearer = token): Promise<{ status: number; endpoint: string }> {
  const res = await fetch(`${service.apiUrl}/uppy/grants`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    body: '{}',
  });
  const body = (await res.json()) as { path?: string };
  return { status: res.status, endpoint: `${service.apiUrl}${body.path ?? ''}` };
}

async function storedSha256(key: string): Promise<string> {
  const out = await service.s3.send(new GetObjectCommand({ Bucket: service.buckets.uploads, Key: `users/${userId}/${key}` }));
  return createHash('sha256').update(await out.Body!.transformToByteArray()).digest('hex');
}

function writeRandom(name: string, bytes: number): { path: string; sha: string } {
  const data = randomBytes(bytes);
  const path = join(dir, name);
  writeFileSync(path, data);
  return { path, sha: createHash('sha256').update(data).digest('hex') };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'uppy-e2e-'));
  service = await startLocalService({ dataDir: join(dir, 'data'), port: 0, s3Port: 0 });
  userId = `uppy-${randomUUID().slice(0, 8)}`;
  token = service.token(userId);
});

afterAll(async () => {
  await service?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('@uppy/aws-s3 in Companion mode', () => {
  it('uploads a 20 MiB file in parts through the Companion routes and stores the same bytes', async () => {
    const file = writeRandom('video.bin', 20 * MiB);
    const { endpoint } = await grantEndpoint();

    const outcome = await uploadWithUppy(endpoint, file.path, true, 'uppy/video.bin');

    expect(outcome).toMatchObject({ successful: 1, failed: 0, key: 'uppy/video.bin' });
    expect(outcome.parts).toEqual([1, 2, 3, 4]);
    expect(outcome.requests).toEqual([
      'POST /uppy/<grant>/s3/multipart',
      'GET /uppy/<grant>/s3/multipart/<id>/1',
      'PUT /s3fs-uploads/users/' + userId + '/uppy/video.bin',
      'GET /uppy/<grant>/s3/multipart/<id>/2',
      'PUT /s3fs-uploads/users/' + userId + '/uppy/video.bin',
      'GET /uppy/<grant>/s3/multipart/<id>/3',
      'PUT /s3fs-uploads/users/' + userId + '/uppy/video.bin',
      'GET /uppy/<grant>/s3/multipart/<id>/4',
      'PUT /s3fs-uploads/users/' + userId + '/uppy/video.bin',
      'POST /uppy/<grant>/s3/multipart/<id>/complete',
    ]);
    expect(await storedSha256('uppy/video.bin')).toBe(file.sha);
  });

  it('uploads a file whose size Uppy did not send, keyed by its file name', async () => {
    const file = writeRandom('nosize.bin', 12 * MiB);
    const { endpoint } = await grantEndpoint();

    const outcome = await uploadWithUppy(endpoint, file.path, false);

    expect(outcome).toMatchObject({ successful: 1, key: 'nosize.bin' });
    expect(await storedSha256('nosize.bin')).toBe(file.sha);
  });

  it('fails the upload when the declared size does not match the parts (409 at completion)', async () => {
    const file = writeRandom('liar.bin', 6 * MiB);
    const { endpoint } = await grantEndpoint();
    // Declares 12 MiB through the metadata the adapter reads, then sends 6 MiB.
    const create = await fetch(`${endpoint}/s3/multipart`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ filename: 'liar.bin', type: 'application/octet-stream', metadata: { size: 12 * MiB } }),
    });
    const { uploadId, key } = (await create.json()) as { uploadId: string; key: string };
    const sign = (await (await fetch(`${endpoint}/s3/multipart/${uploadId}/1?key=${key}`)).json()) as { url: string };
    const put = await fetch(sign.url, { method: 'PUT', body: readFileSync(file.path) });
    const etag = put.headers.get('etag')!;

    const complete = await fetch(`${endpoint}/s3/multipart/${uploadId}/complete?key=${key}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ parts: [{ PartNumber: 1, ETag: etag }] }),
    });

    expect(complete.status).toBe(409);
    expect(((await complete.json()) as { error: { code: string } }).error.code).toBe('SizeMismatch');
  });

  it('lists the uploaded parts and aborts an upload through the Companion routes', async () => {
    const { endpoint } = await grantEndpoint();
    const create = await fetch(`${endpoint}/s3/multipart`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ filename: 'abort.bin', type: 'application/octet-stream', metadata: {} }),
    });
    const { uploadId, key } = (await create.json()) as { uploadId: string; key: string };
    const sign = (await (await fetch(`${endpoint}/s3/multipart/${uploadId}/1?key=${key}`)).json()) as { url: string };
    await fetch(sign.url, { method: 'PUT', body: Buffer.alloc(1024, 1) });

    const parts = (await (await fetch(`${endpoint}/s3/multipart/${uploadId}?key=${key}`)).json()) as { PartNumber: number; Size: number }[];
    const abort = await fetch(`${endpoint}/s3/multipart/${uploadId}?key=${key}`, { method: 'DELETE' });
    const after = await fetch(`${endpoint}/s3/multipart/${uploadId}?key=${key}`);

    expect(parts).toEqual([expect.objectContaining({ PartNumber: 1, Size: 1024 })]);
    expect(abort.status).toBe(200);
    expect(after.status).toBe(404);
  });

  it('refuses the Companion routes with a forged grant', async () => {
    const res = await fetch(`${service.apiUrl}/uppy/not-a-grant.abc/s3/multipart`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ filename: 'x.bin', type: 'application/octet-stream' }),
    });
    expect(res.status).toBe(401);
  });

  it('issues grants only to callers with a bearer token', async () => {
    const res = await fetch(`${service.apiUrl}/uppy/grants`, { method: 'POST' });
    expect(res.status).toBe(401);
  });
});
