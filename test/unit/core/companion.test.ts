import { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, ListPartsCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { completeMultipart, createGrant, createMultipart, GRANT_SECONDS, parseCompanionParts, signPart, verifyGrant } from '../../../lambda/core/companion';
import { decodeUploadId, encodeUploadId, UPLOAD_SESSION_SECONDS } from '../../../lambda/core/upload';
import { MiB } from '../../../lambda/shared/config';
import { OTHER_USER, presigningS3Client, TEST_CONFIG, TEST_KEYS, USER } from '../helpers/events';

const s3Mock = mockClient(S3Client);
const NOW = new Date('2025-01-01T00:00:00Z');
const deps = { s3: presigningS3Client(), config: { ...TEST_CONFIG, maxUploadBytes: 100 * MiB }, keys: TEST_KEYS, now: () => NOW };

beforeEach(() => {
  s3Mock.reset();
  s3Mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 's3-id' });
  s3Mock.on(CompleteMultipartUploadCommand).resolves({ ETag: '"final-2"' });
});

const listed = (...sizes: number[]) => s3Mock.on(ListPartsCommand).resolves({ Parts: sizes.map((Size, i) => ({ PartNumber: i + 1, ETag: `"e${i + 1}"`, Size })) });
const companionBody = (count: number) => ({ parts: Array.from({ length: count }, (_, i) => ({ PartNumber: i + 1, ETag: `"e${i + 1}"` })) });
const given = (count: number) => parseCompanionParts(companionBody(count));

async function start(metadata: Record<string, unknown> = {}) {
  return createMultipart(deps, USER, { filename: 'clip.mp4', type: 'video/mp4', metadata });
}

describe('createMultipart (POST /s3/multipart)', () => {
  it('keys the upload by the file name under the caller area', async () => {
    const { key } = await start();
    expect(key).toBe('clip.mp4');
    expect(s3Mock).toHaveReceivedCommandWith(CreateMultipartUploadCommand, { Key: `users/${USER}/clip.mp4`, ContentType: 'video/mp4' });
  });

  it('uses a key from the file metadata when there is one', async () => {
    const { key } = await start({ key: 'videos/2025/clip.mp4' });
    expect(key).toBe('videos/2025/clip.mp4');
  });

  it('keys a file whose name came in NFD (as macOS may give it) by its NFC form, and answers with that key', async () => {
    const { key } = await createMultipart(deps, USER, { filename: 'r\u00e9sum\u00e9.pdf'.normalize('NFD'), type: 'application/pdf', metadata: {} });

    expect(key).toBe('r\u00e9sum\u00e9.pdf');
    expect(s3Mock).toHaveReceivedCommandWith(CreateMultipartUploadCommand, { Key: `users/${USER}/r\u00e9sum\u00e9.pdf` });
  });

  it('refuses a file name with a right-to-left override (400 InvalidKey)', async () => {
    await expect(createMultipart(deps, USER, { filename: 'invoice\u202efdp.exe', type: 'application/pdf', metadata: {} })).rejects.toMatchObject({ statusCode: 400, code: 'InvalidKey' });
  });

  it('refuses a declared size over the limit with 413 before creating anything', async () => {
    await expect(start({ size: 101 * MiB })).rejects.toMatchObject({ statusCode: 413, code: 'EntityTooLarge' });
    expect(s3Mock).not.toHaveReceivedCommand(CreateMultipartUploadCommand);
  });
});

describe('metadata.size (POST /s3/multipart)', () => {
  /** What completing the upload says when S3 lists parts of 5 MiB and 7 bytes: the declared size is checked. */
  const completedAs = async (size: unknown) => {
    const { uploadId, key } = await start({ size });
    listed(5 * MiB, 7);
    return completeMultipart(deps, USER, uploadId, key, given(2)).then(
      (done) => done.size,
      (err: { code: string }) => err.code,
    );
  };

  it.each([
    ['a JSON integer', 5 * MiB + 7],
    ['a string of decimal digits (meta from a form field)', String(5 * MiB + 7)],
  ])('accepts %s and holds the upload to it', async (_what, size) => {
    await expect(completedAs(size)).resolves.toBe(5 * MiB + 7);
  });

  it.each([
    ['a JSON integer', 5 * MiB + 8],
    ['a string of decimal digits', String(5 * MiB + 8)],
    ['"0"', '0'],
  ])('declares %s, so parts that add up to another size get SizeMismatch', async (_what, size) => {
    await expect(completedAs(size)).resolves.toBe('SizeMismatch');
  });

  it.each([
    ['hex', '0x10'],
    ['spaces', ' 12 '],
    ['an exponent', '1e3'],
    ['a sign', '+12'],
    ['a leading zero', '012'],
    ['a fraction string', '12.0'],
    ['a negative string', '-1'],
    ['a negative number', -1],
    ['a fraction', 1.5],
    ['a boolean', true],
    ['an unsafe integer string', '9007199254740993'],
  ])('refuses %s (%j) with 400 InvalidSize before creating anything', async (_what, size) => {
    await expect(start({ size })).rejects.toMatchObject({ statusCode: 400, code: 'InvalidSize' });
    expect(s3Mock).not.toHaveReceivedCommand(CreateMultipartUploadCommand);
  });
});

describe('completeMultipart (POST /s3/multipart/{id}/complete)', () => {
  it('completes an upload without a declared size with the ETags S3 listed', async () => {
    const { uploadId, key } = await start();
    listed(5 * MiB, 5 * MiB, 7);
    const done = await completeMultipart(deps, USER, uploadId, key, given(3));
    expect(done).toEqual({ location: '/buckets/uploads/objects/clip.mp4', key: 'clip.mp4', size: 10 * MiB + 7 });
    expect(s3Mock).toHaveReceivedCommandWith(CompleteMultipartUploadCommand, { UploadId: 's3-id', MultipartUpload: { Parts: companionBody(3).parts } });
  });

  it('refuses with 409 SizeMismatch when the parts do not add up to the declared size', async () => {
    const { uploadId, key } = await start({ size: 10 * MiB });
    listed(5 * MiB, 7);
    await expect(completeMultipart(deps, USER, uploadId, key, given(2))).rejects.toMatchObject({ statusCode: 409, code: 'SizeMismatch' });
    expect(s3Mock).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
  });

  it('refuses a part that was not uploaded with the given ETag', async () => {
    const { uploadId, key } = await start();
    listed(5 * MiB, 7);
    const parts = parseCompanionParts({ parts: [{ PartNumber: 1, ETag: '"e1"' }, { PartNumber: 2, ETag: '"other"' }] });
    await expect(completeMultipart(deps, USER, uploadId, key, parts)).rejects.toMatchObject({ statusCode: 400, code: 'InvalidPart' });
  });

  it('refuses a part under 5 MiB that is not the last one', async () => {
    const { uploadId, key } = await start();
    listed(5 * MiB - 1, 7);
    await expect(completeMultipart(deps, USER, uploadId, key, given(2))).rejects.toMatchObject({ statusCode: 400, code: 'EntityTooSmall' });
  });

  it('aborts an upload whose parts add up to more than the limit and answers 413', async () => {
    const { uploadId, key } = await start();
    listed(60 * MiB, 60 * MiB);
    await expect(completeMultipart(deps, USER, uploadId, key, given(2))).rejects.toMatchObject({ statusCode: 413 });
    expect(s3Mock).toHaveReceivedCommandWith(AbortMultipartUploadCommand, { UploadId: 's3-id' });
    expect(s3Mock).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
  });

  it("treats another user's upload id as unknown (404)", async () => {
    const { uploadId, key } = await start();
    await expect(completeMultipart(deps, OTHER_USER, uploadId, key, given(1))).rejects.toMatchObject({ statusCode: 404, code: 'NoSuchUpload' });
  });
});

describe('signPart (GET /s3/multipart/{id}/{partNumber})', () => {
  it('presigns an UploadPart URL for the part number', async () => {
    const { uploadId, key } = await start();
    const { url } = await signPart(deps, USER, uploadId, '7', key);
    const u = new URL(url);
    expect(u.pathname).toContain(`/users/${USER}/clip.mp4`);
    expect(u.searchParams.get('partNumber')).toBe('7');
    expect(u.searchParams.get('uploadId')).toBe('s3-id');
  });

  it.each(['0', '10001', '1.5', 'x', '07', ' 7', '7e0', '0x7'])('refuses part number %j', async (n) => {
    const { uploadId, key } = await start();
    await expect(signPart(deps, USER, uploadId, n, key)).rejects.toMatchObject({ statusCode: 400, code: 'InvalidPartNumber' });
  });
});

describe('upload ids', () => {
  it('refuses an Uppy upload id on the /uploads routes, whose size rules differ', async () => {
    const { uploadId, key } = await start({ size: 10 * MiB });

    expect(() => decodeUploadId(deps, USER, uploadId, key)).toThrow(expect.objectContaining({ statusCode: 404, code: 'NoSuchUpload' }));
  });

  it('refuses a /uploads id on the Uppy routes', async () => {
    const uploadId = encodeUploadId(deps.keys.ring('upload'), {
      uploadId: 's3-id',
      userId: USER,
      key: 'clip.mp4',
      size: 10 * MiB,
      partSize: 8 * MiB,
      expiresAt: NOW.getTime() / 1000 + 3600,
    });

    await expect(signPart(deps, USER, uploadId, '1', 'clip.mp4')).rejects.toMatchObject({ statusCode: 404, code: 'NoSuchUpload' });
  });

  it('treats an expired upload id as unknown (404)', async () => {
    const { uploadId, key } = await start();
    const later = { ...deps, now: () => new Date(NOW.getTime() + UPLOAD_SESSION_SECONDS * 1000) };

    await expect(signPart(later, USER, uploadId, '1', key)).rejects.toMatchObject({ statusCode: 404, code: 'NoSuchUpload' });
  });

  it('answers 400 KeyMismatch for the right upload id with another key', async () => {
    const { uploadId } = await start();

    await expect(signPart(deps, USER, uploadId, '1', 'other.mp4')).rejects.toMatchObject({ statusCode: 400, code: 'KeyMismatch' });
  });
});

describe('grants', () => {
  it('names the user it was issued to', () => {
    const { grant } = createGrant(deps, USER);
    expect(verifyGrant(deps, grant)).toBe(USER);
  });

  it('refuses an expired grant with 401', () => {
    const { grant } = createGrant(deps, USER);
    const later = { ...deps, now: () => new Date(NOW.getTime() + (GRANT_SECONDS + 1) * 1000) };
    expect(() => verifyGrant(later, grant)).toThrow(expect.objectContaining({ statusCode: 401 }));
  });

  it('refuses an upload id presented as a grant', async () => {
    const { uploadId } = await start();
    expect(() => verifyGrant(deps, uploadId)).toThrow(expect.objectContaining({ statusCode: 401 }));
  });
});
