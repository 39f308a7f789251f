import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../../lambda/shared/sha256';
import { startLocalQueue, type LocalQueue } from '../../local/sqs/server';

/**
 * What the local queue does that SQS itself does not need to be checked for: it keeps its queues
 * and messages on disk across a restart, and it refuses what a web page or a stranger could send
 * it (the query protocol, unsigned or wrongly signed requests).
 */
jest.setTimeout(60_000);

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'AKIDLOCALQUEUE', secretAccessKey: 'local-queue-secret' };

const client = (queue: LocalQueue, credentials = CREDENTIALS) => new SQSClient({ endpoint: queue.endpoint, region: REGION, credentials });

async function counts(sqs: SQSClient, QueueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return { visible: Number(Attributes!.ApproximateNumberOfMessages), inFlight: Number(Attributes!.ApproximateNumberOfMessagesNotVisible) };
}

async function receiveAll(sqs: SQSClient, QueueUrl: string, wait = 0): Promise<Message[]> {
  const { Messages } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: wait, MessageSystemAttributeNames: ['All'], MessageAttributeNames: ['All'] }),
  );
  return Messages ?? [];
}

describe('the local queue across a restart', () => {
  let dir: string;
  let queue: LocalQueue | undefined;
  let sqs: SQSClient | undefined;

  /** (Re)starts the server on the same directory. */
  async function open(): Promise<SQSClient> {
    sqs?.destroy();
    await queue?.close();
    queue = await startLocalQueue({ directory: dir, region: REGION, credentials: [CREDENTIALS] });
    sqs = client(queue);
    return sqs;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3fs-local-queue-'));
  });
  afterEach(async () => {
    sqs?.destroy();
    await queue?.close();
    sqs = undefined;
    queue = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps its queues, their attributes and their pending messages', async () => {
    let sqs = await open();
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'kept', Attributes: { VisibilityTimeout: '7', MessageRetentionPeriod: '600' } }));
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'still here', MessageAttributes: { k: { DataType: 'String', StringValue: 'v' } } }));

    sqs = await open();
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['VisibilityTimeout', 'MessageRetentionPeriod'] }));
    const messages = await receiveAll(sqs, QueueUrl!);

    expect(Attributes).toEqual({ VisibilityTimeout: '7', MessageRetentionPeriod: '600' });
    expect(messages.map((m) => [m.MessageId, m.Body, m.MessageAttributes, m.Attributes?.ApproximateReceiveCount])).toEqual([
      [sent.MessageId, 'still here', { k: { DataType: 'String', StringValue: 'v' } }, '1'],
    ]);
  });

  it('counts a message in flight at the restart as received, and makes it visible again when its visibility timeout passes', async () => {
    let sqs = await open();
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'in-flight', Attributes: { VisibilityTimeout: '2' } }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'was being handled' }));
    const [first] = await receiveAll(sqs, QueueUrl!);

    sqs = await open();
    const afterRestart = await counts(sqs, QueueUrl!);
    const [again] = await receiveAll(sqs, QueueUrl!, 5);

    expect(afterRestart).toEqual({ visible: 0, inFlight: 1 });
    expect(again?.MessageId).toBe(first!.MessageId);
    expect(again?.Attributes?.ApproximateReceiveCount).toBe('2');
  });

  it('takes a receipt handle given out before the restart', async () => {
    let sqs = await open();
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'handle', Attributes: { VisibilityTimeout: '30' } }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'delete me later' }));
    const [message] = await receiveAll(sqs, QueueUrl!);

    sqs = await open();
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message!.ReceiptHandle }));

    expect(await counts(sqs, QueueUrl!)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('keeps a dead-lettered message in the dead-letter queue, naming its source', async () => {
    let sqs = await open();
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'dead' }));
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: 'source', Attributes: { VisibilityTimeout: '0', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: queue!.queueArn('dead'), maxReceiveCount: 1 }) } }),
    );
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'poison' }));
    await receiveAll(sqs, QueueUrl!);
    expect(await receiveAll(sqs, QueueUrl!)).toEqual([]); // moved on this receive

    sqs = await open();
    const dead = await receiveAll(sqs, dlq.QueueUrl!);

    expect(dead.map((m) => [m.Body, m.Attributes?.DeadLetterQueueSourceArn, m.Attributes?.ApproximateReceiveCount])).toEqual([['poison', queue!.queueArn('source'), '2']]);
    expect(await counts(sqs, QueueUrl!)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('removes a deleted message from disk', async () => {
    const sqs = await open();
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'tidy' }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'short-lived' }));
    const filesWhilePending = await readdir(join(dir, 'queues', 'tidy', 'messages'));
    const [message] = await receiveAll(sqs, QueueUrl!);

    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message!.ReceiptHandle }));

    expect(filesWhilePending).toEqual([`${message!.MessageId}.json`]);
    expect(await readdir(join(dir, 'queues', 'tidy', 'messages'))).toEqual([]);
  });
});

describe('the local queue refuses', () => {
  let dir: string;
  let queue: LocalQueue;
  let sqs: SQSClient;
  let QueueUrl: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3fs-local-queue-auth-'));
    queue = await startLocalQueue({ directory: dir, region: REGION, credentials: [CREDENTIALS] });
    sqs = client(queue);
    QueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'guarded' }))).QueueUrl!;
  });
  afterAll(async () => {
    sqs.destroy();
    await queue.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A request signed as the SDK signs it (or as told otherwise), ready for fetch. */
  async function signed(options: { target: string; body: string; contentType?: string; secret?: string; service?: string; accessKeyId?: string }) {
    const url = new URL(queue.endpoint);
    const signer = new SignatureV4({
      service: options.service ?? 'sqs',
      region: REGION,
      sha256: Sha256,
      credentials: { accessKeyId: options.accessKeyId ?? CREDENTIALS.accessKeyId, secretAccessKey: options.secret ?? CREDENTIALS.secretAccessKey },
    });
    const request = await signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: '/',
      query: {},
      headers: { host: url.host, 'content-type': options.contentType ?? 'application/x-amz-json-1.0', 'x-amz-target': options.target },
      body: options.body,
    });
    return { headers: request.headers as Record<string, string>, body: options.body };
  }

  async function post(headers: Record<string, string>, body: string): Promise<{ status: number; queryError: string | null; type: unknown }> {
    const { host: _host, ...rest } = headers;
    const res = await fetch(`${queue.endpoint}/`, { method: 'POST', headers: rest, body });
    const text = await res.text();
    let type: unknown;
    try {
      type = (JSON.parse(text) as { __type?: unknown }).__type;
    } catch {
      type = undefined;
    }
    return { status: res.status, queryError: res.headers.get('x-amzn-query-error'), type };
  }

  const sendMessageBody = (text: string) => JSON.stringify({ QueueUrl, MessageBody: text });

  it('the query protocol (a form a web page could post from any site), even signed', async () => {
    const form = `Action=SendMessage&QueueUrl=${encodeURIComponent(QueueUrl)}&MessageBody=from-a-form`;
    const request = await signed({ target: 'AmazonSQS.SendMessage', body: form, contentType: 'application/x-www-form-urlencoded' });

    const answer = await post(request.headers, form);

    expect(answer).toEqual({ status: 400, queryError: 'AWS.SimpleQueueService.UnsupportedOperation;Sender', type: 'com.amazonaws.sqs#UnsupportedOperation' });
    expect(await counts(sqs, QueueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('the query protocol in a URL', async () => {
    const res = await fetch(`${queue.endpoint}/?Action=ListQueues`);

    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-query-error')).toBe('AWS.SimpleQueueService.UnsupportedOperation;Sender');
  });

  it('an unsigned request with MissingAuthenticationToken', async () => {
    const answer = await post({ 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' }, sendMessageBody('unsigned'));

    expect(answer).toEqual({ status: 403, queryError: 'MissingAuthenticationToken;Sender', type: 'com.amazon.coral.service#MissingAuthenticationTokenException' });
    expect(await counts(sqs, QueueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('a request signed with the wrong secret, with SignatureDoesNotMatch', async () => {
    const wrong = client(queue, { ...CREDENTIALS, secretAccessKey: 'not-the-secret' });

    const error = await wrong.send(new SendMessageCommand({ QueueUrl, MessageBody: 'forged' })).catch((e: unknown) => e as { name: string; $metadata: { httpStatusCode: number } });
    wrong.destroy();

    expect([(error as { name: string }).name, (error as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode]).toEqual(['SignatureDoesNotMatch', 403]);
    expect(await counts(sqs, QueueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('a key it does not know, with InvalidClientTokenId', async () => {
    const stranger = client(queue, { accessKeyId: 'AKIDSTRANGER', secretAccessKey: 'whatever' });

    const error = (await stranger.send(new SendMessageCommand({ QueueUrl, MessageBody: 'stranger' })).catch((e: unknown) => e)) as { name: string };
    stranger.destroy();

    expect(error.name).toBe('InvalidClientTokenId');
  });

  it('a signed request whose body was changed after signing', async () => {
    const request = await signed({ target: 'AmazonSQS.SendMessage', body: sendMessageBody('what was signed') });

    const answer = await post(request.headers, sendMessageBody('what was sent'));

    expect(answer).toMatchObject({ status: 403, queryError: 'SignatureDoesNotMatch;Sender' });
    expect(await counts(sqs, QueueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('a signed request replayed as another action', async () => {
    const request = await signed({ target: 'AmazonSQS.GetQueueAttributes', body: JSON.stringify({ QueueUrl }) });

    const answer = await post({ ...request.headers, 'x-amz-target': 'AmazonSQS.PurgeQueue' }, JSON.stringify({ QueueUrl }));

    expect(answer).toMatchObject({ status: 403, queryError: 'SignatureDoesNotMatch;Sender' });
  });

  it('a signature for another service', async () => {
    const request = await signed({ target: 'AmazonSQS.SendMessage', body: sendMessageBody('for s3'), service: 's3' });

    const answer = await post(request.headers, sendMessageBody('for s3'));

    expect(answer).toMatchObject({ status: 400, queryError: 'IncompleteSignature;Sender' });
  });

  it('nothing of a request signed as the SDK signs it (the helper above is right)', async () => {
    const request = await signed({ target: 'AmazonSQS.SendMessage', body: sendMessageBody('signed properly') });

    const answer = await post(request.headers, sendMessageBody('signed properly'));
    const [message] = await receiveAll(sqs, QueueUrl);

    expect(answer.status).toBe(200);
    expect(message?.Body).toBe('signed properly');
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message!.ReceiptHandle }));
  });
});
