/**
 * The local stand-in for the Cognito hosted UI's OAuth 2.0 endpoints, so the console signs in
 * through one code path locally and deployed: `/oauth2/authorize` (the sign-in forms, in the hosted
 * UI's steps: password, a new password for a temporary one, the TOTP code; then the authorization
 * code sent back to the redirect URI), `/oauth2/token` (authorization_code with PKCE
 * S256, and refresh_token), `/oauth2/revoke` and `/logout`, in Cognito's request and answer shapes.
 * What the forms check is passed in (SignInChecks; local mode's is the local user pool). Codes,
 * sign-in sessions and refresh tokens are kept in memory: a restart signs everybody out, which is
 * what a local tool should do. The ID tokens are the local tokens the gateway verifies.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { APIGatewayProxyResult } from 'aws-lambda';

/** Where a sign-in stands after one form: signed in, or one more step (the hosted UI's pages). */
export type SignInStep =
  | { kind: 'signedIn'; sub: string }
  | { kind: 'newPasswordRequired'; sub: string }
  | { kind: 'totpRequired'; sub: string };

/**
 * What the sign-in page checks, one call per form. Each refuses with SignInError, whose message is
 * shown on the form again. Local mode's is the local user pool's (local/cognito/console-sign-in.ts).
 */
export interface SignInChecks {
  password(username: string, password: string): Promise<SignInStep>;
  /** For a user whose password was temporary. */
  newPassword(sub: string, password: string): Promise<SignInStep>;
  totp(sub: string, code: string): Promise<SignInStep>;
}

export class SignInError extends Error {}

export interface LocalOAuthOptions {
  clientId: string;
  /** Exact redirect URIs the client may use, as Cognito's callback URLs. */
  redirectUris: readonly string[];
  /** Mints the ID token (claims iss, aud = clientId, token_use=id, sub) for a user. */
  mintIdToken: (sub: string) => string;
  idTokenTtlSeconds: number;
  signIn: SignInChecks;
  now?: () => number;
}

export interface OAuthRequest {
  method: string;
  query: URLSearchParams;
  body: string;
}

const CODE_TTL_MS = 5 * 60 * 1000;
/** The time one sign-in's steps may take (the stack's authSessionValidity). */
const SIGN_IN_SESSION_MS = 10 * 60 * 1000;
/** Wrong codes one sign-in may try before it starts again from the password. */
const MAX_WRONG_CODES = 5;
/** The sign-in page: nothing inline, nothing from elsewhere, not framable. */
const PAGE_CSP = "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function jsonAnswer(statusCode: number, body: unknown): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', pragma: 'no-cache' },
    body: JSON.stringify(body),
  };
}

/** OAuth's error shape (RFC 6749 §5.2), as Cognito answers it. */
const oauthError = (statusCode: number, error: string, description: string) => jsonAnswer(statusCode, { error, error_description: description });

function html(statusCode: number, body: string): APIGatewayProxyResult {
  return {
    statusCode,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': PAGE_CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    },
    body,
  };
}

const redirect = (location: string): APIGatewayProxyResult => ({ statusCode: 302, headers: { location, 'cache-control': 'no-store' }, body: '' });

const randomToken = () => randomBytes(32).toString('base64url');

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `BASE64URL(SHA256(verifier))`, RFC 7636 §4.2. */
export function s256Challenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** A sign-in between its forms: who, at which step, for which authorize request. */
interface SignInSession {
  sub: string;
  step: 'newPasswordRequired' | 'totpRequired';
  challenge: string;
  expiresAt: number;
  wrongCodes: number;
}

interface PendingCode {
  sub: string;
  clientId: string;
  redirectUri: string;
  challenge: string;
  expiresAt: number;
}

export interface LocalOAuth {
  authorize(request: OAuthRequest): Promise<APIGatewayProxyResult>;
  token(request: OAuthRequest): Promise<APIGatewayProxyResult>;
  revoke(request: OAuthRequest): Promise<APIGatewayProxyResult>;
  logout(request: OAuthRequest): Promise<APIGatewayProxyResult>;
}

export function createLocalOAuth(options: LocalOAuthOptions): LocalOAuth {
  const now = options.now ?? Date.now;
  const codes = new Map<string, PendingCode>();
  const signIns = new Map<string, SignInSession>();
  const refreshTokens = new Map<string, { sub: string; clientId: string }>();

  /** The authorize parameters, checked as Cognito checks them; a bad client or redirect URI is never redirected to. */
  function authorizeParameters(params: URLSearchParams): { ok: true; redirectUri: string; state: string | null; challenge: string } | { ok: false; answer: APIGatewayProxyResult } {
    const clientId = params.get('client_id') ?? '';
    const redirectUri = params.get('redirect_uri') ?? '';
    if (clientId !== options.clientId) return { ok: false, answer: html(400, page('Unknown client', `<p>No client <code>${escapeHtml(clientId)}</code>.</p>`)) };
    if (!options.redirectUris.includes(redirectUri)) return { ok: false, answer: html(400, page('Unknown redirect URI', `<p><code>${escapeHtml(redirectUri)}</code> is not a callback URL of this client.</p>`)) };
    const state = params.get('state');
    const back = (error: string, description: string) => {
      const url = new URL(redirectUri);
      url.searchParams.set('error', error);
      url.searchParams.set('error_description', description);
      if (state) url.searchParams.set('state', state);
      return { ok: false as const, answer: redirect(url.toString()) };
    };
    if (params.get('response_type') !== 'code') return back('unsupported_response_type', 'response_type must be code');
    const challenge = params.get('code_challenge') ?? '';
    if (params.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(challenge)) {
      return back('invalid_request', 'PKCE is required: code_challenge (43 base64url characters) with code_challenge_method=S256');
    }
    return { ok: true, redirectUri, state, challenge };
  }

  function page(title: string, content: string): string {
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><link rel="stylesheet" href="/console.css"></head><body class="signin"><main class="card"><h1>${escapeHtml(title)}</h1>${content}</main></body></html>`;
  }

  /** The authorize request carried on from form to form. */
  function hiddenParameters(params: URLSearchParams): string {
    return ['client_id', 'redirect_uri', 'response_type', 'state', 'code_challenge', 'code_challenge_method', 'scope']
      .filter((name) => params.has(name))
      .map((name) => `<input type="hidden" name="${name}" value="${escapeHtml(params.get(name)!)}">`)
      .join('');
  }

  const problemText = (problem?: string) => (problem ? `<p class="error" role="alert">${escapeHtml(problem)}</p>` : '');

  function passwordForm(params: URLSearchParams, problem?: string): string {
    const username = params.get('username') ?? '';
    return page(
      'Sign in to S3 File Service',
      `${problemText(problem)}<form method="post" action="/oauth2/authorize">${hiddenParameters(params)}` +
        `<label>User name <input name="username" autocomplete="username" value="${escapeHtml(username)}" required${username ? '' : ' autofocus'}></label>` +
        `<label>Password <input name="password" type="password" autocomplete="current-password" required${username ? ' autofocus' : ''}></label>` +
        '<p class="hint">Local mode: a user of the local user pool (<code>npm start</code> prints the first one; <code>npm run user -- add &lt;name&gt;</code> adds more).</p>' +
        '<button type="submit">Sign in</button></form>',
    );
  }

  function stepForm(params: URLSearchParams, session: string, step: SignInSession['step'], problem?: string): string {
    const carried = `${hiddenParameters(params)}<input type="hidden" name="session" value="${escapeHtml(session)}">`;
    if (step === 'newPasswordRequired') {
      return page(
        'Change your password',
        `${problemText(problem)}<p>Your password was temporary: choose a new one (at least 12 characters, with upper and lower case letters, a digit and a symbol).</p>` +
          `<form method="post" action="/oauth2/authorize">${carried}` +
          '<label>New password <input name="new_password" type="password" autocomplete="new-password" required autofocus></label>' +
          '<label>Confirm new password <input name="confirm_password" type="password" autocomplete="new-password" required></label>' +
          '<button type="submit">Change password</button></form>',
      );
    }
    return page(
      'Enter your code',
      `${problemText(problem)}<form method="post" action="/oauth2/authorize">${carried}` +
        '<label>Code from your authenticator app <input name="totp_code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" required autofocus></label>' +
        '<button type="submit">Sign in</button></form>',
    );
  }

  /** The code for the client, or the next form of the sign-in. */
  function afterStep(params: URLSearchParams, checked: { redirectUri: string; state: string | null; challenge: string }, step: SignInStep): APIGatewayProxyResult {
    if (step.kind === 'signedIn') {
      const code = randomToken();
      codes.set(code, { sub: step.sub, clientId: options.clientId, redirectUri: checked.redirectUri, challenge: checked.challenge, expiresAt: now() + CODE_TTL_MS });
      const url = new URL(checked.redirectUri);
      url.searchParams.set('code', code);
      if (checked.state) url.searchParams.set('state', checked.state);
      return redirect(url.toString());
    }
    for (const [key, old] of signIns) if (old.expiresAt <= now()) signIns.delete(key);
    const session = randomToken();
    signIns.set(session, { sub: step.sub, step: step.kind, challenge: checked.challenge, expiresAt: now() + SIGN_IN_SESSION_MS, wrongCodes: 0 });
    return html(200, stepForm(params, session, step.kind));
  }

  async function authorize({ method, query, body }: OAuthRequest): Promise<APIGatewayProxyResult> {
    const params = method === 'POST' ? new URLSearchParams(body) : query;
    const checked = authorizeParameters(params);
    if (!checked.ok) return checked.answer;
    if (method !== 'POST') return html(200, passwordForm(params));
    const sessionKey = params.get('session');
    try {
      if (sessionKey === null) return afterStep(params, checked, await options.signIn.password(params.get('username') ?? '', params.get('password') ?? ''));
      // Each session answers one form; taken out now, put back only when the form may be tried again.
      const session = signIns.get(sessionKey);
      signIns.delete(sessionKey);
      if (!session || session.expiresAt <= now() || session.challenge !== checked.challenge) {
        return html(400, passwordForm(params, 'Your sign-in took too long or was already used: sign in again.'));
      }
      const retry = (problem: string) => {
        signIns.set(sessionKey, session);
        return html(400, stepForm(params, sessionKey, session.step, problem));
      };
      if (session.step === 'newPasswordRequired') {
        const password = params.get('new_password') ?? '';
        if (password !== params.get('confirm_password')) return retry('The two passwords differ.');
        try {
          return afterStep(params, checked, await options.signIn.newPassword(session.sub, password));
        } catch (err) {
          if (err instanceof SignInError) return retry(err.message);
          throw err;
        }
      }
      try {
        return afterStep(params, checked, await options.signIn.totp(session.sub, params.get('totp_code') ?? ''));
      } catch (err) {
        if (!(err instanceof SignInError)) throw err;
        if (++session.wrongCodes < MAX_WRONG_CODES) return retry(err.message);
        return html(400, passwordForm(params, `${err.message}. Too many wrong codes: sign in again.`));
      }
    } catch (err) {
      if (err instanceof SignInError) return html(400, passwordForm(params, err.message));
      throw err;
    }
  }

  function tokens(sub: string, refreshToken?: string): APIGatewayProxyResult {
    const idToken = options.mintIdToken(sub);
    return jsonAnswer(200, {
      id_token: idToken,
      // The API takes the ID token (as the Cognito authorizer does); the access token is the same local token.
      access_token: idToken,
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
      expires_in: options.idTokenTtlSeconds,
      token_type: 'Bearer',
    });
  }

  async function token({ method, body }: OAuthRequest): Promise<APIGatewayProxyResult> {
    if (method !== 'POST') return oauthError(405, 'invalid_request', 'POST the token request');
    const params = new URLSearchParams(body);
    if (params.get('client_id') !== options.clientId) return oauthError(400, 'invalid_client', 'Unknown client_id');
    switch (params.get('grant_type')) {
      case 'authorization_code': {
        const code = params.get('code') ?? '';
        const pending = codes.get(code);
        codes.delete(code); // single use, whatever happens next
        if (!pending || pending.expiresAt <= now()) return oauthError(400, 'invalid_grant', 'The code is unknown, used or expired');
        if (params.get('redirect_uri') !== pending.redirectUri) return oauthError(400, 'invalid_grant', 'redirect_uri differs from the authorize request');
        const verifier = params.get('code_verifier') ?? '';
        if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || !sameText(s256Challenge(verifier), pending.challenge)) {
          return oauthError(400, 'invalid_grant', 'code_verifier does not match the code_challenge');
        }
        const refreshToken = randomToken();
        refreshTokens.set(refreshToken, { sub: pending.sub, clientId: pending.clientId });
        return tokens(pending.sub, refreshToken);
      }
      case 'refresh_token': {
        const held = refreshTokens.get(params.get('refresh_token') ?? '');
        if (!held) return oauthError(400, 'invalid_grant', 'The refresh token is unknown or revoked');
        return tokens(held.sub);
      }
      default:
        return oauthError(400, 'unsupported_grant_type', 'grant_type must be authorization_code or refresh_token');
    }
  }

  async function revoke({ method, body }: OAuthRequest): Promise<APIGatewayProxyResult> {
    if (method !== 'POST') return oauthError(405, 'invalid_request', 'POST the revocation request');
    const params = new URLSearchParams(body);
    if (params.get('client_id') !== options.clientId) return oauthError(400, 'invalid_client', 'Unknown client_id');
    refreshTokens.delete(params.get('token') ?? '');
    return { statusCode: 200, headers: { 'cache-control': 'no-store' }, body: '' };
  }

  async function logout({ query }: OAuthRequest): Promise<APIGatewayProxyResult> {
    // No hosted-UI session cookie to clear locally; only go back where the client is allowed to.
    const back = query.get('logout_uri') ?? '';
    if (query.get('client_id') !== options.clientId || !options.redirectUris.includes(back)) {
      return html(400, page('Signed out', '<p>The logout_uri is not a sign-out URL of this client.</p>'));
    }
    return redirect(back);
  }

  return { authorize, token, revoke, logout };
}
