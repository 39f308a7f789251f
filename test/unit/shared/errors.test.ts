import { InvalidObjectState, NoSuchKey, NoSuchUpload, S3ServiceException } from '@aws-sdk/client-s3';
import { toErrorResponse } from '../../../lambda/shared/http';

/** An S3 error as the SDK throws it when S3 answers with `status` (no class for most codes). */
const s3Error = (name: string, status: number) =>
  new S3ServiceException({ name, $fault: status < 500 ? 'client' : 'server', message: `S3 says ${name}`, $metadata: { httpStatusCode: status } });

const answer = (err: unknown) => {
  const res = toErrorResponse(err);
  return [res.statusCode, (JSON.parse(res.body) as { error: { code: string } }).error.code];
};

describe('S3 errors a caller can cause', () => {
  beforeEach(() => {
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
  });

  it.each([
    ['KeyTooLongError', 400, 400, 'InvalidKey'],
    ['InvalidPart', 400, 400, 'InvalidPart'],
    ['InvalidPartOrder', 400, 400, 'InvalidPartOrder'],
    ['EntityTooSmall', 400, 400, 'EntityTooSmall'],
    ['NotFound', 404, 404, 'NoSuchKey'],
    ['PreconditionFailed', 412, 412, 'PreconditionFailed'],
    ['ConditionalRequestConflict', 409, 409, 'ConditionalRequestConflict'],
    ['OperationAborted', 409, 409, 'OperationAborted'],
    ['InvalidRange', 416, 416, 'InvalidRange'],
  ])('answers S3 %s (%i) with %i %s and a JSON body', (name, s3Status, status, code) => {
    expect(answer(s3Error(name, s3Status))).toEqual([status, code]);
  });

  it('answers the SDK classes for a missing key and a missing upload with 404, and EntityTooLarge with 413', () => {
    const meta = { $metadata: { httpStatusCode: 404 }, message: 'gone' };
    expect(answer(new NoSuchKey(meta))).toEqual([404, 'NoSuchKey']);
    expect(answer(new NoSuchUpload(meta))).toEqual([404, 'NoSuchUpload']);
    expect(answer(s3Error('EntityTooLarge', 400))).toEqual([413, 'EntityTooLarge']);
  });

  it.each([
    ['AccessDenied', 403],
    ['NoSuchBucket', 404],
    ['SignatureDoesNotMatch', 403],
    ['MalformedXML', 400],
  ])('keeps S3 %s (%i), an error of the service not the caller, a 500', (name, s3Status) => {
    expect(answer(s3Error(name, s3Status))).toEqual([500, 'InternalError']);
  });

  it('keeps an error of another kind that happens to share a name a 500', () => {
    const err = Object.assign(new Error('not S3'), { name: 'InvalidPart' });
    expect(answer(err)).toEqual([500, 'InternalError']);
  });

  it('leaves an archived object (InvalidObjectState) a 500: the service never archives', () => {
    expect(answer(new InvalidObjectState({ $metadata: { httpStatusCode: 403 }, message: 'archived' }))).toEqual([500, 'InternalError']);
  });
});
