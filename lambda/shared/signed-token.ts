/**
 * The one HMAC the service uses to make what it hands out tamper-evident (pagination cursors,
 * upload ids). The MAC covers `purpose` (domain separation), so even under one key a
 * cursor could never be replayed as an upload id; and each kind of token has its own key
 * (./signing-keys.ts), so a key that leaks cannot mint the other kinds either.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { checkTokenPurpose, type KeyRing } from './signing-keys';

export function mac(secret: string, purpose: string, fields: readonly unknown[]): Buffer {
  return createHmac('sha256', secret).update(JSON.stringify([purpose, ...fields])).digest();
}

/**
 * Whether `given`, a MAC as it appears in a token (base64url), is exactly `expected`'s encoding.
 * Compared as text, not decoded: the last base64 character carries unused bits, so a decoder
 * maps several spellings to the same bytes, and a token changed in those bits must still count as
 * changed.
 */
export function macMatches(given: string, expected: Buffer): boolean {
  const want = Buffer.from(expected.toString('base64url'));
  const got = Buffer.from(given);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** `text` decoded from base64url when it is the canonical spelling of its bytes, else undefined. */
export function canonicalBase64url(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

const MAX_TOKEN_CHARS = 8192;

/** The MAC of `fields` for `purpose` with the ring's signing key (throws if the key may not sign that purpose). */
export function signedMac(ring: KeyRing, purpose: string, fields: readonly unknown[]): Buffer {
  checkTokenPurpose(ring, purpose);
  return mac(ring.signing, purpose, fields);
}

/** Whether `given` is the MAC of `fields` for `purpose` under any key the ring verifies with. */
export function macVerifies(ring: KeyRing, purpose: string, fields: readonly unknown[], given: string): boolean {
  checkTokenPurpose(ring, purpose);
  return ring.verifying.some((key) => macMatches(given, mac(key, purpose, fields)));
}

/**
 * `base64url(JSON payload).base64url(HMAC)`: URL-safe, fits in a path segment. The payload is
 * readable by whoever holds the token (it is signed, not encrypted): put no secrets in it.
 */
export function signPayload(ring: KeyRing, purpose: string, payload: unknown): string {
  const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  return `${body}.${signedMac(ring, purpose, [body]).toString('base64url')}`;
}

/** The payload of a token this service signed for `purpose` with a key of the ring, or undefined when it was not. */
export function verifyPayload(ring: KeyRing, purpose: string, token: unknown): unknown {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS) return undefined;
  const dot = token.indexOf('.');
  if (dot <= 0) return undefined;
  const body = token.slice(0, dot);
  if (!macVerifies(ring, purpose, [body], token.slice(dot + 1))) return undefined;
  try {
    return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
