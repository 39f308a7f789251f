import { ApiError, createApiClient, encodeKey } from '../../../client/api-client';
import { partsSha256 } from '../../../lambda/shared/parts-digest';

type Call = { url: string; init: RequestInit };

function recordingFetch(responses: Response[]) {
  const calls: Call[] = [];
  const fn = (async (url: string, init: RequestInit = {}) => {
    calls.push({ url, init });
    const next = responses.shift();
    if (!next) throw new Error('unexpected request');
    return next;
  }) as unknown as typeof fetch;
  return { fn, calls };
}

const jsonResponse = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

describe('encodeKey', () => {
  it('percent-encodes each segment and keeps the slashes', () => {
    expect(encodeKey('a b/c#d/é?.csv')).toBe('a%20b/c%23d/%C3%A9%3F.csv');
  });
});

describe('createApiClient', () => {
  it('sends the bearer token to the API', async () => {
    const f = recordingFetch([jsonResponse(200, { buckets: [] })]);
    await createApiClient({ baseUrl: 'http://api.test/', token: 'tok', fetch: f.fn }).listBuckets();
    expect(f.calls[0]!.url).toBe('http://api.test/buckets');
    expect((f.calls[0]!.init.headers as Record<string, string>).authorization).toBe('Bearer tok');
  });

  it('asks a token function before each request, so a refreshed token is used from the next one', async () => {
    const f = recordingFetch([jsonResponse(200, { buckets: [] }), jsonResponse(200, { buckets: [] })]);
    const tokens = ['first', 'refreshed'];
    const client = createApiClient({ baseUrl: 'http://api.test', token: async () => tokens.shift()!, fetch: f.fn });
    await client.listBuckets();
    await client.listBuckets();
    expect(f.calls.map((c) => (c.init.headers as Record<string, string>).authorization)).toEqual(['Bearer first', 'Bearer refreshed']);
  });

  it('turns an API error body into an ApiError with its code and message', async () => {
    const f = recordingFetch([jsonResponse(404, { error: { code: 'NoSuchKey', message: 'No object a.csv' } })]);
    const read = createApiClient({ baseUrl: 'http://api.test', token: 't', fetch: f.fn }).readRows('uploads', 'a.csv', { offset: 0, limit: 1 });
    await expect(read).rejects.toEqual(new ApiError(404, 'NoSuchKey', 'No object a.csv'));
  });

  it('follows every listing cursor until the last page', async () => {
    const f = recordingFetch([
      jsonResponse(200, { objects: [{ key: 'a', size: 1, lastModified: '', etag: '' }], prefixes: ['p/'], nextCursor: 'c1' }),
      jsonResponse(200, { objects: [{ key: 'b', size: 2, lastModified: '', etag: '' }], prefixes: [], nextCursor: null }),
    ]);
    const all = await createApiClient({ baseUrl: 'http://api.test', token: 't', fetch: f.fn }).listAllObjects('uploads', { prefix: 'x/', delimiter: '/' });
    expect(all.objects.map((o) => o.key)).toEqual(['a', 'b']);
    expect(all.prefixes).toEqual(['p/']);
    expect(new URL(f.calls[1]!.url).searchParams.get('cursor')).toBe('c1');
  });

  it('follows a redirect to the presigned URL without sending the bearer token there', async () => {
    const f = recordingFetch([new Response(null, { status: 307, headers: { location: 'https://s3.test/obj?X-Amz-Signature=x' } }), new Response('body')]);
    const res = await createApiClient({ baseUrl: 'http://api.test', token: 't', fetch: f.fn }).openObject('uploads', 'dir/a b.bin', { download: true });
    expect(await res.text()).toBe('body');
    expect(f.calls[0]!.url).toBe('http://api.test/buckets/uploads/objects/dir/a%20b.bin?download=1');
    expect(f.calls[0]!.init.redirect).toBe('manual');
    expect(f.calls[1]!.url).toBe('https://s3.test/obj?X-Amz-Signature=x');
    expect(f.calls[1]!.init.headers).toBeUndefined();
  });

  it('asks for the object, not its URL as JSON, when it opens one', async () => {
    const f = recordingFetch([new Response('a,b\n')]);
    await createApiClient({ baseUrl: 'http://api.test', token: 't', fetch: f.fn }).openObject('uploads', 'a.csv');
    expect((f.calls[0]!.init.headers as Record<string, string>).accept).toBe('*/*');
  });

  it('asks for JSON from the JSON routes', async () => {
    const f = recordingFetch([jsonResponse(200, { columns: [], rows: [], nextOffset: null })]);
    await createApiClient({ baseUrl: 'http://api.test', token: 't', fetch: f.fn }).readRows('uploads', 'a.csv', { offset: 0, limit: 1 });
    expect((f.calls[0]!.init.headers as Record<string, string>).accept).toBe('application/json');
  });

  it('completes an upload with the digest of its parts, not their list', async () => {
    const f = recordingFetch([jsonResponse(200, { key: 'big.bin', etag: '"x-2"', size: 9 })]);
    const parts = [
      { partNumber: 1, etag: '"e1"' },
      { partNumber: 2, etag: '"e2"' },
    ];

    await createApiClient({ baseUrl: 'http://api.test', token: 't', fetch: f.fn }).completeUpload('up/1', 'big.bin', parts);

    expect(f.calls[0]!.url).toBe('http://api.test/uploads/up%2F1/complete');
    expect(JSON.parse(f.calls[0]!.init.body as string)).toEqual({ key: 'big.bin', partsSha256: partsSha256(parts) });
  });

  it('reads the code and message of an S3 XML error', async () => {
    const f = recordingFetch([
      new Response(null, { status: 307, headers: { location: 'https://s3.test/obj' } }),
      new Response('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>', { status: 403 }),
    ]);
    const open = createApiClient({ baseUrl: 'http://api.test', token: 't', fetch: f.fn }).openObject('uploads', 'a');
    await expect(open).rejects.toEqual(new ApiError(403, 'AccessDenied', 'Request has expired'));
  });
});
