/** Child process for run.ts: papaparse streams the file with no statistics, as a parsing baseline. */
import { createReadStream } from 'node:fs';
import Papa from 'papaparse';

const start = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
let rows = 0;
Papa.parse(createReadStream(process.argv[2]!, { highWaterMark: Number(process.env.BENCH_CHUNK ?? 256 * 1024) }), {
  step: () => {
    rows++;
  },
  complete: () => {
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    process.stdout.write(JSON.stringify({ seconds, cpuSeconds, maxRssMB: process.resourceUsage().maxRSS / 1024, rows: rows - 1 }));
  },
});
