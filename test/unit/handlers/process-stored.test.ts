import { GetObjectCommand, HeadObjectCommand, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { processS3Record, type ProcessDeps, type ProfileStoredFn } from '../../../lambda/core/process';
import { CorruptGzipError } from '../../../lambda/core/profile';
import { TEST_CONFIG, USER } from '../helpers/events';

/**
 * The processor with `profileStored` (the ranged profiler on threads, faked here): what it is
 * asked, and how its failures map to outcomes, as the GetObject + profileObject path maps them.
 */
const s3Mock = mockClient(S3Client);
const profileStored = jest.fn<ReturnType<ProfileStoredFn>, Parameters<ProfileStoredFn>>();
const profileObject = jest.fn();
const deps: ProcessDeps = { s3: new S3Client({ region: 'us-east-1' }), config: TEST_CONFIG, profileObject, profileStored, now: () => new Date('2025-02-03T04:05:06Z') };

const record = {
  eventName: 'ObjectCreated:Put',
  s3: { bucket: { name: 'phys-uploads' }, object: { key: `users/${USER}/data.csv`, size: 8, eTag: 'etag-1', sequencer: '0055AED6DCD90281E5' } },
};

function writtenProfile(): Record<string, unknown> {
  return JSON.parse(String(s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input.Body)) as Record<string, unknown>;
}

beforeEach(() => {
  s3Mock.reset();
  profileStored.mockReset();
  profileObject.mockReset();
  s3Mock.on(GetObjectCommand, { Bucket: 'phys-results' }).rejects(new NoSuchKey({ message: 'missing', $metadata: {} }));
  s3Mock.on(PutObjectCommand).resolves({});
  s3Mock.on(HeadObjectCommand).resolves({ ContentLength: 8, ContentType: 'text/csv' });
});

describe('processor with the ranged profiler', () => {
  it('asks it for the version of the event, by the HEAD\'s size and type, with the deadline, and writes its profile', async () => {
    profileStored.mockResolvedValue({ version: 1, format: 'csv', rows: 1 });

    const result = await processS3Record(deps, record, 1_900_000_000_000);

    expect(result.outcome).toBe('profiled');
    expect(s3Mock).toHaveReceivedCommandWith(HeadObjectCommand, { Bucket: 'phys-uploads', Key: `users/${USER}/data.csv`, IfMatch: '"etag-1"', ChecksumMode: 'ENABLED' });
    expect(profileStored).toHaveBeenCalledWith(
      { bucket: 'phys-uploads', key: `users/${USER}/data.csv`, etag: 'etag-1', size: 8, name: 'data.csv', contentType: 'text/csv' },
      { deadline: 1_900_000_000_000 },
    );
    expect(profileObject).not.toHaveBeenCalled();
    // The profiler reads the object itself (ranged GETs): the processor does not.
    expect(s3Mock.commandCalls(GetObjectCommand).filter((c) => c.args[0].input.Bucket === 'phys-uploads')).toHaveLength(0);
    expect(writtenProfile()).toMatchObject({ status: 'ok', rows: 1, source: { key: 'data.csv', size: 8 } });
  });

  it('skips an object overwritten under a range (412 from a range thread)', async () => {
    profileStored.mockRejectedValue(Object.assign(new Error('etag'), { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } }));

    await expect(processS3Record(deps, record)).resolves.toMatchObject({ outcome: 'skipped-overwritten' });
    expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it('skips an object deleted before its HEAD', async () => {
    s3Mock.on(HeadObjectCommand).rejects(new S3ServiceException({ name: 'NotFound', $fault: 'client', message: 'gone', $metadata: { httpStatusCode: 404 } }));

    await expect(processS3Record(deps, record)).resolves.toMatchObject({ outcome: 'skipped-deleted' });
    expect(profileStored).not.toHaveBeenCalled();
  });

  it('writes a failed profile for content that cannot be profiled', async () => {
    profileStored.mockRejectedValue(new CorruptGzipError('unexpected end of file'));

    await expect(processS3Record(deps, record)).resolves.toMatchObject({ outcome: 'failed-profile', code: 'CorruptGzipError' });
    expect(writtenProfile()).toMatchObject({ status: 'failed', error: { name: 'CorruptGzipError' } });
  });

  it('throws, for a retry, when it fails for another reason', async () => {
    profileStored.mockRejectedValue(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));

    await expect(processS3Record(deps, record)).rejects.toThrow('socket hang up');
    expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
  });
});
