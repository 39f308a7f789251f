import { randomBytes } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { combinedCrc32, crc32, crc32Base64, crc32Combine } from '../../../client/crc';

describe('client CRC32', () => {
  it.each([0, 1, 7, 8, 9, 1000, 65_537])('gives zlib\'s CRC32 for %i random bytes', (n) => {
    const data = randomBytes(n);

    expect(crc32(data)).toBe(zlibCrc32(data));
  });

  it('continues from an earlier value as zlib does', () => {
    const [a, b] = [randomBytes(1001), randomBytes(77)];

    expect(crc32(b, crc32(a))).toBe(zlibCrc32(Buffer.concat([a, b])));
  });

  it('combines the CRC32s of consecutive parts into the CRC32 of the whole', () => {
    const parts = [randomBytes(5000), randomBytes(4096), randomBytes(1), randomBytes(333)];

    const whole = combinedCrc32(parts.map((p) => ({ crc32: zlibCrc32(p), length: p.length })));

    expect(whole).toBe(zlibCrc32(Buffer.concat(parts)));
    expect(crc32Combine(zlibCrc32(parts[0]!), zlibCrc32(parts[1]!), parts[1]!.length)).toBe(zlibCrc32(Buffer.concat(parts.slice(0, 2))));
  });

  it('writes a CRC32 as S3 does: base64 of its four big-endian bytes', () => {
    expect(crc32Base64(zlibCrc32('hello'))).toBe('NhCmhg==');
  });
});
