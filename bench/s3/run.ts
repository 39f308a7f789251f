/**
 * What enforcing costs the embedded S3 (not a test): `npm run bench:s3`.
 *
 * Two embedded S3 servers on the same machine, in this process: one enforcing (SigV4 verified with
 * the SDK's signer, the body's SHA-256 checked as it streams, the caller's IAM statements
 * evaluated: what local mode runs), one with `enforce: false` (every request taken as the admin's,
 * nothing checked), the baseline. The client is the read/upload functions' own S3 client
 * configuration, signing with a function key that has the read function's grants.
 * For each operation, rounds alternate between the two servers (ABAB…) so drifting machine load
 * hits both alike; the median round is reported.
 *
 * Environment: BENCH_S3_REQUESTS (per operation per round, default 2000), BENCH_S3_ROUNDS (5),
 * BENCH_S3_CONCURRENCY (8). Writes bench/s3/RESULTS.md.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createS3Client } from '../../lambda/shared/clients';
import { grantStatements } from '../../lambda/shared/grants';
import { startEmbeddedS3, type EmbeddedS3 } from '../../local/s3/server';
import { machineDescription, today } from '../support/machine';

const REQUESTS = Number(process.env.BENCH_S3_REQUESTS ?? 2000);
const ROUNDS = Number(process.env.BENCH_S3_ROUNDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_S3_CONCURRENCY ?? 8);
const BUCKET = 'bench-uploads';
const KEY = { accessKeyId: 'BENCHFUNCTIONKEY0000', secretAccessKey: 'bench-secret' };
const BODY = Buffer.alloc(4096, 'x');

interface Target {
  name: string;
  server: EmbeddedS3;
  s3: S3Client;
}

type Operation = { name: string; call: (t: Target, i: number) => Promise<unknown> };

const OPERATIONS: Operation[] = [
  { name: 'PutObject 4 KiB (header-signed, SHA-256 of the body checked)', call: (t, i) => t.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `users/u/put/${i % 100}`, Body: BODY })) },
  {
    name: 'GetObject 4 KiB',
    call: async (t, i) => {
      const out = await t.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `users/u/get/${i % 100}` }));
      await out.Body!.transformToByteArray();
    },
  },
  { name: 'HeadObject of a missing key (404 needs s3:ListBucket)', call: (t, i) => t.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `users/u/none/${i}` })).catch(() => undefined) },
  { name: 'ListObjectsV2, 100 keys', call: (t) => t.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'users/u/get/' })) },
  {
    name: 'GET through a presigned URL (fetch)',
    call: async (t, i) => {
      const url = await getSignedUrl(t.s3, new GetObjectCommand({ Bucket: BUCKET, Key: `users/u/get/${i % 100}` }), { expiresIn: 60 });
      await (await fetch(url)).arrayBuffer();
    },
  },
];

async function startTarget(name: string, enforce: boolean, dir: string): Promise<Target> {
  const server = await startEmbeddedS3({
    directory: join(dir, name),
    port: 0,
    buckets: [BUCKET],
    corsOrigins: [],
    enforce,
    principals: [{ name: 'function', ...KEY, policy: [...grantStatements('read', { uploads: `arn:aws:s3:::${BUCKET}`, results: 'arn:aws:s3:::none' }), ...grantStatements('upload', { uploads: `arn:aws:s3:::${BUCKET}`, results: 'arn:aws:s3:::none' })] }],
  });
  const s3 = createS3Client({ region: 'us-east-1', s3Endpoint: server.endpoint }, { credentials: KEY });
  for (let i = 0; i < 100; i++) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `users/u/get/${i}`, Body: BODY }));
  return { name, server, s3 };
}

/** Requests per second for `op` on `target`, CONCURRENCY at a time. */
async function round(op: Operation, target: Target): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) await op.call(target, next++);
    }),
  );
  return REQUESTS / ((performance.now() - started) / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 's3fs-bench-s3-'));
  const enforcing = await startTarget('enforcing', true, dir);
  const open = await startTarget('not-enforcing', false, dir);
  const rows: string[] = [];
  try {
    for (const op of OPERATIONS) {
      await round(op, enforcing); // warm-up, not counted
      await round(op, open);
      const a: number[] = [];
      const b: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        a.push(await round(op, enforcing));
        b.push(await round(op, open));
      }
      const [on, off] = [median(a), median(b)];
      const extraUs = (1e6 / on - 1e6 / off) / CONCURRENCY;
      rows.push(`| ${op.name} | ${off.toFixed(0)} | ${on.toFixed(0)} | ${(on / off).toFixed(2)}× | ${(1e6 / off).toFixed(0)} | ${(1e6 / on).toFixed(0)} | ${extraUs.toFixed(0)} |`);
      console.log(rows.at(-1));
    }
  } finally {
    for (const t of [enforcing, open]) {
      t.s3.destroy();
      await t.server.close();
    }
    rmSync(dir, { recursive: true, force: true });
  }
  const results = [
    '# The cost of enforcement in the embedded S3',
    '',
    `\`npm run bench:s3\`, run on ${today()}: ${machineDescription()}.`,
    '',
    `Baseline: the same server with \`enforce: false\` (no SigV4, no body hash, no IAM), in the same run. ${REQUESTS} requests per round, ${CONCURRENCY} at a time, median of ${ROUNDS} rounds alternating between the two servers; client and servers share this process and its cores.`,
    '',
    '| operation | req/s, not enforcing | req/s, enforcing | throughput vs baseline | µs per request (wall ÷ in flight), not enforcing | enforcing | added µs per request |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    'The last column is the difference in wall time per request divided by the concurrency: roughly what verifying one request costs the single event loop.',
    '',
  ].join('\n');
  writeFileSync(resolve(__dirname, 'RESULTS.md'), results);
  console.log(results);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
