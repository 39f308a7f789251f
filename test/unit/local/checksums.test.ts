import { randomBytes } from 'node:crypto';
import { checksumOf, combineCrc, createChecksum, multipartChecksum } from '../../../local/s3/checksums';

/** The embedded S3's checksums against the published check values, and CRC combination against a second pass. */
describe('checksums', () => {
  const check = Buffer.from('123456789');

  it.each([
    ['CRC32', 'cbf43926'],
    ['CRC32C', 'e3069283'],
    ['CRC64NVME', 'ae8b14860a799888'],
    ['SHA1', 'f7c3bc1d808e04732adf679965ccc34ca7ae3441'],
    ['SHA256', '15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225'],
  ] as const)('%s of "123456789" is the catalogue check value', (algorithm, hex) => {
    expect(checksumOf(algorithm, check).toString('hex')).toBe(hex);
  });

  it.each(['CRC32', 'CRC32C', 'CRC64NVME'] as const)('%s streams: any split of the input gives the same digest', (algorithm) => {
    const data = randomBytes(10_007);
    for (const cut of [0, 1, 7, 8, 9, 5003, 10_006]) {
      const hash = createChecksum(algorithm);
      hash.update(data.subarray(0, cut));
      hash.update(data.subarray(cut));
      expect(hash.digest()).toEqual(checksumOf(algorithm, data));
    }
  });

  it.each(['CRC32', 'CRC32C', 'CRC64NVME'] as const)('%s combines: crc(A‖B) from crc(A), crc(B) and |B|', (algorithm) => {
    for (const [a, b] of [[0, 0], [0, 9], [9, 0], [1, 1], [4097, 65_536 + 3]]) {
      const x = randomBytes(a!);
      const y = randomBytes(b!);
      expect(combineCrc(algorithm, checksumOf(algorithm, x), checksumOf(algorithm, y), y.length)).toEqual(checksumOf(algorithm, Buffer.concat([x, y])));
    }
  });

  it("gives a multipart object's full-object CRC and its composite digest as S3 defines them", () => {
    const parts = [randomBytes(300), randomBytes(1), randomBytes(4096)];
    const digests = (algorithm: 'CRC32C' | 'SHA256') => parts.map((p) => ({ checksum: checksumOf(algorithm, p), size: p.length }));
    expect(multipartChecksum('CRC32C', 'FULL_OBJECT', digests('CRC32C'))).toBe(checksumOf('CRC32C', Buffer.concat(parts)).toString('base64'));
    expect(multipartChecksum('SHA256', 'COMPOSITE', digests('SHA256'))).toBe(
      `${checksumOf('SHA256', Buffer.concat(parts.map((p) => checksumOf('SHA256', p)))).toString('base64')}-3`,
    );
  });
});
