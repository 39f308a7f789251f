import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { signIdToken, verifyIdToken } from '../../local/auth';
import { createGateway, localhostOrigins, type ApiHandler } from '../../local/gateway';

const key = Buffer.alloc(32, 7);
let server: Server;
let base: string;
let events: APIGatewayProxyEvent[];
let nextResult: APIGatewayProxyResult;
const logLines: string[] = [];
const localCalls: { method: string; body: string }[] = [];

const recorder: ApiHandler = async (event) => {
  events.push(event);
  return nextResult;
};
const auth = (sub = 'alice') => ({ authorization: `Bearer ${signIdToken(key, sub)}` });

beforeAll(async () => {
  server = createGateway({
    handlers: { list: recorder, read: recorder, upload: recorder },
    verifyIdToken: (token) => verifyIdToken(key, token),
    isAllowedOrigin: localhostOrigins,
    localRoutes: {
      'GET /health': { auth: false, handle: async () => ({ statusCode: 200, body: '{"status":"ok"}' }) },
      'GET /': { auth: false, handle: async () => ({ statusCode: 200, body: 'page' }) },
      'POST /form': {
        auth: false,
        handle: async ({ method, body }) => {
          localCalls.push({ method, body });
          return { statusCode: 204, body: '' };
        },
      },
    },
    log: (line) => logLines.push(line),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  events = [];
  nextResult = { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' };
});

describe('local gateway', () => {
  it('never writes an authorization code from a callback URL to its log', async () => {
    await fetch(`${base}/?state=s1&code=SECRETCODE123`);

    expect(logLines.some((l) => l.includes('state=s1'))).toBe(true);
    expect(logLines.join('\n')).not.toContain('SECRETCODE123');
  });

  it('gives a local route the method and the body of the request', async () => {
    await fetch(`${base}/form`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1&b=2' });

    expect(localCalls).toEqual([{ method: 'POST', body: 'a=1&b=2' }]);
  });

  it('answers /health without a token', async () => {
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('refuses a request without a token with 401 Unauthorized JSON', async () => {
    const res = await fetch(`${base}/buckets`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('Unauthorized');
    expect(events).toHaveLength(0);
  });

  it('refuses an expired token', async () => {
    const token = signIdToken(key, 'alice', { ttlSeconds: 60, now: Date.now() - 3_600_000 });
    const res = await fetch(`${base}/buckets`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
  });

  it('refuses a token signed with another key', async () => {
    const token = signIdToken(Buffer.alloc(32, 9), 'alice');
    const res = await fetch(`${base}/buckets`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
  });

  it('refuses a malformed token', async () => {
    const res = await fetch(`${base}/buckets`, { headers: { authorization: 'Bearer not-a-jwt' } });
    expect(res.status).toBe(401);
  });

  it('passes the token subject as the Cognito authorizer claims', async () => {
    await fetch(`${base}/buckets`, { headers: auth('bob@example.com') });
    expect(events[0]?.requestContext.authorizer?.claims.sub).toBe('bob@example.com');
    expect(events[0]?.requestContext.stage).toBe('local');
  });

  it('routes by the shared table and keeps path parameters percent-encoded', async () => {
    await fetch(`${base}/buckets/uploads/objects/reports/q1%20%2B%C3%A9.csv?download=1&x=a%20b&x=c`, { headers: auth() });
    const event = events[0]!;
    expect(event.resource).toBe('/buckets/{bucket}/objects/{key+}');
    expect(event.httpMethod).toBe('GET');
    expect(event.pathParameters).toEqual({ bucket: 'uploads', key: 'reports/q1%20%2B%C3%A9.csv' });
    expect(event.queryStringParameters).toEqual({ download: '1', x: 'c' });
    expect(event.multiValueQueryStringParameters).toEqual({ download: ['1'], x: ['a b', 'c'] });
  });

  it('answers an unknown path with 404 NoSuchRoute', async () => {
    const res = await fetch(`${base}/nope`, { headers: auth() });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NoSuchRoute');
  });

  it('answers a wrong method with 405', async () => {
    const res = await fetch(`${base}/buckets`, { method: 'POST', headers: auth() });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET');
  });

  it('answers a CORS preflight from a localhost origin', async () => {
    const res = await fetch(`${base}/uploads`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(res.headers.get('access-control-allow-headers')).toContain('Authorization');
  });

  it('gives no CORS grant to a foreign origin', async () => {
    const res = await fetch(`${base}/uploads`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('sends no body for HEAD but keeps the handler headers', async () => {
    nextResult = { statusCode: 200, headers: { 'content-length': '42', etag: '"abc"' }, body: '' };
    const res = await fetch(`${base}/buckets/uploads/objects/a.csv`, { method: 'HEAD', headers: auth() });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"abc"');
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  it('passes a binary request body base64-encoded', async () => {
    const bytes = new Uint8Array([0, 255, 1, 254]);
    await fetch(`${base}/uploads`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/octet-stream' }, body: bytes });
    expect(events[0]?.isBase64Encoded).toBe(true);
    expect(Buffer.from(events[0]!.body!, 'base64')).toEqual(Buffer.from(bytes));
  });

  it('passes a JSON request body as text', async () => {
    await fetch(`${base}/uploads`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: '{"key":"é"}' });
    expect(events[0]?.isBase64Encoded).toBe(false);
    expect(events[0]?.body).toBe('{"key":"é"}');
  });

  it('decodes a base64 handler result', async () => {
    nextResult = { statusCode: 200, headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([1, 2, 3]).toString('base64'), isBase64Encoded: true };
    const res = await fetch(`${base}/buckets/uploads/objects/a.bin`, { headers: auth() });
    expect(Buffer.from(await res.arrayBuffer())).toEqual(Buffer.from([1, 2, 3]));
  });

  it('sends every value of a multi-value header', async () => {
    nextResult = { statusCode: 200, multiValueHeaders: { 'x-test': ['a', 'b'] }, body: '' };
    const res = await fetch(`${base}/buckets`, { headers: auth() });
    expect(res.headers.get('x-test')).toBe('a, b');
  });

  it('refuses a request body over 10 MB with 413 JSON', async () => {
    const res = await fetch(`${base}/uploads`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: new Uint8Array(10 * 1024 * 1024 + 1),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('RequestTooLong');
    expect(events).toHaveLength(0);
  });
});
