import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { PROCESSING_QUEUE } from '../../lambda/shared/processing-queue';
import { startEventSourceMapping, type EventSourceMapping, type SqsHandler } from '../../local/event-source-mapping';
import { startLocalQueue, type LocalQueue } from '../../local/sqs/server';

/**
 * The local event-source mapping against the local queue: batches shaped as Lambda delivers them,
 * ReportBatchItemFailures, the function timeout, redrive after the stack's maxReceiveCount receives, idle() and
 * stop(). Each test has its own queue (visibility timeout 1 s, so a retry comes within seconds) and
 * its own dead-letter queue. Nothing asserts on durations.
 */
jest.setTimeout(60_000);

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'AKIDMAPPING', secretAccessKey: 'mapping-secret' };

let dir: string;
let server: LocalQueue;
let sqs: SQSClient;
let mapping: EventSourceMapping | undefined;
let logs: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3fs-mapping-'));
  server = await startLocalQueue({ directory: dir, region: REGION, credentials: [CREDENTIALS] });
  sqs = new SQSClient({ endpoint: server.endpoint, region: REGION, credentials: CREDENTIALS });
});
afterAll(async () => {
  sqs.destroy();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  logs = [];
});
afterEach(async () => {
  await mapping?.stop();
  mapping = undefined;
});

interface Queues {
  queueUrl: string;
  queueArn: string;
  dlqUrl: string;
}

async function createQueues(): Promise<Queues> {
  const id = randomUUID().slice(0, 8);
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `dlq-${id}` }));
  const maxReceiveCount = String(PROCESSING_QUEUE.maxReceiveCount);
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: `events-${id}`,
      Attributes: { VisibilityTimeout: '1', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: server.queueArn(`dlq-${id}`), maxReceiveCount }) },
    }),
  );
  return { queueUrl: queue.QueueUrl!, queueArn: server.queueArn(`events-${id}`), dlqUrl: dlq.QueueUrl! };
}

function start(queues: Queues, handler: SqsHandler, extra: { functionTimeoutMs?: number; maxConcurrency?: number } = {}): EventSourceMapping {
  mapping = startEventSourceMapping({
    sqs,
    queueUrl: queues.queueUrl,
    queueArn: queues.queueArn,
    region: REGION,
    handler,
    batchSize: PROCESSING_QUEUE.batchSize,
    maxConcurrency: extra.maxConcurrency ?? 2,
    functionTimeoutMs: extra.functionTimeoutMs ?? 10_000,
    log: (line) => logs.push(line),
    idlePollMs: 20,
  });
  return mapping;
}

async function sendBodies(queueUrl: string, bodies: string[]): Promise<void> {
  await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: bodies.map((body, i) => ({ Id: `m${i}`, MessageBody: body })) }));
}

async function pending(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return { visible: Number(Attributes!.ApproximateNumberOfMessages), inFlight: Number(Attributes!.ApproximateNumberOfMessagesNotVisible) };
}

/** Every delivery of each body, as the receive counts it came with. */
function receiveCounts(events: SQSEvent[]): Record<string, string[]> {
  const counts: Record<string, string[]> = {};
  for (const record of events.flatMap((e) => e.Records)) (counts[record.body] ??= []).push(record.attributes.ApproximateReceiveCount);
  return counts;
}

/** ['1', …, 'n']: the receive counts of a message received n times. */
const receiveCountsUpTo = (n: number) => Array.from({ length: n }, (_, i) => String(i + 1));

const ok = async (): Promise<SQSBatchResponse> => ({ batchItemFailures: [] });

describe('the local event-source mapping', () => {
  it('delivers a batch shaped as Lambda delivers an SQS event', async () => {
    const queues = await createQueues();
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queues.queueUrl,
        MessageBody: '{"Records":[]}',
        MessageAttributes: { kind: { DataType: 'String', StringValue: 's3' }, raw: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 3]) } },
      }),
    );
    await sendBodies(queues.queueUrl, ['second', 'third']);
    const events: SQSEvent[] = [];

    await start(queues, async (event) => {
      events.push(event);
      return ok();
    }).idle();

    const records = events.flatMap((e) => e.Records);
    expect(records.map((r) => r.body).sort()).toEqual(['second', 'third', '{"Records":[]}']);
    const record = records.find((r) => r.body === '{"Records":[]}')!;
    expect(Object.keys(record)).toEqual(['messageId', 'receiptHandle', 'body', 'attributes', 'messageAttributes', 'md5OfBody', 'eventSource', 'eventSourceARN', 'awsRegion']);
    expect(record).toMatchObject({
      messageId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      receiptHandle: expect.any(String),
      md5OfBody: createHash('md5').update('{"Records":[]}').digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: queues.queueArn,
      awsRegion: REGION,
    });
    expect(Object.keys(record.attributes)).toEqual(['ApproximateReceiveCount', 'SentTimestamp', 'SenderId', 'ApproximateFirstReceiveTimestamp']);
    expect(record.attributes).toMatchObject({ ApproximateReceiveCount: '1', SentTimestamp: expect.stringMatching(/^\d{13}$/), SenderId: CREDENTIALS.accessKeyId });
    expect(record.messageAttributes).toEqual({
      kind: { stringValue: 's3', stringListValues: [], binaryListValues: [], dataType: 'String' },
      raw: { binaryValue: Buffer.from([1, 2, 3]).toString('base64'), stringListValues: [], binaryListValues: [], dataType: 'Binary' },
    });
    expect(records.find((r) => r.body === 'second')!.messageAttributes).toEqual({});
  });

  it('deletes the records not in batchItemFailures and delivers the reported ones again with a higher receive count', async () => {
    const queues = await createQueues();
    await sendBodies(queues.queueUrl, ['good', 'bad']);
    const events: SQSEvent[] = [];

    await start(queues, async (event) => {
      events.push(event);
      const firstTime = event.Records.filter((r) => r.body === 'bad' && r.attributes.ApproximateReceiveCount === '1');
      return { batchItemFailures: firstTime.map((r) => ({ itemIdentifier: r.messageId })) };
    }).idle();

    expect(receiveCounts(events)).toEqual({ good: ['1'], bad: ['1', '2'] });
    expect(await pending(queues.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('delivers the whole batch again when the handler throws', async () => {
    const queues = await createQueues();
    await sendBodies(queues.queueUrl, ['a', 'b']);
    const events: SQSEvent[] = [];

    await start(queues, async (event) => {
      events.push(event);
      if (events.length === 1) throw new Error('boom');
      return ok();
    }).idle();

    expect(events).toHaveLength(2);
    expect(receiveCounts(events)).toEqual({ a: ['1', '2'], b: ['1', '2'] });
    expect(logs.some((l) => l.includes('boom'))).toBe(true);
  });

  it('delivers the whole batch again when the handler has not answered within the function timeout', async () => {
    const queues = await createQueues();
    await sendBodies(queues.queueUrl, ['slow', 'fine']);
    const events: SQSEvent[] = [];
    let release: () => void = () => undefined;
    const hung = new Promise<void>((r) => (release = r));

    await start(
      queues,
      async (event) => {
        events.push(event);
        if (events.length === 1) await hung; // answers only once the test is over
        return ok();
      },
      { functionTimeoutMs: 200 },
    ).idle();
    release();

    expect(receiveCounts(events)).toEqual({ slow: ['1', '2'], fine: ['1', '2'] });
    expect(logs.some((l) => l.includes('Task timed out after 0.20 seconds'))).toBe(true);
  });

  it('fails the whole batch when batchItemFailures names an itemIdentifier that is not in it', async () => {
    const queues = await createQueues();
    await sendBodies(queues.queueUrl, ['x', 'y']);
    const events: SQSEvent[] = [];

    await start(queues, async (event) => {
      events.push(event);
      return events.length === 1 ? { batchItemFailures: [{ itemIdentifier: 'not-a-message-id' }] } : ok();
    }).idle();

    expect(receiveCounts(events)).toEqual({ x: ['1', '2'], y: ['1', '2'] });
  });

  it('fails the whole batch when batchItemFailures has an empty itemIdentifier', async () => {
    const queues = await createQueues();
    await sendBodies(queues.queueUrl, ['x', 'y']);
    const events: SQSEvent[] = [];

    await start(queues, async (event) => {
      events.push(event);
      return events.length === 1 ? { batchItemFailures: [{ itemIdentifier: '' }] } : ok();
    }).idle();

    expect(receiveCounts(events)).toEqual({ x: ['1', '2'], y: ['1', '2'] });
  });

  it(`leaves a record that always fails to the queue, which moves it to the dead-letter queue after ${PROCESSING_QUEUE.maxReceiveCount} receives`, async () => {
    const queues = await createQueues();
    await sendBodies(queues.queueUrl, ['poison']);
    const events: SQSEvent[] = [];

    await start(queues, async (event) => {
      events.push(event);
      return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
    }).idle();

    expect(receiveCounts(events)).toEqual({ poison: receiveCountsUpTo(PROCESSING_QUEUE.maxReceiveCount) });
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queues.dlqUrl, MessageSystemAttributeNames: ['All'] }));
    expect(Messages?.map((m) => [m.MessageId, m.Body, m.Attributes?.DeadLetterQueueSourceArn])).toEqual([[events[0]!.Records[0]!.messageId, 'poison', queues.queueArn]]);
  });

  it('resolves idle() only once a failed record has been retried and deleted', async () => {
    const queues = await createQueues();
    await sendBodies(queues.queueUrl, ['retry-me']);
    const events: SQSEvent[] = [];
    const running = start(queues, async (event) => {
      events.push(event);
      return events.length === 1 ? { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) } : ok();
    });

    await running.idle();

    expect(receiveCounts(events)).toEqual({ 'retry-me': ['1', '2'] });
    expect(await pending(queues.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('lets stop() wait for the batch being handled, delete its records, and poll no more', async () => {
    const queues = await createQueues();
    await sendBodies(queues.queueUrl, ['in-flight']);
    let entered: () => void = () => undefined;
    const handling = new Promise<void>((r) => (entered = r));
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const calls: SQSEvent[] = [];
    const running = start(queues, async (event) => {
      calls.push(event);
      entered();
      await gate;
      return ok();
    });
    await handling;

    let stopped = false;
    const stopping = running.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 200));
    const stoppedBeforeRelease = stopped;
    release();
    await stopping;
    mapping = undefined;
    await sendBodies(queues.queueUrl, ['after-stop']);
    await new Promise((r) => setTimeout(r, 300));

    expect(stoppedBeforeRelease).toBe(false);
    expect(calls).toHaveLength(1);
    // The batch's record was deleted; the one sent after the stop waits, visible, for a poller.
    expect(await pending(queues.queueUrl)).toEqual({ visible: 1, inFlight: 0 });
  });

  it('makes idle() reject once the mapping is stopped, as nothing will empty the queue then', async () => {
    const queues = await createQueues();
    const running = start(queues, ok);
    await running.stop();
    mapping = undefined;
    await sendBodies(queues.queueUrl, ['left']);

    await expect(running.idle()).rejects.toThrow('stopped');
  });
});
