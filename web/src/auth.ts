/**
 * Sign-in with the authorization code grant and PKCE (S256), against the Cognito hosted UI when
 * deployed and the gateway's stand-in locally: one code path. Tokens live in sessionStorage (this
 * tab only, gone with it), are refreshed a minute before they expire, and sign-out revokes the
 * refresh token and clears them. Tokens never go into a URL.
 */
import { signal } from '@preact/signals';
import type { ConsoleConfig } from './config';

export interface Session {
  idToken: string;
  refreshToken: string | null;
  /** Epoch ms. */
  expiresAt: number;
}

const SESSION_KEY = 's3fs.session';
const PENDING_KEY = 's3fs.signin';
const REFRESH_EARLY_MS = 60_000;

function readSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export const session = signal<Session | null>(readSession());
export const signInProblem = signal<string | null>(null);

function store(next: Session | null): void {
  if (next) sessionStorage.setItem(SESSION_KEY, JSON.stringify(next));
  else sessionStorage.removeItem(SESSION_KEY);
  session.value = next;
}

const base64url = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

const randomText = (): string => base64url(crypto.getRandomValues(new Uint8Array(32)));

export async function s256(verifier: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

const redirectUri = () => `${location.origin}/`;

/** Off to the sign-in page; we come back to `/` with `?code=&state=`. */
export async function beginSignIn(config: ConsoleConfig): Promise<void> {
  const verifier = randomText();
  const state = randomText();
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state, hash: location.hash }));
  const url = new URL(`${config.authUrl}/oauth2/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: redirectUri(),
    state,
    code_challenge: await s256(verifier),
    code_challenge_method: 'S256',
    scope: 'openid',
  }).toString();
  location.assign(url.toString());
}

interface TokenAnswer {
  id_token?: string;
  refresh_token?: string;
  expires_in?: number;
  error?: string;
  error_description?: string;
}

async function tokenRequest(config: ConsoleConfig, params: Record<string, string>): Promise<TokenAnswer & { ok: boolean }> {
  const res = await fetch(`${config.authUrl}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: config.clientId, ...params }).toString(),
  });
  const body = (await res.json().catch(() => ({}))) as TokenAnswer;
  return { ...body, ok: res.ok && typeof body.id_token === 'string' };
}

function sessionFrom(answer: TokenAnswer, refreshToken: string | null): Session {
  return { idToken: answer.id_token!, refreshToken: answer.refresh_token ?? refreshToken, expiresAt: Date.now() + (answer.expires_in ?? 3600) * 1000 };
}

/** Back from the sign-in page: trade the code for tokens, then take the code out of the address bar. */
export async function completeSignIn(config: ConsoleConfig): Promise<void> {
  const params = new URLSearchParams(location.search);
  if (!params.has('code') && !params.has('error')) return;
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? 'null') as { verifier: string; state: string; hash: string } | null;
  sessionStorage.removeItem(PENDING_KEY);
  history.replaceState(null, '', `/${pending?.hash ?? ''}`);
  if (params.has('error')) {
    signInProblem.value = `Sign-in failed: ${params.get('error_description') ?? params.get('error')}`;
    return;
  }
  if (!pending || params.get('state') !== pending.state) {
    signInProblem.value = 'Sign-in failed: the answer does not belong to a sign-in started here. Sign in again.';
    return;
  }
  const answer = await tokenRequest(config, { grant_type: 'authorization_code', code: params.get('code')!, redirect_uri: redirectUri(), code_verifier: pending.verifier });
  if (!answer.ok) {
    signInProblem.value = `Sign-in failed: ${answer.error_description ?? answer.error ?? 'no token'}`;
    return;
  }
  store(sessionFrom(answer, null));
}

let refreshing: Promise<boolean> | null = null;

/** A fresh ID token from the refresh token; false (and signed out) when that is refused. */
export function refresh(config: ConsoleConfig): Promise<boolean> {
  refreshing ??= (async () => {
    const current = session.value;
    if (!current?.refreshToken) return false;
    const answer = await tokenRequest(config, { grant_type: 'refresh_token', refresh_token: current.refreshToken });
    if (!answer.ok) {
      store(null);
      signInProblem.value = 'Your session ended. Sign in again.';
      return false;
    }
    store(sessionFrom(answer, current.refreshToken));
    return true;
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

let timer: ReturnType<typeof setTimeout> | undefined;

/** Keeps the session fresh: refreshes a minute before each expiry. */
export function keepFresh(config: ConsoleConfig): () => void {
  return session.subscribe((current) => {
    clearTimeout(timer);
    if (!current) return;
    timer = setTimeout(() => void refresh(config), Math.max(0, current.expiresAt - Date.now() - REFRESH_EARLY_MS));
  });
}

export async function signOut(config: ConsoleConfig): Promise<void> {
  const refreshToken = session.value?.refreshToken;
  store(null);
  if (refreshToken) {
    await fetch(`${config.authUrl}/oauth2/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: refreshToken, client_id: config.clientId }).toString(),
    }).catch(() => undefined);
  }
  // Ends the hosted UI's own session too, then comes back signed out.
  location.assign(`${config.authUrl}/logout?${new URLSearchParams({ client_id: config.clientId, logout_uri: redirectUri() })}`);
}

/** The signed-in user's name, from the ID token (display only: the API verifies the token). */
export function userName(token: string): string {
  try {
    const payload = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>;
    return String(payload['cognito:username'] ?? payload.email ?? payload.sub ?? '');
  } catch {
    return '';
  }
}
