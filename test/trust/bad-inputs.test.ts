import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { idTokenClaims, signIdToken } from '../../local/auth';
import { ApiUser, call, putPresigned, snapshot, startService, type MultipartSession, type Started } from './helpers';

/**
 * Bad inputs over real HTTP: each case names the status and JSON error code it must get, never a
 * 5xx, and the raw buckets must list exactly the same objects before and after it.
 */
jest.setTimeout(60_000);

const USER = 'carol';
const MiB = 1024 * 1024;
let started: Started;
let carol: ApiUser;
let session: MultipartSession;
let partEtags: string[];
let abortedId: string;
let tried = 0;
let asExpected = 0;
let written = 0;

interface Case {
  name: string;
  method: string;
  path: () => string;
  body?: () => unknown;
  /** The Authorization header; defaults to carol's bearer token; null sends none. */
  authorization?: () => string | null;
  headers?: Record<string, string>;
  status: number;
  /** `error.code`; undefined only for HEAD, which has no body. */
  code?: string;
}

const upload = (body: unknown): Pick<Case, 'method' | 'path' | 'body'> => ({ method: 'POST', path: () => '/uploads', body: () => body });
const createWith = (fields: Record<string, unknown>) => upload({ key: 'ok/file.csv', contentType: 'text/csv', size: 10, ...fields });
const signWith = (partNumbers: unknown) => ({ method: 'POST', path: () => `/uploads/${session.uploadId}/parts`, body: () => ({ key: session.key, partNumbers }) });
const completeWith = (parts: unknown, key?: string) => ({
  method: 'POST',
  path: () => `/uploads/${session.uploadId}/complete`,
  body: () => ({ key: key ?? session.key, parts: typeof parts === 'function' ? (parts as () => unknown)() : parts }),
});
const etag = (n: number) => partEtags[n - 1]!;

function jwt(header: object, payload: object, key: Buffer): string {
  const unsigned = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${unsigned}.${createHmac('sha256', key).update(unsigned).digest('base64url')}`;
}
const jwtKey = () => Buffer.from(readFileSync(join(started.dir, 'jwt-key'), 'utf8').trim(), 'hex');

const CASES: Case[] = [
  // ---- keys
  { name: 'a key over 1024 bytes', ...createWith({ key: 'k'.repeat(1025) }), status: 400, code: 'InvalidKey' },
  { name: 'a multi-byte key over 1024 bytes (342 × €)', ...createWith({ key: '€'.repeat(342) }), status: 400, code: 'InvalidKey' },
  { name: 'a key of exactly 1024 bytes plus a folder prefix over the limit', ...createWith({ key: `a/${'b'.repeat(1023)}` }), status: 400, code: 'InvalidKey' },
  { name: 'a key that is not valid UTF-8 (%FF) in the path', method: 'GET', path: () => '/buckets/uploads/objects/a%FF.csv', status: 400, code: 'InvalidKey' },
  { name: 'a key with a lone surrogate in JSON', ...createWith({ key: 'a\ud800.csv' }), status: 400, code: 'InvalidKey' },
  { name: 'a key with NUL', ...createWith({ key: 'a\u0000b.csv' }), status: 400, code: 'InvalidKey' },
  { name: 'a key with %00 in the path', method: 'GET', path: () => '/buckets/uploads/objects/a%00b.csv', status: 400, code: 'InvalidKey' },
  { name: 'a key with a newline', ...createWith({ key: 'a\nb.csv' }), status: 400, code: 'InvalidKey' },
  { name: 'a key with DEL', ...createWith({ key: 'a\u007fb.csv' }), status: 400, code: 'InvalidKey' },
  { name: 'a key with a C1 control (U+0085)', ...createWith({ key: 'a\u0085b.csv' }), status: 400, code: 'InvalidKey' },
  { name: 'a key ".."', ...createWith({ key: '..' }), status: 400, code: 'InvalidKey' },
  { name: 'a key with a ".." segment', ...createWith({ key: 'a/../b.csv' }), status: 400, code: 'InvalidKey' },
  { name: 'a key with a "." segment', ...createWith({ key: './b.csv' }), status: 400, code: 'InvalidKey' },
  { name: 'a key with "//"', ...createWith({ key: 'a//b.csv' }), status: 400, code: 'InvalidKey' },
  { name: 'a key with a backslash', ...createWith({ key: 'a\\b.csv' }), status: 400, code: 'InvalidKey' },
  { name: 'a key with a trailing "/"', ...createWith({ key: 'reports/' }), status: 400, code: 'InvalidKey' },
  { name: 'a key with a leading "/"', ...createWith({ key: '/reports/a.csv' }), status: 400, code: 'InvalidKey' },
  { name: 'an empty key', ...createWith({ key: '' }), status: 400, code: 'InvalidKey' },
  { name: 'a key that is a number', ...createWith({ key: 123 }), status: 400, code: 'InvalidKey' },
  { name: 'no key', ...upload({ contentType: 'text/csv', size: 10 }), status: 400, code: 'InvalidKey' },
  { name: 'a trailing "/" on DELETE', method: 'DELETE', path: () => '/buckets/uploads/objects/reports/', status: 400, code: 'InvalidKey' },
  { name: 'a ".." segment on HEAD', method: 'HEAD', path: () => '/buckets/uploads/objects/a/../b.csv', status: 400 },
  // ---- sizes
  { name: 'a negative size', ...createWith({ size: -1 }), status: 400, code: 'InvalidSize' },
  { name: 'a fractional size', ...createWith({ size: 1.5 }), status: 400, code: 'InvalidSize' },
  { name: 'a size that is a string', ...createWith({ size: '10' }), status: 400, code: 'InvalidSize' },
  { name: 'a size that is null', ...createWith({ size: null }), status: 400, code: 'InvalidSize' },
  { name: 'no size', ...upload({ key: 'a.csv', contentType: 'text/csv' }), status: 400, code: 'InvalidSize' },
  { name: 'a size of 1e400 (Infinity)', method: 'POST', path: () => '/uploads', body: () => '{"key":"a.csv","contentType":"text/csv","size":1e400}', headers: { 'content-type': 'application/json' }, status: 400, code: 'InvalidSize' },
  { name: 'a size over the S3 limit (5 TiB + 1)', ...createWith({ size: 5 * 1024 ** 4 + 1 }), status: 413, code: 'EntityTooLarge' },
  { name: 'a size over 2^53', ...createWith({ size: 2 ** 60 }), status: 400, code: 'InvalidSize' },
  { name: 'rows=0:0 (a zero row count)', method: 'GET', path: () => '/buckets/uploads/objects/data.csv?rows=0:0', status: 400, code: 'InvalidRows' },
  { name: 'a Range on a zero-byte object', method: 'GET', path: () => '/buckets/uploads/objects/empty.txt', headers: { range: 'bytes=0-0' }, status: 416, code: 'InvalidRange' },
  { name: 'a malformed Range', method: 'GET', path: () => '/buckets/uploads/objects/data.csv', headers: { range: 'bytes=abc' }, status: 400, code: 'InvalidRange' },
  // ---- content types
  { name: 'no content type', ...upload({ key: 'a.csv', size: 10 }), status: 400, code: 'InvalidContentType' },
  { name: 'a content type without a subtype', ...createWith({ contentType: 'csv' }), status: 400, code: 'InvalidContentType' },
  { name: 'a content type with a parameter without a value', ...createWith({ contentType: 'text/csv; charset' }), status: 400, code: 'InvalidContentType' },
  { name: 'a content type with a header injected (CRLF)', ...createWith({ contentType: 'text/csv\r\nx-amz-acl: public-read' }), status: 400, code: 'InvalidContentType' },
  { name: 'a content type of 300 characters', ...createWith({ contentType: `text/${'x'.repeat(295)}` }), status: 400, code: 'InvalidContentType' },
  { name: 'a content type that is an array', ...createWith({ contentType: ['text/csv'] }), status: 400, code: 'InvalidContentType' },
  // ---- bodies
  { name: 'a body that is not JSON', method: 'POST', path: () => '/uploads', body: () => '{key:', headers: { 'content-type': 'application/json' }, status: 400, code: 'InvalidJson' },
  { name: 'an empty body', method: 'POST', path: () => '/uploads', status: 400, code: 'InvalidBody' },
  { name: 'a JSON array body', ...upload([]), status: 400, code: 'InvalidBody' },
  { name: 'a JSON string body', method: 'POST', path: () => '/uploads', body: () => '"x"', headers: { 'content-type': 'application/json' }, status: 400, code: 'InvalidBody' },
  { name: 'a JSON null body', method: 'POST', path: () => '/uploads', body: () => 'null', headers: { 'content-type': 'application/json' }, status: 400, code: 'InvalidBody' },
  { name: 'a body over the JSON limit (300 KiB)', ...createWith({ pad: 'x'.repeat(300 * 1024) }), status: 413, code: 'BodyTooLarge' },
  { name: 'a body over the gateway limit (11 MiB)', method: 'POST', path: () => '/uploads', body: () => Buffer.alloc(11 * MiB, 0x20), headers: { 'content-type': 'application/json' }, status: 413, code: 'RequestTooLong' },
  { name: 'a sign request that is not an object', method: 'POST', path: () => `/uploads/${session.uploadId}/parts`, body: () => [1, 2], status: 400, code: 'InvalidBody' },
  // ---- query values
  ...['0', '-1', 'abc', '100000', '1.5', '1e3'].map((limit) => ({
    name: `limit=${limit}`,
    method: 'GET',
    path: () => `/buckets/uploads/objects?limit=${encodeURIComponent(limit)}`,
    status: 400,
    code: 'InvalidLimit',
  })),
  { name: 'delimiter=x', method: 'GET', path: () => '/buckets/uploads/objects?delimiter=x', status: 400, code: 'InvalidDelimiter' },
  { name: 'a cursor that is not one', method: 'GET', path: () => '/buckets/uploads/objects?cursor=garbage', status: 400, code: 'InvalidCursor' },
  { name: 'a prefix with ".."', method: 'GET', path: () => '/buckets/uploads/objects?prefix=..%2F', status: 400, code: 'InvalidKey' },
  // ---- buckets
  { name: 'an unknown bucket (list)', method: 'GET', path: () => '/buckets/nope/objects', status: 404, code: 'NoSuchBucket' },
  { name: 'an unknown bucket (read)', method: 'GET', path: () => '/buckets/nope/objects/a.csv', status: 404, code: 'NoSuchBucket' },
  { name: 'the physical bucket name', method: 'GET', path: () => '/buckets/s3fs-uploads/objects', status: 404, code: 'NoSuchBucket' },
  { name: 'a delete in the read-only bucket', method: 'DELETE', path: () => '/buckets/results/objects/data.csv.profile.json', status: 403, code: 'ReadOnlyBucket' },
  // ---- part numbers
  { name: 'part number 0', ...signWith([0]), status: 400, code: 'InvalidPartNumber' },
  { name: 'part number 10001', ...signWith([10001]), status: 400, code: 'InvalidPartNumber' },
  { name: 'a part number past the planned count', ...signWith([3]), status: 400, code: 'InvalidPartNumber' },
  { name: 'duplicate part numbers to sign', ...signWith([1, 1]), status: 400, code: 'InvalidPartNumber' },
  { name: 'a part number that is a string', ...signWith(['1']), status: 400, code: 'InvalidPartNumber' },
  { name: 'no part numbers', ...signWith([]), status: 400, code: 'InvalidBody' },
  { name: '101 part numbers in one request', ...signWith(Array.from({ length: 101 }, (_, i) => i + 1)), status: 400, code: 'InvalidBody' },
  // ---- completion
  { name: 'parts out of order at completion', ...completeWith(() => [{ partNumber: 2, etag: etag(2) }, { partNumber: 1, etag: etag(1) }]), status: 400, code: 'InvalidPartOrder' },
  { name: 'duplicate parts at completion', ...completeWith(() => [{ partNumber: 1, etag: etag(1) }, { partNumber: 1, etag: etag(1) }]), status: 400, code: 'InvalidPartOrder' },
  { name: 'a wrong ETag at completion', ...completeWith(() => [{ partNumber: 1, etag: '"00000000000000000000000000000000"' }, { partNumber: 2, etag: etag(2) }]), status: 400, code: 'InvalidPart' },
  { name: 'part number 0 at completion', ...completeWith(() => [{ partNumber: 0, etag: etag(1) }]), status: 400, code: 'InvalidPart' },
  { name: 'a part that was never uploaded', ...completeWith(() => [{ partNumber: 1, etag: etag(1) }, { partNumber: 2, etag: etag(2) }, { partNumber: 3, etag: etag(2) }]), status: 400, code: 'InvalidPart' },
  { name: 'parts that do not add up to the declared size', ...completeWith(() => [{ partNumber: 1, etag: etag(1) }]), status: 409, code: 'SizeMismatch' },
  { name: 'no parts at completion', ...completeWith([]), status: 400, code: 'InvalidBody' },
  { name: 'another key at completion', ...completeWith(() => [{ partNumber: 1, etag: etag(1) }], 'other.bin'), status: 400, code: 'KeyMismatch' },
  { name: 'a completion for an unknown upload id', method: 'POST', path: () => '/uploads/not-an-upload/complete', body: () => ({ key: 'x.bin', parts: [{ partNumber: 1, etag: '"x"' }] }), status: 404, code: 'NoSuchUpload' },
  { name: 'a completion for an aborted upload', method: 'POST', path: () => `/uploads/${abortedId}/complete`, body: () => ({ key: 'aborted.bin', parts: [{ partNumber: 1, etag: '"x"' }] }), status: 404, code: 'NoSuchUpload' },
  { name: 'a parts listing without a key', method: 'GET', path: () => `/uploads/${session.uploadId}`, status: 400, code: 'InvalidKey' },
  // ---- tokens
  { name: 'no token', method: 'GET', path: () => '/buckets', authorization: () => null, status: 401, code: 'Unauthorized' },
  { name: 'no token on an upload', ...createWith({}), authorization: () => null, status: 401, code: 'Unauthorized' },
  { name: 'a Basic authorization header', method: 'GET', path: () => '/buckets', authorization: () => 'Basic Y2Fyb2w6eA==', status: 401, code: 'Unauthorized' },
  { name: 'a malformed bearer token', method: 'GET', path: () => '/buckets', authorization: () => 'Bearer not.a.jwt!', status: 401, code: 'Unauthorized' },
  { name: 'a bearer token of two parts', method: 'GET', path: () => '/buckets', authorization: () => 'Bearer abc.def', status: 401, code: 'Unauthorized' },
  { name: 'an expired token', method: 'GET', path: () => '/buckets', authorization: () => `Bearer ${signIdToken(jwtKey(), USER, { ttlSeconds: 60, now: Date.now() - 3_600_000 })}`, status: 401, code: 'Unauthorized' },
  { name: 'a token signed with another key', method: 'GET', path: () => '/buckets', authorization: () => `Bearer ${signIdToken(Buffer.alloc(32, 9), USER)}`, status: 401, code: 'Unauthorized' },
  { name: 'an unsigned token (alg none)', method: 'GET', path: () => '/buckets', authorization: () => `Bearer ${jwt({ alg: 'none' }, idTokenClaims(USER), jwtKey()).replace(/\.[^.]+$/, '.x')}`, status: 401, code: 'Unauthorized' },
  { name: 'a token whose sub is a path', method: 'GET', path: () => '/buckets', authorization: () => `Bearer ${jwt({ alg: 'HS256', typ: 'JWT' }, { ...idTokenClaims(USER), sub: '../alice' }, jwtKey())}`, status: 401, code: 'Unauthorized' },
  { name: 'a token without exp', method: 'GET', path: () => '/buckets', authorization: () => `Bearer ${jwt({ alg: 'HS256', typ: 'JWT' }, { ...idTokenClaims(USER), exp: undefined }, jwtKey())}`, status: 401, code: 'Unauthorized' },
  // ---- routes
  { name: 'a method the route does not have', method: 'PUT', path: () => '/buckets', status: 405, code: 'MethodNotAllowed' },
  { name: 'an unknown route', method: 'GET', path: () => '/nope', status: 404, code: 'NoSuchRoute' },
];

beforeAll(async () => {
  started = await startService();
  carol = new ApiUser(started.service.apiUrl, started.service.token(USER));
  await carol.upload('data.csv', Buffer.from('a,b\n1,2\n'), 'text/csv');
  await carol.upload('empty.txt', Buffer.alloc(0), 'text/plain');
  // A multipart session with both parts uploaded (8 MiB + 1 MiB) but not completed.
  session = await carol.createMultipart('big.bin', 9 * MiB, 'application/octet-stream');
  const urls = await carol.signParts(session, [1, 2]);
  partEtags = [await putPresigned(urls.get(1)!, Buffer.alloc(8 * MiB, 1), {}), await putPresigned(urls.get(2)!, Buffer.alloc(MiB, 2), {})];
  const aborted = await carol.createMultipart('aborted.bin', 9 * MiB, 'application/octet-stream');
  await carol.expect('DELETE', `/uploads/${aborted.uploadId}?key=aborted.bin`, 204);
  abortedId = aborted.uploadId;
  await started.service.processing.idle();
});

afterAll(async () => {
  console.log(`bad inputs: ${tried} tried, ${asExpected} answered as expected, ${written} objects written`);
  await started?.stop();
});

describe('bad inputs', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('answers %s with its status and code and writes nothing', async (_, c) => {
    const before = await snapshot(started.service);
    const authorization = c.authorization ? c.authorization() : `Bearer ${carol.token}`;
    const res = await call(started.service.apiUrl, c.method, c.path(), {
      headers: { ...(authorization ? { authorization } : {}), ...c.headers },
      ...(c.body ? { body: c.body() } : {}),
    });
    await started.service.processing.idle();
    const after = await snapshot(started.service);
    tried++;
    written += after.filter((line) => !before.includes(line)).length;
    const got = { status: res.status, code: res.code };
    const wanted = { status: c.status, code: c.code };
    if (JSON.stringify(got) === JSON.stringify(wanted) && res.status < 500 && JSON.stringify(after) === JSON.stringify(before)) asExpected++;
    expect(got).toEqual(wanted);
    expect(res.status).toBeLessThan(500);
    if (c.method !== 'HEAD') expect(res.json).toEqual({ error: { code: c.code, message: expect.any(String) } });
    expect(after).toEqual(before);
  });

  it('leaves the unfinished multipart upload completable with the right parts', async () => {
    const parts = await carol.listParts(session);
    expect(parts.map((p) => [p.partNumber, p.size])).toEqual([
      [1, 8 * MiB],
      [2, MiB],
    ]);
  });
});
