import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { createListHandler } from '../../../lambda/handlers/list';
import { encodeCursor } from '../../../lambda/shared/cursor';
import { apiEvent, errorCode, OTHER_USER, parseBody, TEST_CONFIG, TEST_KEYS, USER } from '../helpers/events';

const s3Mock = mockClient(S3Client);
const handler = createListHandler({ s3: new S3Client({ region: 'us-east-1' }), config: TEST_CONFIG, keys: TEST_KEYS });

const OBJECTS = '/buckets/{bucket}/objects';
const list = (bucket: string, query: Record<string, string> = {}, sub?: string) =>
  handler(apiEvent({ resource: OBJECTS, httpMethod: 'GET', pathParameters: { bucket }, queryStringParameters: query, ...(sub ? { sub } : {}) }));

beforeEach(() => {
  s3Mock.reset();
  s3Mock.on(ListObjectsV2Command).resolves({ Contents: [], CommonPrefixes: [], IsTruncated: false });
});

describe('GET /buckets', () => {
  it('lists the two logical buckets and which one is writable', async () => {
    const res = await handler(apiEvent({ resource: '/buckets', httpMethod: 'GET' }));

    expect(res.statusCode).toBe(200);
    expect(parseBody(res)).toEqual({
      buckets: [
        { name: 'uploads', writable: true },
        { name: 'results', writable: false },
      ],
    });
  });

  it('returns 401 when the event carries no caller', async () => {
    const res = await handler(apiEvent({ resource: '/buckets', httpMethod: 'GET', sub: null }));

    expect(res.statusCode).toBe(401);
    expect(errorCode(res)).toBe('Unauthorized');
  });

  it('adds CORS headers for an allowed origin', async () => {
    const res = await handler(
      apiEvent({ resource: '/buckets', httpMethod: 'GET', headers: { Origin: 'https://app.example.com' } }),
    );

    expect(res.headers?.['access-control-allow-origin']).toBe('https://app.example.com');
  });
});

describe('GET /buckets/{bucket}/objects', () => {
  it('lists the caller area of the physical bucket and strips the user prefix', async () => {
    s3Mock.on(ListObjectsV2Command).resolves({
      Contents: [
        { Key: `users/${USER}/reports/q1.csv`, Size: 12, LastModified: new Date('2024-01-02T03:04:05Z'), ETag: '"abc"' },
      ],
      CommonPrefixes: [{ Prefix: `users/${USER}/reports/2024/` }],
      IsTruncated: false,
    });

    const res = await list('uploads', { prefix: 'reports/', delimiter: '/' });

    expect(res.statusCode).toBe(200);
    expect(parseBody(res)).toEqual({
      objects: [{ key: 'reports/q1.csv', size: 12, lastModified: '2024-01-02T03:04:05.000Z', etag: '"abc"' }],
      prefixes: ['reports/2024/'],
      nextCursor: null,
    });
    expect(s3Mock).toHaveReceivedCommandWith(ListObjectsV2Command, {
      Bucket: 'phys-uploads',
      Prefix: `users/${USER}/reports/`,
      Delimiter: '/',
      MaxKeys: 100,
    });
  });

  it('lists the results bucket through its physical name', async () => {
    const res = await list('results');

    expect(res.statusCode).toBe(200);
    expect(s3Mock).toHaveReceivedCommandWith(ListObjectsV2Command, { Bucket: 'phys-results', Prefix: `users/${USER}/` });
  });

  it('returns 404 NoSuchBucket for an unknown bucket', async () => {
    const res = await list('secrets');

    expect(res.statusCode).toBe(404);
    expect(errorCode(res)).toBe('NoSuchBucket');
    expect(s3Mock).not.toHaveReceivedCommand(ListObjectsV2Command);
  });

  it('passes a valid limit to S3 as MaxKeys', async () => {
    await list('uploads', { limit: '1000' });

    expect(s3Mock).toHaveReceivedCommandWith(ListObjectsV2Command, { MaxKeys: 1000 });
  });

  it.each(['0', '-1', 'abc', '1.5', '100000', '1e3', ' 5'])('returns 400 InvalidLimit for limit=%p', async (limit) => {
    const res = await list('uploads', { limit });

    expect(res.statusCode).toBe(400);
    expect(errorCode(res)).toBe('InvalidLimit');
  });

  it.each([',', '//', 'a'])('returns 400 InvalidDelimiter for delimiter=%p', async (delimiter) => {
    const res = await list('uploads', { delimiter });

    expect(res.statusCode).toBe(400);
    expect(errorCode(res)).toBe('InvalidDelimiter');
  });

  it('returns 400 InvalidKey for a prefix that climbs out of the user area', async () => {
    const res = await list('uploads', { prefix: '../other/' });

    expect(res.statusCode).toBe(400);
    expect(errorCode(res)).toBe('InvalidKey');
  });

  it('returns a cursor when S3 has more, and the cursor resumes the listing', async () => {
    s3Mock
      .on(ListObjectsV2Command)
      .resolvesOnce({ Contents: [], IsTruncated: true, NextContinuationToken: 'token-2' })
      .resolves({ Contents: [], IsTruncated: false });
    const first = await list('uploads', { prefix: 'reports/' });
    const { nextCursor } = parseBody(first) as { nextCursor: string };

    const second = await list('uploads', { prefix: 'reports/', cursor: nextCursor });

    expect(typeof nextCursor).toBe('string');
    expect(second.statusCode).toBe(200);
    expect(s3Mock).toHaveReceivedNthCommandWith(2, ListObjectsV2Command, { ContinuationToken: 'token-2' });
  });

  it('returns 400 InvalidCursor for a tampered cursor', async () => {
    const cursor = encodeCursor(TEST_KEYS.ring('cursor'), { userId: USER, bucket: 'uploads', prefix: '', delimiter: '' }, 't');
    const tampered = Buffer.from('other').toString('base64url') + cursor.slice(cursor.indexOf('.'));

    const res = await list('uploads', { cursor: tampered });

    expect(res.statusCode).toBe(400);
    expect(errorCode(res)).toBe('InvalidCursor');
  });

  it('returns 400 InvalidCursor for a cursor issued to another user', async () => {
    const cursor = encodeCursor(TEST_KEYS.ring('cursor'), { userId: OTHER_USER, bucket: 'uploads', prefix: '', delimiter: '' }, 't');

    const res = await list('uploads', { cursor });

    expect(errorCode(res)).toBe('InvalidCursor');
  });

  it('returns 400 InvalidCursor for a cursor issued for another prefix', async () => {
    const cursor = encodeCursor(TEST_KEYS.ring('cursor'), { userId: USER, bucket: 'uploads', prefix: 'a/', delimiter: '' }, 't');

    const res = await list('uploads', { prefix: 'b/', cursor });

    expect(errorCode(res)).toBe('InvalidCursor');
    expect(s3Mock).not.toHaveReceivedCommand(ListObjectsV2Command);
  });

  it('returns 405 for a method the resource does not serve', async () => {
    const res = await handler(apiEvent({ resource: OBJECTS, httpMethod: 'PUT', pathParameters: { bucket: 'uploads' } }));

    expect(res.statusCode).toBe(405);
  });
});
