import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ObjectUrl } from '../../lambda/shared/api-types';
import { objectPath as objectPathIn, putThroughApi } from './support/api';
import { startLocalService, type LocalService } from '../../local/service';

/**
 * The read route end to end through the local gateway, which refuses what Lambda refuses: answers
 * that JSON escaping takes over the 6 MB response limit are a 413 or a redirect, never a 502; and
 * the presigned URL as JSON for clients that cannot follow a redirect; active content (HTML, SVG)
 * served so that no browser renders it.
 */
jest.setTimeout(60_000);

const MiB = 1024 * 1024;
let dir: string;
let service: LocalService;
let token: string;
let gatewayErrors: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3fs-read-limits-'));
  // INLINE_MAX_BYTES at its highest, where JSON escaping can take inline text over Lambda's limit.
  service = await startLocalService({ dataDir: dir, port: 0, s3Port: 0, reconcile: false, env: { INLINE_MAX_BYTES: String(5 * MiB) } });
  token = service.token(`reader-${randomUUID().slice(0, 8)}`);
});
afterAll(async () => {
  await service?.stop();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  gatewayErrors = [];
  jest.spyOn(console, 'error').mockImplementation((line: unknown) => void gatewayErrors.push(String(line)));
});
afterEach(() => {
  jest.restoreAllMocks();
});

const objectPath = (key: string) => objectPathIn('uploads', key);
const api = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${service.apiUrl}${path}`, { headers: { authorization: `Bearer ${token}`, ...headers }, redirect: 'manual' });

const upload = (key: string, body: Buffer, contentType: string) => putThroughApi(service.apiUrl, token, key, body, contentType);

describe('rows over the response limit', () => {
  // 1,000 rows of 1,700 quotes: 3.4 MB of rows JSON (the old 5 MiB check let it through), 6.8 MB
  // once the proxy response escapes it again.
  const csv = Buffer.from(['quote', ...Array.from({ length: 1000 }, () => `"${'""'.repeat(1_700)}"`)].join('\n') + '\n');
  // One row of four fields of 500,000 quotes: 8 MB once escaped twice, too big for any page.
  const wide = Buffer.from(`a,b,c,d\n${Array.from({ length: 4 }, () => `"${'""'.repeat(500_000)}"`).join(',')}\n`);

  beforeAll(async () => {
    await upload('limits/quotes.csv', csv, 'text/csv');
    await upload('limits/one-big-row.csv', wide, 'text/csv');
  });

  it('answers the rows that fit, with the cursor to continue and the reason, never 502', async () => {
    const res = await api(`${objectPath('limits/quotes.csv')}?rows=0:1000`);

    expect(res.status).toBe(200);
    const text = await res.text();
    const page = JSON.parse(text) as { columns: string[]; rows: string[][]; nextOffset: number; truncated: { reason: string } };
    expect(page.truncated).toEqual({ reason: 'response-size' });
    expect(page.rows.length).toBeGreaterThan(500);
    expect(page.rows.length).toBeLessThan(1000);
    expect(page.nextOffset).toBe(page.rows.length);
    expect(page.rows[0]).toEqual(['"'.repeat(1_700)]);
    expect(Buffer.byteLength(JSON.stringify(text))).toBeLessThan(6 * MiB);
    expect(gatewayErrors).toEqual([]);
  });

  it('reads the rest from nextOffset', async () => {
    const first = (await (await api(`${objectPath('limits/quotes.csv')}?rows=0:1000`)).json()) as { nextOffset: number };

    const res = await api(`${objectPath('limits/quotes.csv')}?rows=${first.nextOffset}:1000`);

    expect(res.status).toBe(200);
    const page = (await res.json()) as { rows: string[][]; nextOffset: number | null };
    expect(page.rows.length).toBe(1000 - first.nextOffset);
    expect(page.nextOffset).toBeNull();
  });

  it('answers 413 ResponseTooLarge naming the limit for a row too big for any page', async () => {
    const res = await api(`${objectPath('limits/one-big-row.csv')}?rows=0:1`);

    expect(res.status).toBe(413);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('ResponseTooLarge');
    expect(body.error.message).toMatch(/limit of \d+ bytes/);
    expect(gatewayErrors).toEqual([]);
  });
});

describe('inline text over the response limit', () => {
  const text = Buffer.from('\u0001'.repeat(1.2 * MiB)); // 1.2 MiB raw, 7.2 MiB once escaped

  beforeAll(async () => {
    await upload('limits/control.txt', text, 'text/plain');
  });

  it('redirects to S3, which serves the bytes', async () => {
    const res = await api(objectPath('limits/control.txt'));

    expect(res.status).toBe(307);
    const target = await fetch(res.headers.get('location')!);
    expect(target.status).toBe(200);
    expect(Buffer.from(await target.arrayBuffer()).equals(text)).toBe(true);
    expect(gatewayErrors).toEqual([]);
  });

  it('answers the URL as JSON with Accept: application/json', async () => {
    const res = await api(objectPath('limits/control.txt'), { accept: 'application/json' });

    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ size: text.length, contentType: 'text/plain' });
  });
});

describe('the presigned URL as JSON', () => {
  const bytes = Buffer.from([0, 1, 2, 254, 255, 137, 80, 78, 71]);

  beforeAll(async () => {
    await upload('json-url/pic one.bin', bytes, 'application/octet-stream');
  });

  it('answers {url, expiresAt, size, contentType, etag}; the URL serves the bytes without the bearer token', async () => {
    const before = Date.now();

    const res = await api(objectPath('json-url/pic one.bin'), { accept: 'application/json' });

    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as ObjectUrl;
    expect(body).toEqual({
      url: expect.stringContaining(service.s3Endpoint),
      expiresAt: expect.any(String),
      size: bytes.length,
      contentType: 'application/octet-stream',
      etag: expect.stringMatching(/^"[0-9a-f]{32}"$/),
    });
    expect(Date.parse(body.expiresAt)).toBeGreaterThan(before);
    const target = await fetch(body.url);
    expect(target.status).toBe(200);
    expect(Buffer.from(await target.arrayBuffer()).equals(bytes)).toBe(true);
    expect(target.headers.get('etag')).toBe(body.etag);
  });

  it('carries the attachment disposition with download=1', async () => {
    const res = await api(`${objectPath('json-url/pic one.bin')}?download=1`, { accept: 'application/json' });

    expect(res.status).toBe(200);
    const target = await fetch(((await res.json()) as ObjectUrl).url);
    expect(target.headers.get('content-disposition')).toBe("attachment; filename*=UTF-8''pic%20one.bin");
    await target.body?.cancel();
  });

  it('still redirects for Accept: */*', async () => {
    const res = await api(objectPath('json-url/pic one.bin'), { accept: '*/*' });

    expect(res.status).toBe(307);
    expect(res.headers.get('location')).toContain(service.s3Endpoint);
  });
});

describe('active content', () => {
  const page = Buffer.from('<!doctype html><script>document.title = document.domain</script>');

  beforeAll(async () => {
    await upload('active/page one.html', page, 'text/html');
    await upload('active/logo.svg', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), 'image/svg+xml');
  });

  it('serves HTML inline from the API as plain text, nosniff, as an attachment', async () => {
    const res = await api(objectPath('active/page one.html'));

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-disposition')).toBe("attachment; filename*=UTF-8''page%20one.html");
    expect(Buffer.from(await res.arrayBuffer()).equals(page)).toBe(true);
  });

  it('has S3 serve an SVG behind the presigned URL as an octet-stream attachment', async () => {
    const res = await api(objectPath('active/logo.svg'));

    expect(res.status).toBe(307);
    const target = await fetch(res.headers.get('location')!);
    expect(target.status).toBe(200);
    expect(target.headers.get('content-type')).toBe('application/octet-stream');
    expect(target.headers.get('content-disposition')).toBe("attachment; filename*=UTF-8''logo.svg");
    await target.body?.cancel();
  });
});
