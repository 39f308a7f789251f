import { base32Decode, base32Encode, hotp, matchTotp, totp } from '../../../local/cognito/totp';

describe('RFC 4648 base32', () => {
  it.each([
    ['', ''],
    ['f', 'MY'],
    ['fo', 'MZXQ'],
    ['foo', 'MZXW6'],
    ['foob', 'MZXW6YQ'],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI'],
  ])('encodes %j as %s (padding left off) and decodes it back', (text, encoded) => {
    expect(base32Encode(Buffer.from(text))).toBe(encoded);
    expect(base32Decode(encoded).toString()).toBe(text);
  });

  it('decodes lower case, spaces and padding as people paste them', () => {
    expect(base32Decode('mzxw 6ytb oi======').toString()).toBe('foobar');
  });

  it('refuses a character outside the alphabet', () => {
    expect(() => base32Decode('MZX1')).toThrow(RangeError);
  });
});

describe('RFC 4226 HOTP', () => {
  it('gives the appendix D values for counters 0 to 9', () => {
    const secret = Buffer.from('12345678901234567890');
    expect(Array.from({ length: 10 }, (_, i) => hotp(secret, i))).toEqual([
      '755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489',
    ]);
  });
});

describe('RFC 6238 TOTP', () => {
  // Appendix B: the seeds are the ASCII digits repeated to the hash's length.
  const seeds = {
    sha1: Buffer.from('12345678901234567890'),
    sha256: Buffer.from('12345678901234567890123456789012'),
    sha512: Buffer.from('1234567890123456789012345678901234567890123456789012345678901234'),
  };
  it.each([
    [59, '94287082', '46119246', '90693936'],
    [1111111109, '07081804', '68084774', '25091201'],
    [1111111111, '14050471', '67062674', '99943326'],
    [1234567890, '89005924', '91819424', '93441116'],
    [2000000000, '69279037', '90698825', '38618901'],
    [20000000000, '65353130', '77737706', '47863826'],
  ])('at %i s gives the appendix B codes', (seconds, sha1, sha256, sha512) => {
    const at = seconds * 1000;
    expect(totp(seeds.sha1, at, { digits: 8 })).toBe(sha1);
    expect(totp(seeds.sha256, at, { digits: 8, algorithm: 'sha256' })).toBe(sha256);
    expect(totp(seeds.sha512, at, { digits: 8, algorithm: 'sha512' })).toBe(sha512);
  });

  it('matches a code of the step before, now or after, and names the step', () => {
    const secret = seeds.sha1;
    const now = 1111111111 * 1000; // step 37037037
    expect(matchTotp(secret, totp(secret, now), now)).toBe(37037037);
    expect(matchTotp(secret, totp(secret, now - 30_000), now)).toBe(37037036);
    expect(matchTotp(secret, totp(secret, now + 30_000), now)).toBe(37037038);
  });

  it('refuses a code two steps away, or that is not six digits', () => {
    const secret = seeds.sha1;
    const now = 1111111111 * 1000;
    expect(matchTotp(secret, totp(secret, now - 60_000), now)).toBeUndefined();
    expect(matchTotp(secret, totp(secret, now) + '0', now)).toBeUndefined();
    expect(matchTotp(secret, ' ' + totp(secret, now).slice(1), now)).toBeUndefined();
  });
});
