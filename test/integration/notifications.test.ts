import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { CopyObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { S3Event, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { decodeEventKey } from '../../lambda/core/process';
import { PROCESSING_QUEUE } from '../../lambda/shared/processing-queue';
import { createS3Client } from '../../lambda/shared/clients';
import { encodeEventKey } from '../../local/notifications';
import { startEmbeddedS3, ADMIN_CREDENTIALS, type EmbeddedS3 } from '../../local/s3/server';
import { startLocalService, type Handlers, type LocalService } from '../../local/service';

jest.setTimeout(60_000);

type ProcessFn = (event: SQSEvent) => Promise<SQSBatchResponse>;
const notCalled = async () => ({ statusCode: 500, body: '' });

async function start(dataDir: string, processFn: ProcessFn, extra: Partial<Parameters<typeof startLocalService>[0]> = {}): Promise<LocalService> {
  const handlers: Handlers = { list: notCalled, read: notCalled, upload: notCalled, process: (e) => processFn(e) };
  return startLocalService({ dataDir, port: 0, s3Port: 0, retryAfterSeconds: 0, pollIntervalMs: 50, buildHandlers: () => handlers, ...extra });
}

const recordsOf = (batches: SQSEvent[]) => batches.flatMap((b) => b.Records.map((r) => (JSON.parse(r.body) as S3Event).Records[0]!));

describe('S3 event keys', () => {
  it('encodes spaces as + and non-ASCII as UTF-8 percent escapes, keeping slashes', () => {
    expect(encodeEventKey('users/u/reports/q1 +é.csv')).toBe('users/u/reports/q1+%2B%C3%A9.csv');
  });

  it('decodes back to the key with the processor\'s decodeEventKey', () => {
    const key = "users/u/a (1)!~'*=&?.csv";
    expect(decodeEventKey(encodeEventKey(key))).toBe(key);
  });
});

describe('notifications from the embedded S3', () => {
  let dir: string;
  let service: LocalService;
  let batches: SQSEvent[];
  let failKeys: Set<string>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3fs-notify-'));
    service = await start(dir, async (event) => {
      batches.push(event);
      const failures = event.Records.filter((r) => failKeys.has((JSON.parse(r.body) as S3Event).Records[0]!.s3.object.key));
      return { batchItemFailures: failures.map((r) => ({ itemIdentifier: r.messageId })) };
    });
  });
  afterAll(async () => {
    await service.stop();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    batches = [];
    failKeys = new Set();
  });

  it('delivers an AWS-shaped record in an SQS batch for a PUT under users/', async () => {
    await service.s3.send(new PutObjectCommand({ Bucket: service.buckets.uploads, Key: 'users/u1/reports/q1 +é.csv', Body: 'a,b\n1,2\n' }));
    await service.processing.idle();
    const sqs = batches[0]!.Records[0]!;
    expect(sqs.eventSource).toBe('aws:sqs');
    expect(sqs.attributes.ApproximateReceiveCount).toBe('1');
    const record = recordsOf(batches)[0]!;
    expect(record).toMatchObject({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      eventName: 'ObjectCreated:Put',
      s3: { bucket: { name: service.buckets.uploads }, object: { key: 'users/u1/reports/q1+%2B%C3%A9.csv', size: 8 } },
    });
    expect(record.s3.object.eTag).toMatch(/^[0-9a-f]{32}$/);
    expect(record.s3.object.sequencer).toMatch(/^[0-9A-F]+$/);
  });

  it('ignores objects outside users/ and in the results bucket', async () => {
    await service.s3.send(new PutObjectCommand({ Bucket: service.buckets.uploads, Key: 'other/x.csv', Body: 'x' }));
    await service.s3.send(new PutObjectCommand({ Bucket: service.buckets.results, Key: 'users/u1/x.csv', Body: 'x' }));
    await service.processing.idle();
    expect(batches).toHaveLength(0);
  });

  it('reports a finished multipart upload as CompleteMultipartUpload', async () => {
    const body = Buffer.alloc(6 * 1024 * 1024, 'a');
    await new Upload({ client: service.s3, params: { Bucket: service.buckets.uploads, Key: 'users/u1/big.csv', Body: body }, partSize: 5 * 1024 * 1024 }).done();
    await service.processing.idle();
    const record = recordsOf(batches)[0]!;
    expect(record.eventName).toBe('ObjectCreated:CompleteMultipartUpload');
    expect(record.s3.object.size).toBe(body.length);
    expect(record.s3.object.eTag).toMatch(/^[0-9a-f]{32}(-2)?$/);
  });

  it('reports a copy with its size and ETag', async () => {
    await service.s3.send(new PutObjectCommand({ Bucket: service.buckets.uploads, Key: 'other/src.csv', Body: 'abc' }));
    await service.s3.send(new CopyObjectCommand({ Bucket: service.buckets.uploads, Key: 'users/u1/copy.csv', CopySource: `${service.buckets.uploads}/other/src.csv` }));
    await service.processing.idle();
    expect(recordsOf(batches)[0]).toMatchObject({ eventName: 'ObjectCreated:Copy', s3: { object: { key: 'users/u1/copy.csv', size: 3 } } });
  });

  it(`retries a failed record and dead-letters it after ${PROCESSING_QUEUE.maxReceiveCount} receives`, async () => {
    failKeys.add('users/u1/poison.csv');
    await service.s3.send(new PutObjectCommand({ Bucket: service.buckets.uploads, Key: 'users/u1/poison.csv', Body: 'x' }));
    await service.processing.idle();
    expect(batches.map((b) => b.Records[0]!.attributes.ApproximateReceiveCount)).toEqual(Array.from({ length: PROCESSING_QUEUE.maxReceiveCount }, (_, i) => String(i + 1)));
    const letters = await service.processing.deadLetters();
    expect(letters.map((l) => (JSON.parse(l.body) as S3Event).Records[0]!.s3.object.key)).toContain('users/u1/poison.csv');
  });

  it('shows a user only the dead letters of their own uploads, over HTTP', async () => {
    const list = async (user: string) =>
      ((await (await fetch(`${service.apiUrl}/local/dead-letters`, { headers: { authorization: `Bearer ${service.token(user)}` } })).json()) as { deadLetters: { body: string }[] }).deadLetters;

    expect((await list('u1')).map((l) => (JSON.parse(l.body) as S3Event).Records[0]!.s3.object.key)).toEqual(['users/u1/poison.csv']);
    expect(await list('someone-else')).toEqual([]);
  });

  it('replays only the caller\'s dead letters over HTTP', async () => {
    const replay = async (user: string) =>
      ((await (await fetch(`${service.apiUrl}/local/dead-letters/replay`, { method: 'POST', headers: { authorization: `Bearer ${service.token(user)}` } })).json()) as { replayed: number }).replayed;

    expect(await replay('someone-else')).toBe(0);
    expect(await replay('u1')).toBe(1);
    await service.processing.idle();
    expect(recordsOf(batches).map((r) => r.s3.object.key)).toContain('users/u1/poison.csv');
  });
});

describe('the embedded S3 itself', () => {
  let dir: string;
  let s3server: EmbeddedS3;
  let client: S3Client;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3fs-s3rver-'));
    s3server = await startEmbeddedS3({ directory: dir, port: 0, buckets: ['b'], corsOrigins: ['http://localhost:*'] });
    client = createS3Client({ region: 'us-east-1', s3Endpoint: s3server.endpoint }, { credentials: ADMIN_CREDENTIALS });
  });
  afterAll(async () => {
    client.destroy();
    await s3server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('pages a listing of more than 1,000 keys with continuation tokens', async () => {
    const keys = Array.from({ length: 1003 }, (_, i) => `many/${String(i).padStart(4, '0')}`);
    for (let i = 0; i < keys.length; i += 100) {
      await Promise.all(keys.slice(i, i + 100).map((Key) => client.send(new PutObjectCommand({ Bucket: 'b', Key, Body: '0' }))));
    }
    const first = await client.send(new ListObjectsV2Command({ Bucket: 'b', Prefix: 'many/' }));
    const second = await client.send(new ListObjectsV2Command({ Bucket: 'b', Prefix: 'many/', ContinuationToken: first.NextContinuationToken }));
    expect([first.KeyCount, second.KeyCount, second.IsTruncated]).toEqual([1000, 3, false]);
  });

  it('stores an aws-chunked streamed upload byte-exact', async () => {
    // The SDK's default (WHEN_SUPPORTED) sends a stream of unknown length as aws-chunked with a CRC32 trailer.
    const chunked = new S3Client({ region: 'us-east-1', endpoint: s3server.endpoint, forcePathStyle: true, credentials: ADMIN_CREDENTIALS });
    const body = Buffer.from('x'.repeat(70_000) + 'end');
    await new Upload({ client: chunked, params: { Bucket: 'b', Key: 'chunked.txt', Body: Readable.from([body]) } }).done();
    chunked.destroy();
    const got = await client.send(new GetObjectCommand({ Bucket: 'b', Key: 'chunked.txt' }));
    expect(Buffer.from(await got.Body!.transformToByteArray())).toEqual(body);
  });
});

describe('notifications from an external S3 server (polling)', () => {
  let dir: string;
  let external: EmbeddedS3;
  let service: LocalService;
  let batches: SQSEvent[];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3fs-poll-'));
    // An s3rver started on its own stands in for MinIO/moto: the service sees only its endpoint.
    external = await startEmbeddedS3({ directory: join(dir, 'external'), port: 0, buckets: [], corsOrigins: ['*'] });
    service = await start(join(dir, 'data'), async (event) => {
      batches.push(event);
      return { batchItemFailures: [] };
    }, { s3Endpoint: external.endpoint, credentials: ADMIN_CREDENTIALS });
  });
  afterAll(async () => {
    await service.stop();
    await external.close();
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    batches = [];
  });

  it('creates the buckets and reports a new object as ObjectCreated:Put', async () => {
    await service.s3.send(new PutObjectCommand({ Bucket: service.buckets.uploads, Key: 'users/u2/a b.csv', Body: 'a\n1\n' }));
    await service.processing.idle();
    expect(recordsOf(batches)).toEqual([expect.objectContaining({ eventName: 'ObjectCreated:Put', s3: expect.objectContaining({ object: expect.objectContaining({ key: 'users/u2/a+b.csv', size: 4 }) }) })]);
  });

  it('reports an overwritten object again when its ETag changes', async () => {
    await service.s3.send(new PutObjectCommand({ Bucket: service.buckets.uploads, Key: 'users/u2/a b.csv', Body: 'a\n2\n' }));
    await service.processing.idle();
    expect(recordsOf(batches)).toHaveLength(1);
  });

  it('does not report an object that has not changed', async () => {
    await service.processing.idle();
    expect(batches).toHaveLength(0);
  });
});

describe('the queue behind S3 events, across restarts', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3fs-queue-restart-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('delivers after a restart an event whose processing had failed when the service stopped, with no reconciliation', async () => {
    let failed = 0;
    const first = await start(
      dir,
      async (event) => {
        failed++;
        return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
      },
      { retryAfterSeconds: 2, reconcile: false },
    );
    await first.s3.send(new PutObjectCommand({ Bucket: first.buckets.uploads, Key: 'users/u1/pending.csv', Body: 'a\n1\n' }));
    await waitFor(async () => failed > 0);
    await first.stop();

    const delivered: SQSEvent[] = [];
    const second = await start(dir, async (event) => {
      delivered.push(event);
      return { batchItemFailures: [] };
    }, { reconcile: false });
    try {
      await second.processing.idle();
      expect(recordsOf(delivered).map((r) => r.s3.object.key)).toEqual(['users/u1/pending.csv']);
      expect(Number(delivered[0]!.Records[0]!.attributes.ApproximateReceiveCount)).toBeGreaterThan(1);
    } finally {
      await second.stop();
    }
  });

  it('moves the dead letters of an earlier local mode (<data>/dead-letters/*.json) into the dead-letter queue', async () => {
    const { mkdir, writeFile, readdir } = await import('node:fs/promises');
    const body = JSON.stringify({ Records: [{ s3: { object: { key: 'users/u1/old.csv' } } }] });
    await mkdir(join(dir, 'dead-letters'), { recursive: true });
    await writeFile(join(dir, 'dead-letters', 'm1.json'), JSON.stringify({ message: { messageId: 'm1', body, sentTimestamp: 1, receiveCount: 3 }, deadLetteredAt: '2026-11-30T00:00:00Z', reason: 'x' }));

    const service = await start(dir, async () => ({ batchItemFailures: [] }), { reconcile: false });
    try {
      expect((await service.processing.deadLetters()).map((l) => l.body)).toEqual([body]);
      expect(await readdir(dir)).not.toContain('dead-letters');
    } finally {
      await service.stop();
    }
  });
});

/** Polls `check` until it holds (at most 5 s): for states the service reaches on its own. */
async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not reached');
}
