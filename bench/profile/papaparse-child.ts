/** Child process for run.ts: papaparse streams the file with no statistics, as a parsing baseline. */
import { createReadStream } from 'node:fs';
import Papa from 'papaparse';

const start = process.hrtime.bigint();
let rows = 0;
Papa.parse(createReadStream(process.argv[2]!, { highWaterMark: 256 * 1024 }), {
  step: () => {
    rows++;
  },
  complete: () => {
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    process.stdout.write(JSON.stringify({ seconds, maxRssMB: process.resourceUsage().maxRSS / 1024, rows: rows - 1 }));
  },
});
