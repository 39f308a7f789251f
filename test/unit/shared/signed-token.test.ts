import { decodeCursor, encodeCursor } from '../../../lambda/shared/cursor';
import { signToken, verifyToken } from '../../../lambda/shared/signed-token';

const SECRET = 's3cret';

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
    const token = signToken(SECRET, 'upload', { a: 1, k: 'é/x' });

    expect(verifyToken(SECRET, 'upload', token)).toEqual({ a: 1, k: 'é/x' });
  });

  it('is URL-safe', () => {
    const token = signToken(SECRET, 'upload', { k: '???>>>~~~' });

    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });

  it('refuses a token whose payload was changed', () => {
    const token = signToken(SECRET, 'upload', { size: 1 });
    const forged = Buffer.from(JSON.stringify({ size: 2 })).toString('base64url') + token.slice(token.indexOf('.'));

    expect(verifyToken(SECRET, 'upload', forged)).toBeUndefined();
  });

  it('refuses a token signed with another secret', () => {
    expect(verifyToken(SECRET, 'upload', signToken('other', 'upload', {}))).toBeUndefined();
  });

  it('refuses a token signed for another purpose', () => {
    expect(verifyToken(SECRET, 'upload', signToken(SECRET, 'cursor', {}))).toBeUndefined();
  });

  it('refuses a token whose MAC was respelled to decode to the same bytes', () => {
    const token = signToken(SECRET, 'upload', { size: 1 });
    const respelled = sameBytesOtherSpelling(token);

    expect(Buffer.from(respelled.split('.')[1]!, 'base64url')).toEqual(Buffer.from(token.split('.')[1]!, 'base64url'));
    expect(verifyToken(SECRET, 'upload', respelled)).toBeUndefined();
  });

  it.each(['', '.', 'abc', 'abc.', 42, null])('refuses the malformed token %p', (token) => {
    expect(verifyToken(SECRET, 'upload', token)).toBeUndefined();
  });
});

describe('cursors', () => {
  it('round-trips a continuation token for the same scope', () => {
    const cursor = encodeCursor(SECRET, scope, 'continue-here');

    expect(decodeCursor(SECRET, scope, cursor)).toBe('continue-here');
  });

  it.each([
    ['another user', { ...scope, userId: 'u2' }],
    ['another bucket', { ...scope, bucket: 'results' }],
    ['another prefix', { ...scope, prefix: 'b/' }],
    ['another delimiter', { ...scope, delimiter: '' }],
  ])('refuses a cursor replayed for %s', (_name, other) => {
    const cursor = encodeCursor(SECRET, scope, 't');

    expect(() => decodeCursor(SECRET, other, cursor)).toThrow(expect.objectContaining({ code: 'InvalidCursor' }));
  });

  it('refuses a cursor whose MAC was respelled to decode to the same bytes', () => {
    const cursor = encodeCursor(SECRET, scope, 'continue-here');

    expect(() => decodeCursor(SECRET, scope, sameBytesOtherSpelling(cursor))).toThrow(expect.objectContaining({ code: 'InvalidCursor' }));
  });

  it('refuses a tampered cursor', () => {
    const cursor = encodeCursor(SECRET, scope, 't');

    expect(() => decodeCursor(SECRET, scope, `${cursor}x`)).toThrow(expect.objectContaining({ code: 'InvalidCursor' }));
  });
});
