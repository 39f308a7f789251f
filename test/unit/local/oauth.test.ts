import { createLocalOAuth, s256Challenge, SignInError, type LocalOAuth, type SignInChecks, type SignInStep } from '../../../local/oauth';

const CLIENT = 'local-console';
const REDIRECT = 'http://127.0.0.1:3000/';
// RFC 7636, appendix B.
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

/**
 * Sign-in checks as the user pool makes them, for three users: alice (password only), tess (a
 * temporary password, then a code) and mfa (a code, 123456). The pool's own checks are tested over
 * HTTP in test/integration/console-sign-in.test.ts.
 */
function fakePool(): SignInChecks {
  const refuse = (message: string) => Promise.reject(new SignInError(message));
  const users: Record<string, { password: string; first: SignInStep }> = {
    alice: { password: 'right', first: { kind: 'signedIn', sub: 'alice' } },
    tess: { password: 'temporary', first: { kind: 'newPasswordRequired', sub: 'tess' } },
    mfa: { password: 'right', first: { kind: 'totpRequired', sub: 'mfa' } },
  };
  return {
    password: async (username, password) => (users[username]?.password === password ? users[username].first : refuse('Incorrect username or password.')),
    newPassword: async (sub, password) => (password.length >= 12 ? { kind: 'totpRequired', sub } : refuse('Password does not conform to policy')),
    totp: async (sub, code) => (code === '123456' ? { kind: 'signedIn', sub } : refuse('Invalid code received for user')),
  };
}

function server(overrides: Partial<Parameters<typeof createLocalOAuth>[0]> = {}): LocalOAuth {
  return createLocalOAuth({ clientId: CLIENT, redirectUris: [REDIRECT], idTokenTtlSeconds: 3600, mintIdToken: (sub) => `token-for-${sub}`, signIn: fakePool(), ...overrides });
}

const authorizeForm = (extra: Record<string, string> = {}) =>
  new URLSearchParams({ client_id: CLIENT, redirect_uri: REDIRECT, response_type: 'code', state: 'st', code_challenge: CHALLENGE, code_challenge_method: 'S256', username: 'alice', password: 'right', ...extra }).toString();

async function codeFor(oauth: LocalOAuth, extra: Record<string, string> = {}): Promise<string> {
  const answer = await oauth.authorize({ method: 'POST', query: new URLSearchParams(), body: authorizeForm(extra) });
  expect(answer.statusCode).toBe(302);
  return new URL(String(answer.headers!.location)).searchParams.get('code')!;
}

const tokenRequest = (oauth: LocalOAuth, params: Record<string, string>) =>
  oauth.token({ method: 'POST', query: new URLSearchParams(), body: new URLSearchParams({ client_id: CLIENT, ...params }).toString() });

const exchange = (oauth: LocalOAuth, code: string, verifier = VERIFIER) =>
  tokenRequest(oauth, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier });

describe('the local OAuth endpoints (Cognito hosted UI shapes)', () => {
  it('computes the S256 challenge of RFC 7636 appendix B', () => {
    expect(s256Challenge(VERIFIER)).toBe(CHALLENGE);
  });

  it('shows a sign-in form that carries the request on, with a CSP and the values escaped', async () => {
    const query = new URLSearchParams(authorizeForm({ state: '"><script>x</script>' }));

    const answer = await server().authorize({ method: 'GET', query, body: '' });

    expect(answer.statusCode).toBe(200);
    expect(answer.headers!['content-security-policy']).toContain("default-src 'none'");
    expect(answer.body).toContain('value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"');
    expect(answer.body).not.toContain('<script>');
  });

  it('redirects back with a code and the state after sign-in', async () => {
    const answer = await server().authorize({ method: 'POST', query: new URLSearchParams(), body: authorizeForm() });

    const location = new URL(String(answer.headers!.location));
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(location.searchParams.get('state')).toBe('st');
    expect(location.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('never redirects to a redirect URI the client does not have', async () => {
    const answer = await server().authorize({ method: 'GET', query: new URLSearchParams(authorizeForm({ redirect_uri: 'https://evil.example/' })), body: '' });

    expect(answer.statusCode).toBe(400);
    expect(answer.headers!.location).toBeUndefined();
  });

  it('sends a request without PKCE S256 back with invalid_request', async () => {
    const answer = await server().authorize({ method: 'GET', query: new URLSearchParams(authorizeForm({ code_challenge_method: 'plain' })), body: '' });

    expect(answer.statusCode).toBe(302);
    expect(new URL(String(answer.headers!.location)).searchParams.get('error')).toBe('invalid_request');
  });

  it('shows the form again, with the reason and the name but never the password, when sign-in is refused', async () => {
    const answer = await server().authorize({ method: 'POST', query: new URLSearchParams(), body: authorizeForm({ password: 'wrong-secret' }) });

    expect(answer.statusCode).toBe(400);
    expect(answer.body).toContain('Incorrect username or password.');
    expect(answer.body).toContain('name="username" autocomplete="username" value="alice"');
    expect(answer.body).not.toContain('wrong-secret');
    expect(answer.headers!.location).toBeUndefined();
  });

  /** The session of the form a step answered with (its hidden input). */
  const sessionOf = (body: string) => /name="session" value="([A-Za-z0-9_-]+)"/.exec(body)![1]!;
  const post = (oauth: LocalOAuth, extra: Record<string, string>) => oauth.authorize({ method: 'POST', query: new URLSearchParams(), body: authorizeForm(extra) });

  it('asks a user with a temporary password for a new one, twice typed, then for the code', async () => {
    const oauth = server();
    const first = await post(oauth, { username: 'tess', password: 'temporary' });
    const session = sessionOf(first.body);

    const differ = await post(oauth, { session, new_password: 'A-new-password-1', confirm_password: 'A-new-password-2' });
    const changed = await post(oauth, { session, new_password: 'A-new-password-1', confirm_password: 'A-new-password-1' });
    const signedIn = await post(oauth, { session: sessionOf(changed.body), totp_code: '123456' });

    expect(first.statusCode).toBe(200);
    expect(first.body).toContain('name="new_password"');
    expect(differ.statusCode).toBe(400);
    expect(differ.body).toContain('The two passwords differ.');
    expect(changed.body).toContain('name="totp_code"');
    expect(new URL(String(signedIn.headers!.location)).searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('takes each step form once only', async () => {
    const oauth = server();
    const session = sessionOf((await post(oauth, { username: 'mfa' })).body);
    await post(oauth, { session, totp_code: '123456' });

    const again = await post(oauth, { session, totp_code: '123456' });

    expect(again.statusCode).toBe(400);
    expect(again.body).toContain('sign in again');
    expect(again.body).toContain('name="password"');
  });

  it('refuses a step form posted with another authorize request than its own', async () => {
    const oauth = server();
    const session = sessionOf((await post(oauth, { username: 'mfa' })).body);

    const answer = await post(oauth, { session, totp_code: '123456', code_challenge: 'x'.repeat(43) });

    expect(answer.statusCode).toBe(400);
    expect(answer.headers!.location).toBeUndefined();
  });

  it('starts again from the password after five wrong codes', async () => {
    const oauth = server();
    const session = sessionOf((await post(oauth, { username: 'mfa' })).body);
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await post(oauth, { session, totp_code: '000000' }));

    const right = await post(oauth, { session, totp_code: '123456' });

    expect(answers.slice(0, 4).every((a) => a.body.includes('name="totp_code"'))).toBe(true);
    expect(answers[4]!.body).toContain('Too many wrong codes');
    expect(right.statusCode).toBe(400);
    expect(right.headers!.location).toBeUndefined();
  });

  it('refuses a step form after the ten minutes of a sign-in', async () => {
    let now = 1_000_000;
    const oauth = server({ now: () => now });
    const session = sessionOf((await post(oauth, { username: 'mfa' })).body);
    now += 10 * 60 * 1000;

    const answer = await post(oauth, { session, totp_code: '123456' });

    expect(answer.statusCode).toBe(400);
    expect(answer.headers!.location).toBeUndefined();
  });

  it('trades a code and the matching verifier for the ID token and a refresh token', async () => {
    const oauth = server();

    const answer = await exchange(oauth, await codeFor(oauth));

    expect(answer.statusCode).toBe(200);
    expect(answer.headers!['cache-control']).toBe('no-store');
    expect(JSON.parse(answer.body)).toEqual({ id_token: 'token-for-alice', access_token: 'token-for-alice', refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), expires_in: 3600, token_type: 'Bearer' });
  });

  it('refuses a verifier that does not match the challenge', async () => {
    const oauth = server();

    const answer = await exchange(oauth, await codeFor(oauth), 'x'.repeat(43));

    expect(answer.statusCode).toBe(400);
    expect(JSON.parse(answer.body).error).toBe('invalid_grant');
  });

  it('takes a code once only, even when the first try failed', async () => {
    const oauth = server();
    const code = await codeFor(oauth);
    await exchange(oauth, code, 'y'.repeat(43));

    const again = await exchange(oauth, code);

    expect(again.statusCode).toBe(400);
  });

  it('refuses a code after five minutes', async () => {
    let now = 1_000_000;
    const oauth = server({ now: () => now });
    const code = await codeFor(oauth);
    now += 5 * 60 * 1000;

    expect((await exchange(oauth, code)).statusCode).toBe(400);
  });

  it('refreshes with the refresh token until it is revoked', async () => {
    const oauth = server();
    const refreshToken = JSON.parse((await exchange(oauth, await codeFor(oauth))).body).refresh_token as string;

    const refreshed = await tokenRequest(oauth, { grant_type: 'refresh_token', refresh_token: refreshToken });
    await oauth.revoke({ method: 'POST', query: new URLSearchParams(), body: new URLSearchParams({ client_id: CLIENT, token: refreshToken }).toString() });
    const afterRevoke = await tokenRequest(oauth, { grant_type: 'refresh_token', refresh_token: refreshToken });

    expect(refreshed.statusCode).toBe(200);
    expect(JSON.parse(refreshed.body)).toEqual({ id_token: 'token-for-alice', access_token: 'token-for-alice', expires_in: 3600, token_type: 'Bearer' });
    expect(afterRevoke.statusCode).toBe(400);
  });

  it('refuses another client id at the token endpoint', async () => {
    const oauth = server();

    const answer = await oauth.token({ method: 'POST', query: new URLSearchParams(), body: new URLSearchParams({ client_id: 'other', grant_type: 'refresh_token', refresh_token: 'x' }).toString() });

    expect(JSON.parse(answer.body).error).toBe('invalid_client');
  });

  it('logs out only to a URL of the client', async () => {
    const oauth = server();

    const ok = await oauth.logout({ method: 'GET', query: new URLSearchParams({ client_id: CLIENT, logout_uri: REDIRECT }), body: '' });
    const elsewhere = await oauth.logout({ method: 'GET', query: new URLSearchParams({ client_id: CLIENT, logout_uri: 'https://evil.example/' }), body: '' });

    expect(ok.headers!.location).toBe(REDIRECT);
    expect(elsewhere.statusCode).toBe(400);
  });
});
