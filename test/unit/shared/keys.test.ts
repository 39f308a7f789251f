import {
  fromS3Key,
  MAX_KEY_BYTES,
  MAX_UPLOAD_KEY_BYTES,
  profileKeyFor,
  toS3Key,
  userIdOfS3Key,
  validateKey,
  validatePrefix,
  validateUploadKey,
  validateUserId,
} from '../../../lambda/shared/keys';

describe('validateKey', () => {
  it.each([
    'q1.csv',
    'reports/q1.csv',
    'reports/2024/q1 final.csv',
    'données/été.csv',
    'a.b/c..d/e',
    '.hidden',
    'x'.repeat(981),
  ])('accepts %p', (key) => {
    expect(validateKey(key)).toBe(key);
  });

  it.each([
    ['', 'empty'],
    [undefined, 'missing'],
    [42, 'not a string'],
    ['/abs.csv', 'leading slash'],
    ['a//b.csv', 'empty segment'],
    ['folder/', 'trailing slash'],
    ['../b.csv', 'parent segment'],
    ['a/./b.csv', 'dot segment'],
    ['a/..', 'trailing parent segment'],
    ['a\\b.csv', 'backslash'],
    ['a\u0000b', 'NUL'],
    ['a\nb', 'newline'],
    ['a\u0085b', 'C1 control'],
    ['\ud800x', 'lone surrogate'],
    ['x'.repeat(982), 'over 981 bytes'],
    ['é'.repeat(491), 'over 981 bytes of UTF-8'],
  ])('refuses %p (%s) with InvalidKey', (key, _why) => {
    expect(() => validateKey(key)).toThrow(expect.objectContaining({ code: 'InvalidKey', statusCode: 400 }));
  });
});

describe('key limits', () => {
  const SUB = '3f1c2a4e-5b6d-4e8f-9a0b-1c2d3e4f5a6b'; // a Cognito sub: the longest user id

  it('lets the API name any key whose S3 key fits in 1,024 bytes for the longest user id (981 bytes)', () => {
    expect(MAX_KEY_BYTES).toBe(981);
    expect(Buffer.byteLength(toS3Key(SUB, 'k'.repeat(MAX_KEY_BYTES)))).toBe(1024);
  });

  it('lets an upload have a key whose profile key fits too (968 bytes), and refuses one byte more naming the limit', () => {
    const longest = 'k'.repeat(MAX_UPLOAD_KEY_BYTES);

    expect(MAX_UPLOAD_KEY_BYTES).toBe(968);
    expect(validateUploadKey(longest)).toBe(longest);
    expect(Buffer.byteLength(profileKeyFor(toS3Key(SUB, longest)))).toBe(1024);
    expect(() => validateUploadKey(`${longest}k`)).toThrow(expect.objectContaining({ code: 'InvalidKey', message: expect.stringContaining('968 bytes') }));
  });

  it('counts bytes of UTF-8, not characters', () => {
    expect(() => validateUploadKey('é'.repeat(485))).toThrow(expect.objectContaining({ code: 'InvalidKey' }));
    expect(validateUploadKey('é'.repeat(484))).toHaveLength(484);
  });

  it('takes user ids of at most 36 characters, a Cognito sub\'s length', () => {
    expect(validateUserId(SUB)).toBe(SUB);
    expect(() => validateUserId(`${SUB}x`)).toThrow(expect.objectContaining({ code: 'InvalidUser' }));
  });
});

describe('validatePrefix', () => {
  it.each(['', 'reports/', 'reports/q', 'a/b/', 'r'])('accepts %p', (prefix) => {
    expect(validatePrefix(prefix)).toBe(prefix);
  });

  it('treats a missing prefix as the whole area', () => {
    expect(validatePrefix(undefined)).toBe('');
  });

  it.each(['/', '/a', 'a//', '../', '..', 'a/..', './', 'a\\', 'a\u0007'])('refuses %p with InvalidKey', (prefix) => {
    expect(() => validatePrefix(prefix)).toThrow(expect.objectContaining({ code: 'InvalidKey' }));
  });
});

describe('user areas', () => {
  it('maps an API key into and out of the user area', () => {
    const s3Key = toS3Key('u1', 'reports/q1.csv');

    expect(s3Key).toBe('users/u1/reports/q1.csv');
    expect(fromS3Key('u1', s3Key)).toBe('reports/q1.csv');
  });

  it('does not map a key of another user area', () => {
    expect(fromS3Key('u1', 'users/u10/x.csv')).toBeUndefined();
  });

  it('finds the user of an S3 key, and none outside user areas', () => {
    expect(userIdOfS3Key('users/u1/a.csv')).toBe('u1');
    expect(userIdOfS3Key('other/u1/a.csv')).toBeUndefined();
    expect(userIdOfS3Key('users//a.csv')).toBeUndefined();
  });

  it('puts the profile next to the upload key', () => {
    expect(profileKeyFor('users/u1/a.csv')).toBe('users/u1/a.csv.profile.json');
  });
});

describe('look-alike keys (validateUploadKey)', () => {
  const NFC = 'caf\u00e9/r\u00e9sum\u00e9.csv';
  const NFD = NFC.normalize('NFD');

  it('accepts a key in NFC, and refuses the same name in NFD, saying to send the NFC form', () => {
    expect(NFD).not.toBe(NFC);
    expect(validateUploadKey(NFC)).toBe(NFC);
    expect(() => validateUploadKey(NFD)).toThrow(expect.objectContaining({ code: 'InvalidKey', message: expect.stringContaining('NFC') }));
  });

  it('still reads, lists and deletes a key in NFD (validateKey): objects made another way stay reachable', () => {
    expect(validateKey(NFD)).toBe(NFD);
    expect(validatePrefix(NFD)).toBe(NFD);
  });

  it.each([
    ['a right-to-left override', 'invoice\u202efdp.exe', 'U+202E'],
    ['a left-to-right mark', 'a\u200eb.csv', 'U+200E'],
    ['a first-strong isolate', 'a\u2068b\u2069.csv', 'U+2068'],
    ['an Arabic letter mark', 'a\u061cb.csv', 'U+061C'],
    ['a zero-width space', 'pay\u200broll.csv', 'U+200B'],
    ['a word joiner', 'a\u2060b.csv', 'U+2060'],
    ['a byte-order mark', '\ufeffdata.csv', 'U+FEFF'],
  ])('refuses %s, naming it', (_what, key, named) => {
    expect(() => validateUploadKey(key)).toThrow(expect.objectContaining({ code: 'InvalidKey', message: expect.stringContaining(named) }));
  });

  it.each([
    ['an emoji sequence joined by ZWJ', 'family-\u{1F468}\u200d\u{1F469}\u200d\u{1F467}.png'],
    ['a Persian word with ZWNJ', '\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645.txt'],
    ['right-to-left text without controls', '\u05e9\u05dc\u05d5\u05dd.csv'],
  ])('accepts %s', (_what, key) => {
    expect(validateUploadKey(key)).toBe(key);
  });
});
