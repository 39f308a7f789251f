import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateKey, verifyIdToken } from '../../local/auth';
import { base32Decode, base32Encode, totp } from '../../local/cognito/totp';
import { s256Challenge } from '../../local/oauth';
import { startLocalService, type LocalService } from '../../local/service';

/**
 * The console's sign-in page over HTTP (the gateway's /oauth2/authorize, as a browser posts its
 * forms), checked against the local user pool that `s3files login` signs in to: the password
 * against the stored SRP verifier, the new-password step of a temporary password, the TOTP code
 * step, the lock-out, and the code then traded for a token the API takes. The pool's clock is
 * the test's (TOTP steps, lock-out), moved by whole steps.
 */
jest.setTimeout(60_000);

const STEP = 30_000;
let clock = Date.UTC(2030, 0, 1, 12, 0, 0);
let dir: string;
let service: LocalService;
const verifier = randomBytes(32).toString('base64url');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3fs-console-sign-in-'));
  service = await startLocalService({ dataDir: dir, port: 0, s3Port: 0, reconcile: false, cognitoClock: () => clock });
});

afterAll(async () => {
  await service?.stop();
  await rm(dir, { recursive: true, force: true });
});

const authorizeRequest = () => ({
  client_id: 'local-console',
  redirect_uri: service.consoleUrl,
  response_type: 'code',
  state: 'st-1',
  code_challenge: s256Challenge(verifier),
  code_challenge_method: 'S256',
});

interface Answer {
  status: number;
  body: string;
  /** The redirect, when the sign-in is done. */
  location: string | null;
  /** The message the form shows, if any. */
  problem: string | undefined;
  /** The next form's session, if there is a next form. */
  session: string | undefined;
}

/** Posts one sign-in form as the browser does. */
async function post(fields: Record<string, string>): Promise<Answer> {
  const res = await fetch(`${service.apiUrl}/oauth2/authorize`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...authorizeRequest(), ...fields }).toString(),
    redirect: 'manual',
  });
  const body = await res.text();
  return {
    status: res.status,
    body,
    location: res.headers.get('location'),
    problem: /<p class="error" role="alert">([^<]*)<\/p>/.exec(body)?.[1],
    session: /name="session" value="([^"]+)"/.exec(body)?.[1],
  };
}

/** Trades the code of a finished sign-in for tokens at /oauth2/token. */
async function tokensFor(location: string): Promise<{ id_token: string }> {
  const code = new URL(location).searchParams.get('code')!;
  const res = await fetch(`${service.apiUrl}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'local-console', code, redirect_uri: service.consoleUrl, code_verifier: verifier }).toString(),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { id_token: string };
}

/** A user who has chosen their password; with TOTP set up when a secret is given. */
function confirmedUser(name: string, password: string, totpSecret?: string): string {
  const { user } = service.cognito.users.addUser(name, clock);
  service.cognito.users.setPassword(user.sub, password);
  if (totpSecret) service.cognito.users.updateUser(user.sub, (u) => (u.totp = { secret: totpSecret, verified: true }));
  return user.sub;
}

describe('the console sign-in page, against the local user pool', () => {
  it('signs a user in with the right password; the token is the local one, for their sub, and the API takes it', async () => {
    const sub = confirmedUser('page-ann', 'Ann-password-123!');

    const answer = await post({ username: 'Page-Ann', password: 'Ann-password-123!' });

    expect(answer.status).toBe(302);
    expect(new URL(answer.location!).searchParams.get('state')).toBe('st-1');
    const { id_token } = await tokensFor(answer.location!);
    expect(verifyIdToken(loadOrCreateKey(join(dir, 'jwt-key')), id_token)).toMatchObject({ sub, token_use: 'id' });
    const list = await fetch(`${service.apiUrl}/buckets`, { headers: { authorization: `Bearer ${id_token}` } });
    expect(list.status).toBe(200);
  });

  it('refuses a wrong password with the form again and a message, and an unknown user in the same words', async () => {
    confirmedUser('page-ben', 'Ben-password-123!');

    const wrong = await post({ username: 'page-ben', password: 'Ben-password-124!' });
    const unknown = await post({ username: 'page-nobody', password: 'Ben-password-124!' });

    expect(wrong).toMatchObject({ status: 400, location: null, problem: 'Incorrect username or password.' });
    expect(unknown).toMatchObject({ status: wrong.status, location: null, problem: wrong.problem });
    expect(wrong.body.replace('page-ben', 'NAME')).toBe(unknown.body.replace('page-nobody', 'NAME'));
  });

  it('asks a user with a temporary password for a new one that meets the policy, then signs them in with it only', async () => {
    const { user, temporaryPassword } = service.cognito.users.addUser('page-cy', clock);

    const first = await post({ username: 'page-cy', password: temporaryPassword });
    const weak = await post({ session: first.session!, new_password: 'short', confirm_password: 'short' });
    const done = await post({ session: first.session!, new_password: 'Cy-new-password-1!', confirm_password: 'Cy-new-password-1!' });
    const oldAgain = await post({ username: 'page-cy', password: temporaryPassword });
    const newAgain = await post({ username: 'page-cy', password: 'Cy-new-password-1!' });

    expect(first).toMatchObject({ status: 200, location: null });
    expect(first.body).toContain('name="new_password"');
    expect(weak).toMatchObject({ status: 400, problem: 'Password does not conform to policy: Password not long enough (at least 12 characters)' });
    expect(done.status).toBe(302);
    expect(verifyIdToken(loadOrCreateKey(join(dir, 'jwt-key')), (await tokensFor(done.location!)).id_token).sub).toBe(user.sub);
    expect(service.cognito.users.findBySub(user.sub)!.status).toBe('CONFIRMED');
    expect(oldAgain.problem).toBe('Incorrect username or password.');
    expect(newAgain.status).toBe(302);
  });

  it('asks a user with TOTP for a code after the password, refuses a wrong one, and takes the right one once', async () => {
    const secret = base32Encode(randomBytes(20));
    confirmedUser('page-dee', 'Dee-password-123!', secret);
    clock += STEP;

    const first = await post({ username: 'page-dee', password: 'Dee-password-123!' });
    const wrongCode = String((Number(totp(base32Decode(secret), clock)) + 1) % 1_000_000).padStart(6, '0');
    const wrong = await post({ session: first.session!, totp_code: wrongCode });
    const right = await post({ session: first.session!, totp_code: totp(base32Decode(secret), clock) });
    const second = await post({ username: 'page-dee', password: 'Dee-password-123!' });
    const replayed = await post({ session: second.session!, totp_code: totp(base32Decode(secret), clock) });

    expect(first).toMatchObject({ status: 200, location: null });
    expect(first.body).toContain('name="totp_code"');
    expect(wrong).toMatchObject({ status: 400, location: null, problem: 'Invalid code received for user', session: first.session });
    expect(right.status).toBe(302);
    expect(replayed).toMatchObject({ status: 400, location: null, problem: 'Invalid code received for user' });
  });

  it('refuses a step form whose session is made up', async () => {
    const answer = await post({ session: 'x'.repeat(43), totp_code: '123456' });

    expect(answer).toMatchObject({ status: 400, location: null });
    expect(answer.problem).toContain('sign in again');
  });

  it('locks a user out after five wrong passwords, the right one included, for a second that doubles; an unknown name alike', async () => {
    confirmedUser('page-eve', 'Eve-password-123!');
    for (let i = 0; i < 5; i++) await post({ username: 'page-eve', password: 'wrong' });
    for (let i = 0; i < 5; i++) await post({ username: 'page-nobody-2', password: 'wrong' });

    const locked = await post({ username: 'page-eve', password: 'Eve-password-123!' });
    const lockedUnknown = await post({ username: 'page-nobody-2', password: 'wrong' });
    clock += 1000;
    const sixth = await post({ username: 'page-eve', password: 'wrong' });
    clock += 1000;
    const stillLocked = await post({ username: 'page-eve', password: 'Eve-password-123!' });
    clock += 1000;
    const after = await post({ username: 'page-eve', password: 'Eve-password-123!' });

    expect(locked).toMatchObject({ status: 400, location: null, problem: 'Password attempts exceeded' });
    expect(lockedUnknown.problem).toBe('Password attempts exceeded');
    expect(sixth.problem).toBe('Incorrect username or password.');
    expect(stillLocked.problem).toBe('Password attempts exceeded');
    expect(after.status).toBe(302);
  });
});
