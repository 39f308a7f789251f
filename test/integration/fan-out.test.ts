/* eslint-disable @typescript-eslint/no-explicit-any -- stored profiles are untyped JSON */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { fanOutRunName, SHA256_UNAVAILABLE } from '../../lambda/core/fan-out';
import { profileObject } from '../../lambda/core/profile';
import { isNotFound } from '../../lambda/shared/errors';
import { FAN_OUT_ROOT } from '../../lambda/shared/keys';
import { tableGrants } from '../../local/function-keys';
import { encodeEventKey } from '../../local/notifications';
import { startLocalService, type LocalService } from '../../local/service';

/**
 * Local mode's fan-out, over HTTP against the embedded S3 and SQS: with the threshold lowered, an
 * upload goes plan -> ranges -> merge through the same step functions the state machine runs in
 * AWS, each step with its own function's key and grants.
 */
jest.setTimeout(60_000);

const USER = 'fan-out-user';
const THRESHOLD = 1000;
const CSV = ['id,name,score,when', ...Array.from({ length: 200 }, (_, i) => `${i},"name ${i % 17}",${(i * 7.25) % 100},2024-01-${String((i % 28) + 1).padStart(2, '0')}`)].join('\n') + '\n';

const logLines: string[] = [];

async function startService(dir: string, extra: Partial<Parameters<typeof startLocalService>[0]> = {}): Promise<LocalService> {
  return startLocalService({
    dataDir: dir,
    port: 0,
    s3Port: 0,
    retryAfterSeconds: 0,
    pollIntervalMs: 50,
    reconcile: false,
    env: { FAN_OUT_BYTES: String(THRESHOLD) },
    fanOutMinRangeBytes: 256,
    // Ranges on two worker threads (local/range-threads.ts) whatever the machine: the path that uses all cores.
    rangeThreads: 2,
    log: (line) => logLines.push(line),
    ...extra,
  });
}

async function storedProfile(service: LocalService, s3Key: string): Promise<Record<string, any> | undefined> {
  try {
    const out = await service.s3.send(new GetObjectCommand({ Bucket: service.buckets.results, Key: `${s3Key}.profile.json` }));
    return JSON.parse(await out.Body!.transformToString('utf8')) as Record<string, any>;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function fanOutParts(service: LocalService): Promise<string[]> {
  const out = await service.s3.send(new ListObjectsV2Command({ Bucket: service.buckets.results, Prefix: FAN_OUT_ROOT }));
  return (out.Contents ?? []).map((o) => o.Key!);
}

/** What one pass of the engine says of the same bytes, as the processor stores it. */
async function onePass(key: string, body: string): Promise<Record<string, unknown>> {
  const profile = await profileObject({ body: Readable.from([Buffer.from(body)]), key, size: Buffer.byteLength(body) });
  return { status: 'ok', ...profile } as Record<string, unknown>;
}

// sha256: ranges cannot hash the whole object; the fan-out's profile says null, and why (README, limits).
const withoutWhenAndWhere = ({ source: _source, profiledAt: _at, etag: _etag, sha256: _sha, sha256Unavailable: _why, ...rest }: Record<string, any>) => rest;

/**
 * `actual` with each mean and stddev that is within 1e-9 relative of `expected`'s replaced by
 * `expected`'s (a sum in another order differs in the last bits), so toEqual checks every other
 * field exactly and these to the tolerance.
 */
function withinTolerance(actual: unknown, expected: unknown): unknown {
  if (Array.isArray(actual) && Array.isArray(expected)) return actual.map((a, i) => withinTolerance(a, expected[i]));
  if (!actual || !expected || typeof actual !== 'object' || typeof expected !== 'object') return actual;
  const e = expected as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(actual).map(([k, v]) => {
      const x = e[k];
      const close = (k === 'mean' || k === 'stddev') && typeof v === 'number' && typeof x === 'number' && Math.abs(v - x) <= 1e-9 * Math.max(Math.abs(v), Math.abs(x));
      return [k, close ? x : withinTolerance(v, x)];
    }),
  );
}

describe('the local fan-out', () => {
  let dir: string;
  let service: LocalService;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3fs-fan-out-'));
    service = await startService(dir);
  });
  afterAll(async () => {
    await service.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('profiles an object over the threshold through plan, ranges and merge into exactly one profile, equal to one pass', async () => {
    const s3Key = `users/${USER}/big.csv`;
    expect(Buffer.byteLength(CSV)).toBeGreaterThan(THRESHOLD);

    await service.s3.send(new PutObjectCommand({ Bucket: service.buckets.uploads, Key: s3Key, Body: CSV, ContentType: 'text/csv', ChecksumAlgorithm: 'CRC32' }));
    await service.processing.idle();

    const profile = await storedProfile(service, s3Key);
    expect(profile).toBeDefined();
    expect(service.processing.fanOutRuns()).toEqual([fanOutRunName(s3Key, profile!.source.sequencer as string, 0)]);
    const expected = withoutWhenAndWhere({ ...(await onePass('big.csv', CSV)), contentType: 'text/csv' });
    expect(withinTolerance(withoutWhenAndWhere(profile!), expected)).toEqual(expected);
    expect(profile!.source).toMatchObject({ key: 'big.csv', size: Buffer.byteLength(CSV) });
    expect(profile!.sha256).toBeNull();
    expect(profile!.sha256Unavailable).toBe(SHA256_UNAVAILABLE);
    // In its place, the checksum S3 stored with the object (and checked against its bytes).
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.from(CSV)));
    expect(profile!.source.checksum).toEqual({ algorithm: 'CRC32', type: 'FULL_OBJECT', value: crc.toString('base64') });
    // Split for real: CSV is many times the lowered smallest range.
    const ranges = logLines.map((l) => /fan-out \S+: profiled users\/fan-out-user\/big\.csv in (\d+) range/.exec(l)?.[1]).find(Boolean);
    expect(Number(ranges)).toBeGreaterThan(2);
    // The merge removed the partial profiles.
    expect(await fanOutParts(service)).toEqual([]);
  });

  it('profiles an object under the threshold in one pass, starting no run', async () => {
    const s3Key = `users/${USER}/small.csv`;
    const before = service.processing.fanOutRuns().length;

    await service.s3.send(new PutObjectCommand({ Bucket: service.buckets.uploads, Key: s3Key, Body: 'a,b\n1,2\n' }));
    await service.processing.idle();

    expect((await storedProfile(service, s3Key))?.rows).toBe(1);
    expect(service.processing.fanOutRuns()).toHaveLength(before);
  });

  it('starts no second run for a duplicate of the event (the run\'s name is taken)', async () => {
    const s3Key = `users/${USER}/twice.csv`;
    await service.s3.send(new PutObjectCommand({ Bucket: service.buckets.uploads, Key: s3Key, Body: CSV }));
    await service.processing.idle();
    const runs = service.processing.fanOutRuns();
    const { source } = (await storedProfile(service, s3Key))!;
    // Without its profile the duplicate is not stale, so it gets as far as starting the run.
    await service.s3.send(new DeleteObjectCommand({ Bucket: service.buckets.results, Key: `${s3Key}.profile.json` }));
    const endpoints = service.endpoints();
    const sqs = new SQSClient({ endpoint: endpoints.sqsEndpoint, region: endpoints.region, credentials: service.credentials });
    const duplicate = {
      Records: [
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          eventName: 'ObjectCreated:Put',
          eventTime: source.eventTime,
          s3: { bucket: { name: service.buckets.uploads }, object: { key: encodeEventKey(s3Key), size: source.size, eTag: source.etag, sequencer: source.sequencer } },
        },
      ],
    };

    try {
      await sqs.send(new SendMessageCommand({ QueueUrl: endpoints.queueUrl, MessageBody: JSON.stringify(duplicate) }));
      await service.processing.idle();
    } finally {
      sqs.destroy();
    }

    expect(service.processing.fanOutRuns()).toEqual(runs);
    expect(await storedProfile(service, s3Key)).toBeUndefined();
  });
});

describe('a failed fan-out run', () => {
  let dir: string;
  let service: LocalService;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3fs-fan-out-fail-'));
    // The merge may not read the partial profiles: every merge fails, as with a grant missing in AWS.
    const grants = tableGrants();
    service = await startService(dir, { grants: { ...grants, fanOutMerge: { ...grants.fanOutMerge, results: ['exists', 'read', 'write'] } } });
  });
  afterAll(async () => {
    await service.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('lands in the dead letters as the S3 record with the next attempt, and its replay starts a new run', async () => {
    const s3Key = `users/${USER}/fails.csv`;

    await service.s3.send(new PutObjectCommand({ Bucket: service.buckets.uploads, Key: s3Key, Body: CSV }));
    await service.processing.idle();

    const letters = await service.processing.deadLetters();
    expect(letters).toHaveLength(1);
    const body = JSON.parse(letters[0]!.body) as { Records: { s3: { object: { key: string; sequencer: string } } }[]; fanOutAttempt: number; fanOutRun: string };
    expect(body.fanOutAttempt).toBe(1);
    expect(body.Records[0]!.s3.object.key).toBe(encodeEventKey(s3Key));
    const sequencer = body.Records[0]!.s3.object.sequencer;
    expect(body.fanOutRun).toBe(fanOutRunName(s3Key, sequencer, 0));
    expect(await storedProfile(service, s3Key)).toBeUndefined();

    // By id: the state machine sent it to the dead-letter queue itself, so SQS's redrive to the
    // source queue (StartMessageMoveTask with no destination) does not know where it came from.
    expect(await service.processing.replayDeadLetters([letters[0]!.messageId])).toBe(1);
    await service.processing.idle();

    expect(service.processing.fanOutRuns()).toEqual([fanOutRunName(s3Key, sequencer, 0), fanOutRunName(s3Key, sequencer, 1)]);
    const again = await service.processing.deadLetters();
    expect(again.map((l) => (JSON.parse(l.body) as { fanOutAttempt: number }).fanOutAttempt)).toEqual([2]);
  });
});
