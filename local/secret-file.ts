/**
 * The local service's own secrets (the ID-token signing key, the signing secret the local key
 * secrets start from), each kept in a file of the data folder so tokens, cursors and upload ids
 * survive a restart.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** 32 random bytes, as 64 hex digits. */
const SECRET_BYTES = 32;

/**
 * The secret in `path` as hex, or a new one written there first (mode 0600) when the file is
 * missing or holds less than SECRET_BYTES of hex.
 */
export function loadOrCreateHexSecret(path: string): string {
  try {
    const text = readFileSync(path, 'utf8').trim();
    if (new RegExp(`^(?:[0-9a-f]{2}){${SECRET_BYTES},}$`, 'i').test(text)) return text;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secret = randomBytes(SECRET_BYTES).toString('hex');
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, secret + '\n', { mode: 0o600 });
  return secret;
}
