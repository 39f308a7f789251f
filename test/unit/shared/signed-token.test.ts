import { decodeCursor, encodeCursor } from '../../../lambda/shared/cursor';
import { mac, signPayload, verifyPayload } from '../../../lambda/shared/signed-token';
import { fixedSigningKeys } from '../../../lambda/shared/signing-keys';

const KEY = 'the-one-key-of-these-tests-0123456789';
/** Every purpose under the same key: what domain separation alone must hold apart. */
const SAME_KEY = fixedSigningKeys({ cursor: KEY, upload: KEY });
const SECRET = SAME_KEY.ring('upload');
const CURSOR_KEYS = SAME_KEY.ring('cursor');

/**
 * The last character of an unpadded base64url string of 32 bytes carries 2 bits of data and 4
 * unused ones: this swaps it for another that decodes to the same bytes (same top 2 bits).
 */
function sameBytesOtherSpelling(token: string): string {
  const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const i = ALPHABET.indexOf(token.at(-1)!);
  const other = ALPHABET[(i & 0b110000) | ((i + 1) & 0b001111)]!;
  return token.slice(0, -1) + other;
}
const scope = { userId: 'u1', bucket: 'uploads', prefix: 'a/', delimiter: '/' };

describe('signed tokens', () => {
  it('round-trips a payload', () => {
    const token = signPayload(SECRET, 'upload', { a: 1, k: 'é/x' });

    expect(verifyPayload(SECRET, 'upload', token)).toEqual({ a: 1, k: 'é/x' });
  });

  it('is URL-safe', () => {
    const token = signPayload(SECRET, 'upload', { k: '???>>>~~~' });

    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });

  it('refuses a token whose payload was changed', () => {
    const token = signPayload(SECRET, 'upload', { size: 1 });
    const forged = Buffer.from(JSON.stringify({ size: 2 })).toString('base64url') + token.slice(token.indexOf('.'));

    expect(verifyPayload(SECRET, 'upload', forged)).toBeUndefined();
  });

  it('refuses a token signed with another secret', () => {
    const other = fixedSigningKeys({ upload: 'another-key-another-key-another-key' }).ring('upload');

    expect(verifyPayload(SECRET, 'upload', signPayload(other, 'upload', {}))).toBeUndefined();
  });

  it('refuses a token signed with the same key for another purpose (the MAC covers the purpose)', () => {
    const body = Buffer.from(JSON.stringify({ v: 1 })).toString('base64url');
    const forCursor = `${body}.${mac(KEY, 'cursor', [body]).toString('base64url')}`;

    expect(verifyPayload(SECRET, 'upload', forCursor)).toBeUndefined();
    expect(verifyPayload(CURSOR_KEYS, 'cursor', signPayload(SECRET, 'upload', { v: 1 }))).toBeUndefined();
  });

  it('refuses to sign a kind of token with a key of another purpose', () => {
    expect(() => signPayload(CURSOR_KEYS, 'upload', {})).toThrow('The cursor key does not sign upload tokens');
  });

  it('accepts a token signed with the previous key while the ring still verifies with it', () => {
    const before = fixedSigningKeys({ upload: 'key-before-rotation-0123456789abcdef' }).ring('upload');
    const after = fixedSigningKeys({ upload: { current: 'key-after-rotation-0123456789abcdefg', previous: before.signing } }).ring('upload');
    const token = signPayload(before, 'upload', { a: 1 });

    expect(verifyPayload(after, 'upload', token)).toEqual({ a: 1 });
    expect(verifyPayload(fixedSigningKeys({ upload: after.signing }).ring('upload'), 'upload', token)).toBeUndefined();
  });

  it('refuses a token whose MAC was respelled to decode to the same bytes', () => {
    const token = signPayload(SECRET, 'upload', { size: 1 });
    const respelled = sameBytesOtherSpelling(token);

    expect(Buffer.from(respelled.split('.')[1]!, 'base64url')).toEqual(Buffer.from(token.split('.')[1]!, 'base64url'));
    expect(verifyPayload(SECRET, 'upload', respelled)).toBeUndefined();
  });

  it.each(['', '.', 'abc', 'abc.', 42, null])('refuses the malformed token %p', (token) => {
    expect(verifyPayload(SECRET, 'upload', token)).toBeUndefined();
  });
});

describe('cursors', () => {
  it('round-trips a continuation token for the same scope', () => {
    const cursor = encodeCursor(CURSOR_KEYS, scope, 'continue-here');

    expect(decodeCursor(CURSOR_KEYS, scope, cursor)).toBe('continue-here');
  });

  it.each([
    ['another user', { ...scope, userId: 'u2' }],
    ['another bucket', { ...scope, bucket: 'results' }],
    ['another prefix', { ...scope, prefix: 'b/' }],
    ['another delimiter', { ...scope, delimiter: '' }],
  ])('refuses a cursor replayed for %s', (_name, other) => {
    const cursor = encodeCursor(CURSOR_KEYS, scope, 't');

    expect(() => decodeCursor(CURSOR_KEYS, other, cursor)).toThrow(expect.objectContaining({ code: 'InvalidCursor' }));
  });

  it('refuses a cursor whose MAC was respelled to decode to the same bytes', () => {
    const cursor = encodeCursor(CURSOR_KEYS, scope, 'continue-here');

    expect(() => decodeCursor(CURSOR_KEYS, scope, sameBytesOtherSpelling(cursor))).toThrow(expect.objectContaining({ code: 'InvalidCursor' }));
  });

  it('refuses a tampered cursor', () => {
    const cursor = encodeCursor(CURSOR_KEYS, scope, 't');

    expect(() => decodeCursor(CURSOR_KEYS, scope, `${cursor}x`)).toThrow(expect.objectContaining({ code: 'InvalidCursor' }));
  });
});
