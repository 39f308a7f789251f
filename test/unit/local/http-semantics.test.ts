import { checkWriteConditions, evaluateReadConditions, selectRange } from '../../../local/s3/http-semantics';
import { S3Error } from '../../../local/s3/xml';

const status = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as S3Error).status;
  }
  return 'ok';
};

describe('selectRange', () => {
  it.each([
    ['bytes=0-0', 10, { start: 0, end: 0 }],
    ['bytes=2-4', 10, { start: 2, end: 4 }],
    ['bytes=5-', 10, { start: 5, end: 9 }],
    ['bytes=-3', 10, { start: 7, end: 9 }],
    ['bytes=-30', 10, { start: 0, end: 9 }],
    ['bytes=8-100', 10, { start: 8, end: 9 }],
  ])('selects %s of a %i-byte object', (header, size, range) => {
    expect(selectRange(header, size)).toEqual(range);
  });

  it.each(['bytes=0-1,3-4', 'bytes=4-2', 'items=0-1', 'bytes=-'])('ignores %s and serves the whole object, as S3 does', (header) => {
    expect(selectRange(header, 10)).toBeUndefined();
  });

  it.each([
    ['bytes=10-', 10],
    ['bytes=-0', 10],
    ['bytes=0-0', 0],
  ])('answers 416 with the object size for %s of %i bytes', (header, size) => {
    expect(status(() => selectRange(header, size))).toBe(416);
  });
});

describe('conditional requests', () => {
  const object = { etag: 'abc', lastModified: '2026-01-02T03:04:05.678Z' };

  it('fails If-Match with another ETag and passes it with the same one, quoted or not', () => {
    expect(evaluateReadConditions({ 'if-match': '"other"' }, object)).toBe('precondition-failed');
    expect(evaluateReadConditions({ 'if-match': '"abc"' }, object)).toBe('ok');
    expect(evaluateReadConditions({ 'if-match': 'abc' }, object)).toBe('ok');
  });

  it('answers not-modified for a matching If-None-Match, and lets it override If-Modified-Since', () => {
    expect(evaluateReadConditions({ 'if-none-match': '"abc"', 'if-modified-since': 'Thu, 01 Jan 2026 00:00:00 GMT' }, object)).toBe('not-modified');
    expect(evaluateReadConditions({ 'if-none-match': '"x"', 'if-modified-since': 'Sat, 02 Jan 2027 00:00:00 GMT' }, object)).toBe('ok');
  });

  it('compares dates in whole seconds', () => {
    expect(evaluateReadConditions({ 'if-modified-since': 'Fri, 02 Jan 2026 03:04:05 GMT' }, object)).toBe('not-modified');
    expect(evaluateReadConditions({ 'if-unmodified-since': 'Fri, 02 Jan 2026 03:04:04 GMT' }, object)).toBe('precondition-failed');
  });

  it('refuses a conditional write whose condition does not hold', () => {
    expect(status(() => checkWriteConditions({ 'if-none-match': '*' }, { etag: 'abc' }))).toBe(412);
    expect(status(() => checkWriteConditions({ 'if-none-match': '*' }, undefined))).toBe('ok');
    expect(status(() => checkWriteConditions({ 'if-match': '"abc"' }, undefined))).toBe(404);
    expect(status(() => checkWriteConditions({ 'if-match': '"x"' }, { etag: 'abc' }))).toBe(412);
    expect(status(() => checkWriteConditions({ 'if-match': '"abc"' }, { etag: 'abc' }))).toBe('ok');
  });
});
