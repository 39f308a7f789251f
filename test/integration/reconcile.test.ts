import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { S3Event, SQSEvent } from 'aws-lambda';
import { createProcessHandler } from '../../lambda/handlers/process';
import { decodeEventKey } from '../../lambda/core/process';
import { createS3Client } from '../../lambda/shared/clients';
import { profileKeyFor } from '../../lambda/shared/keys';
import { buildHandlers, processDeps } from '../../local/handlers';
import { ADMIN_CREDENTIALS, startEmbeddedS3, type EmbeddedS3 } from '../../local/s3/server';
import { DEFAULT_BUCKETS, startLocalService, type BuildHandlers, type LocalService, type LocalServiceOptions } from '../../local/service';

jest.setTimeout(30_000);

const { uploads, results } = DEFAULT_BUCKETS;

/** Real handlers; the process handler notes each key it is given and can be told to fail. */
function counting(processed: string[], failing: Set<string> = new Set()): BuildHandlers {
  return (deps) => {
    const process = createProcessHandler({ ...processDeps(deps), log: () => undefined });
    return {
      ...buildHandlers(deps),
      process: async (event: SQSEvent) => {
        const keys = event.Records.map((r) => decodeEventKey((JSON.parse(r.body) as S3Event).Records[0]!.s3.object.key));
        processed.push(...keys);
        if (keys.some((k) => failing.has(k))) throw new Error('failing on purpose');
        return process(event);
      },
    };
  };
}

function client(endpoint: string): S3Client {
  return createS3Client({ region: 'us-east-1', s3Endpoint: endpoint }, { credentials: ADMIN_CREDENTIALS });
}

/** Writes to the service's own S3 data while the service is stopped: the S3 server alone, on the same folder. */
async function whileStopped(dataDir: string, write: (s3: S3Client) => Promise<void>): Promise<void> {
  const server = await startEmbeddedS3({ directory: join(dataDir, 's3'), port: 0, buckets: [uploads, results], corsOrigins: ['http://localhost:*'] });
  const s3 = client(server.endpoint);
  try {
    await write(s3);
  } finally {
    s3.destroy();
    await server.close();
  }
}

async function put(s3: S3Client, key: string, body: string): Promise<string> {
  const out = await s3.send(new PutObjectCommand({ Bucket: uploads, Key: key, Body: body }));
  return out.ETag!.replace(/"/g, '');
}

async function profileOf(s3: S3Client, key: string): Promise<{ source: { etag: string }; profiledAt: string }> {
  const out = await s3.send(new GetObjectCommand({ Bucket: results, Key: profileKeyFor(key) }));
  return JSON.parse(await out.Body!.transformToString()) as { source: { etag: string }; profiledAt: string };
}

function starter(dataDir: string, processed: string[], lines: string[]) {
  return (extra: Partial<LocalServiceOptions> = {}) =>
    startLocalService({ dataDir, port: 0, s3Port: 0, retryAfterSeconds: 0, pollIntervalMs: 50, buildHandlers: counting(processed), log: (l) => lines.push(l), ...extra });
}

describe('start-up reconciliation with the embedded S3', () => {
  let dir: string;
  let service: LocalService;
  const processed: string[] = [];
  const lines: string[] = [];
  let keptProfiledAt: string;
  let changedETag: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3fs-reconcile-'));
    const start = starter(dir, processed, lines);
    service = await start();
    await put(service.s3, 'users/u1/kept.csv', 'a,b\n1,2\n');
    await put(service.s3, 'users/u1/changed.csv', 'a\n1\n');
    await service.processing.idle();
    keptProfiledAt = (await profileOf(service.s3, 'users/u1/kept.csv')).profiledAt;
    await service.stop();
    await whileStopped(dir, async (s3) => {
      await put(s3, 'users/u1/offline.csv', 'x,y\n3,4\n');
      changedETag = await put(s3, 'users/u1/changed.csv', 'a\n1\n2\n');
    });
    processed.length = 0;
    lines.length = 0;
    service = await start();
    await service.processing.idle();
  });
  afterAll(async () => {
    await service.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('profiles an object written while the service was stopped', async () => {
    const profile = await profileOf(service.s3, 'users/u1/offline.csv');
    expect(profile.source.etag).toMatch(/^[0-9a-f]{32}$/);
  });

  it('does not process again an object whose profile is up to date', async () => {
    expect(processed).not.toContain('users/u1/kept.csv');
    expect((await profileOf(service.s3, 'users/u1/kept.csv')).profiledAt).toBe(keptProfiledAt);
  });

  it('profiles again an object overwritten while the service was stopped, with its new ETag', async () => {
    expect((await profileOf(service.s3, 'users/u1/changed.csv')).source.etag).toBe(changedETag);
  });

  it('logs one summary line with the number of objects queued', () => {
    expect(lines.filter((l) => l.startsWith('reconciled:'))).toEqual(['reconciled: 2 objects queued for processing']);
  });
});

describe('start-up reconciliation and the dead-letter queue', () => {
  let dir: string;
  let service: LocalService;
  const processed: string[] = [];
  const lines: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3fs-reconcile-dlq-'));
    service = await starter(dir, processed, lines)({ buildHandlers: counting(processed, new Set(['users/u1/poison.csv'])) });
    await put(service.s3, 'users/u1/poison.csv', 'a\n1\n');
    await service.processing.idle();
    await service.stop();
    processed.length = 0;
    lines.length = 0;
    service = await starter(dir, processed, lines)();
    await service.processing.idle();
  });
  afterAll(async () => {
    await service.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves a dead-lettered object for replay-dlq instead of queueing it again', async () => {
    expect(processed).toEqual([]);
    expect(await service.processing.deadLetters()).toHaveLength(1);
    expect(lines).toContain('reconciled: 0 objects queued for processing (1 left in the dead-letter queue)');
  });
});

describe('start-up reconciliation options', () => {
  let dir: string;
  const processed: string[] = [];
  const lines: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3fs-reconcile-opts-'));
    const service = await starter(dir, processed, lines)();
    await service.stop();
    await whileStopped(dir, async (s3) => {
      for (const name of ['a', 'b', 'c']) await put(s3, `users/u1/${name}.csv`, `${name}\n1\n`);
    });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    processed.length = 0;
    lines.length = 0;
  });

  it('queues nothing when reconciliation is turned off', async () => {
    const service = await starter(dir, processed, lines)({ reconcile: false });
    await service.processing.idle();
    await service.stop();
    expect(processed).toEqual([]);
  });

  it('checks at most maxKeys keys and says where it stopped', async () => {
    const service = await starter(dir, processed, lines)({ reconcile: { maxKeys: 2 } });
    await service.processing.idle();
    await service.stop();
    expect(processed.sort()).toEqual(['users/u1/a.csv', 'users/u1/b.csv']);
    expect(lines).toContain('reconcile: stopped after 2 keys (up to users/u1/b.csv); later keys are checked at the next start');
  });
});

describe('start-up reconciliation with an external S3 server (the poller first pass)', () => {
  let dir: string;
  let external: EmbeddedS3;
  let s3: S3Client;
  let service: LocalService;
  const processed: string[] = [];
  const lines: string[] = [];
  let keptProfiledAt: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3fs-reconcile-poll-'));
    external = await startEmbeddedS3({ directory: join(dir, 'external'), port: 0, buckets: [], corsOrigins: ['*'] });
    s3 = client(external.endpoint);
    const start = starter(join(dir, 'data'), processed, lines);
    const options = { s3Endpoint: external.endpoint, credentials: ADMIN_CREDENTIALS };
    service = await start(options);
    await put(s3, 'users/u3/kept.csv', 'a\n1\n');
    await service.processing.idle();
    keptProfiledAt = (await profileOf(s3, 'users/u3/kept.csv')).profiledAt;
    await service.stop();
    await put(s3, 'users/u3/offline.csv', 'b\n2\n');
    processed.length = 0;
    service = await start(options);
    await service.processing.idle();
  });
  afterAll(async () => {
    await service.stop();
    s3.destroy();
    await external.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('profiles an object that was there at start-up without a profile', async () => {
    expect((await profileOf(s3, 'users/u3/offline.csv')).source.etag).toMatch(/^[0-9a-f]{32}$/);
  });

  it('does not process again an object that was there at start-up with an up-to-date profile', async () => {
    expect(processed).not.toContain('users/u3/kept.csv');
    expect((await profileOf(s3, 'users/u3/kept.csv')).profiledAt).toBe(keptProfiledAt);
  });
});

describe('start-up reconciliation over keys that collide in directory order', () => {
  let dir: string;
  let service: LocalService;
  const queued: string[] = [];
  const names = Array.from({ length: 625 }, (_, i) => `g${String(i).padStart(3, '0')}`);
  const keys = names.flatMap((n) => [n, `${n}.csv`, `${n}-x.csv`, `${n}/a.csv`]).map((k) => `users/u4/${k}`);

  /** Notes each key it is given and writes no profile: what reconciliation queues is the point. */
  const noting: BuildHandlers = (deps) => ({
    ...buildHandlers(deps),
    process: async (event: SQSEvent) => {
      queued.push(...event.Records.map((r) => decodeEventKey((JSON.parse(r.body) as S3Event).Records[0]!.s3.object.key)));
      return { batchItemFailures: [] };
    },
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3fs-reconcile-collide-'));
    await whileStopped(dir, async (s3) => {
      for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => put(s3, k, k)));
    });
    service = await startLocalService({ dataDir: dir, port: 0, s3Port: 0, retryAfterSeconds: 0, buildHandlers: noting });
    await service.processing.idle();
  }, 180_000); // 2,500 signed PUTs and as many queued records: ~15 s alone, several times that on a loaded machine
  afterAll(async () => {
    await service?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('queues each of 2,500 objects without a profile exactly once', () => {
    expect(queued).toHaveLength(keys.length);
    expect([...queued].sort()).toEqual([...keys].sort());
  });
});
