/**
 * Child process for race.ts: profiles one file on worker threads (RACE_THREADS, default all cores)
 * and prints {seconds, cpuSeconds, maxRssMB, rows}. Bundled with esbuild and run with plain node; the
 * worker threads run the bundled profile-worker (RACE_WORKER).
 */
import { profileFileParallel } from '../../local/profile-threads';

async function main(): Promise<void> {
  const path = process.argv[2]!;
  const threads = process.env.RACE_THREADS ? Number(process.env.RACE_THREADS) : undefined;
  const start = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const profile = await profileFileParallel(path, {}, { ...(threads ? { threads } : {}), workerScript: process.env.RACE_WORKER! });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(JSON.stringify({ seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssMB: process.resourceUsage().maxRSS / 1024, rows: profile.rows }));
}
void main();
