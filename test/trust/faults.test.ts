import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { S3Event, S3EventRecord, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createProcessHandler } from '../../lambda/handlers/process';
import { createS3Client } from '../../lambda/shared/clients';
import { PROCESSING_QUEUE } from '../../lambda/shared/processing-queue';
import { buildHandlers, processDeps } from '../../local/handlers';
import { ADMIN_CREDENTIALS, startEmbeddedS3, type EmbeddedS3 } from '../../local/s3/server';
import { startLocalService, type LocalService } from '../../local/service';
import { functionCredentials, functionPrincipals } from '../../local/function-keys';
import { ApiUser, call, eventually, LOOPBACK, putPresigned, rawListing, sha256 } from './helpers';
import { PROFILE_SUFFIX } from '../../lambda/shared/keys';

/**
 * Faults: the S3 server going away mid-upload, a processor that fails, duplicate and out-of-order
 * events, objects deleted or overwritten before their event is processed. The service runs against
 * an S3 server this test owns (so it can stop and restart it on the same port and data folder),
 * with the real handlers, and a processor wrapped so faults can be injected and delivery held.
 */
jest.setTimeout(90_000);

const USER = 'dave';
const MiB = 1024 * 1024;
const ROOT = `users/${USER}/`;

let dir: string;
let s3Server: EmbeddedS3;
let s3Port: number;
let service: LocalService;
let dave: ApiUser;
let raw: S3Client;
let injected = 0;
let survived = 0;

/** What the wrapped processor does: hold deliveries, fail profiles of some keys, fail S3 calls. */
const control = {
  gate: Promise.resolve() as Promise<void>,
  failProfileOf: new Set<string>(),
  s3FaultsLeft: 0,
  delivered: [] as S3EventRecord[],
  process: undefined as ((event: SQSEvent) => Promise<SQSBatchResponse>) | undefined,
};
let openGate: () => void = () => undefined;
function closeGate(): void {
  control.gate = new Promise((resolve) => (openGate = resolve));
}

/** Acknowledged uploads that must still be there at the end: S3 key -> SHA-256. */
const ledger = new Map<string, string>();

/** The functions' own keys, as the embedded S3 of a local service gives them, on this stand-alone server. */
const FUNCTION_KEYS = functionCredentials('faults-test-secret');
const BUCKETS = { uploads: 's3fs-uploads', results: 's3fs-results' };

async function startS3(): Promise<EmbeddedS3> {
  return startEmbeddedS3({
    directory: join(dir, 's3'),
    port: s3Port,
    host: LOOPBACK,
    buckets: [BUCKETS.uploads, BUCKETS.results],
    corsOrigins: ['http://127.0.0.1:*'],
    principals: functionPrincipals(FUNCTION_KEYS, BUCKETS),
  });
}

async function readRaw(bucket: string, key: string): Promise<Buffer | undefined> {
  try {
    const out = await raw.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  } catch {
    return undefined;
  }
}

async function profileOf(key: string): Promise<{ source: { etag: string; sequencer: string | null }; status: string } | undefined> {
  const body = await readRaw(service.buckets.results, `${ROOT}${key}${PROFILE_SUFFIX}`);
  return body && (JSON.parse(body.toString('utf8')) as { source: { etag: string; sequencer: string | null }; status: string });
}

async function etagOf(key: string): Promise<string> {
  const head = await raw.send(new HeadObjectCommand({ Bucket: service.buckets.uploads, Key: ROOT + key }));
  return (head.ETag ?? '').replace(/"/g, '');
}

async function deadLettersFor(key: string): Promise<number> {
  return (await service.processing.deadLetters()).filter((l) => l.body.includes(encodeURIComponent(ROOT + key).replace(/%2F/g, '/'))).length;
}

const eventsFor = (key: string) => control.delivered.filter((r) => decodeURIComponent(r.s3.object.key.replace(/\+/g, ' ')) === ROOT + key);
const asSqs = (records: S3EventRecord[]): SQSEvent => ({
  Records: records.map((r, i) => ({
    messageId: `redelivery-${Date.now()}-${i}`,
    receiptHandle: 'x',
    body: JSON.stringify({ Records: [r] } satisfies S3Event),
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'x', ApproximateFirstReceiveTimestamp: '0' },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:x',
    awsRegion: 'us-east-1',
  })),
});

async function uploadAcknowledged(key: string, data: Buffer, contentType = 'text/csv'): Promise<void> {
  await dave.upload(key, data, contentType);
  ledger.set(ROOT + key, sha256(data));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3fs-faults-'));
  s3Port = 0;
  s3Server = await startS3();
  s3Port = s3Server.port;
  service = await startLocalService({
    dataDir: dir,
    port: 0,
    host: LOOPBACK,
    s3Endpoint: s3Server.endpoint,
    credentials: { ...ADMIN_CREDENTIALS },
    functionCredentials: FUNCTION_KEYS,
    retryAfterSeconds: 0,
    pollIntervalMs: 50,
    env: { MULTIPART_THRESHOLD_BYTES: String(5 * MiB) },
    buildHandlers: (deps) => {
      const s3 = createS3Client(deps.config, { credentials: FUNCTION_KEYS.process });
      s3.middlewareStack.add(
        (next) => async (args) => {
          if (control.s3FaultsLeft > 0) {
            control.s3FaultsLeft--;
            throw Object.assign(new Error('injected: S3 unavailable'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
          }
          return next(args);
        },
        { step: 'initialize', name: 'injectFaults' },
      );
      const deployed = processDeps(deps, s3);
      const process = createProcessHandler({
        ...deployed,
        log: () => undefined,
        profileStored: async (input, options) => {
          if (control.failProfileOf.has(input.name)) throw new Error('injected: profiler crashed');
          return deployed.profileStored!(input, options);
        },
      });
      control.process = process;
      return {
        ...buildHandlers(deps),
        process: async (event) => {
          for (const r of event.Records) control.delivered.push((JSON.parse(r.body) as S3Event).Records[0]!);
          await control.gate;
          return process(event);
        },
      };
    },
  });
  raw = createS3Client({ region: 'us-east-1', s3Endpoint: s3Server.endpoint }, { credentials: { ...ADMIN_CREDENTIALS } });
  dave = new ApiUser(service.apiUrl, service.token(USER));
});

afterAll(async () => {
  openGate();
  await service?.stop();
  raw?.destroy();
  await s3Server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('faults', () => {
  it('resumes a multipart upload from the listed parts after the S3 server stops and comes back, never listing a partial object', async () => {
    injected++;
    const key = 'fault/resume.bin';
    const data = randomBytes(20 * MiB);
    const session = await dave.createMultipart(key, data.length, 'application/octet-stream');
    expect(session.partCount).toBe(3);
    const part = (n: number) => data.subarray((n - 1) * session.partSize, n * session.partSize);
    const urls = await dave.signParts(session, [1, 2, 3]);
    await putPresigned(urls.get(1)!, part(1), {});

    await s3Server.close();
    await expect(putPresigned(urls.get(2)!, part(2), {})).rejects.toThrow();
    const duringOutage = await call(service.apiUrl, 'GET', '/buckets/uploads/objects?prefix=fault%2F', { token: dave.token });
    expect(duringOutage.text).not.toContain('resume.bin');
    s3Server = await startS3();
    expect(s3Server.port).toBe(s3Port);

    // The client resumes: asks which parts arrived, sends the rest, completes from the listing.
    const listed = await dave.listParts(session);
    expect(listed.map((p) => p.partNumber)).toEqual([1]);
    expect((await rawListing(raw, service.buckets.uploads)).some((l) => l.includes('resume.bin'))).toBe(false);
    const api = await dave.expect('GET', '/buckets/uploads/objects?prefix=fault%2F', 200);
    expect(api.json).toMatchObject({ objects: [] });
    const resent = await Promise.all([2, 3].map(async (n) => ({ partNumber: n, etag: await putPresigned(urls.get(n)!, part(n), {}) })));
    await dave.complete(session, [...listed.map(({ partNumber, etag }) => ({ partNumber, etag })), ...resent]);
    ledger.set(ROOT + key, sha256(data));

    expect(sha256((await readRaw(service.buckets.uploads, ROOT + key))!)).toBe(sha256(data));
    await service.processing.idle();
    expect(await eventually(async () => (await profileOf(key)) !== undefined)).toBe(true);
    survived++;
  });

  it(`retries a record whose profile fails, dead-letters it after ${PROCESSING_QUEUE.maxReceiveCount} receives, and the replay command profiles it once fixed`, async () => {
    injected++;
    const key = 'fault/dlq.csv';
    control.failProfileOf.add(key);
    await uploadAcknowledged(key, Buffer.from('a,b\n1,2\n3,4\n'));
    await service.processing.idle();
    const letters = (await service.processing.deadLetters()).filter((l) => l.body.includes('dlq.csv'));
    expect(letters.map((l) => l.receiveCount)).toEqual([PROCESSING_QUEUE.maxReceiveCount]);
    expect(eventsFor(key)).toHaveLength(PROCESSING_QUEUE.maxReceiveCount);
    expect(await profileOf(key)).toBeUndefined();

    control.failProfileOf.delete(key);
    await writeFile(join(dir, 'endpoints.json'), JSON.stringify(service.endpoints()));
    // The documented command, as a user runs it (asynchronously: this process serves its request).
    const replay = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'local/replay-dlq.ts'], {
      cwd: join(__dirname, '..', '..'),
      env: { ...process.env, LOCAL_DATA_DIR: dir },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(replay.stdout).toContain('Replayed 1 message(s).');
    await service.processing.idle();

    expect(await deadLettersFor(key)).toBe(0);
    const profiles = (await rawListing(raw, service.buckets.results)).filter((l) => l.startsWith(`${ROOT}${key}`));
    expect(profiles).toHaveLength(1);
    expect((await profileOf(key))!.source.etag).toBe(await etagOf(key));
    survived++;
  });

  it('survives S3 errors in the processor by retrying, without a dead letter', async () => {
    injected += 2;
    const key = 'fault/s3-flaky.csv';
    control.s3FaultsLeft = 2;
    await uploadAcknowledged(key, Buffer.from('x\n1\n'));
    await service.processing.idle();
    expect(control.s3FaultsLeft).toBe(0);
    expect(await deadLettersFor(key)).toBe(0);
    expect((await profileOf(key))!.source.etag).toBe(await etagOf(key));
    survived += 2;
  });

  it('keeps exactly one profile, of the latest object, under duplicate and out-of-order events', async () => {
    const key = 'fault/order.csv';
    await uploadAcknowledged(key, Buffer.from('v\n1\n'));
    await service.processing.idle();
    await uploadAcknowledged(key, Buffer.from('v\n2\n3\n'));
    await service.processing.idle();
    const events = eventsFor(key);
    expect(events).toHaveLength(2);
    const [v1, v2] = events as [S3EventRecord, S3EventRecord];
    expect(v1.s3.object.sequencer < v2.s3.object.sequencer).toBe(true);

    const redeliveries = [[v2, v1], [v1], [v2], [v1, v2, v1]];
    injected += redeliveries.flat().length + 2;
    const results = [
      ...(await Promise.all(redeliveries.map((batch) => control.process!(asSqs(batch))))),
      await control.process!(asSqs([v1])),
      await control.process!(asSqs([v2])),
    ];
    expect(results.flatMap((r) => r.batchItemFailures)).toEqual([]);
    const profiles = (await rawListing(raw, service.buckets.results)).filter((l) => l.startsWith(`${ROOT}${key}`));
    expect(profiles).toHaveLength(1);
    const profile = (await profileOf(key))!;
    expect(profile.source).toMatchObject({ etag: await etagOf(key), sequencer: v2.s3.object.sequencer });
    expect(profile).toMatchObject({ status: 'ok', rows: 2 });
    survived += redeliveries.flat().length + 2;
  });

  /**
   * Uploads `key`, holds its event until `change` has run (between the event and its processing),
   * then lets the processor at it and waits until it is idle. The gate opens even when a step
   * fails, so one failure does not hold every later test's deliveries until it times out.
   */
  async function changeBeforeProcessing(key: string, data: Buffer, change: () => Promise<void>): Promise<void> {
    closeGate();
    try {
      await dave.upload(key, data, 'text/csv');
      expect(await eventually(async () => eventsFor(key).length === 1)).toBe(true);
      await change();
    } finally {
      openGate();
    }
    await service.processing.idle();
  }

  it('skips an object deleted between its event and processing, with nothing dead-lettered', async () => {
    injected++;
    const key = 'fault/deleted.csv';
    await changeBeforeProcessing(key, Buffer.from('a\n1\n'), async () => {
      await dave.expect('DELETE', `/buckets/uploads/objects/${key}`, 204);
    });
    expect(await profileOf(key)).toBeUndefined();
    expect(await deadLettersFor(key)).toBe(0);
    expect(eventsFor(key)).toHaveLength(1);
    survived++;
  });

  it('profiles the right version of an object overwritten between its event and processing, with nothing dead-lettered', async () => {
    injected++;
    const key = 'fault/overwritten.csv';
    await changeBeforeProcessing(key, Buffer.from('a\n1\n'), async () => {
      await uploadAcknowledged(key, Buffer.from('a\n1\n2\n3\n'));
      expect(await eventually(async () => eventsFor(key).length === 2)).toBe(true);
    });
    expect(await deadLettersFor(key)).toBe(0);
    expect(eventsFor(key)).toHaveLength(2);
    const profile = (await profileOf(key))!;
    expect(profile.source.etag).toBe(await etagOf(key));
    expect(profile).toMatchObject({ rows: 3 });
    survived++;
  });

  it('loses no acknowledged upload: each reads back with its SHA-256 and has a profile of its current version', async () => {
    let lost = 0;
    for (const [s3Key, hash] of ledger) {
      const body = await readRaw(service.buckets.uploads, s3Key);
      const key = s3Key.slice(ROOT.length);
      const profile = await profileOf(key);
      if (!body || sha256(body) !== hash || !profile || profile.source.etag !== (await etagOf(key))) lost++;
    }
    console.log(`faults: ${injected} injected, ${survived} survived, ${lost} lost`);
    expect(ledger.size).toBeGreaterThanOrEqual(5);
    expect(lost).toBe(0);
    expect(survived).toBe(injected);
  });
});
