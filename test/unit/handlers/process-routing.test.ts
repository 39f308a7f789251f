/* eslint-disable @typescript-eslint/no-explicit-any -- stored profiles are untyped JSON */
import { GetObjectCommand, HeadObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { fanOutRunName } from '../../../lambda/core/fan-out';
import { stepFunctionsStarter } from '../../../lambda/core/fan-out-start';
import { routeObject, type FanOutRequest, type ProfileStoredFn } from '../../../lambda/core/process';
import { createProcessHandler } from '../../../lambda/handlers/process';
import { AwsServiceError, type AwsJsonClient } from '../../../lambda/shared/aws-json';
import { TEST_CONFIG, USER } from '../helpers/events';

const s3Mock = mockClient(S3Client);
/** The ranged profiler, faked: one pass. */
const profileStored = jest.fn<ReturnType<ProfileStoredFn>, Parameters<ProfileStoredFn>>();
const started: FanOutRequest[] = [];
const fanOut = { start: jest.fn(async (request: FanOutRequest) => (started.push(request), 'started' as const)) };
const MiB = 1024 * 1024;
const config = { ...TEST_CONFIG, fanOutBytes: 100 * MiB, profileBytesPerSecond: 10 * MiB };
const log = () => undefined;

function record(size: number, sequencer = '0055AED6DCD90281E5') {
  return {
    eventName: 'ObjectCreated:Put',
    eventTime: '2025-02-03T04:00:00.000Z',
    s3: { bucket: { name: 'phys-uploads' }, object: { key: `users/${USER}/big.csv`, size, eTag: 'etag-1', sequencer } },
  };
}
const sqsEvent = (...bodies: unknown[]) => ({ Records: bodies.map((body, i) => ({ messageId: `m${i + 1}`, body: JSON.stringify(body) })) }) as unknown as SQSEvent;
const timeLeft = (ms: number) => ({ getRemainingTimeInMillis: () => ms });

function writtenProfile(): Record<string, any> {
  return JSON.parse(String(s3Mock.commandCalls(PutObjectCommand)[0]?.args[0].input.Body)) as Record<string, any>;
}

beforeEach(() => {
  s3Mock.reset();
  profileStored.mockReset();
  fanOut.start.mockClear();
  started.length = 0;
  s3Mock.on(GetObjectCommand, { Bucket: 'phys-results' }).rejects(new NoSuchKey({ message: 'missing', $metadata: {} }));
  // The one-pass path HEADs the object first (size, type, stored checksum: none here).
  s3Mock.on(HeadObjectCommand, { Bucket: 'phys-uploads' }).resolves({ ContentLength: 8 });
  s3Mock.on(PutObjectCommand).resolves({});
  profileStored.mockResolvedValue({ version: 1, format: 'csv', rows: 1 });
});

describe('routeObject', () => {
  const base = { fanOutBytes: 100, profileBytesPerSecond: 10, canFanOut: true };

  it('profiles in one pass what is under the threshold and fits the time left', () => {
    expect(routeObject({ ...base, size: 99, budgetMs: 10_000 })).toEqual({ route: 'one-pass' });
  });

  it('fans out what is at least the threshold, whatever the time left', () => {
    expect(routeObject({ ...base, size: 100, budgetMs: Number.POSITIVE_INFINITY })).toEqual({ route: 'fan-out', reason: 'size' });
  });

  it('fans out what one pass would not finish in the time left', () => {
    expect(routeObject({ ...base, size: 50, budgetMs: 4_999 })).toEqual({ route: 'fan-out', reason: 'estimate' });
  });

  it('skips, with the estimate and the budget, what it cannot fan out', () => {
    expect(routeObject({ ...base, canFanOut: false, size: 50, budgetMs: 2_500 })).toEqual({ route: 'skip', reason: 'estimate', estimateSeconds: 5, budgetSeconds: 2 });
  });
});

describe('processor routing', () => {
  it('starts the fan-out for an object over the threshold and reads none of it', async () => {
    const handler = createProcessHandler({ s3: new S3Client({}), config, profileStored, fanOut, log });

    const res = await handler(sqsEvent({ Records: [record(100 * MiB)] }), timeLeft(300_000));

    expect(res.batchItemFailures).toEqual([]);
    expect(started).toEqual([{ record: record(100 * MiB), attempt: 0 }]);
    expect(profileStored).not.toHaveBeenCalled();
    expect(s3Mock).not.toHaveReceivedCommand(HeadObjectCommand);
    expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it('fans out an object under the threshold when the invocation\'s time left (the context\'s) is too short for one pass', async () => {
    const handler = createProcessHandler({ s3: new S3Client({}), config: { ...config, fanOutBytes: 1024 * MiB }, profileStored, fanOut, log });
    // 500 MiB at 10 MiB/s: 50 s of one pass.
    const large = record(500 * MiB);

    await handler(sqsEvent({ Records: [large] }), timeLeft(75_000)); // 55 s after the write margin: one pass
    expect(started).toEqual([]);
    expect(profileStored).toHaveBeenCalledTimes(1);

    await handler(sqsEvent({ Records: [large] }), timeLeft(65_000)); // 45 s: not enough
    expect(started).toEqual([{ record: large, attempt: 0 }]);
    expect(profileStored).toHaveBeenCalledTimes(1);
  });

  it('passes the attempt of a replayed dead letter on to the fan-out', async () => {
    const handler = createProcessHandler({ s3: new S3Client({}), config, profileStored, fanOut, log });

    await handler(sqsEvent({ Records: [record(200 * MiB)], fanOutAttempt: 2 }), timeLeft(300_000));

    expect(started).toEqual([{ record: record(200 * MiB), attempt: 2 }]);
  });

  it('writes a skipped profile saying why when there is no fan-out, rather than running into the timeout', async () => {
    const handler = createProcessHandler({ s3: new S3Client({}), config, profileStored, log });

    const res = await handler(sqsEvent({ Records: [record(100 * MiB)] }), timeLeft(300_000));

    expect(res.batchItemFailures).toEqual([]);
    expect(profileStored).not.toHaveBeenCalled();
    expect(writtenProfile()).toMatchObject({
      status: 'skipped',
      reason: { code: 'TooLarge' },
      bytes: 100 * MiB,
      source: { key: 'big.csv', sequencer: '0055AED6DCD90281E5' },
    });
  });
});

describe('stepFunctionsStarter', () => {
  const arn = 'arn:aws:states:eu-west-1:111111111111:stateMachine:fan-out';
  const request = { record: record(3 * 1024 * MiB), attempt: 0 };

  /** Step Functions' StartExecution as the JSON client reaches it: answers, or throws what the real client throws. */
  function stepFunctions(answer: () => Promise<object>) {
    const calls: { action: string; input: object }[] = [];
    const sfn: AwsJsonClient = {
      call: async <T>(action: string, input: object): Promise<T> => (calls.push({ action, input }), (await answer()) as T),
      destroy: () => undefined,
    };
    return { sfn, calls };
  }

  it('starts one execution named by key, sequencer and attempt, with the record as input', async () => {
    const { sfn, calls } = stepFunctions(async () => ({ executionArn: `${arn}:x`, startDate: 1.7e9 }));

    await expect(stepFunctionsStarter(sfn, config, arn).start(request)).resolves.toBe('started');

    const name = fanOutRunName(`users/${USER}/big.csv`, '0055AED6DCD90281E5', 0);
    expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(calls).toEqual([{ action: 'StartExecution', input: { stateMachineArn: arn, name, input: JSON.stringify(request) } }]);
  });

  it('counts ExecutionAlreadyExists (a duplicate event) as started', async () => {
    const { sfn } = stepFunctions(async () => {
      throw new AwsServiceError('ExecutionAlreadyExists', 'Execution Already Exists', 400);
    });

    await expect(stepFunctionsStarter(sfn, config, arn).start(request)).resolves.toBe('already-started');
  });

  it('fails on any other error, so the record is retried', async () => {
    const { sfn } = stepFunctions(async () => {
      throw new AwsServiceError('StateMachineDoesNotExist', 'State Machine Does Not Exist', 400);
    });

    await expect(stepFunctionsStarter(sfn, config, arn).start(request)).rejects.toMatchObject({ name: 'StateMachineDoesNotExist' });
  });

  it('gives another attempt of the same event another name', () => {
    expect(fanOutRunName('users/u/k', 'SEQ', 1)).not.toBe(fanOutRunName('users/u/k', 'SEQ', 0));
  });
});
