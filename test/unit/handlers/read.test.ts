import { GetObjectCommand, HeadObjectCommand, NoSuchKey, NotFound, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import type { ReadRowsFn } from '../../../lambda/core/read';
import { createReadHandler } from '../../../lambda/handlers/read';
import { json, LAMBDA_MAX_RESPONSE_BYTES, proxyResponseBytes, RESPONSE_HEADROOM_BYTES } from '../../../lambda/shared/http';
import { apiEvent, errorCode, parseBody, presigningS3Client, TEST_CONFIG, USER } from '../helpers/events';
import { s3Body } from '../helpers/s3-body';
import {
  CorruptGzipError,
  DecompressionLimitError,
  LineTooLongError,
  NestingTooDeepError,
  RowTooLargeError,
  UnknownColumnError,
  UnsupportedFormatError,
} from '../../../lambda/core/profile/errors';
import { MAX_JSON_DEPTH, MAX_LINE_BYTES } from '../../../lambda/core/profile/limits';
import { ROWS_MAX_RESPONSE_BYTES } from '../../../lambda/core/read-limits';

const s3Mock = mockClient(S3Client);
const readRows = jest.fn<ReturnType<ReadRowsFn>, Parameters<ReadRowsFn>>();
const handler = createReadHandler({ s3: presigningS3Client(), config: TEST_CONFIG, readRows });

const RESOURCE = '/buckets/{bucket}/objects/{key+}';
const LAST_MODIFIED = new Date('2024-05-06T07:08:09Z');
const CSV = 'a,b\n1,é\n';

const get = (key: string, init: { bucket?: string; query?: Record<string, string>; headers?: Record<string, string> } = {}) =>
  handler(
    apiEvent({
      resource: RESOURCE,
      httpMethod: 'GET',
      pathParameters: { bucket: init.bucket ?? 'uploads', key },
      ...(init.query ? { queryStringParameters: init.query } : {}),
      ...(init.headers ? { headers: init.headers } : {}),
    }),
  );

function stored(contentType: string, body: string | Uint8Array) {
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  s3Mock.on(HeadObjectCommand).resolves({ ContentLength: size, ContentType: contentType, ETag: '"etag-1"', LastModified: LAST_MODIFIED });
  s3Mock.on(GetObjectCommand).callsFake((input: { Range?: string }) => {
    const bytes = Buffer.from(body);
    const m = input.Range ? /^bytes=(\d+)-(\d+)$/.exec(input.Range) : null;
    const slice = m ? bytes.subarray(Number(m[1]), Number(m[2]) + 1) : bytes;
    return { Body: s3Body(slice), ContentLength: slice.byteLength, ContentType: contentType, ETag: '"etag-1"' };
  });
}

function location(res: { headers?: Record<string, unknown> }): URL {
  return new URL(String(res.headers?.location));
}

beforeEach(() => {
  s3Mock.reset();
  readRows.mockReset();
});

describe('GET /buckets/{bucket}/objects/{key+}', () => {
  it('returns a small CSV inline with charset, ETag, Last-Modified and Content-Length', async () => {
    stored('text/csv', CSV);

    const res = await get('reports/q1.csv');

    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(CSV);
    expect(res.headers).toMatchObject({
      'content-type': 'text/csv; charset=utf-8',
      etag: '"etag-1"',
      'last-modified': LAST_MODIFIED.toUTCString(),
      'content-length': String(Buffer.byteLength(CSV)),
    });
    expect(s3Mock).toHaveReceivedCommandWith(HeadObjectCommand, { Bucket: 'phys-uploads', Key: `users/${USER}/reports/q1.csv` });
    expect(s3Mock).toHaveReceivedCommandWith(GetObjectCommand, { IfMatch: '"etag-1"' });
  });

  it('decodes a percent-encoded key from the path', async () => {
    stored('text/plain', 'hi');

    await get('dir/my file é+%.txt');

    expect(s3Mock).toHaveReceivedCommandWith(HeadObjectCommand, { Key: `users/${USER}/dir/my file é+%.txt` });
  });

  it('serves a .csv stored with a generic type as text/csv', async () => {
    stored('application/octet-stream', CSV);

    const res = await get('q1.csv');

    expect(res.statusCode).toBe(200);
    expect(res.headers?.['content-type']).toBe('text/csv; charset=utf-8');
  });

  it('reads the results bucket the same way', async () => {
    stored('application/json', '{"rows":3}');

    const res = await get('reports/q1.csv.profile.json', { bucket: 'results' });

    expect(res.statusCode).toBe(200);
    expect(parseBody(res)).toEqual({ rows: 3 });
    expect(s3Mock).toHaveReceivedCommandWith(HeadObjectCommand, { Bucket: 'phys-results', Key: `users/${USER}/reports/q1.csv.profile.json` });
  });

  it('redirects a binary object to a presigned GET', async () => {
    stored('image/png', new Uint8Array([137, 80, 78, 71]));

    const res = await get('pics/a.png');

    expect(res.statusCode).toBe(307);
    const url = location(res);
    expect(url.host).toBe('phys-uploads.s3.us-east-1.amazonaws.com');
    expect(decodeURIComponent(url.pathname)).toBe(`/users/${USER}/pics/a.png`);
    expect(Number(url.searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(900);
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    expect([...url.searchParams.keys()].some((k) => k.toLowerCase().includes('checksum'))).toBe(false);
    expect(s3Mock).not.toHaveReceivedCommand(GetObjectCommand);
  });

  it('redirects a text object over the inline limit', async () => {
    s3Mock.on(HeadObjectCommand).resolves({ ContentLength: TEST_CONFIG.inlineMaxBytes + 1, ContentType: 'text/csv', ETag: '"e"', LastModified: LAST_MODIFIED });

    const res = await get('big.csv');

    expect(res.statusCode).toBe(307);
  });

  it('redirects a text object that is not valid UTF-8', async () => {
    stored('text/plain', new Uint8Array([0x61, 0xe9, 0x62]));

    const res = await get('latin1.txt');

    expect(res.statusCode).toBe(307);
  });

  it('redirects with an attachment disposition when download=1', async () => {
    stored('text/csv', CSV);

    const res = await get('reports/my report é.csv', { query: { download: '1' } });

    expect(res.statusCode).toBe(307);
    expect(location(res).searchParams.get('response-content-disposition')).toBe(
      "attachment; filename*=UTF-8''my%20report%20%C3%A9.csv",
    );
  });

  it('returns 206 with Content-Range for a valid UTF-8 slice', async () => {
    stored('text/csv', CSV);

    const res = await get('q1.csv', { headers: { Range: 'bytes=0-2' } });

    expect(res.statusCode).toBe(206);
    expect(res.body).toBe('a,b');
    expect(res.headers?.['content-range']).toBe(`bytes 0-2/${Buffer.byteLength(CSV)}`);
    expect(s3Mock).toHaveReceivedCommandWith(GetObjectCommand, { Range: 'bytes=0-2' });
  });

  it('redirects a range that cuts a UTF-8 character in half', async () => {
    stored('text/csv', CSV);
    const eAt = Buffer.from(CSV).indexOf(0xc3);

    const res = await get('q1.csv', { headers: { range: `bytes=${eAt}-${eAt}` } });

    expect(res.statusCode).toBe(307);
  });

  it('returns 416 InvalidRange for a range past the end', async () => {
    stored('text/csv', CSV);

    const res = await get('q1.csv', { headers: { range: 'bytes=100-200' } });

    expect(res.statusCode).toBe(416);
    expect(errorCode(res)).toBe('InvalidRange');
    expect(res.headers?.['content-range']).toBe(`bytes */${Buffer.byteLength(CSV)}`);
  });

  it.each(['bytes=abc', 'items=0-1', 'bytes=0-1,3-4', 'bytes=5-2', 'bytes=-'])('returns 400 InvalidRange for Range %p', async (range) => {
    stored('text/csv', CSV);

    const res = await get('q1.csv', { headers: { range } });

    expect(res.statusCode).toBe(400);
    expect(errorCode(res)).toBe('InvalidRange');
  });

  it('returns 304 when If-None-Match carries the current ETag', async () => {
    stored('text/csv', CSV);

    const res = await get('q1.csv', { headers: { 'If-None-Match': '"etag-1"' } });

    expect(res.statusCode).toBe(304);
    expect(res.body).toBe('');
    expect(s3Mock).not.toHaveReceivedCommand(GetObjectCommand);
  });

  it('returns 404 NoSuchKey for a missing object', async () => {
    s3Mock.on(HeadObjectCommand).rejects(new NotFound({ message: 'x', $metadata: { httpStatusCode: 404 } }));

    const res = await get('missing.csv');

    expect(res.statusCode).toBe(404);
    expect(errorCode(res)).toBe('NoSuchKey');
  });

  it('returns 404 NoSuchBucket for an unknown bucket', async () => {
    const res = await get('a.csv', { bucket: 'other' });

    expect(res.statusCode).toBe(404);
    expect(errorCode(res)).toBe('NoSuchBucket');
  });

  it('returns 400 InvalidKey for a key that climbs out of the user area', async () => {
    const res = await get('../user-2/secret.csv');

    expect(res.statusCode).toBe(400);
    expect(errorCode(res)).toBe('InvalidKey');
    expect(s3Mock).not.toHaveReceivedCommand(HeadObjectCommand);
  });

  it('returns 503 with Retry-After when S3 is throttling or down', async () => {
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
    s3Mock.on(HeadObjectCommand).rejects(new S3ServiceException({ name: 'SlowDown', $fault: 'server', message: 'slow', $metadata: {} }));

    const res = await get('a.csv');

    expect(res.statusCode).toBe(503);
    expect(errorCode(res)).toBe('ServiceUnavailable');
    expect(res.headers?.['retry-after']).toBe('1');
  });

  it('returns 503 when the connection to S3 is refused', async () => {
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
    s3Mock.on(HeadObjectCommand).rejects(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4569'), { code: 'ECONNREFUSED' }));

    const res = await get('a.csv');

    expect(res.statusCode).toBe(503);
    expect(errorCode(res)).toBe('ServiceUnavailable');
  });

  it('returns 500 without details for an error that is not an outage (a bug)', async () => {
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
    s3Mock.on(HeadObjectCommand).rejects(new TypeError('cannot read properties of undefined'));

    const res = await get('a.csv');

    expect(res.statusCode).toBe(500);
    expect(errorCode(res)).toBe('InternalError');
    expect(res.body).not.toContain('cannot read');
  });
});

describe('active content (HTML, SVG, XML, JavaScript)', () => {
  const PAGE = '<!doctype html><script>alert(document.domain)</script>';

  it.each([
    ['text/html', 'page.html'],
    ['text/html; charset=utf-8', 'page'],
    ['application/xhtml+xml', 'page.xhtml'],
    ['application/xml', 'feed.xml'],
    ['text/xml', 'feed'],
    ['application/rss+xml', 'feed.rss'],
    ['application/javascript', 'app.js'],
    ['text/javascript', 'app.mjs'],
  ])('serves %s (%s) inline as plain text, not to be sniffed, as an attachment', async (contentType, key) => {
    stored(contentType, PAGE);

    const res = await get(`site/${key}`);

    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(PAGE);
    expect(res.headers).toMatchObject({
      'content-type': 'text/plain; charset=utf-8',
      'x-content-type-options': 'nosniff',
      'content-disposition': `attachment; filename*=UTF-8''${key}`,
    });
  });

  it('keeps the type of text that is not active, with nosniff and no attachment', async () => {
    stored('text/csv', CSV);

    const res = await get('q1.csv');

    expect(res.headers).toMatchObject({ 'content-type': 'text/csv; charset=utf-8', 'x-content-type-options': 'nosniff' });
    expect(res.headers?.['content-disposition']).toBeUndefined();
  });

  it('sends HTML over the inline limit to S3 as an octet-stream attachment', async () => {
    s3Mock.on(HeadObjectCommand).resolves({ ContentLength: TEST_CONFIG.inlineMaxBytes + 1, ContentType: 'text/html', ETag: '"e"', LastModified: LAST_MODIFIED });

    const res = await get('site/big page.html');

    expect(res.statusCode).toBe(307);
    const url = location(res);
    expect(url.searchParams.get('response-content-type')).toBe('application/octet-stream');
    expect(url.searchParams.get('response-content-disposition')).toBe("attachment; filename*=UTF-8''big%20page.html");
  });

  it.each([
    ['application/octet-stream', 'page.html'],
    ['', 'logo.svg'],
    ['binary/octet-stream', 'app.js'],
    ['image/svg+xml', 'logo.svg'],
  ])('sends %s named %s (not served inline; a browser would render it) to S3 as an octet-stream attachment', async (contentType, key) => {
    stored(contentType, PAGE);

    const res = await get(key);

    expect(res.statusCode).toBe(307);
    expect(location(res).searchParams.get('response-content-type')).toBe('application/octet-stream');
    expect(location(res).searchParams.get('response-content-disposition')).toBe(`attachment; filename*=UTF-8''${key}`);
  });

  it('sends an SVG with download=1 as an octet-stream attachment', async () => {
    stored('image/svg+xml', '<svg xmlns="http://www.w3.org/2000/svg"/>');

    const res = await get('logo.svg', { query: { download: '1' } });

    expect(location(res).searchParams.get('response-content-type')).toBe('application/octet-stream');
    expect(location(res).searchParams.get('response-content-disposition')).toBe("attachment; filename*=UTF-8''logo.svg");
  });

  it('leaves the type of a redirected binary object alone and shows it inline', async () => {
    stored('image/png', new Uint8Array([137, 80, 78, 71]));

    const url = location(await get('pics/a.png'));

    expect(url.searchParams.get('response-content-type')).toBeNull();
    expect(url.searchParams.get('response-content-disposition')).toBeNull();
  });
});

describe('GET rows', () => {
  it('returns parsed rows from the injected reader, streaming the object into it', async () => {
    stored('text/csv', CSV);
    readRows.mockResolvedValue({ columns: ['a'], rows: [['1']], nextOffset: null });

    const res = await get('q1.csv', { query: { rows: '0:10', columns: 'a' } });

    expect(res.statusCode).toBe(200);
    expect(parseBody(res)).toEqual({ columns: ['a'], rows: [['1']], nextOffset: null });
    expect(readRows).toHaveBeenCalledWith(
      expect.objectContaining({ key: 'q1.csv', contentType: 'text/csv', etag: '"etag-1"' }),
      { offset: 0, limit: 10, columns: ['a'], maxBytes: ROWS_MAX_RESPONSE_BYTES, deadline: expect.any(Number) as unknown },
    );
    expect(s3Mock).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: 'phys-uploads', Key: `users/${USER}/q1.csv` });
  });

  it.each(['abc', '-1:10', '0:0', '0:1001', '1.5:2', '0:', ':5'])('returns 400 InvalidRows for rows=%p', async (rows) => {
    const res = await get('q1.csv', { query: { rows } });

    expect(res.statusCode).toBe(400);
    expect(errorCode(res)).toBe('InvalidRows');
    expect(readRows).not.toHaveBeenCalled();
  });

  it.each([
    [new UnsupportedFormatError('binary'), 400, 'UnsupportedFormat'],
    [new UnknownColumnError('x'), 400, 'UnknownColumn'],
    [new LineTooLongError(3, MAX_LINE_BYTES), 400, 'LineTooLong'],
    [new NestingTooDeepError(2, MAX_JSON_DEPTH), 400, 'NestingTooDeep'],
    [new CorruptGzipError('unexpected end of file'), 400, 'CorruptGzip'],
    [new DecompressionLimitError('a bomb', 200), 400, 'DecompressionLimit'],
    [new RowTooLargeError(0, ROWS_MAX_RESPONSE_BYTES), 413, 'ResponseTooLarge'],
  ])('maps the engine %s to %s %s, naming the limit', async (error, status, code) => {
    stored('text/csv', CSV);
    readRows.mockRejectedValue(error);

    const res = await get('q1.csv', { query: { rows: '0:10' } });

    expect(res.statusCode).toBe(status);
    expect(errorCode(res)).toBe(code);
    expect((parseBody(res) as { error: { message: string } }).error.message).toBe(error.message);
  });

  it('answers 500, not 400, for an error that is not the content\'s', async () => {
    stored('text/csv', CSV);
    readRows.mockRejectedValue(Object.assign(new Error('socket hang up'), { name: 'UnsupportedFormatError' }));

    const res = await get('q1.csv', { query: { rows: '0:10' } });

    expect(res.statusCode).toBe(500);
  });

  it('returns 404 NoSuchKey when the object is missing', async () => {
    s3Mock.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'x', $metadata: {} }));

    const res = await get('q1.csv', { query: { rows: '0:10' } });

    expect(res.statusCode).toBe(404);
    expect(errorCode(res)).toBe('NoSuchKey');
  });
});

describe('GET with Accept: application/json (the URL instead of a redirect)', () => {
  const asJson = { Accept: 'application/json' };

  it('answers 200 with the presigned URL, its expiry and the object metadata where it would redirect', async () => {
    stored('image/png', new Uint8Array([137, 80, 78, 71]));
    const before = Date.now();

    const res = await get('pics/a.png', { headers: asJson });

    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    const body = parseBody(res) as { url: string; expiresAt: string; size: number; contentType: string; etag: string };
    expect(body).toEqual({ url: expect.any(String), expiresAt: expect.any(String), size: 4, contentType: 'image/png', etag: '"etag-1"' });
    const url = new URL(body.url);
    expect(url.host).toBe('phys-uploads.s3.us-east-1.amazonaws.com');
    expect(decodeURIComponent(url.pathname)).toBe(`/users/${USER}/pics/a.png`);
    expect(url.searchParams.get('response-content-disposition')).toBeNull();
    const signedAt = Date.parse(url.searchParams.get('X-Amz-Date')!.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
    expect(Date.parse(body.expiresAt)).toBe(signedAt + Number(url.searchParams.get('X-Amz-Expires')) * 1000);
    expect(signedAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
  });

  it('puts the attachment disposition in the URL with download=1', async () => {
    stored('text/csv', CSV);

    const res = await get('reports/my report é.csv', { query: { download: '1' }, headers: { accept: 'application/json' } });

    expect(res.statusCode).toBe(200);
    const body = parseBody(res) as { url: string; contentType: string; size: number };
    expect(new URL(body.url).searchParams.get('response-content-disposition')).toBe("attachment; filename*=UTF-8''my%20report%20%C3%A9.csv");
    expect(body).toMatchObject({ contentType: 'text/csv', size: Buffer.byteLength(CSV) });
  });

  it('answers the URL for a text object over the inline limit', async () => {
    s3Mock.on(HeadObjectCommand).resolves({ ContentLength: TEST_CONFIG.inlineMaxBytes + 1, ContentType: 'text/csv', ETag: '"e"', LastModified: LAST_MODIFIED });

    const res = await get('big.csv', { headers: asJson });

    expect(res.statusCode).toBe(200);
    expect(parseBody(res)).toMatchObject({ size: TEST_CONFIG.inlineMaxBytes + 1, etag: '"e"' });
  });

  it('still returns small text inline', async () => {
    stored('text/csv', CSV);

    const res = await get('q1.csv', { headers: asJson });

    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(CSV);
  });

  it('still returns rows as rows', async () => {
    stored('text/csv', CSV);
    readRows.mockResolvedValue({ columns: ['a'], rows: [['1']], nextOffset: null });

    const res = await get('q1.csv', { query: { rows: '0:10' }, headers: asJson });

    expect(parseBody(res)).toEqual({ columns: ['a'], rows: [['1']], nextOffset: null });
  });

  it.each(['*/*', 'application/*', 'application/json;q=0', 'text/html, application/json;q=0.9', 'application/jsonl', 'application/json;q=2'])(
    'redirects when Accept is %p',
    async (accept) => {
      stored('image/png', new Uint8Array([137, 80, 78, 71]));

      const res = await get('pics/a.png', { headers: { accept } });

      expect(res.statusCode).toBe(307);
    },
  );

  it.each(['application/json', 'Application/JSON; charset=utf-8', 'application/json, */*;q=0.8', 'text/plain;q=0.5, application/json;q=0.5'])(
    'answers the URL when Accept is %p',
    async (accept) => {
      stored('image/png', new Uint8Array([137, 80, 78, 71]));

      const res = await get('pics/a.png', { headers: { accept } });

      expect(res.statusCode).toBe(200);
      expect(parseBody(res)).toHaveProperty('url');
    },
  );
});

describe("Lambda's response limit", () => {
  const MiB = 1024 * 1024;
  const BUDGET = LAMBDA_MAX_RESPONSE_BYTES - RESPONSE_HEADROOM_BYTES;
  const ORIGIN = { origin: 'https://app.example.com' };
  // INLINE_MAX_BYTES at its highest (5 MiB), where escaping can take inline text over the limit.
  const handler5 = createReadHandler({ s3: presigningS3Client(), config: { ...TEST_CONFIG, inlineMaxBytes: 5 * MiB }, readRows });
  const getFrom5 = (key: string, init: { query?: Record<string, string>; headers?: Record<string, string> } = {}) =>
    handler5(apiEvent({ resource: RESOURCE, httpMethod: 'GET', pathParameters: { bucket: 'uploads', key }, ...(init.query ? { queryStringParameters: init.query } : {}), ...(init.headers ? { headers: init.headers } : {}) }));

  it('redirects inline text that JSON escaping would take over the limit', async () => {
    stored('text/plain', '\u0001'.repeat(1.2 * MiB)); // 1.2 MiB raw, 7.2 MiB once escaped

    const res = await getFrom5('ctl.txt');

    expect(res.statusCode).toBe(307);
    expect(decodeURIComponent(location(res).pathname)).toBe(`/users/${USER}/ctl.txt`);
  });

  it('answers that URL as JSON instead when JSON was asked for', async () => {
    stored('text/plain', '"'.repeat(3.5 * MiB));

    const res = await getFrom5('quotes.txt', { headers: { accept: 'application/json' } });

    expect(res.statusCode).toBe(200);
    expect(parseBody(res)).toMatchObject({ size: 3.5 * MiB, contentType: 'text/plain' });
  });

  it('returns inline text that fits, CORS headers included', async () => {
    const text = '"'.repeat(2 * MiB) + 'a'.repeat(MiB); // 3 MiB raw, 5 MiB once escaped
    stored('text/plain', text);

    const res = await getFrom5('fits.txt', { headers: ORIGIN });

    expect(res.statusCode).toBe(200);
    expect(res.body).toBe(text);
    expect(res.headers?.['access-control-allow-origin']).toBe(ORIGIN.origin);
    expect(proxyResponseBytes(res)).toBeLessThanOrEqual(LAMBDA_MAX_RESPONSE_BYTES);
  });

  it('returns 413 ResponseTooLarge for rows under 5 MiB of JSON that escaping takes over the limit', async () => {
    stored('text/csv', CSV);
    const page = { columns: ['quote'], rows: Array.from({ length: 1000 }, () => ['"'.repeat(1_700)]), nextOffset: 1000 };
    expect(Buffer.byteLength(JSON.stringify(page))).toBeLessThan(4 * MiB); // the old check let this through
    readRows.mockResolvedValue(page);

    const res = await getFrom5('q1.csv', { query: { rows: '0:1000', columns: 'quote' } });

    expect(res.statusCode).toBe(413);
    expect(errorCode(res)).toBe('ResponseTooLarge');
    const message = (parseBody(res) as { error: { message: string } }).error.message;
    expect(message).toContain(String(LAMBDA_MAX_RESPONSE_BYTES));
    expect(message).toMatch(/rows=0:\d+/);
    expect(message).toContain('columns=');
  });

  /** A rows page whose response is exactly `bytes` as Lambda counts it: rows of quotes, then ASCII padding. */
  function pageOfSize(bytes: number) {
    const rows: unknown[][] = Array.from({ length: 900 }, () => ['"'.repeat(1_500)]);
    const size = proxyResponseBytes(json(200, { columns: ['v'], rows: [...rows, ['']], nextOffset: 901 }));
    return { columns: ['v'], rows: [...rows, ['a'.repeat(bytes - size)]], nextOffset: 901 };
  }

  it('returns a rows page whose response is exactly the budget, within the limit with CORS headers', async () => {
    stored('text/csv', CSV);
    const page = pageOfSize(BUDGET);
    expect(proxyResponseBytes(json(200, page))).toBe(BUDGET);
    readRows.mockResolvedValue(page);

    const res = await getFrom5('q1.csv', { query: { rows: '0:1000' }, headers: ORIGIN });

    expect(res.statusCode).toBe(200);
    expect(res.headers?.['access-control-allow-origin']).toBe(ORIGIN.origin);
    expect(proxyResponseBytes(res)).toBeLessThanOrEqual(LAMBDA_MAX_RESPONSE_BYTES);
  });

  it('returns 413 for a rows page one byte over the budget', async () => {
    stored('text/csv', CSV);
    readRows.mockResolvedValue(pageOfSize(BUDGET + 1));

    const res = await getFrom5('q1.csv', { query: { rows: '0:1000' } });

    expect(res.statusCode).toBe(413);
    expect(errorCode(res)).toBe('ResponseTooLarge');
  });
});

describe('HEAD /buckets/{bucket}/objects/{key+}', () => {
  const head = (key: string) =>
    handler(apiEvent({ resource: RESOURCE, httpMethod: 'HEAD', pathParameters: { bucket: 'uploads', key } }));

  it('returns the metadata headers and no body', async () => {
    stored('text/csv', CSV);

    const res = await head('q1.csv');

    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
    expect(res.headers).toMatchObject({
      'content-length': String(Buffer.byteLength(CSV)),
      'content-type': 'text/csv',
      etag: '"etag-1"',
      'last-modified': LAST_MODIFIED.toUTCString(),
    });
  });

  it('returns 404 with no body when the object is missing', async () => {
    s3Mock.on(HeadObjectCommand).rejects(new NotFound({ message: 'x', $metadata: { httpStatusCode: 404 } }));

    const res = await head('missing.csv');

    expect(res.statusCode).toBe(404);
    expect(res.body).toBe('');
  });

  it('returns 503 with Retry-After and no body when S3 is down', async () => {
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
    s3Mock.on(HeadObjectCommand).rejects(new S3ServiceException({ name: 'SlowDown', $fault: 'server', message: 'slow', $metadata: {} }));

    const res = await head('a.csv');

    expect(res.statusCode).toBe(503);
    expect(res.headers?.['retry-after']).toBe('1');
    expect(res.body).toBe('');
  });
});

describe('the stored checksum (issue #16)', () => {
  const withChecksum = () =>
    s3Mock.on(HeadObjectCommand).resolves({ ContentLength: 4, ContentType: 'image/png', ETag: '"etag-1"', LastModified: LAST_MODIFIED, ChecksumCRC32: 'NhCmhg==', ChecksumType: 'FULL_OBJECT' });

  it('asks S3 for it and passes it on in the HEAD answer as S3 names it', async () => {
    stored('image/png', new Uint8Array([137, 80, 78, 71]));
    withChecksum();

    const res = await handler(apiEvent({ resource: RESOURCE, httpMethod: 'HEAD', pathParameters: { bucket: 'uploads', key: 'a.png' } }));

    expect(s3Mock).toHaveReceivedCommandWith(HeadObjectCommand, { ChecksumMode: 'ENABLED' });
    expect(res.headers).toMatchObject({ 'x-amz-checksum-crc32': 'NhCmhg==', 'x-amz-checksum-type': 'FULL_OBJECT' });
  });

  it('gives it with the URL instead of a redirect, so a download can be checked', async () => {
    stored('image/png', new Uint8Array([137, 80, 78, 71]));
    withChecksum();

    const res = await get('a.png', { headers: { Accept: 'application/json' } });

    expect(parseBody(res)).toMatchObject({ checksum: { algorithm: 'CRC32', type: 'FULL_OBJECT', value: 'NhCmhg==' } });
  });

  it('says nothing of a checksum for an object written without one', async () => {
    stored('image/png', new Uint8Array([137, 80, 78, 71]));

    const res = await get('a.png', { headers: { Accept: 'application/json' } });

    expect(parseBody(res)).not.toHaveProperty('checksum');
  });
});
