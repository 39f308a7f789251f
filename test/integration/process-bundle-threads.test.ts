import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { build, type BuildOptions } from 'esbuild';
import { HEAD_BYTES, planRanges } from '../../lambda/core/profile';
import { runRangeJob, type RangeJob, type RangeReply } from '../../lambda/core/ranged-profile';
import { ENV } from '../../lambda/shared/config';
import { SERVICE_ESBUILD_OPTIONS } from '../../lib/constructs/bundling';
import { startLocalService, type LocalService } from '../../local/service';

/**
 * The process function is its own range worker (`new Worker(__filename)` in
 * lambda/functions/process.ts): its bundle, built with the options the stack deploys, is started as
 * a worker thread, as the function starts it, and profiles a range from the embedded S3.
 */
jest.setTimeout(120_000);

describe('the process function bundle as a range worker thread', () => {
  let dir: string;
  let service: LocalService;
  let bundle: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3fs-bundle-threads-'));
    bundle = join(dir, 'index.js');
    await build({ ...(SERVICE_ESBUILD_OPTIONS as unknown as BuildOptions), entryPoints: [join(__dirname, '..', '..', 'lambda', 'functions', 'process.ts')], outfile: bundle, logLevel: 'silent' });
    service = await startLocalService({ dataDir: join(dir, 'data'), port: 0, s3Port: 0, reconcile: false, log: () => {} });
  });
  afterAll(async () => {
    await service?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers a range job with the partial profile and the hash this thread computes', async () => {
    const csv = `id,text\n${Array.from({ length: 500 }, (_, i) => `${i},"t ${i % 9}\nx"`).join('\n')}\n`;
    const bytes = Buffer.from(csv);
    const key = 'users/bundle-user/b.csv';
    const put = await service.s3.send(new PutObjectCommand({ Bucket: service.buckets.uploads, Key: key, Body: bytes }));
    const plan = planRanges({ size: bytes.length, head: bytes.subarray(0, HEAD_BYTES), key: 'b.csv', workers: 2 });
    const job: RangeJob = { object: { bucket: service.buckets.uploads, key, etag: put.ETag!.replace(/"/g, ''), size: bytes.length }, plan, range: plan.ranges[0]!, hash: true };
    // The environment the stack gives the function, pointed at the embedded S3 with its keys.
    const env = {
      AWS_REGION: service.region,
      AWS_ACCESS_KEY_ID: service.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: service.credentials.secretAccessKey,
      [ENV.uploadsBucket]: service.buckets.uploads,
      [ENV.resultsBucket]: service.buckets.results,
      [ENV.s3Endpoint]: service.s3Endpoint,
      [ENV.allowedOrigins]: '',
    };
    const worker = new Worker(bundle, { env });

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
