import { AbortMultipartUploadCommand, ListPartsCommand, NoSuchUpload, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { partLength } from '../../../lambda/core/sign-request';
import { createUploadHandler } from '../../../lambda/handlers/upload';
import { MiB } from '../../../lambda/shared/config';
import { apiEvent, errorCode, OTHER_USER, parseBody, presigningS3Client, TEST_CONFIG, TEST_KEYS, USER } from '../helpers/events';

/**
 * POST /uploads/sign: each of the six S3 requests Uppy's signRequest mode makes, signed for real
 * with dummy credentials and asserted on the URL; and every refusal, one per test.
 */
const s3Mock = mockClient(S3Client);
const NOW = new Date('2025-01-01T00:00:00Z');
const CEILING = 100 * MiB;
const handler = createUploadHandler({ s3: presigningS3Client(), config: { ...TEST_CONFIG, maxUploadBytes: CEILING }, keys: TEST_KEYS, now: () => NOW });

const SIZE = 20 * MiB + 5; // planned as 8 MiB, 8 MiB, 4 MiB + 5
const S3_KEY = `users/${USER}/videos/clip.mp4`;
const UPLOAD_ID = 'aws-upload-id.Xyz_-';

const sign = (body: unknown, sub?: string | null) =>
  handler(apiEvent({ resource: '/uploads/sign', httpMethod: 'POST', body, ...(sub !== undefined ? { sub } : {}) }));
const signed = async (body: unknown) => {
  const res = await sign(body);
  expect({ status: res.statusCode, body: parseBody(res) }).toMatchObject({ status: 200 });
  return parseBody(res) as { url: string; key: string; headers?: Record<string, string>; expiresAt: string };
};
const refused = async (body: unknown, sub?: string | null) => {
  const res = await sign(body, sub);
  return { status: res.statusCode, code: errorCode(res) };
};
const listed = (...sizes: number[]) =>
  s3Mock.on(ListPartsCommand).resolves({ Parts: sizes.map((Size, i) => ({ PartNumber: i + 1, ETag: `"e${i + 1}"`, Size })) });

function presigned(url: string, method: string): URL {
  const u = new URL(url);
  expect(u.host).toBe('phys-uploads.s3.us-east-1.amazonaws.com');
  expect(u.searchParams.get('X-Amz-Credential')).toMatch(/^AKIDEXAMPLE\//);
  expect(Number(u.searchParams.get('X-Amz-Expires'))).toBe(900);
  expect(method).toMatch(/^(PUT|POST|GET|DELETE)$/);
  return u;
}
const signedHeaders = (u: URL) => u.searchParams.get('X-Amz-SignedHeaders')!.split(';');

beforeEach(() => {
  s3Mock.reset();
});

describe('POST /uploads/sign: the requests Uppy makes', () => {
  it('signs a single PUT in the caller area with its content type and length, and returns the S3 key', async () => {
    const out = await signed({ method: 'PUT', key: 'videos/clip.mp4', contentType: 'video/mp4', size: 1234 });
    const u = presigned(out.url, 'PUT');
    expect(decodeURIComponent(u.pathname)).toBe(`/${S3_KEY}`);
    expect(signedHeaders(u)).toEqual(expect.arrayContaining(['content-length', 'content-type', 'host']));
    expect(out).toMatchObject({ key: S3_KEY, headers: { 'content-type': 'video/mp4' }, expiresAt: '2025-01-01T00:15:00.000Z' });
  });

  it('signs CreateMultipartUpload with the content type', async () => {
    const out = await signed({ method: 'POST', key: 'videos/clip.mp4', contentType: 'video/mp4', size: SIZE });
    const u = presigned(out.url, 'POST');
    expect(u.searchParams.has('uploads')).toBe(true);
    expect(signedHeaders(u)).toContain('content-type');
    expect(out).toMatchObject({ key: S3_KEY, headers: { 'content-type': 'video/mp4' } });
  });

  it.each([
    [1, 8 * MiB],
    [2, 8 * MiB],
    [3, 4 * MiB + 5],
  ])('signs part %i with the content length the part plan gives it (%i bytes)', async (partNumber, length) => {
    const out = await signed({ method: 'PUT', key: S3_KEY, uploadId: UPLOAD_ID, partNumber, size: SIZE });
    const u = presigned(out.url, 'PUT');
    expect(u.searchParams.get('partNumber')).toBe(String(partNumber));
    expect(u.searchParams.get('uploadId')).toBe(UPLOAD_ID);
    expect(signedHeaders(u)).toContain('content-length');
    expect(partLength(SIZE, partNumber)).toBe(length);
  });

  it('signs ListParts for an upload in the caller area', async () => {
    const u = presigned((await signed({ method: 'GET', key: S3_KEY, uploadId: UPLOAD_ID })).url, 'GET');
    expect(u.searchParams.get('uploadId')).toBe(UPLOAD_ID);
    expect(decodeURIComponent(u.pathname)).toBe(`/${S3_KEY}`);
  });

  it('signs the completion once the parts S3 holds follow the plan and add up to the size', async () => {
    listed(8 * MiB, 8 * MiB, 4 * MiB + 5);
    const u = presigned((await signed({ method: 'POST', key: S3_KEY, uploadId: UPLOAD_ID, size: SIZE })).url, 'POST');
    expect(u.searchParams.get('uploadId')).toBe(UPLOAD_ID);
    expect(s3Mock).toHaveReceivedCommandWith(ListPartsCommand, { Bucket: 'phys-uploads', Key: S3_KEY, UploadId: UPLOAD_ID });
  });

  it('signs the abort', async () => {
    const u = presigned((await signed({ method: 'DELETE', key: S3_KEY, uploadId: UPLOAD_ID })).url, 'DELETE');
    expect(u.searchParams.get('uploadId')).toBe(UPLOAD_ID);
  });
});

describe('POST /uploads/sign: refusals', () => {
  it('refuses a caller without a token with 401', async () => {
    expect(await refused({ method: 'PUT', key: 'a.csv', contentType: 'text/csv', size: 1 }, null)).toEqual({ status: 401, code: 'Unauthorized' });
  });

  it('refuses a part of another user\'s upload with 403 KeyOutsideArea', async () => {
    expect(await refused({ method: 'PUT', key: `users/${OTHER_USER}/videos/clip.mp4`, uploadId: UPLOAD_ID, partNumber: 1, size: SIZE })).toEqual({ status: 403, code: 'KeyOutsideArea' });
  });

  it('refuses an upload request naming a key relative to the area instead of the S3 key with 403', async () => {
    expect(await refused({ method: 'GET', key: 'videos/clip.mp4', uploadId: UPLOAD_ID })).toEqual({ status: 403, code: 'KeyOutsideArea' });
  });

  it('refuses a key that climbs out of the caller area with 400 InvalidKey', async () => {
    expect(await refused({ method: 'DELETE', key: `users/${USER}/../${OTHER_USER}/x`, uploadId: UPLOAD_ID })).toEqual({ status: 400, code: 'InvalidKey' });
  });

  it('refuses a new object with an invalid key with 400 InvalidKey', async () => {
    expect(await refused({ method: 'PUT', key: '../x.csv', contentType: 'text/csv', size: 1 })).toEqual({ status: 400, code: 'InvalidKey' });
  });

  it('refuses a single PUT over the size ceiling with 413', async () => {
    expect(await refused({ method: 'PUT', key: 'a.bin', contentType: 'application/octet-stream', size: CEILING + 1 })).toEqual({ status: 413, code: 'EntityTooLarge' });
  });

  it('refuses a multipart upload declared over the ceiling with 413', async () => {
    expect(await refused({ method: 'POST', key: 'a.bin', contentType: 'application/octet-stream', size: CEILING + 1 })).toEqual({ status: 413, code: 'EntityTooLarge' });
  });

  it('refuses a single PUT without a size with 400 InvalidSize', async () => {
    expect(await refused({ method: 'PUT', key: 'a.bin', contentType: 'application/octet-stream' })).toEqual({ status: 400, code: 'InvalidSize' });
  });

  it('refuses a multipart upload of zero bytes with 400 InvalidSize', async () => {
    expect(await refused({ method: 'POST', key: 'a.bin', contentType: 'application/octet-stream', size: 0 })).toEqual({ status: 400, code: 'InvalidSize' });
  });

  it('refuses a content type that is not a media type with 400', async () => {
    expect(await refused({ method: 'PUT', key: 'a.csv', contentType: 'text/csv\r\nx-amz-acl: public-read', size: 1 })).toEqual({ status: 400, code: 'InvalidContentType' });
  });

  it('refuses a multipart upload without a content type with 400', async () => {
    expect(await refused({ method: 'POST', key: 'a.csv', size: SIZE })).toEqual({ status: 400, code: 'InvalidContentType' });
  });

  it('refuses a part number past the plan for the declared size with 400', async () => {
    expect(await refused({ method: 'PUT', key: S3_KEY, uploadId: UPLOAD_ID, partNumber: 4, size: SIZE })).toEqual({ status: 400, code: 'InvalidPartNumber' });
  });

  it.each([0, 10_001, 1.5, '1', undefined])('refuses part number %p with 400', async (partNumber) => {
    expect(await refused({ method: 'PUT', key: S3_KEY, uploadId: UPLOAD_ID, partNumber, size: SIZE })).toEqual({ status: 400, code: 'InvalidPartNumber' });
  });

  it.each([
    ['empty', ''],
    ['with a space', 'with space'],
    ['of 1,025 characters', 'x'.repeat(1025)],
    ['a number', 7],
  ])('refuses an upload id %s with 400 InvalidUploadId', async (_label, uploadId) => {
    expect(await refused({ method: 'GET', key: S3_KEY, uploadId })).toEqual({ status: 400, code: 'InvalidUploadId' });
  });

  it('refuses to sign DELETE of an object (not an upload) with 400 UnsupportedRequest', async () => {
    expect(await refused({ method: 'DELETE', key: 'a.csv' })).toEqual({ status: 400, code: 'UnsupportedRequest' });
  });

  it.each(['GET', 'HEAD', 'PATCH', undefined])('refuses method %p without an upload id with 400 UnsupportedRequest', async (method) => {
    expect(await refused({ method, key: 'a.csv' })).toEqual({ status: 400, code: 'UnsupportedRequest' });
  });

  it('refuses a body that is not a JSON object with 400', async () => {
    expect(await refused([{ method: 'PUT' }])).toEqual({ status: 400, code: 'InvalidBody' });
  });

  it('refuses to sign a completion whose parts add up to more than the ceiling with 413, and aborts the upload', async () => {
    listed(...Array.from({ length: 13 }, () => 8 * MiB));
    expect(await refused({ method: 'POST', key: S3_KEY, uploadId: UPLOAD_ID, size: 100 * MiB })).toEqual({ status: 413, code: 'EntityTooLarge' });
    expect(s3Mock).toHaveReceivedCommandWith(AbortMultipartUploadCommand, { Bucket: 'phys-uploads', Key: S3_KEY, UploadId: UPLOAD_ID });
  });

  it('refuses to sign a completion whose parts do not add up to the declared size with 409', async () => {
    listed(8 * MiB, 8 * MiB);
    expect(await refused({ method: 'POST', key: S3_KEY, uploadId: UPLOAD_ID, size: SIZE })).toEqual({ status: 409, code: 'SizeMismatch' });
  });

  it('refuses to sign a completion with a part of another size than the plan with 400 InvalidPart', async () => {
    listed(8 * MiB, 6 * MiB, 6 * MiB + 5);
    expect(await refused({ method: 'POST', key: S3_KEY, uploadId: UPLOAD_ID, size: SIZE })).toEqual({ status: 400, code: 'InvalidPart' });
  });

  it('refuses to sign a completion with a missing part with 400 InvalidPart', async () => {
    s3Mock.on(ListPartsCommand).resolves({ Parts: [{ PartNumber: 2, ETag: '"e2"', Size: SIZE }] });
    expect(await refused({ method: 'POST', key: S3_KEY, uploadId: UPLOAD_ID, size: SIZE })).toEqual({ status: 400, code: 'InvalidPart' });
  });

  it('refuses to sign a completion before any part was uploaded with 400 InvalidPart', async () => {
    listed();
    expect(await refused({ method: 'POST', key: S3_KEY, uploadId: UPLOAD_ID, size: SIZE })).toEqual({ status: 400, code: 'InvalidPart' });
  });

  it('refuses to sign a completion of an upload S3 does not have under that key with 404', async () => {
    s3Mock.on(ListPartsCommand).rejects(new NoSuchUpload({ message: 'no such upload', $metadata: { httpStatusCode: 404 } }));
    expect(await refused({ method: 'POST', key: S3_KEY, uploadId: UPLOAD_ID, size: SIZE })).toEqual({ status: 404, code: 'NoSuchUpload' });
  });

  it('refuses a completion without the declared size with 400 InvalidSize', async () => {
    expect(await refused({ method: 'POST', key: S3_KEY, uploadId: UPLOAD_ID })).toEqual({ status: 400, code: 'InvalidSize' });
    expect(s3Mock).not.toHaveReceivedCommand(ListPartsCommand);
  });
});
