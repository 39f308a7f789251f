/**
 * The race of issue #15: this engine (one thread, all threads) against pandas read_csv + describe,
 * polars read_csv + describe, polars doing the profile's work (describe, n_unique, top-10 value
 * counts and a 64-bin histogram per numeric column) and DuckDB SUMMARIZE, on four shapes of CSV
 * (numeric-heavy, string-heavy, quoted fields with newlines, wide), one run, each contender in its
 * own process. `npx tsx bench/profile/race.ts`; RACE_MB=150 per file (default), RACE_PYTHON=/tmp/v/bin/python
 * (a venv with pandas, polars, duckdb: a contender whose module is absent is skipped and said so).
 * Times are measured inside each child (start-up excluded); peak RSS is the child's own (all threads).
 * Writes RACE.md.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { machineDescription } from '../support/machine';
import { seededRandom } from '../support/seeded-random';

const ROOT = join(__dirname, '..', '..');
const DATA = process.env.RACE_DATA ?? join(ROOT, 'bench', '.data');
const TARGET_MB = Number(process.env.RACE_MB ?? 150);
const PYTHON = process.env.RACE_PYTHON ?? '/tmp/v/bin/python';
const SHAPES = (process.env.RACE_SHAPES ?? 'numeric,string,quoted,wide').split(',');

interface Measure {
  seconds: number;
  maxRssMB: number;
}

const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'late delivery', 'ok', 'refund', 'damaged box', 'repeat customer', 'Zürich'];

/** One row of each shape, from a seeded generator. */
const SHAPE_ROWS: Record<string, { header: string; row: (i: number, r: () => number) => string }> = {
  numeric: {
    header: 'id,a,b,c,d,e,f,g',
    row: (i, r) => `${i},${(r() * 1000).toFixed(2)},${Math.floor(r() * 500)},${r().toFixed(6)},${Math.floor(r() * 1e6)},${(r() * 2 - 1).toFixed(4)},${Math.floor(r() * 10)},${(r() * 1e5).toFixed(1)}`,
  },
  string: {
    header: 'id,word,code,city,note,tag',
    row: (i, r) =>
      `u${Math.floor(r() * 1e7)},${WORDS[Math.floor(r() * WORDS.length)]},C-${Math.floor(r() * 5000)},${WORDS[Math.floor(r() * 4)]}ville,${WORDS[Math.floor(r() * WORDS.length)]} ${Math.floor(r() * 1e5)},t${i % 97}`,
  },
  quoted: {
    header: 'id,text,amount,comment',
    row: (i, r) =>
      `${i},"${WORDS[Math.floor(r() * WORDS.length)]}, then\n${WORDS[Math.floor(r() * WORDS.length)]} ""quoted"" ${Math.floor(r() * 1000)}",${(r() * 100).toFixed(2)},"line one\nline two ${i % 13}"`,
  },
  wide: {
    header: Array.from({ length: 100 }, (_, k) => `c${k}`).join(','),
    row: (_i, r) => Array.from({ length: 100 }, (_, k) => (k % 3 === 0 ? (r() * 100).toFixed(1) : String(Math.floor(r() * 1000)))).join(','),
  },
};

async function generate(shape: string, path: string, bytes: number): Promise<void> {
  if (existsSync(path)) return;
  const { header, row } = SHAPE_ROWS[shape]!;
  const rand = seededRandom(15);
  const out = createWriteStream(path);
  const write = (s: string) => (out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r())));
  await write(`${header}\n`);
  let written = 0;
  let batch = '';
  for (let i = 1; written + batch.length < bytes; i++) {
    batch += `${row(i, rand)}\n`;
    if (batch.length > 1 << 20) {
      written += Buffer.byteLength(batch);
      await write(batch);
      batch = '';
    }
  }
  await write(batch);
  await new Promise<void>((resolve) => out.end(resolve));
}

const PY_PRELUDE = `
import sys, time, resource, json
def done(t):
    print(json.dumps({"seconds": time.perf_counter() - t, "maxRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
`;
const PY: Record<string, { module: string; code: string }> = {
  'pandas read_csv + describe': {
    module: 'pandas',
    code: `import pandas as pd\nt = time.perf_counter()\ndf = pd.read_csv(sys.argv[1])\ndf.describe(include='all')\ndone(t)`,
  },
  'polars read_csv + describe': {
    module: 'polars',
    code: `import polars as pl\nt = time.perf_counter()\ndf = pl.read_csv(sys.argv[1])\ndf.describe()\ndone(t)`,
  },
  'polars, the same work': {
    module: 'polars',
    code: `import polars as pl
t = time.perf_counter()
df = pl.read_csv(sys.argv[1])
df.describe()
df.select(pl.all().n_unique())
for c in df.columns:
    df[c].value_counts(sort=True).head(10)
    if df[c].dtype.is_numeric():
        df[c].hist(bin_count=64)
done(t)`,
  },
  'DuckDB SUMMARIZE': {
    module: 'duckdb',
    code: `import duckdb\nduckdb.sql("SET enable_progress_bar = false")\nt = time.perf_counter()\nduckdb.sql(f"SUMMARIZE SELECT * FROM read_csv('{sys.argv[1]}')").fetchall()\ndone(t)`,
  },
};

/** The child's result: its last line (a library may print progress before it). */
function lastJson(out: string): Measure {
  return JSON.parse(out.trim().split('\n').pop()!) as Measure;
}

function hasModule(module: string): boolean {
  return existsSync(PYTHON) && spawnSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0;
}

function bundle(entry: string, out: string): string {
  const outfile = join(DATA, out);
  buildSync({ entryPoints: [join(ROOT, entry)], bundle: true, platform: 'node', target: 'node22', outfile, logLevel: 'warning' });
  return outfile;
}

async function main(): Promise<void> {
  mkdirSync(DATA, { recursive: true });
  const worker = bundle('local/profile-worker.ts', 'race-worker.bundle.js');
  const engine = bundle('bench/profile/race-engine-child.ts', 'race-engine.bundle.js');
  const cores = availableParallelism();
  const contenders: { name: string; run: (file: string) => Measure | null }[] = [
    { name: 'this engine, 1 thread', run: (f) => JSON.parse(execFileSync(process.execPath, [engine, f], { env: { ...process.env, RACE_WORKER: worker, RACE_THREADS: '1' } }).toString()) as Measure },
    { name: `this engine, ${cores} threads`, run: (f) => JSON.parse(execFileSync(process.execPath, [engine, f], { env: { ...process.env, RACE_WORKER: worker } }).toString()) as Measure },
    ...Object.entries(PY).map(([name, { module, code }]) => ({
      name,
      run: (f: string) => (hasModule(module) ? lastJson(execFileSync(PYTHON, ['-c', PY_PRELUDE + code, f], { maxBuffer: 1 << 24 }).toString()) : null),
    })),
  ];
  const sections: string[] = [];
  for (const shape of SHAPES) {
    const file = join(DATA, `race-${shape}-${TARGET_MB}mb.csv`);
    await generate(shape, file, TARGET_MB * 1e6);
    const mb = statSync(file).size / 1e6;
    const results = contenders.map((c) => {
      const m = c.run(file);
      console.log(`${shape} ${c.name}: ${m ? `${m.seconds.toFixed(2)} s, ${m.maxRssMB.toFixed(0)} MB` : 'absent'}`);
      return { name: c.name, m };
    });
    const all = results[1]!.m!;
    const one = results[0]!.m!;
    const pandas = results.find((r) => r.name.startsWith('pandas'))?.m ?? null;
    const same = results.find((r) => r.name === 'polars, the same work')?.m ?? null;
    const bare = results.find((r) => r.name === 'polars read_csv + describe')?.m ?? null;
    const ratio = (m: Measure | null) => (m ? `${(m.seconds / all.seconds).toFixed(2)}x` : 'absent');
    sections.push(
      `### ${shape} (${mb.toFixed(0)} MB)`,
      '',
      '| contender | seconds | peak RSS MB | its time / engine (all threads) |',
      '| --- | ---: | ---: | ---: |',
      ...results.map(({ name, m }) => (m ? `| ${name} | ${m.seconds.toFixed(2)} | ${m.maxRssMB.toFixed(0)} | ${ratio(m)} |` : `| ${name} | absent | | |`)),
      '',
      `Goals: >= 3x pandas: ${pandas ? `${(pandas.seconds / all.seconds).toFixed(2)}x (${pandas.seconds / all.seconds >= 3 ? 'met' : 'missed'})` : 'not measured'}; ` +
        `faster than polars doing the same work: ${same ? `${(same.seconds / all.seconds).toFixed(2)}x (${same.seconds >= all.seconds ? 'met' : 'missed'})` : 'not measured'}; ` +
        `peak RSS <= 128 MB: ${all.maxRssMB.toFixed(0)} MB (${all.maxRssMB <= 128 ? 'met' : 'missed'}); ` +
        `moonshot, faster than polars' bare describe: ${bare ? `${(bare.seconds / all.seconds).toFixed(2)}x (${bare.seconds >= all.seconds ? 'met' : 'missed'})` : 'not measured'}; ` +
        `all threads vs one: ${(one.seconds / all.seconds).toFixed(2)}x.`,
      '',
    );
  }
  const report = [
    '# The race (issue #15): one run',
    '',
    `Machine: ${machineDescription()}. ${TARGET_MB} MB per file. Times inside each child process (start-up excluded), peak RSS of`,
    'the child (all its threads). The machine is shared: compare within this run only.',
    '',
    ...sections,
  ].join('\n');
  console.log(report);
  writeFileSync(join(__dirname, 'RACE.md'), `${report}\n`);
}

if (require.main === module) void main();
