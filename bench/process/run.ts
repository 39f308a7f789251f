/**
 * `npx tsx bench/process/run.ts [MB]`: the local processor on one CSV (default 150 MB), before and
 * after range threads, in the same run. The object is uploaded to the embedded S3 once; then the
 * processor's record step (processS3Record, as the queue calls it) profiles it alternately
 * (1) the baseline, one GetObject read by profileObject on this thread (the processor before range
 * threads, kept here as a contender), and (2) profileStored:
 * ranges on one worker thread per core, each reading its own bytes with a ranged GET. One warm-up
 * of each (the threads start there, as on a cold start), then ROUNDS timed runs of each; prints
 * the medians and the ratio, and checks that the profiles have the same rows and sha256. A third
 * contender runs the same ranges without the hash (not shipped), to show what sha256 costs. A row,
 * one GetObject drained, shows what the embedded S3 serving the bytes costs: it runs in this
 * process, on the same cores as the range threads (in AWS, S3 is elsewhere).
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { processS3Record, type ProcessDeps, type ProfileStoredFn } from '../../lambda/core/process';
import { HEAD_BYTES, planRanges, profileObject, profileRanges } from '../../lambda/core/profile';
import { profileStoredObject } from '../../lambda/core/ranged-profile';
import { encodeEventKey } from '../../local/notifications';
import { processRangeRunner } from '../../local/range-threads';
import { startLocalService } from '../../local/service';
import { machineDescription } from '../support/machine';
import { seededRandom } from '../support/seeded-random';

const ROUNDS = 3;
const CONTENDERS = ['one thread', 'range threads', 'range threads, no sha256'] as const;
type Contender = (typeof CONTENDERS)[number];

async function writeCsv(file: string, bytes: number): Promise<void> {
  const rand = seededRandom(150);
  const fh = await open(file, 'w');
  let written = 0;
  let i = 0;
  await fh.write('id,name,amount,ratio,city,when,note\n');
  while (written < bytes) {
    const lines: string[] = [];
    for (let k = 0; k < 10_000; k++, i++) {
      const note = rand() < 0.05 ? `"said ""hi""\nthen left"` : `n${Math.floor(rand() * 5000)}`;
      lines.push(`${i},"name ${i % 9973}",${Math.floor(rand() * 100000)},${(rand() * 1000).toFixed(3)},city-${i % 211},2024-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')},${note}`);
    }
    const chunk = lines.join('\n') + '\n';
    await fh.write(chunk);
    written += Buffer.byteLength(chunk);
  }
  await fh.close();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const mb = Number(process.argv[2] ?? 150);
  const dir = await mkdtemp(join(tmpdir(), 'bench-process-'));
  const file = join(dir, 'data.csv');
  const service = await startLocalService({ dataDir: join(dir, 'service'), port: 0, s3Port: 0, reconcile: false, rangeThreads: 1, log: () => {} });
  const threads = availableParallelism();
  const runner = processRangeRunner(service.config, service.s3, service.credentials, threads);
  try {
    await writeCsv(file, mb * 1e6);
    const size = (await stat(file)).size;
    const s3Key = 'users/bench-user/data.csv';
    // The service profiles the upload once (its own processor, one thread); the timed runs come after.
    await service.s3.send(new PutObjectCommand({ Bucket: service.buckets.uploads, Key: s3Key, Body: createReadStream(file), ContentLength: size }));
    await service.processing.idle();
    const head = await service.s3.send(new HeadObjectCommand({ Bucket: service.buckets.uploads, Key: s3Key }));

    // The baseline, the processor before range threads: one GetObject read by profileObject on this
    // thread (after the same HEAD the processor makes for any profiler).
    const onePass: ProfileStoredFn = async (input, options) => {
      const out = await service.s3.send(new GetObjectCommand({ Bucket: input.bucket, Key: input.key, ...(input.etag ? { IfMatch: `"${input.etag}"` } : {}) }));
      const { name: key, size, contentType, etag } = input;
      return profileObject({ body: out.Body as AsyncIterable<Uint8Array>, key, size, ...(contentType ? { contentType } : {}), ...(etag ? { etag } : {}) }, options);
    };
    const base: ProcessDeps = { s3: service.s3, config: service.config, profileStored: onePass };
    // The third: the same ranges without the whole-object hash (what the fan-out does, recording
    // S3's checksum instead), to show what keeping sha256 costs: the first range's thread reading the rest.
    const noHash: ProfileStoredFn = async (input) => {
      const first = await service.s3.send(new GetObjectCommand({ Bucket: input.bucket, Key: input.key, Range: `bytes=0-${Math.min(input.size, HEAD_BYTES) - 1}` }));
      const plan = planRanges({ size: input.size, head: await first.Body!.transformToByteArray(), key: input.name, workers: threads });
      return profileRanges(plan, async (range) => (await runner.run({ object: input, plan, range })).partial);
    };
    const contenders: Record<Contender, ProcessDeps> = {
      'one thread': base,
      'range threads': { ...base, profileStored: (input, options) => profileStoredObject({ s3: service.s3, runner }, input, options) },
      'range threads, no sha256': { ...base, profileStored: noHash },
    };
    // Each run is a newer event (a higher sequencer than the upload's and the run before), so each writes its profile.
    let sequencer = 0x100000;
    const run = async (deps: ProcessDeps) => {
      const record = {
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: service.buckets.uploads }, object: { key: encodeEventKey(s3Key), size, eTag: head.ETag!.replace(/"/g, ''), sequencer: `${'F'.repeat(32)}${(sequencer++).toString(16).toUpperCase()}` } },
      };
      const c = process.cpuUsage();
      const t = performance.now();
      const { outcome } = await processS3Record(deps, record);
      const seconds = (performance.now() - t) / 1000;
      const used = process.cpuUsage(c);
      if (outcome !== 'profiled') throw new Error(`expected profiled, got ${outcome}`);
      const out = await service.s3.send(new GetObjectCommand({ Bucket: service.buckets.results, Key: `${s3Key}.profile.json` }));
      const profile = JSON.parse(await out.Body!.transformToString()) as { rows: number; sha256: string | null };
      return { seconds, cpu: (used.user + used.system) / 1e6, rows: profile.rows, sha256: profile.sha256 };
    };

    const warm: Record<string, number> = {};
    for (const [name, deps] of Object.entries(contenders)) warm[name] = (await run(deps)).seconds;
    const times: Record<string, number[]> = Object.fromEntries(CONTENDERS.map((c) => [c, []]));
    const cpu: Record<string, number[]> = Object.fromEntries(CONTENDERS.map((c) => [c, []]));
    const rows = new Set<number>();
    const hashes = new Set<string>();
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, deps] of Object.entries(contenders)) {
        const result = await run(deps);
        times[name]!.push(result.seconds);
        cpu[name]!.push(result.cpu);
        rows.add(result.rows);
        if (result.sha256 !== null) hashes.add(result.sha256);
      }
    }
    if (rows.size !== 1 || hashes.size !== 1) throw new Error(`the contenders disagree: rows ${[...rows].join(', ')}; sha256 ${[...hashes].join(', ')}`);
    // What the embedded S3 (in this process, on these cores) costs alone: one GetObject drained.
    const get = { seconds: [] as number[], cpu: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      const c = process.cpuUsage();
      const t = performance.now();
      const out = await service.s3.send(new GetObjectCommand({ Bucket: service.buckets.uploads, Key: s3Key }));
      for await (const _chunk of out.Body as AsyncIterable<Uint8Array>) {
        // drained
      }
      get.seconds.push((performance.now() - t) / 1000);
      const used = process.cpuUsage(c);
      get.cpu.push((used.user + used.system) / 1e6);
    }

    const before = median(times['one thread']!);
    const after = median(times['range threads']!);
    console.log(`machine: ${machineDescription()}; load average before: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    console.log(`object: ${(size / 1e6).toFixed(0)} MB CSV, ${[...rows][0]} rows; ${threads} range threads; median of ${ROUNDS} after one warm-up each`);
    // CPU seconds of the whole process: the embedded S3 serving the reads is in it, for both.
    console.log(`| processor | warm-up s | median s | MB/s | vs one thread | median CPU s (process) |`);
    console.log(`|---|---:|---:|---:|---:|---:|`);
    console.log(`| one thread (GetObject + profileObject, baseline) | ${warm['one thread']!.toFixed(2)} | ${before.toFixed(2)} | ${(size / 1e6 / before).toFixed(0)} | 1.00× | ${median(cpu['one thread']!).toFixed(2)} |`);
    console.log(`| GetObject alone, no profile (the in-process S3 and its client) | | ${median(get.seconds).toFixed(2)} | ${(size / 1e6 / median(get.seconds)).toFixed(0)} | | ${median(get.cpu).toFixed(2)} |`);
    console.log(`| range threads (profileStored) | ${warm['range threads']!.toFixed(2)} | ${after.toFixed(2)} | ${(size / 1e6 / after).toFixed(0)} | ${(before / after).toFixed(2)}× | ${median(cpu['range threads']!).toFixed(2)} |`);
    const bare = median(times['range threads, no sha256']!);
    console.log(`| range threads, no sha256 (not shipped: what the hash costs) | ${warm['range threads, no sha256']!.toFixed(2)} | ${bare.toFixed(2)} | ${(size / 1e6 / bare).toFixed(0)} | ${(before / bare).toFixed(2)}× | ${median(cpu['range threads, no sha256']!).toFixed(2)} |`);
  } finally {
    await runner.close();
    await service.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
