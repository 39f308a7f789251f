/* eslint-disable @typescript-eslint/no-explicit-any -- stored profiles are untyped JSON */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { profileDocument } from '../../lambda/core/process';
import { profileObject, type Profile, type Range } from '../../lambda/core/profile';
import { inlineRangeRunner, profileStoredObject, type RangeRunner } from '../../lambda/core/ranged-profile';
import { buildHandlers } from '../../local/handlers';
import { processRangeRunner } from '../../local/range-threads';
import { startLocalService, type LocalService } from '../../local/service';
import { expectSame } from '../unit/profile/helpers';

/**
 * The processor's one pass on range threads (lambda/core/ranged-profile.ts), locally over the
 * embedded S3: with the smallest range lowered, an upload is planned, its ranges profiled on
 * worker threads from ranged GETs, and merged into the single pass's profile.
 */
jest.setTimeout(120_000);

const USER = 'threads-user';
const MIN_RANGE_BYTES = 512;
const QUOTED = `id,text,score\n${Array.from({ length: 300 }, (_, i) => `${i},"line ${i % 13}\nand ""more"" ${i % 5}",${(i * 7.25) % 100}`).join('\n')}\n`;

/** The range jobs the processor's runner was given, by object key. */
const jobs = new Map<string, Range[]>();
function counted(runner: RangeRunner): RangeRunner {
  return {
    ...runner,
    run: (job) => {
      jobs.set(job.object.key, [...(jobs.get(job.object.key) ?? []), job.range]);
      return runner.run(job);
    },
  };
}

async function startService(dir: string, rangeThreads: number): Promise<LocalService> {
  return startLocalService({
    dataDir: dir,
    port: 0,
    s3Port: 0,
    retryAfterSeconds: 0,
    pollIntervalMs: 50,
    reconcile: false,
    rangeThreads,
    processMinRangeBytes: MIN_RANGE_BYTES,
    log: () => {},
    buildHandlers: (deps) => buildHandlers({ ...deps, processRanges: { ...deps.processRanges, runner: counted(deps.processRanges.runner) } }),
  });
}

async function storedProfile(service: LocalService, s3Key: string): Promise<Record<string, any>> {
  const out = await service.s3.send(new GetObjectCommand({ Bucket: service.buckets.results, Key: `${s3Key}.profile.json` }));
  return JSON.parse(await out.Body!.transformToString('utf8')) as Record<string, any>;
}

async function onePass(key: string, body: string, stored: Record<string, any>): Promise<Profile> {
  const etag = stored.source.etag as string;
  return profileObject({ body: Readable.from([Buffer.from(body)]), key, contentType: 'text/csv', size: Buffer.byteLength(body), etag });
}

/** The stored document as a profile: without what the processor adds (status, source, time). */
function asProfile({ status: _s, source: _src, profiledAt: _at, ...profile }: Record<string, any>): Profile {
  return profile as Profile;
}

async function upload(service: LocalService, s3Key: string, body: string): Promise<void> {
  await service.s3.send(new PutObjectCommand({ Bucket: service.buckets.uploads, Key: s3Key, Body: body, ContentType: 'text/csv' }));
  await service.processing.idle();
}

describe('the processor on range threads', () => {
  let dir: string;
  let service: LocalService;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3fs-threads-'));
    service = await startService(join(dir, 'three'), 3);
  });
  afterAll(async () => {
    await service.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('profiles an object in ranges on three threads into the single pass profile, sha256 included', async () => {
    const s3Key = `users/${USER}/quoted.csv`;

    await upload(service, s3Key, QUOTED);

    const stored = await storedProfile(service, s3Key);
    expect(stored.status).toBe('ok');
    expectSame(asProfile(stored), await onePass('quoted.csv', QUOTED, stored), 'quoted.csv');
    expect(stored.source).toMatchObject({ key: 'quoted.csv', size: Buffer.byteLength(QUOTED) });
    expect(jobs.get(s3Key)!.map((r) => r.index)).toEqual([0, 1, 2]);
  });

  it('profiles JSON Lines in ranges, and gzip, an empty object and binary in one range, each as the single pass does', async () => {
    const jsonl = Array.from({ length: 400 }, (_, i) => JSON.stringify({ id: i, name: `n${i % 11}`, ...(i % 3 ? { extra: i / 4 } : {}) })).join('\n') + '\n';
    const gz = gzipSync(QUOTED);
    const cases = [
      { s3Key: `users/${USER}/lines.jsonl`, body: Buffer.from(jsonl), name: 'lines.jsonl', ranges: 3 },
      { s3Key: `users/${USER}/packed.csv.gz`, body: gz, name: 'packed.csv.gz', ranges: 1 },
      { s3Key: `users/${USER}/empty.csv`, body: Buffer.alloc(0), name: 'empty.csv', ranges: 1 },
      { s3Key: `users/${USER}/blob.bin`, body: Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 31) % 256)), name: 'blob.bin', ranges: 1 },
    ];
    for (const { s3Key, body, name, ranges } of cases) {
      await service.s3.send(new PutObjectCommand({ Bucket: service.buckets.uploads, Key: s3Key, Body: body }));
      await service.processing.idle();

      const stored = await storedProfile(service, s3Key);
      const single = await profileObject({ body: Readable.from([body]), key: name, contentType: stored.contentType as string, size: body.length, etag: stored.source.etag as string });
      expectSame(asProfile(stored), single, name);
      expect(new Set(jobs.get(s3Key)!.map((r) => r.index)).size).toBe(ranges);
    }
  });

  it('writes a failed profile for a corrupt gzip file: the engine\'s CorruptGzipError, matched by its class', async () => {
    const whole = gzipSync(QUOTED);
    // Cut short: zlib fails at the end of the stream ("unexpected end of file"). Gzip is one range,
    // which the runner reads in this thread (threadRangeRunner), so no thread boundary is crossed.
    const body = whole.subarray(0, Math.floor(whole.length / 2));
    const s3Key = `users/${USER}/cut.csv.gz`;

    await service.s3.send(new PutObjectCommand({ Bucket: service.buckets.uploads, Key: s3Key, Body: body }));
    await service.processing.idle();

    const stored = await storedProfile(service, s3Key);
    expect(stored).toMatchObject({ status: 'failed', error: { name: 'CorruptGzipError' }, source: { key: 'cut.csv.gz', size: body.length } });
    expect(jobs.get(s3Key)).toHaveLength(1);
  });

  it('reads an object within the head with one GET: range 0 starts from the bytes the plan read', async () => {
    const s3Key = `users/${USER}/small.csv`;
    await upload(service, s3Key, QUOTED);
    const head = await service.s3.send(new HeadObjectCommand({ Bucket: service.buckets.uploads, Key: s3Key }));
    const input = { bucket: service.buckets.uploads, key: s3Key, etag: head.ETag!.replace(/"/g, ''), size: head.ContentLength!, name: 'small.csv', contentType: 'text/csv' };
    const ranges: (string | undefined)[] = [];
    service.s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetObjectCommand') ranges.push((args.input as { Range?: string }).Range);
        return next(args);
      },
      { step: 'initialize', name: 'countGets' },
    );

    let profile: Profile;
    try {
      profile = await profileStoredObject({ s3: service.s3, runner: inlineRangeRunner(service.s3) }, input);
    } finally {
      service.s3.middlewareStack.remove('countGets');
    }

    expect(ranges).toEqual([`bytes=0-${Buffer.byteLength(QUOTED) - 1}`]);
    expectSame(profile, await onePass('small.csv', QUOTED, { source: { etag: input.etag } }), 'small.csv');
  });

  it('merges exactly when a range guessed its first record wrong, re-running it from the proven boundary', async () => {
    // A one-column file cut in two right after the "x" of x"y: the quote is a literal, so the
    // "outside quotes" reading is misled, and the records after both readings fit the header.
    const before = `a\n${'r\n'.repeat(255)}`;
    const body = `${before}x"y\n"p\nq"\nz\n${'r\n'.repeat(251)}`;
    expect(Math.ceil(Buffer.byteLength(body) / 2)).toBe(before.length + 1);
    const s3Key = `users/${USER}/guess.csv`;

    await upload(service, s3Key, body);

    const stored = await storedProfile(service, s3Key);
    expectSame(asProfile(stored), await onePass('guess.csv', body, stored), 'guess.csv');
    expect(jobs.get(s3Key)).toEqual([
      { index: 0, start: 0, end: 513 },
      { index: 1, start: 513, end: 1026 },
      { index: 1, start: 513, end: 1026, knownStart: 516 },
    ]);
  });

  it('passes a range thread\'s PreconditionFailed (the object overwritten under it) back as S3 raised it', async () => {
    const s3Key = `users/${USER}/moving.csv`;
    await upload(service, s3Key, QUOTED);
    const head = await service.s3.send(new HeadObjectCommand({ Bucket: service.buckets.uploads, Key: s3Key }));
    const threads = processRangeRunner(service.config, service.s3, service.credentials, 2);
    let overwritten = false;
    // Overwritten after the plan read the head, before the first range's GET (If-Match on the old ETag).
    const runner: RangeRunner = {
      ...threads,
      run: async (job) => {
        if (!overwritten) {
          overwritten = true;
          await service.s3.send(new PutObjectCommand({ Bucket: service.buckets.uploads, Key: s3Key, Body: `${QUOTED}1,"new",2\n` }));
        }
        return threads.run(job);
      },
    };
    const input = { bucket: service.buckets.uploads, key: s3Key, etag: head.ETag!.replace(/"/g, ''), size: head.ContentLength!, name: 'moving.csv' };

    try {
      await expect(profileStoredObject({ s3: service.s3, runner, minRangeBytes: MIN_RANGE_BYTES }, input)).rejects.toMatchObject({
        name: 'PreconditionFailed',
        $metadata: { httpStatusCode: 412 },
      });
    } finally {
      await threads.close();
      await service.processing.idle();
    }
  });

  it('stops the range threads at the deadline with the truncated profile the one pass makes', async () => {
    const s3Key = `users/${USER}/late.csv`;
    await upload(service, s3Key, QUOTED);
    const head = await service.s3.send(new HeadObjectCommand({ Bucket: service.buckets.uploads, Key: s3Key }));
    const etag = head.ETag!.replace(/"/g, '');
    const runner = counted(processRangeRunner(service.config, service.s3, service.credentials, 2));
    // A deadline already past: the clock the engine reads is past it at each range's first chunk.
    const deadline = Date.now() - 1;

    let split: Profile;
    try {
      const input = { bucket: service.buckets.uploads, key: s3Key, etag, size: head.ContentLength!, name: 'late.csv', contentType: 'text/csv' };
      split = await profileStoredObject({ s3: service.s3, runner, minRangeBytes: MIN_RANGE_BYTES }, input, { deadline });
    } finally {
      await runner.close();
    }
    const one = await profileObject({ body: Readable.from([Buffer.from(QUOTED)]), key: 'late.csv', contentType: 'text/csv', etag }, { deadline });

    expect(split).toMatchObject({ truncated: { reason: 'deadline' }, sha256: null, rows: 0 });
    expect(one).toMatchObject({ truncated: { reason: 'deadline' }, sha256: null, rows: 0 });
    expect(profileDocument(split).status).toBe('truncated');
    expect(split.columns).toEqual(one.columns);
    expect(jobs.get(s3Key)!.length).toBeGreaterThan(2);
  });
});

describe('the processor with one range thread', () => {
  let dir: string;
  let service: LocalService;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3fs-one-thread-'));
    service = await startService(dir, 1);
  });
  afterAll(async () => {
    await service.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('takes the same path with one range and gets the same profile', async () => {
    const s3Key = `users/${USER}/one.csv`;

    await upload(service, s3Key, QUOTED);

    const stored = await storedProfile(service, s3Key);
    expectSame(asProfile(stored), await onePass('one.csv', QUOTED, stored), 'one.csv');
    expect(jobs.get(s3Key)).toEqual([{ index: 0, start: 0, end: Buffer.byteLength(QUOTED) }]);
  });
});
