import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { Browser, Page, Request, Route } from 'playwright-core';
import { startLocalService, type LocalService } from '../../local/service';
import { launchChromium, screenshot, signedInPage } from './support/console';
import { consolePerson } from './support/console-sign-in';
import { CHROMIUM, describeWith } from './support/optional-tools';

/**
 * Uploads from the web console, in a real browser against local mode: a drop (a DataTransfer built
 * in the page), the file input, a reload part-way and the same file given again, and a folder drop
 * (a real drag of a directory, through the DevTools protocol). Every object is compared by sha256
 * with what was given, as the embedded S3 holds it. Screens go to test-artifacts/console/.
 */
jest.setTimeout(600_000);

const MiB = 1024 * 1024;

/** The part PUTs to S3 (presigned; the console's API calls go to the gateway). */
const partNumberOf = (r: Request): number | undefined => {
  if (r.method() !== 'PUT') return undefined;
  const n = new URL(r.url()).searchParams.get('partNumber');
  return n === null ? undefined : Number(n);
};

describeWith(CHROMIUM, 'console uploads (headless Chromium, local mode)', () => {
  let dir: string;
  let service: LocalService;
  let browser: Browser;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3fs-console-upload-'));
    // Multipart from 8 MiB (the default is 64 MiB) so the smaller files here go in parts too.
    service = await startLocalService({ dataDir: join(dir, 'data'), port: 0, s3Port: 0, reconcile: false, env: { MULTIPART_THRESHOLD_BYTES: String(8 * MiB) } });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await service?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Each test's person: a user of the local pool, made on first use. */
  const person = (name: string) => consolePerson(service, name);

  let open: Page | undefined;
  /** A signed-in tab, closed after the test even when it fails (an upload left running slows the next). */
  async function signedIn(user: string): Promise<Page> {
    open = await signedInPage(browser, service.consoleUrl, person(user));
    // Waits are for events, never timings; this only bounds them on a loaded machine.
    open.setDefaultTimeout(180_000);
    return open;
  }
  afterEach(async () => {
    await open?.context().close();
    open = undefined;
  });

  /** sha256 of the object as the embedded S3 holds it. */
  async function storedSha256(user: string, key: string): Promise<string> {
    const res = await service.s3.send(new GetObjectCommand({ Bucket: service.buckets.uploads, Key: `users/${person(user).sub}/${key}` }));
    return createHash('sha256')
      .update(await res.Body!.transformToByteArray())
      .digest('hex');
  }

  async function fileOnDisk(name: string, size: number): Promise<{ path: string; sha256: string }> {
    const path = join(dir, name);
    const bytes = randomBytes(size);
    await writeFile(path, bytes);
    return { path, sha256: createHash('sha256').update(bytes).digest('hex') };
  }

  const uploadRow = (page: Page, key: string) => page.locator(`li.upload[data-key="${key}"]`);

  it('uploads a 70 MiB file dropped on the folder (a DataTransfer built in the page), in parts, byte for byte', async () => {
    const user = 'upload-drop';
    const page = await signedIn(user);
    await page.goto(`${service.consoleUrl}#/b/uploads/dropped/`);
    await page.getByTestId('dropzone').waitFor();
    const parts = new Set<number>();
    page.on('request', (r) => {
      const n = partNumberOf(r);
      if (n !== undefined) parts.add(n);
    });

    const given = await page.evaluate(async (size) => {
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i += 65_536) crypto.getRandomValues(bytes.subarray(i, i + 65_536));
      const file = new File([bytes], 'big.bin', { type: 'application/octet-stream' });
      const data = new DataTransfer();
      data.items.add(file);
      document.querySelector('[data-testid="dropzone"]')!.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
      return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
    }, 70 * MiB);
    await uploadRow(page, 'dropped/big.bin').and(page.locator('[data-state="uploading"]')).waitFor();
    await screenshot(page, '11-upload-progress');
    await uploadRow(page, 'dropped/big.bin').and(page.locator('[data-state="done"]')).waitFor();
    await page.getByRole('link', { name: 'big.bin' }).waitFor();
    await screenshot(page, '12-upload-done');

    expect(await storedSha256(user, 'dropped/big.bin')).toBe(given);
    expect(parts.size).toBe(9); // 70 MiB in the server's 8 MiB parts
    // Sent with a CRC32 per part and the whole object's at complete, which S3 checked against the bytes.
    const head = await service.s3.send(new HeadObjectCommand({ Bucket: service.buckets.uploads, Key: `users/${person(user).sub}/dropped/big.bin`, ChecksumMode: 'ENABLED' }));
    expect({ crc32: typeof head.ChecksumCRC32, type: head.ChecksumType }).toEqual({ crc32: 'string', type: 'FULL_OBJECT' });
  });

  it('uploads a file given to the file input', async () => {
    const user = 'upload-input';
    const file = await fileOnDisk('picked.csv', 12 * MiB + 7);
    const page = await signedIn(user);
    await page.goto(`${service.consoleUrl}#/b/uploads/`);
    const parts = new Set<number>();
    page.on('request', (r) => {
      const n = partNumberOf(r);
      if (n !== undefined) parts.add(n);
    });

    await page.getByLabel('Choose files').setInputFiles(file.path);
    await uploadRow(page, 'picked.csv').and(page.locator('[data-state="done"]')).waitFor();

    expect(await storedSha256(user, 'picked.csv')).toBe(file.sha256);
    expect([...parts].sort()).toEqual([1, 2]);
  });

  it('after a reload part-way, the same file given again continues from the parts S3 has', async () => {
    const user = 'upload-resume';
    const file = await fileOnDisk('resume.bin', 24 * MiB + 3); // parts of 8, 8, 8 MiB and 3 bytes
    const page = await signedIn(user);
    await page.goto(`${service.consoleUrl}#/b/uploads/`);
    // Parts 1 and 2 go through; the others are held in the browser until the reload drops them
    // (not released: a released small last part could land before the reload).
    const held: Route[] = [];
    let holding = true;
    await page.route(
      (url) => url.searchParams.has('partNumber'),
      async (route) => {
        const n = partNumberOf(route.request());
        if (holding && n !== undefined && n > 2) held.push(route);
        else await route.continue();
      },
    );
    const firstTwo = Promise.all([1, 2].map((n) => page.waitForResponse((r) => partNumberOf(r.request()) === n && r.ok())));

    await page.getByLabel('Choose files').setInputFiles(file.path);
    await firstTwo;
    await screenshot(page, '13-upload-before-reload');
    await page.reload();
    holding = false;
    await page.getByTestId('dropzone').waitFor();
    const sentAfterReload: number[] = [];
    page.on('request', (r) => {
      const n = partNumberOf(r);
      if (n !== undefined) sentAfterReload.push(n);
    });
    await page.getByLabel('Choose files').setInputFiles(file.path);
    await uploadRow(page, 'resume.bin').and(page.locator('[data-state="done"]')).waitFor();
    await screenshot(page, '14-upload-resumed');

    expect(held.length).toBeGreaterThan(0);
    await expect(uploadRow(page, 'resume.bin').textContent()).resolves.toContain('resumed');
    expect(sentAfterReload.sort((a, b) => a - b)).toEqual([3, 4]);
    expect(await storedSha256(user, 'resume.bin')).toBe(file.sha256);
    expect(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('s3fs.upload:')))).toEqual([]);
  });

  it('retries a failed file: only the part S3 refused is sent again', async () => {
    const user = 'upload-retry';
    const file = await fileOnDisk('retry.bin', 16 * MiB + 1); // parts of 8, 8 MiB and 1 byte
    const page = await signedIn(user);
    await page.goto(`${service.consoleUrl}#/b/uploads/`);
    let refused = 0;
    // S3 refuses part 2 once with a 400, which no retry with backoff can mend: the file fails.
    await page.route(
      (url) => url.searchParams.get('partNumber') === '2',
      async (route) => {
        if (route.request().method() !== 'PUT' || refused++ > 0) return route.continue();
        const origin = new URL(service.consoleUrl).origin;
        return route.fulfill({ status: 400, headers: { 'access-control-allow-origin': origin, 'content-type': 'application/xml' }, body: '<Error><Code>BadDigest</Code><Message>refused for the test</Message></Error>' });
      },
    );
    await page.getByLabel('Choose files').setInputFiles(file.path);
    await uploadRow(page, 'retry.bin').and(page.locator('[data-state="failed"]')).waitFor();
    await expect(uploadRow(page, 'retry.bin').textContent()).resolves.toContain('BadDigest');
    await screenshot(page, '16-upload-failed');
    const sentOnRetry: number[] = [];
    page.on('request', (r) => {
      const n = partNumberOf(r);
      if (n !== undefined) sentOnRetry.push(n);
    });

    await uploadRow(page, 'retry.bin').getByRole('button', { name: 'Retry' }).click();
    await uploadRow(page, 'retry.bin').and(page.locator('[data-state="done"]')).waitFor();

    expect(sentOnRetry).toEqual([2]);
    expect(await storedSha256(user, 'retry.bin')).toBe(file.sha256);
  });

  it('cancels an upload part-way: the multipart upload is aborted and no record is kept', async () => {
    const user = 'upload-cancel';
    const file = await fileOnDisk('cancel.bin', 24 * MiB + 3);
    const page = await signedIn(user);
    await page.goto(`${service.consoleUrl}#/b/uploads/`);
    // Part 1 goes through; the others are held, so the upload is surely under way when cancelled.
    await page.route(
      (url) => url.searchParams.has('partNumber'),
      async (route) => {
        const n = partNumberOf(route.request());
        if (n === undefined || n === 1) await route.continue();
      },
    );
    const first = page.waitForResponse((r) => partNumberOf(r.request()) === 1 && r.ok());
    await page.getByLabel('Choose files').setInputFiles(file.path);
    await first;
    const record = await page.evaluate(() => {
      const id = Object.keys(localStorage).find((k) => k.startsWith('s3fs.upload:'));
      return id ? (JSON.parse(localStorage.getItem(id)!) as { uploadId: string; key: string }) : null;
    });
    expect(record).toMatchObject({ key: 'cancel.bin' });

    const listParts = () =>
      fetch(`${service.apiUrl}/uploads/${encodeURIComponent(record!.uploadId)}?${new URLSearchParams({ key: 'cancel.bin' })}`, {
        headers: { authorization: `Bearer ${service.token(person(user).sub)}` },
      });
    expect((await listParts()).status).toBe(200); // the upload is there before the cancel

    await uploadRow(page, 'cancel.bin').getByRole('button', { name: 'Cancel' }).click();
    await uploadRow(page, 'cancel.bin').and(page.locator('[data-state="cancelled"]')).waitFor();
    await page.waitForFunction(() => !Object.keys(localStorage).some((k) => k.startsWith('s3fs.upload:')));

    expect((await listParts()).status).toBe(404);
  });

  it('uploads a dropped folder with its folder paths in the keys, under the current folder', async () => {
    const user = 'upload-folder';
    const root = join(dir, 'reports');
    await mkdir(join(root, '2024'), { recursive: true });
    const files = { 'reports/a.csv': 'x,y\n1,2\n', 'reports/2024/b <i>.txt': 'hello\n' };
    for (const [rel, body] of Object.entries(files)) await writeFile(join(dir, rel), body);
    const page = await signedIn(user);
    await page.goto(`${service.consoleUrl}#/b/uploads/in/`);
    const box = (await page.getByTestId('dropzone').boundingBox())!;

    // A real drag of a directory from outside the page, as the desktop gives it.
    const cdp = await page.context().newCDPSession(page);
    const at = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    const data = { items: [], files: [root], dragOperationsMask: 1 };
    for (const type of ['dragEnter', 'dragOver', 'drop'] as const) await cdp.send('Input.dispatchDragEvent', { type, ...at, data });
    for (const key of Object.keys(files)) await uploadRow(page, `in/${key}`).and(page.locator('[data-state="done"]')).waitFor();
    await page.getByRole('link', { name: 'reports/' }).waitFor();
    await screenshot(page, '15-folder-drop');

    for (const [rel, body] of Object.entries(files)) {
      expect(await storedSha256(user, `in/${rel}`)).toBe(createHash('sha256').update(body).digest('hex'));
    }
  });
});
