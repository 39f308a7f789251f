import { randomUUID } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { MIN_PART_BYTES } from '../../lambda/core/multipart';
import { encodeKey } from '../../client/api-client';
import { MAX_KEY_BYTES, MAX_UPLOAD_KEY_BYTES, PROFILE_SUFFIX } from '../../lambda/shared/keys';
import { partsSha256 } from '../../lambda/shared/parts-digest';
import type { LocalService } from '../../local/service';

/**
 * The API driven over real HTTP as a client would, against a running local service. Run once per
 * S3 implementation (embedded s3rver, moto through S3_ENDPOINT). Every test works under its own
 * prefix, so the tests share one service without seeing each other's keys.
 */
type Json = Record<string, unknown>;

export function serviceSuite(getService: () => LocalService): void {
  let service: LocalService;
  let userA: string;
  let tokenA: string;
  let tokenB: string;

  beforeAll(() => {
    service = getService();
    userA = randomUUID(); // as long as a Cognito sub: keys are checked at the longest user id
    tokenA = service.token(userA);
    tokenB = service.token(`user-b-${randomUUID().slice(0, 8)}`);
  });

  const api = (path: string, init: RequestInit & { token?: string | null } = {}) => {
    const { token = tokenA, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (token) headers.set('authorization', `Bearer ${token}`);
    return fetch(`${service.apiUrl}${path}`, { ...rest, headers, redirect: rest.redirect ?? 'manual' });
  };
  const apiJson = async (path: string, init: RequestInit & { token?: string | null } = {}) => {
    const res = await api(path, init);
    return { status: res.status, body: (await res.json()) as Json };
  };
  const postJson = (path: string, body: unknown, token?: string) =>
    apiJson(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...(token ? { token } : {}) });

  /** POST /uploads and PUT the bytes to the presigned URL with fetch. */
  async function putThroughApi(key: string, body: Buffer, contentType = 'text/csv', token = tokenA): Promise<void> {
    const created = await postJson('/uploads', { key, contentType, size: body.length }, token);
    expect(created.status).toBe(201);
    expect(created.body.method).toBe('PUT');
    const put = await fetch(created.body.url as string, {
      method: 'PUT',
      headers: created.body.headers as Record<string, string>,
      body: new Uint8Array(body),
    });
    expect(put.status).toBe(200);
  }

  async function profileOf(key: string): Promise<{ status: number; body: Json }> {
    await service.processing.idle();
    return apiJson(`/buckets/results/objects/${encodeKey(key)}${PROFILE_SUFFIX}`);
  }

  const csv = (rows: number) => Buffer.from(['name,age', ...Array.from({ length: rows }, (_, i) => `n${i},${20 + (i % 50)}`)].join('\n') + '\n');

  it('lists the two buckets', async () => {
    const { status, body } = await apiJson('/buckets');
    expect(status).toBe(200);
    expect(JSON.stringify(body)).toContain('uploads');
    expect(JSON.stringify(body)).toContain('results');
  });

  it('answers 401 without a token', async () => {
    const { status, body } = await apiJson('/buckets', { token: null });
    expect(status).toBe(401);
    expect(body).toEqual({ error: expect.objectContaining({ code: 'Unauthorized' }) });
  });

  it('profiles a CSV uploaded by presigned PUT', async () => {
    await putThroughApi('put/people.csv', csv(10));
    const { status, body } = await profileOf('put/people.csv');
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', format: 'csv', rows: 10, columnCount: 2 });
  });

  it('profiles a key with spaces, "+" and non-ASCII characters', async () => {
    await putThroughApi('reports/q1 +é.csv', csv(3));
    const { status, body } = await profileOf('reports/q1 +é.csv');
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', rows: 3 });
  });

  it.each([
    ['a 250-byte segment', `long/${'s'.repeat(250)}.csv`],
    ['the longest key an upload may have (968 bytes, its profile key 1,024 with a 36-character user id)', 'k'.repeat(MAX_UPLOAD_KEY_BYTES - 4) + '.csv'],
  ])('uploads, lists, reads, profiles and deletes a key with %s', async (_what, key) => {
    await putThroughApi(key, csv(2));

    expect((await profileOf(key)).body).toMatchObject({ status: 'ok', rows: 2 });
    const folder = key.includes('/') ? key.slice(0, key.lastIndexOf('/') + 1) : '';
    const listed = await apiJson(`/buckets/uploads/objects?prefix=${encodeURIComponent(folder)}&limit=1000`);
    expect((listed.body.objects as { key: string }[]).map((o) => o.key)).toContain(key);
    const read = await api(`/buckets/uploads/objects/${encodeKey(key)}`);
    expect([read.status, await read.text()]).toEqual([200, csv(2).toString()]);
    expect((await api(`/buckets/uploads/objects/${encodeKey(key)}`, { method: 'DELETE' })).status).toBe(204);
    expect((await api(`/buckets/uploads/objects/${encodeKey(key)}`)).status).toBe(404);
    expect((await apiJson('/buckets')).status).toBe(200);
  });

  it('reads and deletes a key of 981 bytes, the longest the API can name (too long to have a profile), answering 204, not 500', async () => {
    const key = 'k'.repeat(MAX_KEY_BYTES);
    await service.s3.send(new PutObjectCommand({ Bucket: service.buckets.uploads, Key: `users/${userA}/${key}`, Body: 'x', ContentType: 'text/plain' }));

    const read = await api(`/buckets/uploads/objects/${key}`);
    const del = await api(`/buckets/uploads/objects/${key}`, { method: 'DELETE' });
    const after = await api(`/buckets/uploads/objects/${key}`);

    expect([read.status, await read.text()]).toEqual([200, 'x']);
    expect([del.status, await del.text()]).toEqual([204, '']);
    expect(after.status).toBe(404);
  });

  it('uploads a key in NFC and refuses the same name in NFD or with a bidi override, 400 InvalidKey', async () => {
    const nfc = 'unicode/caf\u00e9.csv';

    const refusedNfd = await postJson('/uploads', { key: nfc.normalize('NFD'), contentType: 'text/csv', size: 1 });
    const refusedBidi = await postJson('/uploads', { key: 'unicode/invoice\u202efdp.csv', contentType: 'text/csv', size: 1 });
    await putThroughApi(nfc, csv(1));

    expect([refusedNfd.status, (refusedNfd.body.error as Json).code]).toEqual([400, 'InvalidKey']);
    expect([refusedBidi.status, (refusedBidi.body.error as Json).code]).toEqual([400, 'InvalidKey']);
    expect((await apiJson('/buckets/uploads/objects?prefix=unicode/')).body.objects).toEqual([expect.objectContaining({ key: nfc })]);
  });

  it('refuses an upload whose key is one byte over 968, naming the limit', async () => {
    const created = await postJson('/uploads', { key: 'k'.repeat(MAX_UPLOAD_KEY_BYTES + 1), contentType: 'text/csv', size: 1 });

    expect(created.status).toBe(400);
    expect(created.body).toEqual({ error: { code: 'InvalidKey', message: expect.stringContaining('968 bytes') } });
  });

  it('completes a 3-part multipart upload through presigned part URLs, one part sent twice, and profiles it', async () => {
    const header = 'id,value\n';
    const row = '0000000001,abcdefghijklmnopqrstuvwxyz\n';
    const rows = Math.ceil((2 * MIN_PART_BYTES + 1) / row.length);
    const body = Buffer.from(header + row.repeat(rows));
    const key = 'multi/big.csv';
    const created = await postJson('/uploads', { key, contentType: 'text/csv', size: body.length });
    expect(created.status).toBe(201);
    const { uploadId, partSize, partCount } = created.body as { uploadId: string; partSize: number; partCount: number };
    expect(partCount).toBe(3);
    const id = encodeURIComponent(uploadId);
    const signed = await postJson(`/uploads/${id}/parts`, { key, partNumbers: [1, 2, 3] });
    expect(signed.status).toBe(200);
    const urls = new Map((signed.body.parts as { partNumber: number; url: string }[]).map((p) => [p.partNumber, p.url]));
    const sendPart = async (n: number) => {
      const res = await fetch(urls.get(n)!, { method: 'PUT', body: new Uint8Array(body.subarray((n - 1) * partSize, n * partSize)) });
      expect({ part: n, status: res.status, error: res.ok ? '' : await res.text() }).toEqual({ part: n, status: 200, error: '' });
    };
    await sendPart(2);
    await Promise.all([sendPart(1), sendPart(2), sendPart(3)]);
    const listed = await apiJson(`/uploads/${id}?key=${encodeURIComponent(key)}`);
    expect(listed.status).toBe(200);
    const parts = listed.body.parts as { partNumber: number; etag: string }[];
    expect(parts.map((p) => p.partNumber)).toEqual([1, 2, 3]);
    const done = await postJson(`/uploads/${id}/complete`, { key, parts: parts.map(({ partNumber, etag }) => ({ partNumber, etag })) });
    expect({ status: done.status, body: done.status === 200 ? {} : done.body }).toEqual({ status: 200, body: {} });
    const head = await api(`/buckets/uploads/objects/${key}`, { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe(String(body.length));
    const profile = await profileOf(key);
    expect(profile.body).toMatchObject({ status: 'ok', rows });
  });

  /** A multipart session with its part URLs signed, and a way to send each part's bytes. */
  async function multipartSession(key: string, body: Buffer) {
    const created = await postJson('/uploads', { key, contentType: 'application/octet-stream', size: body.length });
    expect(created.status).toBe(201);
    const { uploadId, partSize, partCount } = created.body as { uploadId: string; partSize: number; partCount: number };
    const id = encodeURIComponent(uploadId);
    const numbers = Array.from({ length: partCount }, (_, i) => i + 1);
    const signed = await postJson(`/uploads/${id}/parts`, { key, partNumbers: numbers });
    const urls = new Map((signed.body.parts as { partNumber: number; url: string }[]).map((p) => [p.partNumber, p.url]));
    const sendPart = async (n: number, bytes = body.subarray((n - 1) * partSize, n * partSize)) => {
      const res = await fetch(urls.get(n)!, { method: 'PUT', body: new Uint8Array(bytes) });
      expect(res.status).toBe(200);
      return { partNumber: n, etag: res.headers.get('etag')! };
    };
    const complete = (fields: Json) => postJson(`/uploads/${id}/complete`, { key, ...fields });
    return { id, partCount, sendPart, complete };
  }

  it('completes from the parts S3 lists, pinned by their partsSha256, once none is missing', async () => {
    const body = Buffer.alloc(MIN_PART_BYTES + 100, 7);
    const key = 'listed/two-parts.bin';
    const upload = await multipartSession(key, body);
    expect(upload.partCount).toBe(2);
    const first = await upload.sendPart(1);

    const early = await upload.complete({});
    const second = await upload.sendPart(2);
    const wrong = await upload.complete({ partsSha256: partsSha256([first, { partNumber: 2, etag: '"0123456789abcdef0123456789abcdef"' }]) });
    const done = await upload.complete({ partsSha256: partsSha256([first, second]) });

    expect(early).toEqual({ status: 409, body: { error: { code: 'IncompleteUpload', message: 'Parts 2 of 2 have not been uploaded yet' } } });
    expect([wrong.status, (wrong.body.error as Json).code]).toEqual([409, 'PartsMismatch']);
    expect(done).toEqual({ status: 200, body: { key, etag: expect.stringMatching(/-2"$/), size: body.length } });
    const head = await api(`/buckets/uploads/objects/${key}`, { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe(String(body.length));
  });

  it('completes from the parts S3 lists when the body names none', async () => {
    const body = Buffer.alloc(MIN_PART_BYTES + 5, 3);
    const key = 'listed/unpinned.bin';
    const upload = await multipartSession(key, body);
    await Promise.all([upload.sendPart(1), upload.sendPart(2)]);

    const done = await upload.complete({});

    expect(done).toEqual({ status: 200, body: { key, etag: expect.stringMatching(/-2"$/), size: body.length } });
  });

  it('lists more than 1,000 keys page by page with cursors', async () => {
    // Written straight to the results bucket, which raises no notifications, to keep the run short.
    const keys = Array.from({ length: 1003 }, (_, i) => `many/k${String(i).padStart(4, '0')}.txt`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(
        keys.slice(i, i + 50).map((k) => service.s3.send(new PutObjectCommand({ Bucket: service.buckets.results, Key: `users/${userA}/${k}`, Body: 'x' }))),
      );
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `prefix=many/&limit=400${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const { status, body } = await apiJson(`/buckets/results/objects?${query}`);
      expect(status).toBe(200);
      seen.push(...(body.objects as { key: string }[]).map((o) => o.key));
      cursor = body.nextCursor as string | null;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(keys);
  });

  it('lists folders with the "/" delimiter', async () => {
    await putThroughApi('tree/a/1.txt', Buffer.from('1'), 'text/plain');
    await putThroughApi('tree/b/2.txt', Buffer.from('2'), 'text/plain');
    await putThroughApi('tree/top.txt', Buffer.from('3'), 'text/plain');
    const { body } = await apiJson('/buckets/uploads/objects?prefix=tree/&delimiter=/');
    expect(body.prefixes).toEqual(['tree/a/', 'tree/b/']);
    expect((body.objects as { key: string }[]).map((o) => o.key)).toEqual(['tree/top.txt']);
  });

  describe('reading', () => {
    const text = Buffer.from('name,age\nann,31\n');
    beforeAll(async () => {
      await putThroughApi('read/small.csv', text);
    });

    it('returns a small text object inline', async () => {
      const res = await api('/buckets/uploads/objects/read/small.csv');
      expect(res.status).toBe(200);
      expect(Buffer.from(await res.arrayBuffer())).toEqual(text);
    });

    it('redirects a download to a presigned GET that returns the same bytes', async () => {
      const res = await api('/buckets/uploads/objects/read/small.csv?download=1');
      expect(res.status).toBe(307);
      const followed = await fetch(res.headers.get('location')!);
      expect(followed.status).toBe(200);
      expect(Buffer.from(await followed.arrayBuffer())).toEqual(text);
    });

    it('returns a byte range with 206', async () => {
      const res = await api('/buckets/uploads/objects/read/small.csv', { headers: { range: 'bytes=0-3' } });
      expect(res.status).toBe(206);
      expect(await res.text()).toBe('name');
    });

    it('answers HEAD with the size and no body', async () => {
      const res = await api('/buckets/uploads/objects/read/small.csv', { method: 'HEAD' });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-length')).toBe(String(text.length));
      expect(await res.text()).toBe('');
    });

    it('keeps another user from seeing the object', async () => {
      const read = await api('/buckets/uploads/objects/read/small.csv', { token: tokenB });
      expect(read.status).toBe(404);
      const listed = await apiJson('/buckets/uploads/objects?prefix=read/', { token: tokenB });
      expect(listed.body.objects).toEqual([]);
    });
  });

  it('deletes an object', async () => {
    await putThroughApi('gone/x.txt', Buffer.from('x'), 'text/plain');
    const del = await api('/buckets/uploads/objects/gone/x.txt', { method: 'DELETE' });
    expect(del.status).toBe(204);
    const read = await api('/buckets/uploads/objects/gone/x.txt');
    expect(read.status).toBe(404);
  });
}
