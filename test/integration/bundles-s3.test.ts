import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { HEAD_BYTES, planRanges } from '../../lambda/core/profile';
import { runRangeJob, type RangeJob, type RangeReply } from '../../lambda/core/ranged-profile';
import { ENV } from '../../lambda/shared/config';
import { profileKeyFor } from '../../lambda/shared/keys';
import { BUNDLE_FILE, bundleFunction } from '../../lib/constructs/bundling';
import { startLocalService, type LocalService } from '../../local/service';

/**
 * The deployed bundles, built as the stack builds them (lib/constructs/bundling.ts, with the SDK
 * schema plugin that drops the S3 operations a function does not send), against a real S3 over
 * HTTP: each runs in a fresh Node process with the environment the stack gives it, pointed at the
 * embedded S3. Local mode and the other suites run the TypeScript sources, so this is where a
 * bundle that lost a schema it needs (a request it cannot serialise, an error it cannot name)
 * would show.
 */
jest.setTimeout(120_000);

const FUNCTIONS_DIR = join(__dirname, '..', '..', 'lambda', 'functions');

describe('the deployed bundles against a real S3', () => {
  let dir: string;
  let service: LocalService;
  const bundles: Record<'read' | 'process', string> = { read: '', process: '' };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3fs-bundles-s3-'));
    for (const name of ['read', 'process'] as const) {
      await bundleFunction(join(FUNCTIONS_DIR, `${name}.ts`), join(dir, name), { logLevel: 'silent' });
      bundles[name] = join(dir, name, BUNDLE_FILE);
    }
    service = await startLocalService({ dataDir: join(dir, 'data'), port: 0, s3Port: 0, reconcile: false, log: () => {} });
  });
  afterAll(async () => {
    await service?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** The environment the stack gives a function, pointed at the embedded S3 with its keys. */
  const functionEnv = () => ({
    PATH: process.env.PATH ?? '',
    AWS_REGION: service.region,
    AWS_ACCESS_KEY_ID: service.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: service.credentials.secretAccessKey,
    [ENV.uploadsBucket]: service.buckets.uploads,
    [ENV.resultsBucket]: service.buckets.results,
    [ENV.s3Endpoint]: service.s3Endpoint,
    [ENV.allowedOrigins]: '',
  });

  /**
   * Invokes a bundle's handler with each event in turn, in a fresh Node process as Lambda would
   * (the module loaded once, then the invocations), and returns what it answered. The answers go
   * through a file: the handlers log to stdout.
   */
  async function invoke(bundle: string, events: unknown[], env: Record<string, string> = {}): Promise<unknown[]> {
    const input = join(dir, `events-${Date.now()}-${Math.random()}.json`);
    const output = `${input}.out`;
    await writeFile(input, JSON.stringify(events));
    const script = `
      const fs = require('node:fs');
      const { handler } = require(${JSON.stringify(bundle)});
      const context = { awsRequestId: 'bundle-test', getRemainingTimeInMillis: () => 60000 };
      (async () => {
        const answers = [];
        for (const event of JSON.parse(fs.readFileSync(${JSON.stringify(input)}, 'utf8'))) answers.push(await handler(event, context));
        fs.writeFileSync(${JSON.stringify(output)}, JSON.stringify(answers));
        process.exit(0);
      })().catch((err) => { console.error(err); process.exit(1); });`;
    await new Promise<void>((resolve, reject) =>
      execFile(process.execPath, ['-e', script], { env: { ...functionEnv(), ...env } }, (err, _stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve())),
    );
    return JSON.parse(await readFile(output, 'utf8')) as unknown[];
  }

  /** A REST API proxy event for the read routes, as API Gateway sends it after the authorizer. */
  function readEvent(httpMethod: 'GET' | 'HEAD', userId: string, key: string, query: Record<string, string> | null = null) {
    const encoded = key.split('/').map(encodeURIComponent).join('/');
    return {
      resource: '/buckets/{bucket}/objects/{key+}',
      httpMethod,
      path: `/buckets/uploads/objects/${encoded}`,
      pathParameters: { bucket: 'uploads', key: encoded },
      queryStringParameters: query,
      multiValueQueryStringParameters: null,
      headers: { Accept: 'application/json' },
      multiValueHeaders: {},
      body: null,
      isBase64Encoded: false,
      stageVariables: null,
      requestContext: { requestId: 'bundle-test', authorizer: { claims: { sub: userId } } },
    };
  }

  it('read: heads and reads rows of a stored object, and names a missing one 404 (HeadObject, GetObject, NotFound)', async () => {
    const userId = 'bundle-reader';
    await service.s3.send(new PutObjectCommand({ Bucket: service.buckets.uploads, Key: `users/${userId}/r.csv`, Body: 'a,b\n1,x\n2,y\n', ContentType: 'text/csv' }));

    const [head, rows, missing, missingRows] = (await invoke(bundles.read, [
      readEvent('HEAD', userId, 'r.csv'),
      readEvent('GET', userId, 'r.csv', { rows: '0:10' }),
      readEvent('HEAD', userId, 'nothing-here.csv'),
      readEvent('GET', userId, 'nothing-here.csv', { rows: '0:10' }),
    ])) as { statusCode: number; headers: Record<string, string>; body: string }[];

    expect(head!.statusCode).toBe(200);
    expect(head!.headers['Content-Length'] ?? head!.headers['content-length']).toBe('12');
    expect(rows!.statusCode).toBe(200);
    expect(JSON.parse(rows!.body)).toMatchObject({ rows: [['1', 'x'], ['2', 'y']] });
    expect(missing!.statusCode).toBe(404);
    expect(missingRows!.statusCode).toBe(404);
    expect(JSON.parse(missingRows!.body)).toMatchObject({ error: { code: 'NoSuchKey' } });
  });

  it('process: profiles an upload and writes its profile (HeadObject, ranged GetObject, PutObject)', async () => {
    const key = 'users/bundle-user/p.csv';
    const csv = `id,text\n${Array.from({ length: 2000 }, (_, i) => `${i},"t ${i % 9}"`).join('\n')}\n`;
    const put = await service.s3.send(new PutObjectCommand({ Bucket: service.buckets.uploads, Key: key, Body: csv }));
    const record = {
      eventName: 'ObjectCreated:Put',
      s3: { bucket: { name: service.buckets.uploads }, object: { key, size: csv.length, eTag: put.ETag!.replace(/"/g, ''), sequencer: '0000000000000000A1' } },
    };
    // The stack's memory size (two range threads); this object is one range, run in the handler's
    // thread: the next test runs a range in the bundle as a thread.
    const [answer] = await invoke(bundles.process, [{ Records: [{ messageId: 'm1', body: JSON.stringify({ Records: [record] }) }] }], { AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '3538' });

    expect(answer).toEqual({ batchItemFailures: [] });
    const stored = await service.s3.send(new GetObjectCommand({ Bucket: service.buckets.results, Key: profileKeyFor(key) }));
    const profile = JSON.parse(await stored.Body!.transformToString()) as { status: string; rows: number; sha256: string };
    expect(profile).toMatchObject({ status: 'ok', rows: 2000, sha256: createHash('sha256').update(csv).digest('hex') });
  });

  it('process, as its own range worker thread (new Worker(__filename)): answers a range job with the partial profile and the hash this thread computes', async () => {
    const csv = `id,text\n${Array.from({ length: 500 }, (_, i) => `${i},"t ${i % 9}\nx"`).join('\n')}\n`;
    const bytes = Buffer.from(csv);
    const key = 'users/bundle-user/b.csv';
    const put = await service.s3.send(new PutObjectCommand({ Bucket: service.buckets.uploads, Key: key, Body: bytes }));
    const plan = planRanges({ size: bytes.length, head: bytes.subarray(0, HEAD_BYTES), key: 'b.csv', workers: 2 });
    const job: RangeJob = { object: { bucket: service.buckets.uploads, key, etag: put.ETag!.replace(/"/g, ''), size: bytes.length }, plan, range: plan.ranges[0]!, hash: true };
    const worker = new Worker(bundles.process, { env: functionEnv() });

    let reply: RangeReply;
    try {
      reply = await new Promise<RangeReply>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.postMessage({ ...job, id: 7 });
      });
    } finally {
      await worker.terminate();
    }

    expect(plan.ranges).toHaveLength(2);
    expect(reply.error).toBeUndefined();
    expect(reply).toEqual({ id: 7, result: await runRangeJob(service.s3, job) });
    expect(reply.result!.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
  });
});
