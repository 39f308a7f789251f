/**
 * Benchmark of the profiling engine against papaparse (bare parse) and pandas (read_csv + describe).
 * `npx tsx bench/profile/run.ts`; BENCH_ROWS=100000 for a quick run; BENCH_BIG=0 skips the 10x file.
 * Each contender runs in its own child process so its peak RSS is its own. The Node children are
 * bundled with esbuild into bench/.data and run with plain `node`, as the Lambda runs a bundle: tsx
 * in the child would add its own compiler to the RSS. Both read the file in 256 KiB chunks
 * (BENCH_CHUNK to change). Writes RESULTS.md.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { buildSync } from 'esbuild';
import { createWriteStream, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machineDescription } from '../support/machine';
import { seededRandom } from '../support/seeded-random';

const ROOT = join(__dirname, '..', '..');
const DATA = join(ROOT, 'bench', '.data');
const ROWS = Number(process.env.BENCH_ROWS ?? 3_000_000);
const BIG = process.env.BENCH_BIG !== '0';

interface Measure {
  seconds: number;
  /** CPU time of the whole process (all threads), when the child reports it. */
  cpuSeconds?: number;
  maxRssMB: number;
  rows: number | null;
}


const CITIES = ['Berlin', 'Paris', 'Oslo', 'Lisbon', 'Tokyo', 'Lima', '"Washington, D.C."', '"Paris, France"', 'São Paulo', 'Zürich', '"Portland, OR"', 'Nairobi'];
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'late delivery', 'ok', 'refund', 'damaged box', 'repeat customer'];

/** Writes `rows` rows deterministically; 3 million rows make about 174 MB. Also the hostile benchmark's baseline. */
export async function generate(path: string, rows: number): Promise<void> {
  if (existsSync(path)) return;
  const rand = seededRandom(42);
  const out = createWriteStream(path);
  const write = (s: string) => (out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r())));
  await write('id,city,price,quantity,ratio,date,note\n');
  const day0 = Date.UTC(2015, 0, 1);
  let batch = '';
  for (let i = 1; i <= rows; i++) {
    const city = CITIES[Math.floor(rand() * CITIES.length)];
    const price = (rand() * 1000).toFixed(2);
    const quantity = Math.floor(rand() * 500);
    const ratio = rand().toFixed(6);
    const date = new Date(day0 + Math.floor(rand() * 3650) * 86400000).toISOString().slice(0, 10);
    const note = rand() < 0.3 ? '' : `${WORDS[Math.floor(rand() * WORDS.length)]} ${Math.floor(rand() * 100000)}`;
    batch += `${i},${city},${price},${quantity},${ratio},${date},${note}\n`;
    if (batch.length > 1 << 20) {
      await write(batch);
      batch = '';
    }
  }
  await write(batch);
  await new Promise<void>((resolve) => out.end(resolve));
}

/** Bundles a child script into bench/.data; returns the bundle's path. */
function bundle(script: string): string {
  const outfile = join(DATA, script.replace(/\.ts$/, '.bundle.js'));
  buildSync({ entryPoints: [join(__dirname, script)], bundle: true, platform: 'node', target: 'node22', outfile, logLevel: 'warning' });
  return outfile;
}

function runNode(bundled: string, file: string): Measure {
  const out = execFileSync(process.execPath, [bundled, file], { cwd: ROOT, maxBuffer: 1 << 20 });
  return JSON.parse(out.toString()) as Measure;
}

/** Peak RSS of a Node process that does nothing: the floor under every Node contender. */
function emptyNodeRssMB(): number {
  const out = execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.resourceUsage().maxRSS / 1024))']);
  return Number(out.toString());
}

const PANDAS = `
import sys, time, resource
import pandas as pd
t = time.perf_counter()
df = pd.read_csv(sys.argv[1])
d = df.describe(include='all')
s = time.perf_counter() - t
import json
print(json.dumps({"seconds": s, "maxRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "rows": len(df)}))
`;

function findPython(): string | null {
  for (const py of ['python3', '/usr/bin/python3']) {
    if (spawnSync(py, ['-c', 'import pandas'], { stdio: 'ignore' }).status === 0) return py;
  }
  return null;
}

function runPandas(python: string, file: string): Measure {
  const out = execFileSync(python, ['-c', PANDAS, file], { maxBuffer: 1 << 20 });
  return JSON.parse(out.toString()) as Measure;
}

async function main(): Promise<void> {
  mkdirSync(DATA, { recursive: true });
  const file = join(DATA, `bench-${ROWS}.csv`);
  await generate(file, ROWS);
  const mb = statSync(file).size / 1e6;
  const results: { name: string; m: Measure }[] = [];
  console.log(`file: ${file} (${mb.toFixed(1)} MB, ${ROWS} rows)`);

  const engineBundle = bundle('engine-child.ts');
  const papaBundle = bundle('papaparse-child.ts');
  const engine = runNode(engineBundle, file);
  results.push({ name: 'this engine (full profile)', m: engine });
  const papa = runNode(papaBundle, file);
  results.push({ name: 'papaparse, bare streaming parse', m: papa });
  const python = findPython();
  let pandas: Measure | null = null;
  if (python) {
    pandas = runPandas(python, file);
    results.push({ name: `pandas read_csv + describe(include='all') (${python})`, m: pandas });
  } else {
    console.log('pandas is absent: no pandas baseline in this run');
  }

  const rows = results.map(({ name, m }) => {
    const speed = mb / m.seconds;
    const cpu = m.cpuSeconds === undefined ? 'n/a' : m.cpuSeconds.toFixed(2);
    return `| ${name} | ${m.seconds.toFixed(2)} | ${speed.toFixed(1)} | ${cpu} | ${m.maxRssMB.toFixed(0)} | ${(engine.seconds ? m.seconds / engine.seconds : 0).toFixed(2)}x |`;
  });
  let big = '';
  let bigRun: Measure | null = null;
  if (BIG) {
    const bigFile = join(DATA, `bench-${ROWS * 10}.csv`);
    await generate(bigFile, ROWS * 10);
    const bigMb = statSync(bigFile).size / 1e6;
    bigRun = runNode(engineBundle, bigFile);
    const m = bigRun;
    big = `On a 10x file (${bigMb.toFixed(0)} MB, ${ROWS * 10} rows) the engine took ${m.seconds.toFixed(1)} s, ${(bigMb / m.seconds).toFixed(1)} MB/s, peak RSS ${m.maxRssMB.toFixed(0)} MB.`;
  }
  const floor = emptyNodeRssMB();
  const engineSpeed = mb / engine.seconds;
  const check = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const goals = [
    pandas
      ? `- throughput >= 3x pandas: ${check(pandas.seconds / engine.seconds >= 3)} (${(pandas.seconds / engine.seconds).toFixed(2)}x; 3x pandas is ${((3 * mb) / pandas.seconds).toFixed(1)} MB/s, the engine ran ${engineSpeed.toFixed(1)} MB/s)`
      : '- throughput >= 3x pandas: not measured (pandas absent)',
    `- throughput >= papaparse's bare parse: ${check(papa.seconds >= engine.seconds)} (${(papa.seconds / engine.seconds).toFixed(2)}x)`,
    `- peak RSS < 128 MB at ${mb.toFixed(0)} MB: ${check(engine.maxRssMB < 128)} (${engine.maxRssMB.toFixed(0)} MB)`,
    bigRun ? `- peak RSS < 128 MB at the 10x file: ${check(bigRun.maxRssMB < 128)} (${bigRun.maxRssMB.toFixed(0)} MB)` : '- peak RSS at the 10x file: not measured (BENCH_BIG=0)',
  ];
  const report = [
    '# Profiling engine benchmark',
    '',
    `Machine: ${machineDescription()}. File: ${mb.toFixed(1)} MB CSV, ${ROWS} rows, 7 columns (generated by run.ts).`,
    'Times are wall-clock, measured inside each child process (start-up excluded); CPU is the child\'s user + system time over',
    'all its threads (file reads and GC run off the main thread); peak RSS is the child\'s own. The Node children are',
    `esbuild bundles run with plain \`node\`, reading 256 KiB chunks; an idle \`node\` process alone peaks at ${floor.toFixed(0)} MB RSS here.`,
    'The machine is shared: other work may run at the same time, so compare the contenders within one run.',
    '',
    '| contender | seconds | MB/s | CPU s | peak RSS MB | time vs this engine |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    `Engine speed-up: ${(papa.seconds / engine.seconds).toFixed(2)}x papaparse's bare parse` +
      (pandas ? `, ${(pandas.seconds / engine.seconds).toFixed(2)}x pandas.` : '; pandas absent, no pandas ratio.'),
    ...(big ? ['', big] : []),
    '',
    'Goals (issue 4), from this run:',
    ...goals,
    '',
  ].join('\n');
  console.log(report);
  writeFileSync(join(__dirname, 'RESULTS.md'), `${report}\n`);
}

if (require.main === module) void main();
