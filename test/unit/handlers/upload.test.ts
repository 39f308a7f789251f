import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListPartsCommand,
  NoSuchKey,
  NoSuchUpload,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { COMPLETION_LEASE_SECONDS, completionClaimKey } from '../../../lambda/core/completion-claims';
import { encodeUploadId } from '../../../lambda/core/upload';
import { MAX_COMPLETE_BODY_BYTES } from '../../../lambda/shared/http';
import { partsSha256 } from '../../../lambda/shared/parts-digest';
import { createUploadHandler } from '../../../lambda/handlers/upload';
import { MiB } from '../../../lambda/shared/config';
import { signPayload } from '../../../lambda/shared/signed-token';
import { fixedSigningKeys } from '../../../lambda/shared/signing-keys';
import { UPLOAD_LIFETIME_DAYS } from '../../../lambda/shared/upload-lifetime';
import { apiEvent, errorCode, OTHER_USER, parseBody, presigningS3Client, TEST_CONFIG, TEST_KEYS, USER } from '../helpers/events';
import { s3Body } from '../helpers/s3-body';

const s3Mock = mockClient(S3Client);
const NOW = new Date('2025-01-01T00:00:00Z');
const handler = createUploadHandler({ s3: presigningS3Client(), config: TEST_CONFIG, keys: TEST_KEYS, now: () => NOW });

const SIZE = 20 * MiB + 5; // three parts of 8 MiB, 8 MiB, 4 MiB + 5
const session = (over: Partial<Parameters<typeof encodeUploadId>[1]> = {}) =>
  encodeUploadId(TEST_KEYS.ring('upload'), {
    uploadId: 's3-upload-id',
    userId: USER,
    key: 'big/data.csv',
    size: SIZE,
    partSize: 8 * MiB,
    expiresAt: NOW.getTime() / 1000 + 3600,
    ...over,
  });

const createUpload = (body: unknown) => handler(apiEvent({ resource: '/uploads', httpMethod: 'POST', body }));
const onUpload = (resource: string, httpMethod: string, uploadId: string, init: { body?: unknown; query?: Record<string, string>; sub?: string } = {}) =>
  handler(
    apiEvent({
      resource: `/uploads/{uploadId}${resource}`,
      httpMethod,
      pathParameters: { uploadId },
      ...(init.body !== undefined ? { body: init.body } : {}),
      ...(init.query ? { queryStringParameters: init.query } : {}),
      ...(init.sub ? { sub: init.sub } : {}),
    }),
  );

const threeParts = [
  { PartNumber: 1, ETag: '"e1"', Size: 8 * MiB },
  { PartNumber: 2, ETag: '"e2"', Size: 8 * MiB },
  { PartNumber: 3, ETag: '"e3"', Size: 4 * MiB + 5 },
];
const completeBody = (parts: unknown, key = 'big/data.csv') => ({ key, parts });
const goodParts = [
  { partNumber: 1, etag: '"e1"' },
  { partNumber: 2, etag: 'e2' },
  { partNumber: 3, etag: '"e3"' },
];

beforeEach(() => {
  s3Mock.reset();
  // The completion claim (core/completion-claims.ts): created unless a test says otherwise.
  s3Mock.on(PutObjectCommand).resolves({ ETag: '"claim"' });
});

function assertPresigned(url: string, path: string): URL {
  const u = new URL(url);
  expect(u.host).toBe('phys-uploads.s3.us-east-1.amazonaws.com');
  expect(decodeURIComponent(u.pathname)).toBe(path);
  expect(Number(u.searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(900);
  expect(u.searchParams.get('X-Amz-Credential')).toMatch(/^AKIDEXAMPLE\//);
  const lower = [...u.searchParams.keys()].map((k) => k.toLowerCase());
  expect(lower).not.toContain('x-amz-checksum-crc32');
  expect(lower).not.toContain('x-amz-sdk-checksum-algorithm');
  expect(lower.some((k) => k.startsWith('x-amz-checksum'))).toBe(false);
  return u;
}

describe('POST /uploads (single PUT)', () => {
  it('returns 201 with a presigned PUT that signs content type and length', async () => {
    const res = await createUpload({ key: 'reports/q1.csv', contentType: 'text/csv', size: 123 });

    expect(res.statusCode).toBe(201);
    const body = parseBody(res) as Record<string, unknown>;
    expect(body).toMatchObject({
      uploadId: null,
      key: 'reports/q1.csv',
      method: 'PUT',
      headers: { 'content-type': 'text/csv' },
      expiresAt: '2025-01-01T00:15:00.000Z',
    });
    const url = assertPresigned(body.url as string, `/users/${USER}/reports/q1.csv`);
    expect(url.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toEqual(
      expect.arrayContaining(['content-type', 'content-length', 'host']),
    );
    expect(s3Mock).not.toHaveReceivedCommand(CreateMultipartUploadCommand);
  });

  it('accepts an empty file', async () => {
    const res = await createUpload({ key: 'empty.txt', contentType: 'text/plain; charset=utf-8', size: 0 });

    expect(res.statusCode).toBe(201);
  });

  it.each([
    [{ contentType: 'text/csv', size: 1 }, 'InvalidKey'],
    [{ key: '../x.csv', contentType: 'text/csv', size: 1 }, 'InvalidKey'],
    [{ key: 'a.csv', size: 1 }, 'InvalidContentType'],
    [{ key: 'a.csv', contentType: 'csv', size: 1 }, 'InvalidContentType'],
    [{ key: 'a.csv', contentType: 'text/csv\r\nx-evil: 1', size: 1 }, 'InvalidContentType'],
    [{ key: 'a.csv', contentType: `text/${'x'.repeat(300)}`, size: 1 }, 'InvalidContentType'],
    [{ key: 'a.csv', contentType: 'text/csv', size: -1 }, 'InvalidSize'],
    [{ key: 'a.csv', contentType: 'text/csv', size: 1.5 }, 'InvalidSize'],
    [{ key: 'a.csv', contentType: 'text/csv', size: '12' }, 'InvalidSize'],
    [{ key: 'a.csv', contentType: 'text/csv', size: 2 ** 60 }, 'InvalidSize'],
    [[1, 2], 'InvalidBody'],
  ])('returns 400 for %j', async (body, code) => {
    const res = await createUpload(body);

    expect(res.statusCode).toBe(400);
    expect(errorCode(res)).toBe(code);
  });

  it('returns 400 InvalidJson for a body that is not JSON', async () => {
    const res = await createUpload('{nope');

    expect(res.statusCode).toBe(400);
    expect(errorCode(res)).toBe('InvalidJson');
  });

  it('returns 413 EntityTooLarge above the configured maximum', async () => {
    const res = await createUpload({ key: 'a.csv', contentType: 'text/csv', size: TEST_CONFIG.maxUploadBytes + 1 });

    expect(res.statusCode).toBe(413);
    expect(errorCode(res)).toBe('EntityTooLarge');
  });
});

describe('POST /uploads (multipart)', () => {
  it('starts a multipart upload above the threshold and returns a signed upload id', async () => {
    s3Mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'raw/s3+id' });

    const res = await createUpload({ key: 'big/data.csv', contentType: 'text/csv', size: 64 * MiB + 1 });

    expect(res.statusCode).toBe(201);
    const body = parseBody(res) as { uploadId: string; partSize: number; partCount: number; key: string };
    expect(body).toMatchObject({ key: 'big/data.csv', partSize: 8 * MiB, partCount: 9 });
    expect(body.uploadId).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(body.uploadId).not.toContain('raw/s3+id');
    expect(s3Mock).toHaveReceivedCommandWith(CreateMultipartUploadCommand, {
      Bucket: 'phys-uploads',
      Key: `users/${USER}/big/data.csv`,
      ContentType: 'text/csv',
    });
  });

  it('hands out an upload id that the other multipart routes accept', async () => {
    s3Mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'raw-id' });
    s3Mock.on(ListPartsCommand).resolves({ Parts: [] });
    const created = parseBody(await createUpload({ key: 'big/data.csv', contentType: 'text/csv', size: 100 * MiB })) as { uploadId: string };

    const res = await onUpload('', 'GET', created.uploadId, { query: { key: 'big/data.csv' } });

    expect(res.statusCode).toBe(200);
    expect(s3Mock).toHaveReceivedCommandWith(ListPartsCommand, { UploadId: 'raw-id', Key: `users/${USER}/big/data.csv` });
  });

  it('hands out an upload id valid for as many days as the lifecycle rule lets the upload live, and no longer', async () => {
    s3Mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'raw-id' });
    s3Mock.on(ListPartsCommand).resolves({ Parts: [] });
    const created = parseBody(await createUpload({ key: 'big/data.csv', contentType: 'text/csv', size: 100 * MiB })) as { uploadId: string; expiresAt: string };
    const at = (ms: number) => createUploadHandler({ s3: presigningS3Client(), config: TEST_CONFIG, keys: TEST_KEYS, now: () => new Date(ms) });
    const list = (ms: number) =>
      at(ms)(apiEvent({ resource: '/uploads/{uploadId}', httpMethod: 'GET', pathParameters: { uploadId: created.uploadId }, queryStringParameters: { key: 'big/data.csv' } }));
    const end = NOW.getTime() + UPLOAD_LIFETIME_DAYS * 24 * 3600 * 1000;

    const lastSecond = await list(end - 1000);
    const past = await list(end);

    expect(created.expiresAt).toBe(new Date(end).toISOString());
    expect(lastSecond.statusCode).toBe(200);
    expect([past.statusCode, errorCode(past)]).toEqual([404, 'NoSuchUpload']);
  });
});

describe('POST /uploads/{uploadId}/parts', () => {
  it('signs an UploadPart URL for each requested part', async () => {
    const res = await onUpload('/parts', 'POST', session(), { body: { key: 'big/data.csv', partNumbers: [1, 3] } });

    expect(res.statusCode).toBe(200);
    const { parts } = parseBody(res) as { parts: { partNumber: number; url: string }[] };
    expect(parts.map((p) => p.partNumber)).toEqual([1, 3]);
    const url = assertPresigned(parts[1]!.url, `/users/${USER}/big/data.csv`);
    expect(url.searchParams.get('partNumber')).toBe('3');
    expect(url.searchParams.get('uploadId')).toBe('s3-upload-id');
  });

  it.each([
    [[0], 'InvalidPartNumber'],
    [[4], 'InvalidPartNumber'],
    [[1, 1], 'InvalidPartNumber'],
    [[1.5], 'InvalidPartNumber'],
    [['1'], 'InvalidPartNumber'],
    [[], 'InvalidBody'],
    [Array.from({ length: 101 }, (_, i) => i + 1), 'InvalidBody'],
    ['1', 'InvalidBody'],
  ])('returns 400 for partNumbers %j', async (partNumbers, code) => {
    const res = await onUpload('/parts', 'POST', session(), { body: { key: 'big/data.csv', partNumbers } });

    expect(res.statusCode).toBe(400);
    expect(errorCode(res)).toBe(code);
  });

  it('returns 400 KeyMismatch when the key is not the upload key', async () => {
    const res = await onUpload('/parts', 'POST', session(), { body: { key: 'other.csv', partNumbers: [1] } });

    expect(res.statusCode).toBe(400);
    expect(errorCode(res)).toBe('KeyMismatch');
  });

  it('returns 404 NoSuchUpload for another user upload id', async () => {
    const res = await onUpload('/parts', 'POST', session(), { body: { key: 'big/data.csv', partNumbers: [1] }, sub: OTHER_USER });

    expect(res.statusCode).toBe(404);
    expect(errorCode(res)).toBe('NoSuchUpload');
  });

  it('returns 404 NoSuchUpload for a changed upload id', async () => {
    const token = session();
    const forged = signPayload(fixedSigningKeys({ upload: 'guessed-secret-guessed-secret-guessed' }).ring('upload'), 'upload', { v: 1 }).split('.')[0] + token.slice(token.indexOf('.'));

    const res = await onUpload('/parts', 'POST', forged, { body: { key: 'big/data.csv', partNumbers: [1] } });

    expect(errorCode(res)).toBe('NoSuchUpload');
  });

  it('returns 404 NoSuchUpload for an expired upload id', async () => {
    const res = await onUpload('/parts', 'POST', session({ expiresAt: NOW.getTime() / 1000 - 1 }), {
      body: { key: 'big/data.csv', partNumbers: [1] },
    });

    expect(errorCode(res)).toBe('NoSuchUpload');
  });
});

describe('GET /uploads/{uploadId}', () => {
  it('pages through ListParts past 1,000 parts', async () => {
    s3Mock
      .on(ListPartsCommand)
      .resolvesOnce({ Parts: [{ PartNumber: 1, ETag: '"a"', Size: 8 * MiB }], IsTruncated: true, NextPartNumberMarker: '1000' })
      .resolvesOnce({ Parts: [{ PartNumber: 1001, ETag: '"b"', Size: 5 }], IsTruncated: false });

    const res = await onUpload('', 'GET', session(), { query: { key: 'big/data.csv' } });

    expect(res.statusCode).toBe(200);
    expect(parseBody(res)).toEqual({
      parts: [
        { partNumber: 1, etag: '"a"', size: 8 * MiB },
        { partNumber: 1001, etag: '"b"', size: 5 },
      ],
    });
    expect(s3Mock).toHaveReceivedNthCommandWith(2, ListPartsCommand, { PartNumberMarker: '1000' });
  });

  it('returns 404 NoSuchUpload when S3 no longer knows the upload', async () => {
    s3Mock.on(ListPartsCommand).rejects(new NoSuchUpload({ message: 'gone', $metadata: {} }));

    const res = await onUpload('', 'GET', session(), { query: { key: 'big/data.csv' } });

    expect(res.statusCode).toBe(404);
    expect(errorCode(res)).toBe('NoSuchUpload');
  });

  it('returns 400 InvalidKey when the key query parameter is missing', async () => {
    const res = await onUpload('', 'GET', session());

    expect(errorCode(res)).toBe('InvalidKey');
  });
});

describe('POST /uploads/{uploadId}/complete', () => {
  beforeEach(() => {
    s3Mock.on(ListPartsCommand).resolves({ Parts: threeParts, IsTruncated: false });
    s3Mock.on(CompleteMultipartUploadCommand).resolves({ ETag: '"final-3"' });
  });

  it('completes when every part matches and the sizes add up', async () => {
    const res = await onUpload('/complete', 'POST', session(), { body: completeBody(goodParts) });

    expect(res.statusCode).toBe(200);
    expect(parseBody(res)).toEqual({ key: 'big/data.csv', etag: '"final-3"', size: SIZE });
    expect(s3Mock).toHaveReceivedCommandWith(CompleteMultipartUploadCommand, {
      Bucket: 'phys-uploads',
      Key: `users/${USER}/big/data.csv`,
      UploadId: 's3-upload-id',
      MultipartUpload: {
        Parts: [
          { PartNumber: 1, ETag: '"e1"' },
          { PartNumber: 2, ETag: '"e2"' },
          { PartNumber: 3, ETag: '"e3"' },
        ],
      },
    });
  });

  it.each([
    ['out of order', [goodParts[1], goodParts[0], goodParts[2]]],
    ['duplicated', [goodParts[0], goodParts[0], goodParts[2]]],
  ])('returns 400 InvalidPartOrder for parts %s', async (_name, parts) => {
    const res = await onUpload('/complete', 'POST', session(), { body: completeBody(parts) });

    expect(res.statusCode).toBe(400);
    expect(errorCode(res)).toBe('InvalidPartOrder');
    expect(s3Mock).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
  });

  it('returns 400 InvalidBody for an empty part list', async () => {
    const res = await onUpload('/complete', 'POST', session(), { body: completeBody([]) });

    expect(errorCode(res)).toBe('InvalidBody');
  });

  it('returns 400 InvalidPart for a part whose etag is not a string', async () => {
    const res = await onUpload('/complete', 'POST', session(), { body: completeBody([{ partNumber: 1, etag: 5 }]) });

    expect(errorCode(res)).toBe('InvalidPart');
  });

  it('returns 400 InvalidPart for an ETag S3 does not have', async () => {
    const parts = [goodParts[0], { partNumber: 2, etag: '"wrong"' }, goodParts[2]];

    const res = await onUpload('/complete', 'POST', session(), { body: completeBody(parts) });

    expect(res.statusCode).toBe(400);
    expect(errorCode(res)).toBe('InvalidPart');
  });

  it('returns 400 InvalidPart for a part that was never uploaded', async () => {
    const res = await onUpload('/complete', 'POST', session(), {
      body: completeBody([...goodParts, { partNumber: 4, etag: '"e4"' }]),
    });

    expect(errorCode(res)).toBe('InvalidPart');
  });

  it('returns 400 InvalidPart when a part before the last is not the planned size', async () => {
    s3Mock.on(ListPartsCommand).resolves({
      Parts: [
        { PartNumber: 1, ETag: '"e1"', Size: 8 * MiB },
        { PartNumber: 2, ETag: '"e2"', Size: 8 * MiB - 1 },
        { PartNumber: 3, ETag: '"e3"', Size: 4 * MiB + 6 },
      ],
    });

    const res = await onUpload('/complete', 'POST', session(), { body: completeBody(goodParts) });

    expect(errorCode(res)).toBe('InvalidPart');
  });

  it('returns 409 SizeMismatch when the parts do not add up to the declared size', async () => {
    const res = await onUpload('/complete', 'POST', session(), { body: completeBody(goodParts.slice(0, 2)) });

    expect(res.statusCode).toBe(409);
    expect(errorCode(res)).toBe('SizeMismatch');
    expect(s3Mock).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
  });

  it('returns 404 NoSuchUpload when the upload is gone at completion', async () => {
    s3Mock.on(CompleteMultipartUploadCommand).rejects(new NoSuchUpload({ message: 'gone', $metadata: {} }));

    const res = await onUpload('/complete', 'POST', session(), { body: completeBody(goodParts) });

    expect(res.statusCode).toBe(404);
    expect(errorCode(res)).toBe('NoSuchUpload');
  });

  it('returns 400 KeyMismatch for another key', async () => {
    const res = await onUpload('/complete', 'POST', session(), { body: completeBody(goodParts, 'other.csv') });

    expect(errorCode(res)).toBe('KeyMismatch');
  });
});

describe('POST /uploads/{uploadId}/complete without a list of parts', () => {
  beforeEach(() => {
    s3Mock.on(ListPartsCommand).resolves({ Parts: threeParts, IsTruncated: false });
    s3Mock.on(CompleteMultipartUploadCommand).resolves({ ETag: '"final-3"' });
  });
  const allThree = { MultipartUpload: { Parts: threeParts.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) } };

  it('completes with every part S3 lists when the body names none', async () => {
    const res = await onUpload('/complete', 'POST', session(), { body: { key: 'big/data.csv' } });

    expect(res.statusCode).toBe(200);
    expect(parseBody(res)).toEqual({ key: 'big/data.csv', etag: '"final-3"', size: SIZE });
    expect(s3Mock).toHaveReceivedCommandWith(CompleteMultipartUploadCommand, allThree);
  });

  it('completes when partsSha256 is the digest of the parts S3 lists', async () => {
    const digest = partsSha256(goodParts);

    const res = await onUpload('/complete', 'POST', session(), { body: { key: 'big/data.csv', partsSha256: digest.toUpperCase() } });

    expect(res.statusCode).toBe(200);
    expect(s3Mock).toHaveReceivedCommandWith(CompleteMultipartUploadCommand, allThree);
  });

  it('returns 409 PartsMismatch, naming the digest of what S3 holds, when a part was sent again with other bytes', async () => {
    const uploaded = [goodParts[0]!, { partNumber: 2, etag: '"e2-first-attempt"' }, goodParts[2]!];

    const res = await onUpload('/complete', 'POST', session(), { body: { key: 'big/data.csv', partsSha256: partsSha256(uploaded) } });

    expect(res.statusCode).toBe(409);
    expect(parseBody(res)).toEqual({ error: { code: 'PartsMismatch', message: expect.stringContaining(partsSha256(goodParts)) } });
    expect(s3Mock).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
  });

  it('returns 409 IncompleteUpload naming the parts not uploaded yet', async () => {
    s3Mock.on(ListPartsCommand).resolves({ Parts: [threeParts[0]!, threeParts[2]!] });

    const res = await onUpload('/complete', 'POST', session(), { body: { key: 'big/data.csv' } });

    expect(res.statusCode).toBe(409);
    expect(parseBody(res)).toEqual({ error: { code: 'IncompleteUpload', message: 'Parts 2 of 3 have not been uploaded yet' } });
    expect(s3Mock).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
  });

  it('returns 409 IncompleteUpload when no part was uploaded', async () => {
    s3Mock.on(ListPartsCommand).resolves({});

    const res = await onUpload('/complete', 'POST', session(), { body: { key: 'big/data.csv' } });

    expect(errorCode(res)).toBe('IncompleteUpload');
    expect(s3Mock).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
  });

  it.each([
    [{ key: 'big/data.csv', parts: goodParts, partsSha256: partsSha256(goodParts) }, 'InvalidBody'],
    [{ key: 'big/data.csv', partsSha256: 'abc' }, 'InvalidPartsSha256'],
    [{ key: 'big/data.csv', partsSha256: 12 }, 'InvalidPartsSha256'],
    [{ partsSha256: partsSha256(goodParts) }, 'InvalidKey'],
  ])('returns 400 for %j', async (body, code) => {
    const res = await onUpload('/complete', 'POST', session(), { body });

    expect(res.statusCode).toBe(400);
    expect(errorCode(res)).toBe(code);
  });
});

describe('POST /uploads/{uploadId}/complete: one completion per upload', () => {
  const claimKey = completionClaimKey('s3-upload-id');
  /** S3's answer to a conditional write that does not hold (the SDK has no class for it). */
  const preconditionFailed = () => new S3ServiceException({ name: 'PreconditionFailed', $fault: 'client', message: 'At least one of the pre-conditions you specified did not hold', $metadata: { httpStatusCode: 412 } });
  const claimHeld = (claim: Record<string, unknown>) => {
    s3Mock.on(PutObjectCommand, { IfNoneMatch: '*' }).rejects(preconditionFailed());
    s3Mock.on(GetObjectCommand, { Key: claimKey }).resolves({ Body: s3Body(JSON.stringify({ v: 1, ...claim })), ETag: '"held"' });
  };
  const complete = () => onUpload('/complete', 'POST', session(), { body: completeBody(goodParts) });

  beforeEach(() => {
    s3Mock.on(ListPartsCommand).resolves({ Parts: threeParts, IsTruncated: false });
    s3Mock.on(CompleteMultipartUploadCommand).resolves({ ETag: '"final-3"' });
  });

  it('claims the upload with a conditional write before completing, and records the result after', async () => {
    const res = await complete();

    expect(res.statusCode).toBe(200);
    const writes = s3Mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(writes.map((w) => [w.Bucket, w.Key, w.IfNoneMatch, JSON.parse(String(w.Body)).state])).toEqual([
      ['phys-results', claimKey, '*', 'completing'],
      ['phys-results', claimKey, undefined, 'completed'],
    ]);
    expect(JSON.parse(String(writes[1]!.Body))).toMatchObject({ etag: '"final-3"', size: SIZE });
    expect(claimKey).toMatch(/^completions\/[0-9a-f]{64}$/);
  });

  it('returns 409 UploadAlreadyCompleted, naming the object, when another request completed the upload', async () => {
    claimHeld({ state: 'completed', at: NOW.getTime() - 60_000, etag: '"final-3"', size: SIZE });

    const res = await complete();

    expect(res.statusCode).toBe(409);
    expect(parseBody(res)).toEqual({ error: { code: 'UploadAlreadyCompleted', message: expect.stringContaining(`"final-3", ${SIZE} bytes`) } });
    expect(s3Mock).not.toHaveReceivedCommand(ListPartsCommand);
    expect(s3Mock).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
  });

  it('returns 409 UploadCompleting while another request holds the claim', async () => {
    claimHeld({ state: 'completing', at: NOW.getTime() - 1000 });

    const res = await complete();

    expect(res.statusCode).toBe(409);
    expect(errorCode(res)).toBe('UploadCompleting');
    expect(s3Mock).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
  });

  it('takes over a claim older than the lease, with If-Match on its ETag, and completes', async () => {
    claimHeld({ state: 'completing', at: NOW.getTime() - COMPLETION_LEASE_SECONDS * 1000 });

    const res = await complete();

    expect(res.statusCode).toBe(200);
    expect(s3Mock).toHaveReceivedCommandWith(PutObjectCommand, { Key: claimKey, IfMatch: '"held"' });
    expect(s3Mock).toHaveReceivedCommandTimes(CompleteMultipartUploadCommand, 1);
  });

  it('returns 409 UploadCompleting when another request took over the stale claim first', async () => {
    claimHeld({ state: 'completing', at: NOW.getTime() - COMPLETION_LEASE_SECONDS * 1000 });
    s3Mock.on(PutObjectCommand, { IfMatch: '"held"' }).rejects(preconditionFailed());

    const res = await complete();

    expect(errorCode(res)).toBe('UploadCompleting');
    expect(s3Mock).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
  });

  it('claims again when the claim it lost to was released before it could read it', async () => {
    s3Mock.on(PutObjectCommand, { IfNoneMatch: '*' }).rejectsOnce(preconditionFailed()).resolves({ ETag: '"claim"' });
    s3Mock.on(GetObjectCommand, { Key: claimKey }).rejects(new NoSuchKey({ message: 'gone', $metadata: { httpStatusCode: 404 } }));

    const res = await complete();

    expect(res.statusCode).toBe(200);
  });

  it('releases the claim when the completion is refused, so the caller can try again', async () => {
    const res = await onUpload('/complete', 'POST', session(), { body: completeBody(goodParts.slice(0, 2)) });

    expect(errorCode(res)).toBe('SizeMismatch');
    expect(s3Mock).toHaveReceivedCommandWith(DeleteObjectCommand, { Bucket: 'phys-results', Key: claimKey });
  });
});

describe('completing an upload of 10,000 parts', () => {
  const PART = 8 * MiB;
  const COUNT = 10_000;
  const bigSession = () => session({ size: (COUNT - 1) * PART + 123, partSize: PART });
  const etagOf = (n: number) => `"${n.toString(16).padStart(32, '0')}"`;
  const allParts = Array.from({ length: COUNT }, (_, i) => ({ partNumber: i + 1, etag: etagOf(i + 1) }));

  /** ListParts as S3 pages it: 1,000 parts a page, NextPartNumberMarker naming the last one. */
  function listTenPages() {
    let mock = s3Mock.on(ListPartsCommand);
    for (let page = 0; page < 10; page++) {
      const numbers = Array.from({ length: 1000 }, (_, i) => page * 1000 + i + 1);
      mock = mock.resolvesOnce({
        Parts: numbers.map((n) => ({ PartNumber: n, ETag: etagOf(n), Size: n === COUNT ? 123 : PART })),
        IsTruncated: page < 9,
        ...(page < 9 ? { NextPartNumberMarker: String(numbers.at(-1)) } : {}),
      });
    }
  }
  const sentParts = () => s3Mock.commandCalls(CompleteMultipartUploadCommand).map((c) => c.args[0].input.MultipartUpload?.Parts);

  beforeEach(() => {
    listTenPages();
    s3Mock.on(CompleteMultipartUploadCommand).resolves({ ETag: '"final-10000"' });
  });

  it('pages through ListParts ten times and completes with all 10,000 parts when the body names none', async () => {
    const res = await onUpload('/complete', 'POST', bigSession(), { body: { key: 'big/data.csv', partsSha256: partsSha256(allParts) } });

    expect(res.statusCode).toBe(200);
    expect(parseBody(res)).toEqual({ key: 'big/data.csv', etag: '"final-10000"', size: (COUNT - 1) * PART + 123 });
    expect(s3Mock.commandCalls(ListPartsCommand).map((c) => c.args[0].input.PartNumberMarker)).toEqual([
      undefined,
      ...Array.from({ length: 9 }, (_, i) => String((i + 1) * 1000)),
    ]);
    expect(sentParts()).toEqual([allParts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag }))]);
  });

  it('accepts the list of all 10,000 parts too, in a body over the 256 KiB other routes take', async () => {
    const body = JSON.stringify({ key: 'big/data.csv', parts: allParts });
    expect(Buffer.byteLength(body)).toBeGreaterThan(256 * 1024);

    const res = await onUpload('/complete', 'POST', bigSession(), { body });

    expect(res.statusCode).toBe(200);
    expect(sentParts()[0]).toHaveLength(COUNT);
  });

  it('returns 413 BodyTooLarge for a complete body over 1 MiB', async () => {
    const res = await onUpload('/complete', 'POST', bigSession(), { body: JSON.stringify({ key: 'big/data.csv', pad: 'x'.repeat(MAX_COMPLETE_BODY_BYTES) }) });

    expect(res.statusCode).toBe(413);
    expect(errorCode(res)).toBe('BodyTooLarge');
  });
});

describe('DELETE /uploads/{uploadId}', () => {
  it('aborts the multipart upload and returns 204', async () => {
    s3Mock.on(AbortMultipartUploadCommand).resolves({});

    const res = await onUpload('', 'DELETE', session(), { query: { key: 'big/data.csv' } });

    expect(res.statusCode).toBe(204);
    expect(s3Mock).toHaveReceivedCommandWith(AbortMultipartUploadCommand, {
      Bucket: 'phys-uploads',
      Key: `users/${USER}/big/data.csv`,
      UploadId: 's3-upload-id',
    });
  });

  it('returns 204 when the upload is already gone', async () => {
    s3Mock.on(AbortMultipartUploadCommand).rejects(new NoSuchUpload({ message: 'gone', $metadata: {} }));

    const res = await onUpload('', 'DELETE', session(), { query: { key: 'big/data.csv' } });

    expect(res.statusCode).toBe(204);
  });

  it('returns 404 for another user upload id without calling S3', async () => {
    const res = await onUpload('', 'DELETE', session(), { query: { key: 'big/data.csv' }, sub: OTHER_USER });

    expect(res.statusCode).toBe(404);
    expect(s3Mock).not.toHaveReceivedCommand(AbortMultipartUploadCommand);
  });
});

describe('DELETE /buckets/{bucket}/objects/{key+}', () => {
  const del = (bucket: string, key: string) =>
    handler(apiEvent({ resource: '/buckets/{bucket}/objects/{key+}', httpMethod: 'DELETE', pathParameters: { bucket, key } }));

  it('deletes the upload and its profile and returns 204', async () => {
    s3Mock.on(DeleteObjectCommand).resolves({});

    const res = await del('uploads', 'reports/my file é.csv');

    expect(res.statusCode).toBe(204);
    expect(s3Mock).toHaveReceivedCommandWith(DeleteObjectCommand, { Bucket: 'phys-uploads', Key: `users/${USER}/reports/my file é.csv` });
    expect(s3Mock).toHaveReceivedCommandWith(DeleteObjectCommand, {
      Bucket: 'phys-results',
      Key: `users/${USER}/reports/my file é.csv.profile.json`,
    });
  });

  it('returns 403 ReadOnlyBucket for the results bucket', async () => {
    const res = await del('results', 'reports/q1.csv.profile.json');

    expect(res.statusCode).toBe(403);
    expect(errorCode(res)).toBe('ReadOnlyBucket');
    expect(s3Mock).not.toHaveReceivedCommand(DeleteObjectCommand);
  });

  it('returns 404 NoSuchBucket for an unknown bucket', async () => {
    const res = await del('nope', 'a.csv');

    expect(res.statusCode).toBe(404);
    expect(errorCode(res)).toBe('NoSuchBucket');
  });

  it('returns 400 InvalidKey for a key with a parent segment', async () => {
    const res = await del('uploads', 'a/../../b.csv');

    expect(errorCode(res)).toBe('InvalidKey');
    expect(s3Mock).not.toHaveReceivedCommand(DeleteObjectCommand);
  });
});

describe('checksums (issue #16)', () => {
  const CRC32_OF_HELLO = 'NhCmhg=='; // CRC32 of "hello"
  const signedHeadersOf = (url: string) => new URL(url).searchParams.get('X-Amz-SignedHeaders')?.split(';') ?? [];

  it('signs the checksum header of a single PUT and returns it to send, not in the query', async () => {
    const res = await createUpload({ key: 'a.txt', contentType: 'text/plain', size: 5, checksum: { algorithm: 'CRC32', value: CRC32_OF_HELLO } });

    expect(res.statusCode).toBe(201);
    const body = parseBody(res) as { url: string; headers: Record<string, string> };
    expect(body.headers).toEqual({ 'content-type': 'text/plain', 'x-amz-checksum-crc32': CRC32_OF_HELLO });
    assertPresigned(body.url, `/users/${USER}/a.txt`);
    expect(signedHeadersOf(body.url)).toEqual(expect.arrayContaining(['content-length', 'content-type', 'x-amz-checksum-crc32']));
  });

  it.each([
    [{ algorithm: 'MD5', value: CRC32_OF_HELLO }, 'checksum.algorithm must be one of CRC32, CRC32C, CRC64NVME, SHA256'],
    [{ algorithm: 'CRC32', value: 'NhCmhg' }, 'checksum.value must be the base64 of the 4-byte CRC32 digest (8 characters)'],
    [{ algorithm: 'CRC32', value: 'NhCmhh==' }, 'checksum.value must be the base64 of the 4-byte CRC32 digest (8 characters)'],
    [{ algorithm: 'CRC64NVME', value: CRC32_OF_HELLO }, 'checksum.value must be the base64 of the 8-byte CRC64NVME digest (12 characters)'],
    [{ algorithm: 'SHA256', value: 'NhCmhg==' }, 'checksum.value must be the base64 of the 32-byte SHA256 digest (44 characters)'],
    ['CRC32', 'checksum must be an object {"algorithm", "value"}'],
  ])('returns 400 InvalidChecksum naming the problem for a single PUT checksum %j', async (checksum, message) => {
    const res = await createUpload({ key: 'a.txt', contentType: 'text/plain', size: 5, checksum });

    expect(res.statusCode).toBe(400);
    expect(parseBody(res)).toEqual({ error: { code: 'InvalidChecksum', message } });
  });

  it('returns 400 ChecksumValueRequired for a single PUT checksum without a value, so a client can send it', async () => {
    const res = await createUpload({ key: 'a.txt', contentType: 'text/plain', size: 5, checksum: { algorithm: 'CRC32' } });

    expect([res.statusCode, errorCode(res)]).toEqual([400, 'ChecksumValueRequired']);
  });

  it('creates a multipart upload with a full-object checksum and echoes the algorithm', async () => {
    s3Mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'raw-id' });

    const res = await createUpload({ key: 'big/data.csv', contentType: 'text/csv', size: 100 * MiB, checksum: { algorithm: 'CRC32' } });

    expect(res.statusCode).toBe(201);
    expect(parseBody(res)).toMatchObject({ checksumAlgorithm: 'CRC32' });
    expect(s3Mock).toHaveReceivedCommandWith(CreateMultipartUploadCommand, { ChecksumAlgorithm: 'CRC32', ChecksumType: 'FULL_OBJECT' });
  });

  it.each([
    [{ algorithm: 'SHA256' }, 'checksum.algorithm of a multipart upload must be one of CRC32, CRC32C, CRC64NVME (full-object checksums)'],
    [{ algorithm: 'CRC32', value: CRC32_OF_HELLO }, "checksum.value is not taken for a multipart upload: send each part's to /parts and the whole object's to /complete"],
  ])('returns 400 InvalidChecksum for a multipart checksum %j without creating an upload', async (checksum, message) => {
    const res = await createUpload({ key: 'big/data.csv', contentType: 'text/csv', size: 100 * MiB, checksum });

    expect(parseBody(res)).toEqual({ error: { code: 'InvalidChecksum', message } });
    expect(s3Mock).not.toHaveReceivedCommand(CreateMultipartUploadCommand);
  });

  it('signs each part URL with its checksum header and returns the header to send', async () => {
    const res = await onUpload('/parts', 'POST', session({ checksumAlgorithm: 'CRC32' }), {
      body: { key: 'big/data.csv', partNumbers: [1, 3], checksums: { '1': CRC32_OF_HELLO, '3': 'AAAAAA==' } },
    });

    expect(res.statusCode).toBe(200);
    const { parts } = parseBody(res) as { parts: { partNumber: number; url: string; headers: Record<string, string> }[] };
    expect(parts.map((p) => p.headers)).toEqual([{ 'x-amz-checksum-crc32': CRC32_OF_HELLO }, { 'x-amz-checksum-crc32': 'AAAAAA==' }]);
    for (const p of parts) {
      assertPresigned(p.url, `/users/${USER}/big/data.csv`);
      expect(signedHeadersOf(p.url)).toContain('x-amz-checksum-crc32');
    }
  });

  it.each([
    [undefined, 'checksums must map each part number to its CRC32 (this upload was created with CRC32)'],
    [{ '1': CRC32_OF_HELLO }, 'checksums has no CRC32 for part 3; this upload needs one for every part'],
    [{ '1': CRC32_OF_HELLO, '3': CRC32_OF_HELLO, '2': CRC32_OF_HELLO }, 'checksums names part "2", which is not in partNumbers'],
    [{ '1': CRC32_OF_HELLO, '3': 'AAAA' }, 'checksums["3"] must be the base64 of the 4-byte CRC32 digest (8 characters)'],
    [{ '1': CRC32_OF_HELLO, '3': 'abc' }, 'checksums["3"] must be the base64 of the part\'s checksum in the upload\'s algorithm'],
  ])('returns 400 InvalidChecksum for part checksums %j of a session with an algorithm', async (checksums, message) => {
    const res = await onUpload('/parts', 'POST', session({ checksumAlgorithm: 'CRC32' }), { body: { key: 'big/data.csv', partNumbers: [1, 3], checksums } });

    expect(parseBody(res)).toEqual({ error: { code: 'InvalidChecksum', message } });
  });

  it('returns 400 InvalidChecksum for part checksums of a session without an algorithm', async () => {
    const res = await onUpload('/parts', 'POST', session(), { body: { key: 'big/data.csv', partNumbers: [1], checksums: { '1': CRC32_OF_HELLO } } });

    expect([res.statusCode, errorCode(res)]).toEqual([400, 'InvalidChecksum']);
  });

  it("lists each part's checksum", async () => {
    s3Mock.on(ListPartsCommand).resolves({ Parts: [{ PartNumber: 1, ETag: '"e1"', Size: 8 * MiB, ChecksumCRC32: CRC32_OF_HELLO }] });

    const res = await onUpload('', 'GET', session({ checksumAlgorithm: 'CRC32' }), { query: { key: 'big/data.csv' } });

    expect(parseBody(res)).toEqual({ parts: [{ partNumber: 1, etag: '"e1"', size: 8 * MiB, checksum: CRC32_OF_HELLO }] });
  });

  describe('completing', () => {
    beforeEach(() => {
      s3Mock.on(ListPartsCommand).resolves({ Parts: threeParts, IsTruncated: false });
    });

    it("passes the whole object's checksum to S3 as a full-object checksum and returns what S3 stored", async () => {
      s3Mock.on(CompleteMultipartUploadCommand).resolves({ ETag: '"final-3"', ChecksumCRC32: CRC32_OF_HELLO, ChecksumType: 'FULL_OBJECT' });

      const res = await onUpload('/complete', 'POST', session({ checksumAlgorithm: 'CRC32' }), { body: { key: 'big/data.csv', checksum: CRC32_OF_HELLO } });

      expect(res.statusCode).toBe(200);
      expect(parseBody(res)).toEqual({ key: 'big/data.csv', etag: '"final-3"', size: SIZE, checksum: { algorithm: 'CRC32', value: CRC32_OF_HELLO } });
      expect(s3Mock).toHaveReceivedCommandWith(CompleteMultipartUploadCommand, { ChecksumCRC32: CRC32_OF_HELLO, ChecksumType: 'FULL_OBJECT' });
    });

    it('returns 400 BadDigest, naming the checksum, when S3 computes another one from the parts', async () => {
      s3Mock.on(CompleteMultipartUploadCommand).rejects(
        new S3ServiceException({ name: 'BadDigest', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'The CRC32 you specified did not match the calculated checksum.' }),
      );

      const res = await onUpload('/complete', 'POST', session({ checksumAlgorithm: 'CRC32' }), { body: { key: 'big/data.csv', checksum: CRC32_OF_HELLO } });

      expect(res.statusCode).toBe(400);
      expect(parseBody(res)).toEqual({ error: { code: 'BadDigest', message: 'checksum does not match the object the uploaded parts make; nothing was completed' } });
    });

    it.each([
      [{ checksumAlgorithm: 'CRC32' as const }, undefined, "checksum is required: this upload was created with CRC32; send the whole object's"],
      [{ checksumAlgorithm: 'CRC32' as const }, 'AAAA', 'checksum must be the base64 of the 4-byte CRC32 digest (8 characters)'],
      [{}, CRC32_OF_HELLO, 'checksum is not taken: this upload was created without a checksum algorithm'],
    ])('returns 400 InvalidChecksum without completing for session %j and checksum %j', async (over, checksum, message) => {
      const res = await onUpload('/complete', 'POST', session(over), { body: { key: 'big/data.csv', ...(checksum !== undefined ? { checksum } : {}) } });

      expect(parseBody(res)).toEqual({ error: { code: 'InvalidChecksum', message } });
      expect(s3Mock).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
    });
  });
});
