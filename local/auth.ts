import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { validateUserId } from '../lambda/shared/keys';

/**
 * Local stand-in for the Cognito authorizer: HS256 JWTs signed with a key kept in the data folder.
 * Only what the deployed authorizer checks matters here: signature, expiry, and a `sub` claim.
 */
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
export const DEFAULT_TOKEN_TTL_SECONDS = 24 * 60 * 60;

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

/** Reads the signing key from `path`, creating it (32 random bytes, mode 0600) on first use. */
export function loadOrCreateKey(path: string): Buffer {
  try {
    const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'hex');
    if (key.length >= 32) return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = randomBytes(32);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, key.toString('hex') + '\n', { mode: 0o600 });
  return key;
}

export function signToken(key: Buffer, sub: string, options: { ttlSeconds?: number; now?: number; claims?: Record<string, unknown> } = {}): string {
  validateUserId(sub);
  const iat = Math.floor((options.now ?? Date.now()) / 1000);
  const payload = {
    ...options.claims,
    sub,
    'cognito:username': sub,
    token_use: 'id',
    iss: 'local',
    iat,
    exp: iat + (options.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS),
  };
  const unsigned = `${b64url(JSON.stringify(HEADER))}.${b64url(JSON.stringify(payload))}`;
  return `${unsigned}.${b64url(createHmac('sha256', key).update(unsigned).digest())}`;
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
export function verifyToken(key: Buffer, token: string, now = Date.now()): Claims {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) throw new TokenError('The token is not a compact JWT');
  const [header, payload, signature] = parts as [string, string, string];
  if (decodeJson(header, 'header').alg !== 'HS256') throw new TokenError('The token is not signed with HS256');
  // Compared as text: base64url's last character has unused bits, and a respelled signature is a changed token.
  const expected = Buffer.from(b64url(createHmac('sha256', key).update(`${header}.${payload}`).digest()));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new TokenError('The token signature does not verify');
  const claims = decodeJson(payload, 'payload');
  if (typeof claims.exp !== 'number' || claims.exp * 1000 <= now) throw new TokenError('The token has expired');
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
