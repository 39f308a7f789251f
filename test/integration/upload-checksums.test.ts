import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { MIN_PART_BYTES } from '../../lambda/core/multipart';
import { startLocalService, type LocalService } from '../../local/service';

/**
 * Checksums through the upload API (issue #16), over real HTTP against local mode with the
 * embedded S3: the presigned URLs carry the signed `x-amz-checksum-*` header, so S3 itself refuses
 * a body with other bytes (400 BadDigest), for a single PUT and for a part, and checks the whole
 * object's checksum at completion; the profile records what S3 stored.
 */
jest.setTimeout(120_000);

type Json = Record<string, unknown>;
const MiB = 1024 * 1024;

let dir: string;
let service: LocalService;
let token: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3fs-sums-'));
  service = await startLocalService({ dataDir: dir, port: 0, s3Port: 0, env: { MULTIPART_THRESHOLD_BYTES: String(8 * MiB) } });
  token = service.token(randomUUID());
});
afterAll(async () => {
  await service?.stop();
  await rm(dir, { recursive: true, force: true });
});

const crc32Base64 = (data: Uint8Array) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data));
  return out.toString('base64');
};
/** The same length, one byte different. */
const flipped = (data: Buffer, at = Math.floor(data.length / 2)) => {
  const copy = Buffer.from(data);
  copy[at] = copy[at]! ^ 0x01;
  return copy;
};

const api = (path: string, init: RequestInit = {}) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(`${service.apiUrl}${path}`, { ...init, headers, redirect: 'manual' });
};
const postJson = async (path: string, body: unknown) => {
  const res = await api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Json };
};
const put = async (url: string, headers: Record<string, string>, body: Buffer) => {
  const res = await fetch(url, { method: 'PUT', headers, body: new Uint8Array(body) });
  return { status: res.status, text: await res.text(), checksum: res.headers.get('x-amz-checksum-crc32') };
};
const headOf = (key: string) => api(`/buckets/uploads/objects/${key}`, { method: 'HEAD' });

async function profileOf(key: string): Promise<Json> {
  await service.processing.idle();
  const res = await api(`/buckets/results/objects/${key}.profile.json`);
  expect(res.status).toBe(200);
  return (await res.json()) as Json;
}

describe('a single PUT with a checksum', () => {
  const body = Buffer.from('name,n\nada,1\nbob,2\n');

  async function session(key: string) {
    const created = await postJson('/uploads', { key, contentType: 'text/csv', size: body.length, checksum: { algorithm: 'CRC32', value: crc32Base64(body) } });
    expect(created.status).toBe(201);
    return created.body as { url: string; headers: Record<string, string> };
  }

  it('is refused by S3 with 400 BadDigest when one byte differs, and nothing is stored', async () => {
    const key = `sums/${randomUUID()}/flipped.csv`;
    const { url, headers } = await session(key);

    const refused = await put(url, headers, flipped(body));

    expect(refused.status).toBe(400);
    expect(refused.text).toContain('<Code>BadDigest</Code>');
    expect((await headOf(key)).status).toBe(404);
  });

  it('is refused (403) without the signed checksum header', async () => {
    const { url, headers } = await session(`sums/${randomUUID()}/unsent.csv`);
    const { 'x-amz-checksum-crc32': _signed, ...others } = headers;

    expect((await put(url, others, body)).status).toBe(403);
  });

  it('stores the right bytes, and the profile records the checksum S3 stored', async () => {
    const key = `sums/${randomUUID()}/ok.csv`;
    const { url, headers } = await session(key);

    const sent = await put(url, headers, body);

    expect([sent.status, sent.checksum]).toEqual([200, crc32Base64(body)]);
    expect(await profileOf(key)).toMatchObject({
      status: 'ok',
      source: { checksum: { algorithm: 'CRC32', type: 'FULL_OBJECT', value: crc32Base64(body) } },
    });
  });
});

describe('a multipart upload with a full-object CRC32', () => {
  const body = Buffer.alloc(MIN_PART_BYTES + 1000);
  for (let i = 0; i < body.length; i += 4096) body[i] = i & 0xff;

  async function session(key: string) {
    const created = await postJson('/uploads', { key, contentType: 'application/octet-stream', size: body.length, checksum: { algorithm: 'CRC32' } });
    expect(created.status).toBe(201);
    const { uploadId, partSize, partCount, checksumAlgorithm } = created.body as { uploadId: string; partSize: number; partCount: number; checksumAlgorithm: string };
    expect([partCount, checksumAlgorithm]).toEqual([2, 'CRC32']);
    const id = encodeURIComponent(uploadId);
    const partOf = (n: number) => body.subarray((n - 1) * partSize, n * partSize);
    const signed = await postJson(`/uploads/${id}/parts`, {
      key,
      partNumbers: [1, 2],
      checksums: { '1': crc32Base64(partOf(1)), '2': crc32Base64(partOf(2)) },
    });
    expect(signed.status).toBe(200);
    const parts = new Map((signed.body.parts as { partNumber: number; url: string; headers: Record<string, string> }[]).map((p) => [p.partNumber, p]));
    const sendPart = (n: number, bytes = partOf(n)) => put(parts.get(n)!.url, parts.get(n)!.headers, bytes);
    const complete = (checksum: string) => postJson(`/uploads/${id}/complete`, { key, checksum });
    return { id, partOf, sendPart, complete };
  }

  it('refuses a part with one byte flipped (400 BadDigest), and takes the right bytes after', async () => {
    const key = `sums/${randomUUID()}/parts.bin`;
    const upload = await session(key);

    const refused = await upload.sendPart(1, flipped(upload.partOf(1)));
    const listedAfterRefusal = await api(`/uploads/${upload.id}?key=${encodeURIComponent(key)}`);
    const sent = await upload.sendPart(1);

    expect(refused.status).toBe(400);
    expect(refused.text).toContain('<Code>BadDigest</Code>');
    expect(((await listedAfterRefusal.json()) as { parts: unknown[] }).parts).toEqual([]);
    expect([sent.status, sent.checksum]).toEqual([200, crc32Base64(upload.partOf(1))]);
  });

  it("completes only with the whole object's CRC32: another is 400 BadDigest, naming it", async () => {
    const key = `sums/${randomUUID()}/whole.bin`;
    const upload = await session(key);
    await upload.sendPart(1);
    await upload.sendPart(2);

    const wrong = await upload.complete(crc32Base64(flipped(body)));
    const done = await upload.complete(crc32Base64(body));

    expect(wrong).toEqual({ status: 400, body: { error: { code: 'BadDigest', message: expect.stringContaining('checksum does not match') as unknown } } });
    expect(done).toEqual({ status: 200, body: { key, etag: expect.stringMatching(/-2"$/) as unknown, size: body.length, checksum: { algorithm: 'CRC32', value: crc32Base64(body) } } });
    expect(await profileOf(key)).toMatchObject({ source: { checksum: { algorithm: 'CRC32', type: 'FULL_OBJECT', value: crc32Base64(body) } } });
  });

  it('lists the checksum of each part S3 holds', async () => {
    const key = `sums/${randomUUID()}/listed.bin`;
    const upload = await session(key);
    await upload.sendPart(2);

    const listed = await api(`/uploads/${upload.id}?key=${encodeURIComponent(key)}`);

    expect(await listed.json()).toEqual({ parts: [{ partNumber: 2, etag: expect.any(String) as unknown, size: 1000, checksum: crc32Base64(upload.partOf(2)) }] });
  });
});
