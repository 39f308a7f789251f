/**
 * RFC 6238 TOTP (over RFC 4226 HOTP) and the RFC 4648 base32 that authenticator apps take secrets
 * in: what the local Cognito endpoint checks SOFTWARE_TOKEN_MFA codes with. Time is always passed
 * in, so tests choose the step.
 */
import { createHmac } from 'node:crypto';

export type TotpAlgorithm = 'sha1' | 'sha256' | 'sha512';

export interface TotpOptions {
  /** Seconds per step (X in RFC 6238). Cognito and authenticator apps: 30. */
  stepSeconds?: number;
  /** Code length. Cognito: 6. */
  digits?: number;
  /** Cognito and the apps' default: SHA-1. */
  algorithm?: TotpAlgorithm;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function base32Encode(data: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of data) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** Accepts lower case, spaces and `=` padding, as people copy secrets. */
export function base32Decode(text: string): Buffer {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of clean) {
    const index = ALPHABET.indexOf(char);
    if (index < 0) throw new RangeError(`"${char}" is not a base32 character`);
    value = ((value << 5) | index) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

/** RFC 4226: the HMAC of the 8-byte counter, dynamically truncated to `digits` decimal digits. */
export function hotp(secret: Buffer, counter: number, digits = 6, algorithm: TotpAlgorithm = 'sha1'): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, secret).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The time step a moment falls in: floor(unix seconds / step). */
export function totpStep(nowMs: number, stepSeconds = 30): number {
  return Math.floor(nowMs / 1000 / stepSeconds);
}

export function totp(secret: Buffer, nowMs: number, options: TotpOptions = {}): string {
  return hotp(secret, totpStep(nowMs, options.stepSeconds), options.digits, options.algorithm);
}

/**
 * The step whose code `code` is, looking `window` steps either side of now (RFC 6238 section 5.2's
 * allowance for clock drift and typing time), or undefined when none matches.
 */
export function matchTotp(secret: Buffer, code: string, nowMs: number, options: TotpOptions & { window?: number } = {}): number | undefined {
  const digits = options.digits ?? 6;
  if (!new RegExp(`^\\d{${digits}}$`).test(code)) return undefined;
  const current = totpStep(nowMs, options.stepSeconds);
  const window = options.window ?? 1;
  for (let step = current - window; step <= current + window; step++) {
    if (step >= 0 && hotp(secret, step, digits, options.algorithm) === code) return step;
  }
  return undefined;
}
