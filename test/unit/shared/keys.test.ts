import { fromS3Key, profileKeyFor, toS3Key, userIdOfS3Key, validateKey, validatePrefix } from '../../../lambda/shared/keys';

describe('validateKey', () => {
  it.each([
    'q1.csv',
    'reports/q1.csv',
    'reports/2024/q1 final.csv',
    'données/été.csv',
    'a.b/c..d/e',
    '.hidden',
    'x'.repeat(1024),
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
    ['x'.repeat(1025), 'over 1024 bytes'],
    ['é'.repeat(513), 'over 1024 bytes of UTF-8'],
  ])('refuses %p (%s) with InvalidKey', (key, _why) => {
    expect(() => validateKey(key)).toThrow(expect.objectContaining({ code: 'InvalidKey', statusCode: 400 }));
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
