import { decodeUploadId, UPLOAD_SESSION_SECONDS } from '../../../lambda/core/upload';
import { decodeCursor } from '../../../lambda/shared/cursor';
import { mac } from '../../../lambda/shared/signed-token';
import { SIGNING_KEY_NAMES, SIGNING_KEY_PURPOSES, type SigningKeyPurpose } from '../../../lambda/shared/signing-keys';
import { presigningS3Client, TEST_CONFIG, TEST_KEY_VALUES, TEST_KEYS, USER } from '../helpers/events';

/**
 * What someone holding one of the service's keys (leaked from a log, a backup, a misconfigured
 * grant) can mint. Each token is forged exactly as the service signs it (same payload, same MAC
 * over the same domain-separation string), only with the key given; the control row forges with
 * the right key and must be accepted, so a refusal below is the key's doing, not the forgery's.
 */
const NOW = new Date('2025-01-01T00:00:00Z');
const deps = { s3: presigningS3Client(), config: TEST_CONFIG, keys: TEST_KEYS, now: () => NOW };
const e = Math.floor(NOW.getTime() / 1000) + 600;
const scope = { userId: USER, bucket: 'uploads', prefix: '', delimiter: '' };

function token(key: string, purpose: string, payload: unknown): string {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${body}.${mac(key, purpose, [body]).toString('base64url')}`;
}

/** Each kind of credential the service hands out: forge one with a key, and whether the service takes it. */
const KINDS: { kind: string; purpose: SigningKeyPurpose; forge: (key: string) => string; accepted: (t: string) => boolean }[] = [
  {
    kind: 'a pagination cursor',
    purpose: 'cursor',
    forge: (key) => {
      const fields = [scope.userId, scope.bucket, scope.prefix, scope.delimiter, 'next'];
      return `${Buffer.from('next').toString('base64url')}.${mac(key, 'cursor', fields).toString('base64url')}`;
    },
    accepted: (t) => attempt(() => decodeCursor(TEST_KEYS.ring('cursor'), scope, t)),
  },
  {
    kind: 'an upload id (POST /uploads)',
    purpose: 'upload',
    forge: (key) => token(key, 'upload', { v: 1, u: 's3-id', s: USER, k: 'a.csv', z: 10 * 2 ** 20, p: 5 * 2 ** 20, e }),
    accepted: (t) => attempt(() => decodeUploadId(deps, USER, t, 'a.csv')),
  },
];

function attempt(open: () => unknown): boolean {
  try {
    open();
    return true;
  } catch {
    return false;
  }
}

describe('a leaked key mints only its own kind of token', () => {
  it.each(KINDS.map((k) => [k.kind, k] as const))('accepts %s forged with its own key (control)', (_kind, { forge, accepted, purpose }) => {
    expect(accepted(forge(TEST_KEY_VALUES[purpose]))).toBe(true);
  });

  const cases = SIGNING_KEY_NAMES.flatMap((leaked) =>
    KINDS.filter((k) => k.purpose !== leaked).map((k) => [leaked, k.kind, k] as const),
  );
  it.each(cases)('a leaked %s key cannot sign %s', (leaked, _kind, { forge, accepted }) => {
    expect(accepted(forge(TEST_KEY_VALUES[leaked]))).toBe(false);
  });

  // The two the issue names, spelled out.
  it('a leaked cursor key cannot sign an upload id (grants are gone with the Companion routes)', () => {
    const cursorKey = TEST_KEY_VALUES.cursor;
    const byKind = Object.fromEntries(KINDS.map((k) => [k.kind, k]));

    expect(byKind['an upload id (POST /uploads)']!.accepted(byKind['an upload id (POST /uploads)']!.forge(cursorKey))).toBe(false);
  });
});

describe('the previous key after a rotation', () => {
  // A token signed just before a rotation must work for its whole lifetime after it.
  it('is accepted for at least the lifetime of every token its key signs', () => {
    expect(SIGNING_KEY_PURPOSES.upload.acceptPreviousSeconds).toBeGreaterThanOrEqual(UPLOAD_SESSION_SECONDS);
  });
});
