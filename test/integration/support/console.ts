/**
 * What the console's browser suites share: one local service as `npm start` runs it, Debian's
 * Chromium, a tab signed in as a person does it (through console-sign-in.ts's signInConsole), and screenshots saved as test
 * artifacts under test-artifacts/console/ (gitignored).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { signInConsole, type ConsoleUser } from './console-sign-in';
import { CHROMIUM_PATH } from './optional-tools';

export const ARTIFACTS = join(__dirname, '..', '..', '..', 'test-artifacts', 'console');

export async function launchChromium(): Promise<Browser> {
  await mkdir(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/**
 * A fresh tab signed in as `user` through the sign-in page (signInConsole, the one sign-in of the
 * browser suites); `setup` runs before the first navigation (routes, clocks).
 */
export async function signedInPage(browser: Browser, consoleUrl: string, user: ConsoleUser, setup?: (context: BrowserContext, page: Page) => Promise<void>): Promise<Page> {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  page.on('dialog', (d) => {
    throw new Error(`unexpected dialog: ${d.message()}`);
  });
  await setup?.(context, page);
  await page.goto(consoleUrl);
  await signInConsole(page, user);
  await page.getByTestId('user').filter({ hasText: user.sub }).waitFor();
  return page;
}

export const screenshot = (page: Page, name: string, fullPage = true) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage });
