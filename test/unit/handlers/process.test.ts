import { GetObjectCommand, HeadObjectCommand, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { compareSequencers, type ProfileStoredFn } from '../../../lambda/core/process';
import { CorruptGzipError } from '../../../lambda/core/profile';
import { createProcessHandler } from '../../../lambda/handlers/process';
import { TEST_CONFIG, USER } from '../helpers/events';
import { s3Body } from '../helpers/s3-body';

const s3Mock = mockClient(S3Client);
/** The ranged profiler (lambda/core/ranged-profile.ts), faked: it reads the object itself. */
const profileStored = jest.fn<ReturnType<ProfileStoredFn>, Parameters<ProfileStoredFn>>();
const logs: Record<string, unknown>[] = [];
const NOW = new Date('2025-02-03T04:05:06Z');
const handler = createProcessHandler({
  s3: new S3Client({ region: 'us-east-1' }),
  config: TEST_CONFIG,
  profileStored,
  now: () => NOW,
  log: (line) => logs.push(line),
});

const RESULT_KEY = `users/${USER}/my file\u00e9.csv.profile.json`;
const UPLOAD_KEY = `users/${USER}/my file\u00e9.csv`;

function s3Record(over: { key?: string; eTag?: string; sequencer?: string; eventName?: string; bucket?: string } = {}) {
  return {
    eventSource: 'aws:s3',
    eventName: over.eventName ?? 'ObjectCreated:Put',
    eventTime: '2025-02-03T04:00:00.000Z',
    s3: {
      bucket: { name: over.bucket ?? 'phys-uploads' },
      object: {
        key: over.key ?? `users/${USER}/my+file%C3%A9.csv`,
        size: 8,
        eTag: over.eTag ?? 'etag-1',
        sequencer: over.sequencer ?? '0055AED6DCD90281E5',
      },
    },
  };
}

function sqsEvent(...bodies: unknown[]): SQSEvent {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `m${i + 1}`,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })),
  } as unknown as SQSEvent;
}

const notification = (...records: ReturnType<typeof s3Record>[]) => ({ Records: records });
const noSuchKey = () => new NoSuchKey({ message: 'missing', $metadata: {} });
const preconditionFailed = () =>
  new S3ServiceException({ name: 'PreconditionFailed', $fault: 'client', message: 'etag', $metadata: { httpStatusCode: 412 } });

/** The uploaded object as the processor's HEAD sees it. */
function storedUpload() {
  s3Mock.on(HeadObjectCommand).resolves({ ContentLength: 8, ContentType: 'text/csv' });
}
function storedProfile(sequencer: string | undefined) {
  s3Mock
    .on(GetObjectCommand, { Bucket: 'phys-results' })
    .resolves({ Body: s3Body(JSON.stringify({ status: 'ok', source: { sequencer } })), ETag: '"profile-etag"' });
}

function writtenProfile(): Record<string, unknown> {
  const put = s3Mock.commandCalls(PutObjectCommand)[0];
  return JSON.parse(String(put?.args[0].input.Body)) as Record<string, unknown>;
}

beforeEach(() => {
  s3Mock.reset();
  profileStored.mockReset();
  logs.length = 0;
  s3Mock.on(GetObjectCommand, { Bucket: 'phys-results' }).rejects(noSuchKey());
  s3Mock.on(PutObjectCommand).resolves({});
  s3Mock.on(HeadObjectCommand).resolves({ ContentLength: 8 });
  profileStored.mockResolvedValue({ version: 1, format: 'csv', rows: 1 });
});

describe('processor', () => {
  it('profiles the object named by an encoded event key and writes the profile to results', async () => {
    storedUpload();

    const res = await handler(sqsEvent(notification(s3Record())));

    expect(res).toEqual({ batchItemFailures: [] });
    expect(s3Mock).toHaveReceivedCommandWith(HeadObjectCommand, { Bucket: 'phys-uploads', Key: UPLOAD_KEY, IfMatch: '"etag-1"', ChecksumMode: 'ENABLED' });
    expect(profileStored).toHaveBeenCalledWith(
      { bucket: 'phys-uploads', key: UPLOAD_KEY, etag: 'etag-1', size: 8, name: 'my file\u00e9.csv', contentType: 'text/csv' },
      { deadline: expect.any(Number) as unknown },
    );
    // The profiler reads the object itself (ranged GETs on its threads): the processor reads none of it.
    expect(s3Mock.commandCalls(GetObjectCommand).filter((c) => c.args[0].input.Bucket === 'phys-uploads')).toHaveLength(0);
    expect(s3Mock).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'phys-results',
      Key: RESULT_KEY,
      ContentType: 'application/json',
      IfNoneMatch: '*',
    });
    expect(writtenProfile()).toEqual({
      status: 'ok',
      version: 1,
      format: 'csv',
      rows: 1,
      source: {
        bucket: 'uploads',
        key: 'my file\u00e9.csv',
        etag: 'etag-1',
        size: 8,
        checksum: null,
        sequencer: '0055AED6DCD90281E5',
        eventTime: '2025-02-03T04:00:00.000Z',
      },
      profiledAt: NOW.toISOString(),
    });
    expect(logs).toEqual([expect.objectContaining({ outcome: 'profiled', messageId: 'm1', key: UPLOAD_KEY, durationMs: expect.any(Number) })]);
  });

  it('gives the profiler the invocation\'s deadline: the time Lambda says is left, less the time to write the profile', async () => {
    storedUpload();
    const before = Date.now();

    await handler(sqsEvent(notification(s3Record())), { getRemainingTimeInMillis: () => 300_000 });

    const deadline = profileStored.mock.calls[0]![1]!.deadline!;
    // PROCESS_WRITE_MARGIN_MS (20 s) before the invocation times out.
    expect(deadline).toBeGreaterThanOrEqual(before + 280_000);
    expect(deadline).toBeLessThanOrEqual(Date.now() + 280_000);
  });

  it('ignores the s3:TestEvent S3 sends when notifications are configured', async () => {
    const res = await handler(sqsEvent({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'phys-uploads' }));

    expect(res.batchItemFailures).toEqual([]);
    expect(s3Mock.calls()).toHaveLength(0);
    expect(logs).toEqual([expect.objectContaining({ outcome: 'skipped-test-event', messageId: 'm1' })]);
  });

  it('skips keys outside any user area', async () => {
    const res = await handler(sqsEvent(notification(s3Record({ key: 'tmp/x.csv' }))));

    expect(res.batchItemFailures).toEqual([]);
    expect(s3Mock.calls()).toHaveLength(0);
    expect(logs[0]).toMatchObject({ outcome: 'skipped-outside-user-area' });
  });

  it('skips a key that is not valid percent-encoding, saying so rather than calling it outside the user area', async () => {
    const res = await handler(sqsEvent(notification(s3Record({ key: `users/${USER}/bad%E9%` }))));

    expect(res.batchItemFailures).toEqual([]);
    expect(s3Mock.calls()).toHaveLength(0);
    expect(logs[0]).toMatchObject({ outcome: 'skipped-undecodable-key', key: `users/${USER}/bad%E9%` });
  });

  it('skips an object written with S3 tools whose profile key would be over S3\'s 1,024 bytes, instead of retrying it', async () => {
    const key = `users/${USER}/${'k'.repeat(1024 - USER.length - 7 - 12)}`;

    const res = await handler(sqsEvent(notification(s3Record({ key }))));

    expect(res.batchItemFailures).toEqual([]);
    expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
    expect(logs[0]).toMatchObject({ outcome: 'skipped-key-too-long' });
  });

  it.each([
    ['deleted', noSuchKey, 'skipped-deleted'],
    ['overwritten (412 on If-Match)', preconditionFailed, 'skipped-overwritten'],
  ])('skips an event whose object was %s since, without retrying', async (_since, error, outcome) => {
    s3Mock.on(HeadObjectCommand).rejects(error());

    const res = await handler(sqsEvent(notification(s3Record())));

    expect(res.batchItemFailures).toEqual([]);
    expect(profileStored).not.toHaveBeenCalled();
    expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
    expect(logs[0]).toMatchObject({ outcome });
  });

  it('skips an object overwritten while the profiler read it (412 from a ranged GET), without retrying', async () => {
    storedUpload();
    // As a range thread's S3 error reaches the processor: its name and status (ranged-profile.ts).
    profileStored.mockRejectedValue(Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), { name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } }));

    const res = await handler(sqsEvent(notification(s3Record())));

    expect(res.batchItemFailures).toEqual([]);
    expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
    expect(logs[0]).toMatchObject({ outcome: 'skipped-overwritten' });
  });

  it('skips a duplicate event whose profile is already stored', async () => {
    storedUpload();
    storedProfile('0055AED6DCD90281E5');

    const res = await handler(sqsEvent(notification(s3Record())));

    expect(res.batchItemFailures).toEqual([]);
    expect(profileStored).not.toHaveBeenCalled();
    expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it('skips an older event arriving after a newer one was profiled', async () => {
    storedUpload();
    storedProfile('0055AED6DCD90281E6');

    await handler(sqsEvent(notification(s3Record({ sequencer: '0055AED6DCD90281E5' }))));

    expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
    expect(logs[0]).toMatchObject({ outcome: 'skipped-stale' });
  });

  it('replaces an older profile, conditionally on the stored version', async () => {
    storedUpload();
    storedProfile('0055AED6DCD90281E5');

    await handler(sqsEvent(notification(s3Record({ sequencer: '0055AED6DCD90281F0' }))));

    expect(s3Mock).toHaveReceivedCommandWith(PutObjectCommand, { Key: RESULT_KEY, IfMatch: '"profile-etag"' });
    expect(writtenProfile()).toMatchObject({ source: { sequencer: '0055AED6DCD90281F0' } });
  });

  it('does not write when a newer profile lands while this one was computed', async () => {
    storedUpload();
    s3Mock
      .on(GetObjectCommand, { Bucket: 'phys-results' })
      .rejectsOnce(noSuchKey())
      .resolves({ Body: s3Body(JSON.stringify({ source: { sequencer: 'FF' + '0'.repeat(16) } })), ETag: '"newer"' });

    await handler(sqsEvent(notification(s3Record())));

    expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it('re-reads and retries when the conditional profile write loses a race', async () => {
    storedUpload();
    s3Mock.on(PutObjectCommand).rejectsOnce(preconditionFailed()).resolves({});

    const res = await handler(sqsEvent(notification(s3Record())));

    expect(res.batchItemFailures).toEqual([]);
    expect(s3Mock).toHaveReceivedCommandTimes(PutObjectCommand, 2);
  });

  it('writes a failed profile for content that cannot be profiled (a corrupt gzip file) instead of retrying', async () => {
    storedUpload();
    // The one ContentError the profiler throws; the rest of the engine's limits truncate instead.
    profileStored.mockRejectedValue(new CorruptGzipError('incorrect header check'));

    const res = await handler(sqsEvent(notification(s3Record())));

    expect(res.batchItemFailures).toEqual([]);
    expect(writtenProfile()).toMatchObject({
      status: 'failed',
      error: { name: 'CorruptGzipError', message: expect.stringContaining('incorrect header check') as unknown },
      source: { key: 'my file\u00e9.csv' },
    });
    expect(logs[0]).toMatchObject({ outcome: 'failed-profile', code: 'CorruptGzipError', durationMs: expect.any(Number) });
  });

  it('reports a transient S3 failure in batchItemFailures so SQS retries that message only', async () => {
    storedUpload();
    s3Mock
      .on(HeadObjectCommand, { Bucket: 'phys-uploads', Key: `users/${USER}/slow.csv` })
      .rejects(new S3ServiceException({ name: 'SlowDown', $fault: 'server', message: 'slow down', $metadata: { httpStatusCode: 503 } }));

    const res = await handler(sqsEvent(notification(s3Record({ key: `users/${USER}/slow.csv` })), notification(s3Record())));

    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(s3Mock).toHaveReceivedCommandTimes(PutObjectCommand, 1);
    expect(logs).toEqual(
      expect.arrayContaining([expect.objectContaining({ outcome: 'retry', messageId: 'm1', error: expect.objectContaining({ name: 'SlowDown' }) })]),
    );
  });

  it('retries when the profiler fails for a reason other than the content', async () => {
    storedUpload();
    profileStored.mockRejectedValue(Object.assign(new Error('socket hang up'), { name: 'Error', code: 'ECONNRESET' }));

    const res = await handler(sqsEvent(notification(s3Record())));

    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it('skips a message body that is not JSON rather than retrying it forever', async () => {
    const res = await handler(sqsEvent('not json'));

    expect(res.batchItemFailures).toEqual([]);
  });

  it('skips events from another bucket and events other than creations', async () => {
    await handler(sqsEvent(notification(s3Record({ bucket: 'elsewhere' }), s3Record({ eventName: 'ObjectRemoved:Delete' }))));

    expect(s3Mock.calls()).toHaveLength(0);
    expect(profileStored).not.toHaveBeenCalled();
  });
});

describe('compareSequencers', () => {
  it.each([
    ['0A', '0B', -1],
    ['B', '0A', 1],
    ['FF', 'FF00', 0],
    ['0055AED6DCD90281E5', '0055AED6DCD90281E50000', 0],
    ['0055AED6DCD90281E5', '0055AED6DCD90281E6', -1],
    // Right padding, not left: "1" is "10", which is later than "0F".
    ['1', '0F', 1],
    ['ff', 'FE', 1],
  ])('compares %p with %p as %p', (a, b, expected) => {
    expect(Math.sign(compareSequencers(a, b))).toBe(expected);
  });
});

describe('processor: the stored checksum (issue #16)', () => {
  it('asks S3 for the checksum of the version it profiles and records it in the profile', async () => {
    s3Mock.on(HeadObjectCommand).resolves({ ContentLength: 8, ChecksumCRC32: 'NhCmhg==', ChecksumType: 'FULL_OBJECT' });

    await handler(sqsEvent(notification(s3Record())));

    expect(s3Mock).toHaveReceivedCommandWith(HeadObjectCommand, { Bucket: 'phys-uploads', Key: UPLOAD_KEY, IfMatch: '"etag-1"', ChecksumMode: 'ENABLED' });
    expect(writtenProfile()).toMatchObject({ source: { checksum: { algorithm: 'CRC32', type: 'FULL_OBJECT', value: 'NhCmhg==' } } });
  });

  it('records a composite checksum as composite when S3 leaves out the type', async () => {
    s3Mock.on(HeadObjectCommand).resolves({ ContentLength: 8, ChecksumSHA256: 'abc=-3' });

    await handler(sqsEvent(notification(s3Record())));

    expect(writtenProfile()).toMatchObject({ source: { checksum: { algorithm: 'SHA256', type: 'COMPOSITE', value: 'abc=-3' } } });
  });
});
