import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildHandlers } from '../../local/handlers';
import { objectPath, putThroughApi } from './support/api';
import { startLocalService, type LocalService } from '../../local/service';
import { base32Decode, totp } from '../../local/cognito/totp';
import { consolePerson, signInConsole } from './support/console-sign-in';
import { launchChromium, screenshot, signedInPage } from './support/console';
import { CHROMIUM, describeWith } from './support/optional-tools';

/**
 * The web console (web/), in a real browser against local mode as `npm start` runs it: the page,
 * its sign-in (a password, and the steps after it, checked against the local user pool; then the
 * authorization code + PKCE through the gateway's /oauth2 endpoints), browsing,
 * preview, rows, the profile, download and delete. Each screen is saved under
 * test-artifacts/console/ (gitignored). Needs Debian's chromium-headless-shell (.ci/run installs it).
 */
jest.setTimeout(120_000);

const XSS_KEY = 'web/<img src=x onerror=alert(1)>.csv';

describeWith(CHROMIUM, 'the web console (headless Chromium, local mode)', () => {
  let dir: string;
  let service: LocalService;
  let browser: Browser;
  /** Profiles of keys containing "gated" wait for this, so "processing…" can be seen for sure. */
  let openGate: () => void;
  const gate = new Promise<void>((resolve) => (openGate = resolve));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3fs-console-'));
    service = await startLocalService({
      dataDir: dir,
      port: 0,
      s3Port: 0,
      reconcile: false,
      buildHandlers: (deps) => {
        const real = buildHandlers(deps);
        return {
          ...real,
          process: async (event) => {
            if (JSON.stringify(event).includes('gated')) await gate;
            return real.process(event);
          },
        };
      },
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    openGate?.();
    await browser?.close();
    await service?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Each test's person: a user of the local pool, made on first use. */
  const person = (name: string) => consolePerson(service, name);
  /** A token for the person, as `npm run token` mints it (the API's view of them is their sub). */
  const tokenOf = (name: string) => service.token(person(name).sub);

  /** Uploads through the API, as any client does (presigned PUT). */
  const upload = (user: string, key: string, body: string, contentType = 'text/csv') => putThroughApi(service.apiUrl, tokenOf(user), key, body, contentType);

  async function exists(user: string, key: string): Promise<number> {
    return (await fetch(`${service.apiUrl}${objectPath('uploads', key)}`, { method: 'HEAD', headers: { authorization: `Bearer ${tokenOf(user)}` } })).status;
  }

  /** A fresh tab signed in through the sign-in page, as a person does. */
  const signedIn = (user: string, setup?: (context: BrowserContext, page: Page) => Promise<void>) => signedInPage(browser, service.consoleUrl, person(user), setup);
  const shot = screenshot;

  it('is served at / with a Content-Security-Policy that forbids inline script', async () => {
    const res = await fetch(service.consoleUrl);
    const csp = res.headers.get('content-security-policy') ?? '';

    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<script type="module" src="/console.js"></script>');
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('signs in with a code and PKCE, keeps no code or token in the address bar, and lists the buckets', async () => {
    const tokenRequests: string[] = [];
    const page = await signedIn('console-alice', async (_context, p) => {
      p.on('request', (r) => {
        if (r.url().endsWith('/oauth2/token')) tokenRequests.push(r.postData() ?? '');
      });
    });
    await page.getByRole('link', { name: 'uploads', exact: true }).waitFor();
    await shot(page, '01-buckets');

    const stored = await page.evaluate(() => JSON.parse(sessionStorage.getItem('s3fs.session') ?? 'null') as { idToken: string; refreshToken: string } | null);
    expect(new URL(page.url()).search).toBe('');
    expect(page.url()).not.toContain(stored!.idToken);
    expect(tokenRequests).toHaveLength(1);
    expect(new URLSearchParams(tokenRequests[0]).get('grant_type')).toBe('authorization_code');
    expect(new URLSearchParams(tokenRequests[0]).get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await page.context().close();
  });

  it('signs in a user with a temporary password and TOTP through the three steps of the page', async () => {
    const { user, sub, temporaryPassword } = (() => {
      const added = service.cognito.users.addUser('console-tess', Date.now());
      return { user: added.user.username, sub: added.user.sub, temporaryPassword: added.temporaryPassword };
    })();
    const secret = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
    service.cognito.users.updateUser(sub, (u) => {
      u.totp = { secret, verified: true };
    });
    const page = await browser.newPage();
    await page.goto(service.consoleUrl);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Password', { exact: true }).waitFor();
    await shot(page, '00-sign-in');

    await signInConsole(page, { user, password: temporaryPassword, newPassword: 'Tess-new-pass-42!', totp: totp(base32Decode(secret), Date.now()) });

    await expect(page.getByTestId('user').textContent()).resolves.toBe(sub);
    expect(service.cognito.users.findBySub(sub)!.status).toBe('CONFIRMED');
    await page.context().close();
  });

  it('refreshes the ID token a minute before it expires, without a reload', async () => {
    const page = await signedIn('console-refresh', async (_context, p) => {
      await p.clock.install();
    });
    // Compared by expiry: a token minted in the same second as the first one is the same bytes.
    const before = await page.evaluate(() => JSON.parse(sessionStorage.getItem('s3fs.session')!).expiresAt as number);
    const refreshed = page.waitForRequest((r) => r.url().endsWith('/oauth2/token') && (r.postData() ?? '').includes('grant_type=refresh_token'));

    await page.clock.fastForward('59:30');
    const answer = await (await refreshed).response();
    await page.waitForFunction((old) => JSON.parse(sessionStorage.getItem('s3fs.session')!).expiresAt > old, before);

    expect(answer!.status()).toBe(200);
    await page.goto(`${service.consoleUrl}#/b/uploads/`);
    await page.getByTestId('count').waitFor();
    await page.context().close();
  });

  it('signs out: the tokens are gone from the tab and the refresh token is revoked', async () => {
    const page = await signedIn('console-bob');
    const refreshToken = await page.evaluate(() => JSON.parse(sessionStorage.getItem('s3fs.session')!).refreshToken as string);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await shot(page, '02-signed-out');

    expect(await page.evaluate(() => sessionStorage.getItem('s3fs.session'))).toBeNull();
    const reuse = await fetch(`${service.apiUrl}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: 'local-console', refresh_token: refreshToken }).toString(),
    });
    expect(reuse.status).toBe(400);
    await page.context().close();
  });

  it('renders a key and contents that look like HTML as text', async () => {
    const user = 'console-xss';
    await upload(user, XSS_KEY, 'name\n<script>alert(2)</script>\n');
    await upload(user, 'web/page.txt', '<b>bold</b> <img src=x onerror=alert(3)>', 'text/plain');
    const page = await signedIn(user);

    await page.goto(`${service.consoleUrl}#/b/uploads/web/`);
    await page.getByText('<img src=x onerror=alert(1)>.csv', { exact: true }).waitFor();
    expect(await page.locator('main img').count()).toBe(0);
    await shot(page, '05-xss-key');
    await page.getByText('page.txt').click();
    await expect(page.getByTestId('preview').textContent()).resolves.toBe('<b>bold</b> <img src=x onerror=alert(3)>');
    expect(await page.locator('main b, main img').count()).toBe(0);
    await shot(page, '06-preview');
    await page.context().close();
  });

  it('opens a CSV: rows with paging and column picking, then the profile appears once processed, one SVG bar per bin', async () => {
    const user = 'console-csv';
    const lines = ['city,price,when'];
    for (let i = 0; i < 120; i++) lines.push(`${['Paris', 'Lyon', 'Nice'][i % 3]},${(i * 7) % 100},2024-01-${String((i % 28) + 1).padStart(2, '0')}`);
    await upload(user, 'data/gated-sales.csv', lines.join('\n') + '\n');
    const page = await signedIn(user);

    await page.goto(`${service.consoleUrl}#/rows/uploads/data/gated-sales.csv`);
    await page.getByRole('cell', { name: 'Paris' }).first().waitFor();
    await expect(page.getByTestId('row-range').textContent()).resolves.toBe('Rows 1–50');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByTestId('row-range').filter({ hasText: 'Rows 51–100' }).waitFor();
    await page.getByLabel('when').uncheck();
    await page.locator('table.rows th', { hasText: 'when' }).waitFor({ state: 'detached' });
    expect(await page.locator('table.rows th').allTextContents()).toEqual(['#', 'city', 'price']);
    await shot(page, '07-rows');

    await page.getByRole('link', { name: 'Profile' }).click();
    await page.getByRole('status').filter({ hasText: 'Processing…' }).waitFor();
    await shot(page, '08-processing');
    openGate();
    await page.getByTestId('profile').waitFor({ timeout: 60_000 });

    const profile = (await (await fetch(`${service.apiUrl}/buckets/results/objects/data/gated-sales.csv.profile.json`, { headers: { authorization: `Bearer ${tokenOf(user)}` } })).json()) as {
      columns: { name: string; histogram?: { bins: number[] } }[];
    };
    const bins = profile.columns.find((c) => c.name === 'price')!.histogram!.bins.length;
    expect(await page.locator('[data-column="price"] svg.histogram rect.bin').count()).toBe(bins);
    expect(await page.locator('[data-column="city"] svg.top rect.bar').count()).toBe(3);
    await shot(page, '09-profile');
    await page.context().close();
  });

  it('downloads through the JSON URL, and deletes only after confirmation', async () => {
    const user = 'console-del';
    await upload(user, 'docs/note.txt', 'hello console\n', 'text/plain');
    const page = await signedIn(user);
    await page.goto(`${service.consoleUrl}#/file/uploads/docs/note.txt`);
    await page.getByTestId('meta').waitFor();

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download' }).click()]);
    expect(download.suggestedFilename()).toBe('note.txt');
    const path = await download.path();
    expect((await import('node:fs')).readFileSync(path, 'utf8')).toBe('hello console\n');

    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('alertdialog').waitFor();
    await shot(page, '10-confirm-delete');
    await page.getByRole('button', { name: 'Cancel' }).click();
    expect(await exists(user, 'docs/note.txt')).toBe(200);

    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Delete for good' }).click();
    await page.getByTestId('count').waitFor();
    expect(await exists(user, 'docs/note.txt')).toBe(404);
    await page.context().close();
  });

  it('browses a folder of 1,000 objects page by page, with breadcrumbs and a prefix filter', async () => {
    const user = 'console-many';
    const keys = Array.from({ length: 1000 }, (_v, i) => `many/item-${String(i).padStart(4, '0')}.txt`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((key) => service.s3.send(new PutObjectCommand({ Bucket: service.buckets.uploads, Key: `users/${person(user).sub}/${key}`, Body: 'x' }))));
    }
    await service.s3.send(new PutObjectCommand({ Bucket: service.buckets.uploads, Key: `users/${person(user).sub}/many/sub/inner.txt`, Body: 'y' }));
    const page = await signedIn(user);

    await page.goto(`${service.consoleUrl}#/b/uploads/many/`);
    await page.getByText('item-0499.txt').waitFor();
    expect(await page.getByText('item-0500.txt').count()).toBe(0);
    await expect(page.getByTestId('count').textContent()).resolves.toContain('so far');
    let pages = 1;
    const more = page.getByRole('button', { name: 'Load more' });
    while (!(await page.getByTestId('count').filter({ hasText: /^1,001 items$/ }).count())) {
      await more.click();
      pages++;
      await page.getByTestId('count').filter({ hasText: new RegExp(`^(${(pages * 500).toLocaleString('en-US')} items so far|1,001 items)$`) }).waitFor();
    }
    expect(pages).toBe(3); // 500 + 500 objects, then the folder (prefixes page in key order too)
    expect(await more.count()).toBe(0);
    await page.getByText('item-0999.txt').waitFor();
    await shot(page, '03-folder-1000', false);

    await page.getByRole('link', { name: 'sub/' }).click();
    await page.getByText('inner.txt').waitFor();
    await page.getByRole('navigation', { name: 'Breadcrumbs' }).getByRole('link', { name: 'many' }).click();
    await page.getByText('item-0000.txt').waitFor();

    await page.getByLabel('Filter by name prefix').fill('item-09');
    await page.getByTestId('count').filter({ hasText: /^100 items$/ }).waitFor();
    await shot(page, '04-filtered');
    await page.context().close();
  });
});
