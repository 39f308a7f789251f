import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startLocalService, type LocalService } from '../../local/service';
import { CHROMIUM, CHROMIUM_PATH, describeWith } from './support/optional-tools';

/**
 * The browser path, in a real browser: a page on another origin (http://localhost:<port>, the API
 * is on 127.0.0.1) uses the API and the embedded S3 with fetch, as a web console would. CORS
 * preflights, presigned PUTs, part uploads whose ETag the page must read, the JSON URL of the
 * read route and a ranged GET all have to pass S3's signature and CORS checks. The page also runs
 * the real Uppy in its signRequest mode (uppy/browser-page.mjs, bundled here with esbuild), signing
 * through POST /uploads/sign with a bearer token, as a web app would.
 * Needs Debian's chromium-headless-shell (.ci/run installs it).
 */
jest.setTimeout(90_000);

describeWith(CHROMIUM, 'the browser path (headless Chromium, page on another origin)', () => {
  let dir: string;
  let service: LocalService;
  let site: Server;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3fs-browser-'));
    service = await startLocalService({ dataDir: dir, port: 0, s3Port: 0, reconcile: false, env: { MULTIPART_THRESHOLD_BYTES: String(5 * 1024 * 1024) } });
    const bundle = await build({
      entryPoints: [resolve(__dirname, 'uppy/browser-page.mjs')],
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'browser',
      target: 'es2022',
      logLevel: 'silent',
    });
    const script = bundle.outputFiles[0]!.text;
    site = createServer((req, res) => {
      if (req.url === '/uppy-page.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' });
        res.end(script);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>console</title><script src="/uppy-page.js"></script>');
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    page = await browser.newPage();
    await page.goto(`http://localhost:${(site.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => typeof (window as unknown as { uploadWithUppy?: unknown }).uploadWithUppy === 'function');
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => site?.close(resolve));
    await service?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const context = () => ({ api: service.apiUrl, token: service.token('browser-user') });

  it("calls the local user pool from the page, as a web app calls Cognito's endpoint: preflight, answer, error type", async () => {
    const answers = await page.evaluate(
      async ({ endpoint, clientId }) => {
        const call = async (srpA: string) => {
          const res = await fetch(endpoint, {
            method: 'POST',
            headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth', 'x-amz-user-agent': 'aws-sdk-js/3' },
            body: JSON.stringify({ AuthFlow: 'USER_SRP_AUTH', ClientId: clientId, AuthParameters: { USERNAME: 'browser-someone', SRP_A: srpA } }),
          });
          return { status: res.status, errorType: res.headers.get('x-amzn-ErrorType'), body: (await res.json()) as Record<string, unknown> };
        };
        return { challenge: await call('02'), refused: await call('00') };
      },
      { endpoint: service.cognito.endpoint, clientId: service.cognito.clientId },
    );

    expect(answers.challenge).toMatchObject({ status: 200, body: { ChallengeName: 'PASSWORD_VERIFIER' } });
    expect(answers.refused).toMatchObject({ status: 400, errorType: 'InvalidParameterException' });
  });

  it('uploads a small file with the presigned PUT and reads a range of it through the JSON URL', async () => {
    const result = await page.evaluate(async ({ api, token }) => {
      const auth = { authorization: `Bearer ${token}` };
      const body = 'city,price\nParis,10\n';
      const created = await (await fetch(`${api}/uploads`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ key: 'web/small.csv', contentType: 'text/csv', size: body.length }) })).json();
      const put = await fetch(created.url, { method: 'PUT', headers: created.headers, body });
      const located = await (await fetch(`${api}/buckets/uploads/objects/web/small.csv?download=1`, { headers: { ...auth, accept: 'application/json' } })).json();
      const ranged = await fetch(located.url, { headers: { range: 'bytes=0-3' } });
      return { put: put.status, etag: put.headers.get('etag'), ranged: ranged.status, text: await ranged.text(), size: located.size };
    }, context());

    expect(result).toEqual({ put: 200, etag: expect.stringMatching(/^"[0-9a-f]{32}"$/), ranged: 206, text: 'city', size: 20 });
  });

  it('uploads in parts, reading each part\'s ETag from S3 as a browser must, and completes', async () => {
    const result = await page.evaluate(async ({ api, token }) => {
      const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const size = 6 * 1024 * 1024 + 5;
      const data = new Uint8Array(size).map((_v, i) => i % 251);
      const session = await (await fetch(`${api}/uploads`, { method: 'POST', headers: auth, body: JSON.stringify({ key: 'web/big.bin', contentType: 'application/octet-stream', size }) })).json();
      const numbers = Array.from({ length: session.partCount }, (_v, i) => i + 1);
      const signed = await (await fetch(`${api}/uploads/${session.uploadId}/parts`, { method: 'POST', headers: auth, body: JSON.stringify({ key: session.key, partNumbers: numbers }) })).json();
      const parts = [];
      for (const { partNumber, url } of signed.parts) {
        const res = await fetch(url, { method: 'PUT', body: data.slice((partNumber - 1) * session.partSize, partNumber * session.partSize) });
        parts.push({ partNumber, etag: res.headers.get('etag') });
      }
      const done = await fetch(`${api}/uploads/${session.uploadId}/complete`, { method: 'POST', headers: auth, body: JSON.stringify({ key: session.key, parts }) });
      return { parts: parts.length, etags: parts.every((p) => /^"[0-9a-f]{32}"$/.test(p.etag ?? '')), completed: done.status, body: await done.json() };
    }, context());

    expect(result).toMatchObject({ etags: true, completed: 200, body: { key: 'web/big.bin', size: 6 * 1024 * 1024 + 5 } });
    expect(result.parts).toBeGreaterThan(0);
  });

  it('is refused by S3 when it sends a body of another type than the one signed', async () => {
    const status = await page.evaluate(async ({ api, token }) => {
      const created = await (await fetch(`${api}/uploads`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ key: 'web/typed.csv', contentType: 'text/csv', size: 3 }) })).json();
      return (await fetch(created.url, { method: 'PUT', headers: { 'content-type': 'text/plain' }, body: 'a,b' })).status;
    }, context());

    expect(status).toBe(403);
  });

  const storedBytes = async (key: string) => {
    const out = await service.s3.send(new GetObjectCommand({ Bucket: service.buckets.uploads, Key: key }));
    return { bytes: await out.Body!.transformToByteArray(), type: out.ContentType };
  };
  const expectedBytes = (size: number) => new Uint8Array(size).map((_v, i) => (i * 7) % 251);
  type UppyArgs = { apiUrl: string; token: string; key: string; size: number; type: string; multipart: boolean };
  type UppyResult = { successful: number; error: string | null; key: string | null; parts: number[] };
  const uppyInPage = (args: UppyArgs) =>
    page.evaluate((a) => (window as unknown as { uploadWithUppy: (x: UppyArgs) => Promise<UppyResult> }).uploadWithUppy(a), args);

  it('uploads with Uppy in signRequest mode in one signed PUT', async () => {
    const { api, token } = context();
    const result = await uppyInPage({ apiUrl: api, token, key: 'web/uppy.csv', size: 4000, type: 'text/csv', multipart: false });

    expect(result).toEqual({ successful: 1, error: null, key: 'users/browser-user/web/uppy.csv', parts: [] });
    const stored = await storedBytes('users/browser-user/web/uppy.csv');
    expect(stored.type).toBe('text/csv');
    expect(Buffer.from(stored.bytes).equals(Buffer.from(expectedBytes(4000)))).toBe(true);
  });

  it('uploads with Uppy in signRequest mode in parts, reading each ETag across origins', async () => {
    const { api, token } = context();
    const size = 8 * 1024 * 1024 + 77;
    const result = await uppyInPage({ apiUrl: api, token, key: 'web/uppy-big.bin', size, type: 'application/octet-stream', multipart: true });

    expect(result).toEqual({ successful: 1, error: null, key: 'users/browser-user/web/uppy-big.bin', parts: [1, 2] });
    const stored = await storedBytes('users/browser-user/web/uppy-big.bin');
    expect(Buffer.from(stored.bytes).equals(Buffer.from(expectedBytes(size)))).toBe(true);
  });

  it('fails the Uppy upload with 401 when the page has no token', async () => {
    const result = await uppyInPage({ apiUrl: context().api, token: '', key: 'web/anon.bin', size: 10, type: 'application/octet-stream', multipart: false });

    expect(result.successful).toBe(0);
    expect(result.error).toContain('401 Unauthorized');
  });
});
