/**
 * Signing in to the web console in a browser test, through its real sign-in page (local/oauth.ts
 * checked against the local user pool): one helper for every browser suite, so a change to the
 * page's steps is made here once. `addConsoleUser` makes a user as an administrator would (the
 * pool's own store), with a known password and, if asked, TOTP set up.
 */
import { randomBytes } from 'node:crypto';
import type { Locator, Page } from 'playwright-core';
import { base32Encode } from '../../../local/cognito/totp';
import type { LocalService } from '../../../local/service';

export interface ConsoleUser {
  /** The name typed on the sign-in page. */
  user: string;
  password: string;
  /** The user's id: the `sub` of their tokens and the folder `users/<sub>/` (`service.token(sub)` acts as them). */
  sub: string;
  /** Base32, when the user has TOTP: `totp(base32Decode(secret), now)` is a code. */
  totpSecret?: string;
}

/** A confirmed user of the local pool with a password that meets the policy, and TOTP if asked. */
export function addConsoleUser(service: Pick<LocalService, 'cognito'>, user: string, options: { totp?: boolean; now?: number } = {}): ConsoleUser {
  const { users } = service.cognito;
  const { user: stored } = users.addUser(user, options.now ?? Date.now());
  const password = `Pw-${randomBytes(9).toString('base64url')}-9a`;
  users.setPassword(stored.sub, password);
  if (!options.totp) return { user, password, sub: stored.sub };
  const totpSecret = base32Encode(randomBytes(20));
  users.updateUser(stored.sub, (u) => {
    u.totp = { secret: totpSecret, verified: true };
  });
  return { user, password, sub: stored.sub, totpSecret };
}

const people = new WeakMap<object, Map<string, ConsoleUser>>();

/** The service's user called `name`, added (addConsoleUser) the first time a suite asks for them. */
export function consolePerson(service: Pick<LocalService, 'cognito'>, name: string): ConsoleUser {
  let known = people.get(service);
  if (!known) people.set(service, (known = new Map()));
  if (!known.has(name)) known.set(name, addConsoleUser(service, name));
  return known.get(name)!;
}

/** Waits for what the last step should lead to; a refusal shown instead fails at once, with its words. */
async function next(page: Page, expected: Locator, step: string): Promise<void> {
  const alert = page.getByRole('alert');
  await expected.or(alert).first().waitFor();
  if (await alert.isVisible()) throw new Error(`Console sign-in refused at the ${step}: ${await alert.innerText()}`);
}

/**
 * Signs in from the console (signed out) or its sign-in page: user name and password, a new
 * password when the password was temporary, the TOTP code when the user has TOTP; then waits until
 * the console shows the signed-in user. `totp` is the code itself (the caller's clock decides it).
 * A refusal on the way throws with the page's message.
 */
export async function signInConsole(page: Page, credentials: { user: string; password: string; totp?: string; newPassword?: string }): Promise<void> {
  if (!new URL(page.url()).pathname.startsWith('/oauth2/authorize')) await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('User name').fill(credentials.user);
  await page.getByLabel('Password', { exact: true }).fill(credentials.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  if (credentials.newPassword !== undefined) {
    await next(page, page.getByLabel('New password', { exact: true }), 'password');
    await page.getByLabel('New password', { exact: true }).fill(credentials.newPassword);
    await page.getByLabel('Confirm new password').fill(credentials.newPassword);
    await page.getByRole('button', { name: 'Change password' }).click();
  }
  if (credentials.totp !== undefined) {
    const code = page.getByLabel('Code from your authenticator app');
    await next(page, code, credentials.newPassword === undefined ? 'password' : 'new password');
    await code.fill(credentials.totp);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  await next(page, page.getByTestId('user'), credentials.totp !== undefined ? 'code' : 'last step');
}
