import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { LAMBDA_MAX_RESPONSE_BYTES, proxyResponseBytes } from '../../lambda/shared/http';
import { signIdToken, verifyIdToken } from '../../local/auth';
import { createGateway, localhostOrigins, type ApiHandler, type GatewayOptions } from '../../local/gateway';

/**
 * The limits API Gateway and Lambda put on a function's answer, enforced by the local gateway with
 * fake handlers: response size as Lambda measures it, the function's own timeout, the integration
 * timeout. Statuses and bodies only; nothing here asserts how long anything took.
 */
const key = Buffer.alloc(32, 7);
const auth = { authorization: `Bearer ${signIdToken(key, 'alice')}` };
const INTEGRATION_FAILURE = { error: { code: 'INTEGRATION_FAILURE', message: 'Internal server error' } };
const INTEGRATION_TIMEOUT = { error: { code: 'INTEGRATION_TIMEOUT', message: 'Endpoint request timed out' } };

const servers: Server[] = [];
let logs: string[];
let errors: string[];

async function startGateway(read: ApiHandler, options: Partial<GatewayOptions> = {}): Promise<string> {
  const unused: ApiHandler = async () => ({ statusCode: 500, body: 'not this one' });
  const server = createGateway({
    handlers: { list: unused, read, upload: unused },
    verifyIdToken: (token) => verifyIdToken(key, token),
    isAllowedOrigin: localhostOrigins,
    log: (line) => logs.push(line),
    logError: (line) => errors.push(line),
    ...options,
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const get = (base: string) => fetch(`${base}/buckets/uploads/objects/a.txt`, { headers: auth });

/** A result whose serialized size is exactly `bytes`: ASCII padding, one byte each once serialized. */
function resultOfSize(bytes: number): APIGatewayProxyResult {
  const empty: APIGatewayProxyResult = { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: '' };
  return { ...empty, body: 'a'.repeat(bytes - proxyResponseBytes(empty)) };
}

/** A promise the test settles itself, for a handler that answers only when told. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

beforeEach(() => {
  logs = [];
  errors = [];
});
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe("Lambda's response payload limit", () => {
  it('passes a response of exactly the limit, as serialized', async () => {
    const result = resultOfSize(LAMBDA_MAX_RESPONSE_BYTES);
    expect(proxyResponseBytes(result)).toBe(LAMBDA_MAX_RESPONSE_BYTES);
    const base = await startGateway(async () => result);

    const res = await get(base);

    expect(res.status).toBe(200);
    expect(await res.text()).toBe(result.body);
    expect(errors).toEqual([]);
  });

  it('answers 502 INTEGRATION_FAILURE for one byte more, and logs the limit, the function and the size', async () => {
    const base = await startGateway(async () => resultOfSize(LAMBDA_MAX_RESPONSE_BYTES + 1));

    const res = await get(base);

    expect(res.status).toBe(502);
    expect(await res.json()).toEqual(INTEGRATION_FAILURE);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('read');
    expect(errors[0]).toContain(String(LAMBDA_MAX_RESPONSE_BYTES));
    expect(errors[0]).toContain(String(LAMBDA_MAX_RESPONSE_BYTES + 1));
  });

  it.each([
    ['3.5 MB of double quotes', '"'.repeat(3_500_000)],
    ['1.1 MB of control characters', '\u0001'.repeat(1_100_000)],
  ])('answers 502 for a body small raw but over the limit once escaped: %s', async (_, body) => {
    expect(Buffer.byteLength(body)).toBeLessThan(LAMBDA_MAX_RESPONSE_BYTES);
    const base = await startGateway(async () => ({ statusCode: 200, headers: { 'content-type': 'text/plain' }, body }));

    const res = await get(base);

    expect(res.status).toBe(502);
    expect(await res.json()).toEqual(INTEGRATION_FAILURE);
  });
});

describe('timeouts', () => {
  it("answers 502 when the function has not answered within its own timeout, and drops its late answer", async () => {
    const late = deferred<APIGatewayProxyResult>();
    const base = await startGateway(() => late.promise, { functionTimeoutSeconds: { read: 0.05 } });

    const res = await get(base);

    expect(res.status).toBe(502);
    expect(await res.json()).toEqual(INTEGRATION_FAILURE);
    expect(errors).toEqual([expect.stringMatching(/^read: Task timed out after 0\.05 s/)]);

    late.resolve({ statusCode: 200, body: 'too late' });
    await late.promise;
    await new Promise((resolve) => setImmediate(resolve));
    expect(logs).toContainEqual(expect.stringMatching(/^read: answered after its timeout; the answer is dropped/));
  });

  it("answers 504 when API Gateway's integration timeout comes before the function's", async () => {
    const late = deferred<APIGatewayProxyResult>();
    const base = await startGateway(() => late.promise, { integrationTimeoutSeconds: 0.05, functionTimeoutSeconds: { read: 60 } });

    const res = await get(base);
    late.resolve({ statusCode: 200, body: 'too late' });

    expect(res.status).toBe(504);
    expect(await res.json()).toEqual(INTEGRATION_TIMEOUT);
    expect(errors).toEqual([expect.stringContaining("read: no answer within API Gateway's 0.05 s integration timeout")]);
  });

  it('answers a function that answers in time', async () => {
    const base = await startGateway(async () => ({ statusCode: 200, body: 'on time' }), { functionTimeoutSeconds: { read: 5 } });

    const res = await get(base);

    expect(res.status).toBe(200);
    expect(await res.text()).toBe('on time');
  });
});

it('answers 502 INTEGRATION_FAILURE when the function throws, as Lambda reports an unhandled error', async () => {
  const base = await startGateway(async () => {
    throw new TypeError('boom');
  });

  const res = await get(base);

  expect(res.status).toBe(502);
  expect(await res.json()).toEqual(INTEGRATION_FAILURE);
  expect(errors).toEqual([expect.stringContaining('TypeError: boom')]);
});
