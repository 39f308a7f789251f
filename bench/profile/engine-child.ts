/**
 * Child process for run.ts: profiles one file and prints {seconds, cpuSeconds, maxRssMB, rows} as JSON.
 * run.ts bundles it with esbuild and runs it with plain `node`, as the Lambda runs a bundle, so the
 * peak RSS is the engine's own and not tsx's. The file is read in `BENCH_CHUNK` byte chunks.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { profileObject } from '../../lambda/core/profile';

async function main(): Promise<void> {
  const path = process.argv[2]!;
  const chunk = Number(process.env.BENCH_CHUNK ?? 256 * 1024);
  const start = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const { size } = await stat(path);
  const profile = await profileObject({ body: createReadStream(path, { highWaterMark: chunk }), key: basename(path), size });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  if (process.env.BENCH_PRINT) process.stderr.write(`${JSON.stringify(profile, null, 1)}\n`);
  process.stdout.write(JSON.stringify({ seconds, cpuSeconds, maxRssMB: process.resourceUsage().maxRSS / 1024, rows: profile.rows }));
}
void main();
