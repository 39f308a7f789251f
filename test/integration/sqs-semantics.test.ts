import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { startLocalQueue, type LocalQueue } from '../../local/sqs/server';
import { MOTO, startMoto, type Moto } from './support/moto';
import { describeWith } from './support/optional-tools';

/**
 * One suite of SQS semantics, driven only through @aws-sdk/client-sqs, run against the local queue
 * (local/sqs) and against a second implementation, moto_server's SQS. Where moto is known to differ
 * from what SQS documents, the local queue follows SQS and the moto half asserts moto's behaviour
 * instead, in a test named for the difference: it fails, and says so, on the day moto changes.
 *
 * Visibility timeouts are 0 to 2 s; nothing asserts on how long anything took. Waits are long polls
 * (WaitTimeSeconds), which both servers answer as soon as a message is visible.
 */
jest.setTimeout(60_000);

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'AKIDSQSSEMANTICS', secretAccessKey: 'sqs-semantics-secret' };

/** Behaviours where an implementation is known to differ from what SQS documents. */
type Difference = 'stale-receipt-handle-deletes' | 'no-message-move-tasks';

function semanticsSuite(getSqs: () => SQSClient, differs: ReadonlySet<Difference>): void {
  let sqs: SQSClient;
  beforeAll(() => {
    sqs = getSqs();
  });
  /** The test of SQS's behaviour, or of the known difference: never both, never neither. */
  const sqsOr = (difference: Difference, asSqs: [string, () => Promise<void>], asDifference: [string, () => Promise<void>]) =>
    differs.has(difference) ? it(...asDifference) : it(...asSqs);

  const queueName = (what: string) => `${what}-${randomUUID().slice(0, 8)}`;
  async function createQueue(what: string, attributes: Record<string, string> = {}): Promise<string> {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: queueName(what), Attributes: attributes }));
    return QueueUrl!;
  }
  async function queueArn(QueueUrl: string): Promise<string> {
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    return Attributes!.QueueArn!;
  }
  async function counts(QueueUrl: string): Promise<{ visible: number; inFlight: number }> {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    return { visible: Number(Attributes!.ApproximateNumberOfMessages), inFlight: Number(Attributes!.ApproximateNumberOfMessagesNotVisible) };
  }
  async function receive(QueueUrl: string, options: { wait?: number; visibility?: number; max?: number } = {}): Promise<Message[]> {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl,
        MaxNumberOfMessages: options.max ?? 1,
        WaitTimeSeconds: options.wait ?? 0,
        ...(options.visibility !== undefined ? { VisibilityTimeout: options.visibility } : {}),
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    return Messages ?? [];
  }
  async function receiveOne(QueueUrl: string, options: { wait?: number; visibility?: number } = {}): Promise<Message> {
    const messages = await receive(QueueUrl, { wait: 5, ...options });
    expect(messages).toHaveLength(1);
    return messages[0]!;
  }
  async function errorOf(promise: Promise<unknown>): Promise<{ name: string; status?: number }> {
    const err = (await promise.then(
      () => undefined,
      (e: unknown) => e,
    )) as { name: string; $metadata?: { httpStatusCode?: number } } | undefined;
    if (!err) throw new Error('expected the call to fail');
    return { name: err.name, ...(err.$metadata?.httpStatusCode ? { status: err.$metadata.httpStatusCode } : {}) };
  }

  it('delivers a sent message with its body, the MD5s of body and attributes, and its system attributes', async () => {
    const QueueUrl = await createQueue('send');
    const sent = await sqs.send(
      new SendMessageCommand({ QueueUrl, MessageBody: 'héllo {"a":1}', MessageAttributes: { kind: { DataType: 'String', StringValue: 'test' }, n: { DataType: 'Number', StringValue: '42' } } }),
    );

    const message = await receiveOne(QueueUrl);

    expect(message.MessageId).toBe(sent.MessageId);
    expect(message.Body).toBe('héllo {"a":1}');
    expect(message.MD5OfBody).toBe(createHash('md5').update('héllo {"a":1}').digest('hex'));
    // The documented digest of these two attributes; both implementations must compute it alike.
    expect(sent.MD5OfMessageAttributes).toBe(message.MD5OfMessageAttributes);
    expect(message.MessageAttributes).toEqual({ kind: { DataType: 'String', StringValue: 'test' }, n: { DataType: 'Number', StringValue: '42' } });
    expect(message.Attributes).toMatchObject({ ApproximateReceiveCount: '1', SentTimestamp: expect.stringMatching(/^\d{13}$/), SenderId: expect.any(String) });
    expect(Number(message.Attributes!.ApproximateFirstReceiveTimestamp)).toBeGreaterThanOrEqual(Number(message.Attributes!.SentTimestamp));
  });

  it('computes MD5OfMessageAttributes with the documented algorithm', async () => {
    const QueueUrl = await createQueue('md5');

    const sent = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x', MessageAttributes: { a: { DataType: 'String', StringValue: 'x' } } }));

    // 4-byte length + "a", 4-byte length + "String", transport byte 1, 4-byte length + "x".
    const expected = createHash('md5')
      .update(Buffer.from([0, 0, 0, 1, 0x61, 0, 0, 0, 6, ...Buffer.from('String'), 1, 0, 0, 0, 1, 0x78]))
      .digest('hex');
    expect(sent.MD5OfMessageAttributes).toBe(expected);
  });

  it('digests String, Number, custom and Binary attributes, sorted by name, as SQS does', async () => {
    const QueueUrl = await createQueue('md5-mixed');

    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: 'x',
        MessageAttributes: {
          zeta: { DataType: 'String', StringValue: 'last' },
          Emoji: { DataType: 'String.custom', StringValue: 'é☃' },
          count: { DataType: 'Number', StringValue: '12.5' },
          blob: { DataType: 'Binary', BinaryValue: Buffer.from([0, 255, 7]) },
        },
      }),
    );

    // The digest moto computes for these; the local queue must agree (uppercase sorts first, binary is transport 2).
    expect(sent.MD5OfMessageAttributes).toBe('e8c7ea819c7328065d3c3db4c28e133a');
  });

  it('deletes a message with the receipt handle of its receive', async () => {
    const QueueUrl = await createQueue('delete');
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'one' }));
    const message = await receiveOne(QueueUrl);

    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));

    expect(await counts(QueueUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect(await receive(QueueUrl, { wait: 1 })).toEqual([]);
  });

  it('hides a received message for its visibility timeout, then delivers it again with a higher receive count and a new receipt handle', async () => {
    const QueueUrl = await createQueue('visibility', { VisibilityTimeout: '1' });
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'again' }));
    const first = await receiveOne(QueueUrl);

    const whileHidden = await receive(QueueUrl);
    const countsWhileHidden = await counts(QueueUrl);
    const second = await receiveOne(QueueUrl, { wait: 5 });

    expect(whileHidden).toEqual([]);
    expect(countsWhileHidden).toEqual({ visible: 0, inFlight: 1 });
    expect(second.MessageId).toBe(first.MessageId);
    expect([first.Attributes!.ApproximateReceiveCount, second.Attributes!.ApproximateReceiveCount]).toEqual(['1', '2']);
    expect(second.ReceiptHandle).not.toBe(first.ReceiptHandle);
    expect(second.Attributes!.ApproximateFirstReceiveTimestamp).toBe(first.Attributes!.ApproximateFirstReceiveTimestamp);
  });

  it('takes a VisibilityTimeout of 0 on a receive: the message is visible again at once', async () => {
    const QueueUrl = await createQueue('visibility-zero', { VisibilityTimeout: '30' });
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'zero' }));

    const first = await receiveOne(QueueUrl, { visibility: 0 });
    const second = await receiveOne(QueueUrl, { visibility: 0 });

    expect(second.MessageId).toBe(first.MessageId);
    expect(second.Attributes!.ApproximateReceiveCount).toBe('2');
  });

  it('makes an in-flight message visible at once with ChangeMessageVisibility to 0', async () => {
    const QueueUrl = await createQueue('change-visibility', { VisibilityTimeout: '30' });
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'change' }));
    const first = await receiveOne(QueueUrl);

    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: first.ReceiptHandle, VisibilityTimeout: 0 }));
    const second = await receiveOne(QueueUrl);

    expect(second.MessageId).toBe(first.MessageId);
  });

  it('refuses a receipt handle that no receive gave out with ReceiptHandleIsInvalid', async () => {
    const QueueUrl = await createQueue('bad-handle');

    const error = await errorOf(sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: 'not-a-receipt-handle' })));

    expect(error.name).toBe('ReceiptHandleIsInvalid');
  });

  sqsOr(
    'stale-receipt-handle-deletes',
    ['no longer deletes a message with the receipt handle of an earlier receive', async () => {
      const QueueUrl = await createQueue('stale-handle', { VisibilityTimeout: '0' });
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'stale' }));
      const first = await receiveOne(QueueUrl);
      const second = await receiveOne(QueueUrl, { visibility: 30 });

      // SQS's DeleteMessage reference: without the latest handle "the request will still succeed,
      // but the message might not be deleted"; the local queue never deletes then.
      await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: first.ReceiptHandle }));
      const afterStale = await counts(QueueUrl);
      await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: second.ReceiptHandle }));

      expect(afterStale).toEqual({ visible: 0, inFlight: 1 });
      expect(await counts(QueueUrl)).toEqual({ visible: 0, inFlight: 0 });
    }],
    ['differs from SQS: the receipt handle of an earlier receive still deletes the message', async () => {
      const QueueUrl = await createQueue('stale-handle', { VisibilityTimeout: '0' });
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'stale' }));
      const first = await receiveOne(QueueUrl);
      await receiveOne(QueueUrl, { visibility: 30 });

      await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: first.ReceiptHandle }));

      expect(await counts(QueueUrl)).toEqual({ visible: 0, inFlight: 0 });
    }],
  );

  it('answers a long poll as soon as a message arrives, before its wait time is over', async () => {
    const QueueUrl = await createQueue('long-poll');
    const polling = receive(QueueUrl, { wait: 20 });
    await new Promise((r) => setTimeout(r, 500)); // let the poll start waiting

    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'wake up' }));
    // Not a measurement: a poll answered only at the end of its 20 s would lose this race by 10 s.
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      polling.then((messages) => messages.map((m) => m.Body)),
      new Promise<'still waiting'>((r) => (timer = setTimeout(() => r('still waiting'), 10_000))),
    ]);
    clearTimeout(timer);
    await polling;

    expect(outcome).toEqual(['wake up']);
  });

  it('moves a message to the dead-letter queue when it would be received more than maxReceiveCount times', async () => {
    const dlqUrl = await createQueue('dlq');
    const QueueUrl = await createQueue('redrive', {
      VisibilityTimeout: '0',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: await queueArn(dlqUrl), maxReceiveCount: 2 }),
    });
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'poison' }));

    const receives = [await receiveOne(QueueUrl), await receiveOne(QueueUrl)];
    const third = await receive(QueueUrl);
    const dead = await receiveOne(dlqUrl);

    expect(receives.map((m) => m.Attributes!.ApproximateReceiveCount)).toEqual(['1', '2']);
    expect(third).toEqual([]);
    expect(await counts(QueueUrl)).toEqual({ visible: 0, inFlight: 0 });
    // Same message: id, body and (standard queues) the original SentTimestamp.
    expect(dead.MessageId).toBe(sent.MessageId);
    expect(dead.Body).toBe('poison');
    expect(dead.Attributes!.SentTimestamp).toBe(receives[0]!.Attributes!.SentTimestamp);
  });

  it('deletes what it can in a DeleteMessageBatch and reports each entry it could not', async () => {
    const QueueUrl = await createQueue('batch-delete');
    await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: [{ Id: 'a', MessageBody: 'a' }, { Id: 'b', MessageBody: 'b' }] }));
    const messages = [...(await receive(QueueUrl, { max: 10, wait: 2 }))];
    if (messages.length < 2) messages.push(...(await receive(QueueUrl, { max: 10, wait: 2 })));
    expect(messages).toHaveLength(2);

    const result = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl,
        Entries: [
          { Id: 'good', ReceiptHandle: messages[0]!.ReceiptHandle },
          { Id: 'bad', ReceiptHandle: 'not-a-receipt-handle' },
        ],
      }),
    );

    expect(result.Successful).toEqual([{ Id: 'good' }]);
    expect(result.Failed).toEqual([expect.objectContaining({ Id: 'bad', Code: 'ReceiptHandleIsInvalid', SenderFault: true })]);
    expect(await counts(QueueUrl)).toEqual({ visible: 0, inFlight: 1 });
  });

  sqsOr(
    'no-message-move-tasks',
    ['moves dead letters back to their source queue with a message move task, as new messages', async () => {
      const dlqUrl = await createQueue('dlq');
      const dlqArn = await queueArn(dlqUrl);
      const QueueUrl = await createQueue('redrive-back', { VisibilityTimeout: '0', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 1 }) });
      const sent = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'retry me' }));
      await receiveOne(QueueUrl);
      expect(await receive(QueueUrl)).toEqual([]); // now in the dead-letter queue
      expect(await counts(dlqUrl)).toEqual({ visible: 1, inFlight: 0 });

      const { TaskHandle } = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn }));
      let status: string | undefined;
      for (let i = 0; i < 100 && status !== 'COMPLETED'; i++) {
        const { Results } = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn }));
        status = Results?.[0]?.Status;
        if (status !== 'COMPLETED') await new Promise((r) => setTimeout(r, 100));
      }
      const back = await receiveOne(QueueUrl);

      expect(TaskHandle).toEqual(expect.any(String));
      expect(status).toBe('COMPLETED');
      expect(back.Body).toBe('retry me');
      // "All redriven messages are considered new messages": a new id, received for the first time.
      expect(back.MessageId).not.toBe(sent.MessageId);
      expect(back.Attributes!.ApproximateReceiveCount).toBe('1');
      expect(await counts(dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
    }],
    ['differs from SQS: it has no message move tasks', async () => {
      const dlqUrl = await createQueue('dlq');

      const error = await errorOf(sqs.send(new StartMessageMoveTaskCommand({ SourceArn: await queueArn(dlqUrl) })));

      // moto answers an action it does not implement with an HTML 500.
      expect(error.status).toBe(500);
    }],
  );

  it('purges every message of a queue, visible and in flight', async () => {
    const QueueUrl = await createQueue('purge');
    await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: ['a', 'b', 'c'].map((id) => ({ Id: id, MessageBody: id })) }));
    await receiveOne(QueueUrl, { visibility: 30 });

    await sqs.send(new PurgeQueueCommand({ QueueUrl }));

    expect(await counts(QueueUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect(await receive(QueueUrl, { wait: 1 })).toEqual([]);
  });

  it('refuses MaxNumberOfMessages outside 1-10 with InvalidParameterValue', async () => {
    const QueueUrl = await createQueue('params');

    const error = await errorOf(sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 11 })));

    expect(error.name).toBe('InvalidParameterValue');
  });

  it('answers QueueDoesNotExist for a queue name that was never created', async () => {
    const error = await errorOf(sqs.send(new GetQueueUrlCommand({ QueueName: queueName('missing') })));

    expect(error.name).toBe('QueueDoesNotExist');
  });
}

describe('SQS semantics: the local queue', () => {
  let dir: string;
  let queue: LocalQueue;
  let sqs: SQSClient;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3fs-sqs-semantics-'));
    queue = await startLocalQueue({ directory: dir, region: REGION, credentials: [CREDENTIALS] });
    sqs = new SQSClient({ endpoint: queue.endpoint, region: REGION, credentials: CREDENTIALS });
  });
  afterAll(async () => {
    sqs.destroy();
    await queue.close();
    await rm(dir, { recursive: true, force: true });
  });

  semanticsSuite(() => sqs, new Set());
});

describeWith(MOTO, 'SQS semantics: moto_server', () => {
  let moto: Moto;
  let sqs: SQSClient;

  beforeAll(async () => {
    moto = await startMoto();
    sqs = new SQSClient({ endpoint: moto.endpoint, region: REGION, credentials: CREDENTIALS });
  });
  afterAll(async () => {
    sqs?.destroy();
    await moto?.stop();
  });

  // moto 5.2: DeleteMessage takes any handle the message ever had, and StartMessageMoveTask is not implemented.
  semanticsSuite(() => sqs, new Set<Difference>(['stale-receipt-handle-deletes', 'no-message-move-tasks']));
});
