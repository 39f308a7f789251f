/**
 * The local stand-in for the Cognito hosted UI's OAuth 2.0 endpoints, so the console signs in
 * through one code path locally and deployed: `/oauth2/authorize` (a small sign-in form, then the
 * authorization code sent back to the redirect URI), `/oauth2/token` (authorization_code with PKCE
 * S256, and refresh_token), `/oauth2/revoke` and `/logout`, in Cognito's request and answer shapes.
 * Codes and refresh tokens are kept in memory: a restart signs everybody out, which is what a
 * local tool should do. The ID tokens are the local tokens the gateway verifies.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { validateUserId } from '../lambda/shared/keys';

/** What sign-in checks: for now the user name only. The password/TOTP check against the local user store plugs in here. */
export type AuthenticateUser = (input: { username: string; password?: string }) => Promise<string>;

export class SignInError extends Error {}

/**
 * THE SEAM for the local user pool (local/cognito/, `s3files login`): today any valid user id
 * signs in as itself, with no password. Next: look the user up in the pool, check the password
 * against its SRP verifier and the TOTP code, return its `sub`, and throw SignInError on a mismatch.
 */
export const acceptUserName: AuthenticateUser = async ({ username }) => {
  try {
    validateUserId(username);
  } catch (err) {
    throw new SignInError((err as Error).message);
  }
  return username;
};

export interface LocalOAuthOptions {
  clientId: string;
  /** Exact redirect URIs the client may use, as Cognito's callback URLs. */
  redirectUris: readonly string[];
  /** Mints the ID token (claims iss, aud = clientId, token_use=id, sub) for a user. */
  mintIdToken: (sub: string) => string;
  idTokenTtlSeconds: number;
  authenticate?: AuthenticateUser;
  now?: () => number;
}

export interface OAuthRequest {
  method: string;
  query: URLSearchParams;
  body: string;
}

const CODE_TTL_MS = 5 * 60 * 1000;
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
  const authenticate = options.authenticate ?? acceptUserName;
  const codes = new Map<string, PendingCode>();
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

  function signInForm(params: URLSearchParams, problem?: string): string {
    const hidden = ['client_id', 'redirect_uri', 'response_type', 'state', 'code_challenge', 'code_challenge_method', 'scope']
      .filter((name) => params.has(name))
      .map((name) => `<input type="hidden" name="${name}" value="${escapeHtml(params.get(name)!)}">`)
      .join('');
    return page(
      'Sign in to S3 File Service',
      `${problem ? `<p class="error" role="alert">${escapeHtml(problem)}</p>` : ''}<form method="post" action="/oauth2/authorize">${hidden}<label>User name <input name="username" autocomplete="username" required autofocus></label><p class="hint">Local mode: any user name signs in as that user.</p><button type="submit">Sign in</button></form>`,
    );
  }

  async function authorize({ method, query, body }: OAuthRequest): Promise<APIGatewayProxyResult> {
    const params = method === 'POST' ? new URLSearchParams(body) : query;
    const checked = authorizeParameters(params);
    if (!checked.ok) return checked.answer;
    if (method !== 'POST') return html(200, signInForm(params));
    let sub: string;
    try {
      sub = await authenticate({ username: params.get('username') ?? '', ...(params.has('password') ? { password: params.get('password')! } : {}) });
    } catch (err) {
      if (err instanceof SignInError) return html(400, signInForm(params, err.message));
      throw err;
    }
    const code = randomToken();
    codes.set(code, { sub, clientId: options.clientId, redirectUri: checked.redirectUri, challenge: checked.challenge, expiresAt: now() + CODE_TTL_MS });
    const url = new URL(checked.redirectUri);
    url.searchParams.set('code', code);
    if (checked.state) url.searchParams.set('state', checked.state);
    return redirect(url.toString());
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
