import { BadRequestError } from '../../../lambda/shared/errors';
import { createApiHandler, json } from '../../../lambda/shared/http';
import type { LogLine } from '../../../lambda/shared/log';
import { apiEvent, USER } from '../helpers/events';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';
const SIGNED_URL = 'https://uploads.s3.amazonaws.com/users/user-1/a.csv?X-Amz-Credential=AKIDEXAMPLE&X-Amz-Signature=0123abcd';

function handlerLogging(lines: LogLine[]) {
  return createApiHandler(
    'list',
    {
      listBuckets: async () => json(200, { url: SIGNED_URL }),
      listObjects: async () => {
        throw new BadRequestError('InvalidCursor', 'The cursor is not one this service issued');
      },
    },
    [],
    undefined,
    (line) => lines.push(line),
  );
}

function event(resource: string, over: { requestId?: string } = {}) {
  const e = apiEvent({
    resource,
    httpMethod: 'GET',
    ...(resource.includes('{bucket}') ? { pathParameters: { bucket: 'uploads' } } : {}),
    headers: { Authorization: `Bearer ${TOKEN}` },
    queryStringParameters: { cursor: 'c-secret-cursor', prefix: 'private/plans' },
  });
  return { ...e, requestContext: { ...e.requestContext, requestId: over.requestId ?? 'req-1' } };
}

describe('the request line', () => {
  it('logs one line per request with the request id, the route pattern, the caller, the status and ok', async () => {
    const lines: LogLine[] = [];

    await handlerLogging(lines)(event('/buckets', { requestId: 'req-42' }));

    expect(lines).toEqual([
      { level: 'info', message: 'request', requestId: 'req-42', route: 'GET /buckets', userId: USER, status: 200, outcome: 'ok', durationMs: expect.any(Number) },
    ]);
  });

  it('names the error code the caller got as the outcome, and the pattern rather than the path', async () => {
    const lines: LogLine[] = [];

    await handlerLogging(lines)(event('/buckets/{bucket}/objects'));

    expect(lines).toEqual([expect.objectContaining({ route: 'GET /buckets/{bucket}/objects', status: 400, outcome: 'InvalidCursor' })]);
  });

  it('logs an unknown resource as a 404 without a route of the table', async () => {
    const lines: LogLine[] = [];

    await handlerLogging(lines)(event('/nowhere'));

    expect(lines).toEqual([expect.objectContaining({ route: 'GET /nowhere', status: 404, outcome: 'NoSuchRoute' })]);
  });

  it('writes no bearer token, query value, path or presigned URL to the log', async () => {
    const lines: LogLine[] = [];
    const handler = handlerLogging(lines);

    await handler(event('/buckets'));
    await handler(event('/buckets/{bucket}/objects'));

    const logged = JSON.stringify(lines);
    expect(lines).toHaveLength(2);
    for (const secret of [TOKEN, 'c-secret-cursor', 'private/plans', 'X-Amz-Signature', 'AKIDEXAMPLE']) expect(logged).not.toContain(secret);
  });
});
