/**
 * Local stand-in for the Cognito authorizer: HS256 JWTs signed with a key kept in the data folder.
 * It refuses what the deployed authorizer refuses, so a client that works locally does not meet
 * its first 401 in AWS: a bad signature, an expiry that is past or further ahead than any ID token
 * Cognito issues, a token not yet valid (`nbf` or `iat` in the future), another issuer, a token
 * that is not an ID token (`token_use`), another app client (`aud`), and a `sub` that is not a
 * user id.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { validateUserId } from '../lambda/shared/keys';
import { loadOrCreateHexSecret } from './secret-file';

export interface Claims {
  sub: string;
  iat: number;
  exp: number;
  [claim: string]: unknown;
}

export class TokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenError';
  }
}

const HEADER = { alg: 'HS256', typ: 'JWT' };
/**
 * The longest a local token may live, and its default lifetime: Cognito's ID tokens live 5 minutes
 * to 1 day (the app client's idTokenValidity), so a token valid for longer is one Cognito never
 * issued, and an `exp` of 1e308 is not a token that never expires but a refused one.
 */
export const MAX_TOKEN_TTL_SECONDS = 24 * 60 * 60;
export const DEFAULT_TOKEN_TTL_SECONDS = MAX_TOKEN_TTL_SECONDS;
/** The local token issuer (`iss`); Cognito's is `https://cognito-idp.<region>.amazonaws.com/<pool id>`. */
export const LOCAL_ISSUER = 'local';
/** The local app client id: an ID token's `aud`, as Cognito sets it to the client that signed the user in. */
export const LOCAL_CLIENT_ID = 's3files-local';

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

/** The ID-token signing key kept in `path`, created on first use (./secret-file.ts). */
export function loadOrCreateKey(path: string): Buffer {
  return Buffer.from(loadOrCreateHexSecret(path), 'hex');
}

/** A compact HS256 JWT of exactly these claims (tests build refused tokens with it). */
export function encodeToken(key: Buffer, claims: Record<string, unknown>): string {
  const unsigned = `${b64url(JSON.stringify(HEADER))}.${b64url(JSON.stringify(claims))}`;
  return `${unsigned}.${b64url(createHmac('sha256', key).update(unsigned).digest())}`;
}

/** The claims of an ID token for `sub`, as Cognito shapes them (those the authorizer checks). */
export function idTokenClaims(sub: string, options: { ttlSeconds?: number; now?: number; claims?: Record<string, unknown> } = {}): Claims {
  validateUserId(sub);
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0 || ttlSeconds > MAX_TOKEN_TTL_SECONDS) {
    throw new RangeError(`A token lives 1 to ${MAX_TOKEN_TTL_SECONDS} seconds (Cognito's ID tokens: at most a day), not ${ttlSeconds}`);
  }
  const iat = Math.floor((options.now ?? Date.now()) / 1000);
  return {
    ...options.claims,
    sub,
    'cognito:username': sub,
    token_use: 'id',
    iss: LOCAL_ISSUER,
    aud: LOCAL_CLIENT_ID,
    iat,
    exp: iat + ttlSeconds,
  };
}

export function signIdToken(key: Buffer, sub: string, options: { ttlSeconds?: number; now?: number; claims?: Record<string, unknown> } = {}): string {
  return encodeToken(key, idTokenClaims(sub, options));
}

function decodeJson(part: string, what: string): Record<string, unknown> {
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new TokenError(`The token ${what} is not a JSON object`);
}

/** Verifies a compact JWT; throws TokenError saying why it is refused. */
export function verifyIdToken(key: Buffer, token: string, now = Date.now()): Claims {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) throw new TokenError('The token is not a compact JWT');
  const [header, payload, signature] = parts as [string, string, string];
  if (decodeJson(header, 'header').alg !== 'HS256') throw new TokenError('The token is not signed with HS256');
  // Compared as text: base64url's last character has unused bits, and a respelled signature is a changed token.
  const expected = Buffer.from(b64url(createHmac('sha256', key).update(`${header}.${payload}`).digest()));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new TokenError('The token signature does not verify');
  const claims = decodeJson(payload, 'payload');
  const nowSeconds = now / 1000;
  if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) throw new TokenError('The token has no expiry');
  if (claims.exp <= nowSeconds) throw new TokenError('The token has expired');
  if (claims.exp > nowSeconds + MAX_TOKEN_TTL_SECONDS) throw new TokenError(`The token expires more than ${MAX_TOKEN_TTL_SECONDS} seconds from now`);
  for (const claim of ['nbf', 'iat'] as const) {
    const value = claims[claim];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new TokenError(`The token's ${claim} is not a time`);
    if (value > nowSeconds) throw new TokenError(`The token is not valid yet (${claim} is in the future)`);
  }
  if (claims.iss !== LOCAL_ISSUER) throw new TokenError('The token was issued by another issuer');
  if (claims.token_use !== 'id') throw new TokenError('The token is not an ID token');
  if (claims.aud !== LOCAL_CLIENT_ID) throw new TokenError('The token was issued to another app client');
  if (typeof claims.sub !== 'string') throw new TokenError('The token has no subject');
  try {
    validateUserId(claims.sub);
  } catch {
    throw new TokenError('The token subject is not a valid user id');
  }
  return claims as Claims;
}

/** The token from an `Authorization: Bearer <jwt>` header value. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}
