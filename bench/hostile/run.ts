/**
 * The hostile benchmark (`npm run bench:hostile`): every file of the hostile corpus
 * (test/fixtures/hostile/corpus.ts) profiled, and one page of its rows read, each in its own child
 * process, with the time and the peak RSS of each, against the bound each must stay under; the
 * baseline, in the same run, is the ordinary 174 MB CSV of `bench:profile` (3 million rows, 7
 * columns). Writes bench/hostile/RESULTS.md.
 *
 * BENCH_BEFORE=<git ref> also runs every file on the engine as it was at that ref (its
 * lambda/core/profile, taken with `git archive`), in the same run, so before and after are measured
 * on the same machine under the same load; BENCH_TIMEOUT (seconds, default 120) stops a child that
 * runs longer (the old engine never returns on some files).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync, type Plugin } from 'esbuild';
import { SERVICE_FUNCTIONS } from '../../lambda/shared/grants';
import { PROFILE_RSS_BOUND_MB, ROWS_RSS_BOUND_MB } from '../../lambda/core/profile/limits';
import { hostileCorpus } from '../../test/fixtures/hostile/corpus';
import { generate } from '../profile/run';
import { machineDescription, today } from '../support/machine';

const ROOT = join(__dirname, '..', '..');
const DATA = join(ROOT, 'bench', '.data');
const BEFORE = process.env.BENCH_BEFORE;
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT ?? 120) * 1000;

interface Measure {
  seconds: number | null;
  maxRssMB: number | null;
  outcome: string;
}

interface Subject {
  name: string;
  path: string;
  contentType: string;
  rows: string;
}

/** Redirects the child's import of the engine to another copy of it (the BENCH_BEFORE tree). */
function engineAt(dir: string): Plugin {
  return {
    name: 'engine-at',
    setup(build) {
      build.onResolve({ filter: /lambda\/core\/profile$/ }, () => ({ path: join(dir, 'lambda', 'core', 'profile', 'index.ts') }));
    },
  };
}

function bundle(outfile: string, plugins: Plugin[] = []): string {
  buildSync({ entryPoints: [join(__dirname, 'child.ts')], bundle: true, platform: 'node', target: 'node22', outfile, logLevel: 'warning', plugins });
  return outfile;
}

/** The lambda/ tree at a git ref, for the before engine. */
function treeAt(ref: string): string {
  const dir = join(DATA, `before-${ref.replace(/[^\w.-]/g, '_')}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const tar = execFileSync('git', ['archive', ref, 'lambda'], { cwd: ROOT, maxBuffer: 1 << 28 });
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  return dir;
}

/** The peak RSS a running process has reached so far (Linux), for a child stopped before it reports. */
function peakRssMB(pid: number): number | null {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : null;
  } catch {
    return null;
  }
}

/** Runs the bundled child; a child that runs past the timeout is stopped, and says so. */
function runChild(bundled: string, args: string[]): Promise<Measure> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bundled, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let timedOut: Measure | null = null;
    const timer = setTimeout(() => {
      timedOut = { seconds: null, maxRssMB: peakRssMB(child.pid!), outcome: `no answer after ${TIMEOUT_MS / 1000} s (stopped)` };
      child.kill('SIGKILL');
    }, TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) return resolve(timedOut);
      try {
        resolve(JSON.parse(stdout) as Measure);
      } catch {
        const last = stderr.trim().split('\n').filter(Boolean).slice(-3).join(' / ').slice(0, 200);
        resolve({ seconds: null, maxRssMB: null, outcome: `crashed (${signal ?? `exit ${code}`}): ${last}` });
      }
    });
  });
}

const fmt = (n: number | null, digits = 2) => (n === null ? 'n/a' : n.toFixed(digits));
const MB = (bytes: number) => (bytes / 1e6).toFixed(bytes < 1e6 ? 3 : 1);

function expandedBytes(path: string): number {
  if (!path.endsWith('.gz')) return statSync(path).size;
  // zcat counts what the file expands to, without the engine (a truncated stream: what it gave).
  try {
    return Number(execFileSync('sh', ['-c', `gzip -dc '${path}' 2>/dev/null | wc -c`]).toString().trim());
  } catch {
    return NaN;
  }
}

async function main(): Promise<void> {
  mkdirSync(DATA, { recursive: true });
  const corpus = await hostileCorpus(true);
  const baselinePath = join(DATA, 'bench-3000000.csv');
  await generate(baselinePath, 3_000_000);
  const subjects: Subject[] = [
    { name: 'baseline: bench:profile CSV (3M rows x 7)', path: baselinePath, contentType: 'text/csv', rows: '0:1000' },
    ...corpus.map(({ file, path }) => ({ name: file.name, path, contentType: file.contentType, rows: file.expect.rows })),
  ];
  const after = bundle(join(DATA, 'hostile-child.bundle.js'));
  const before = BEFORE ? bundle(join(DATA, 'hostile-child-before.bundle.js'), [engineAt(treeAt(BEFORE))]) : null;

  const lines: string[] = [];
  const results: { s: Subject; profile: Measure; rows: Measure; beforeProfile?: Measure; beforeRows?: Measure }[] = [];
  for (const s of subjects) {
    const key = s.name.startsWith('baseline') ? 'baseline.csv' : s.name;
    const profile = await runChild(after, ['profile', s.path, key, s.contentType]);
    const rows = await runChild(after, ['rows', s.path, key, s.contentType, s.rows]);
    const entry: (typeof results)[number] = { s, profile, rows };
    if (before) {
      entry.beforeProfile = await runChild(before, ['profile', s.path, key, s.contentType]);
      entry.beforeRows = await runChild(before, ['rows', s.path, key, s.contentType, s.rows]);
    }
    results.push(entry);
    console.log(`${s.name}: profile ${fmt(profile.seconds)} s ${fmt(profile.maxRssMB, 0)} MB ${profile.outcome}; rows ${fmt(rows.seconds)} s ${fmt(rows.maxRssMB, 0)} MB ${rows.outcome}`);
    if (entry.beforeProfile) {
      console.log(`  before: profile ${fmt(entry.beforeProfile.seconds)} s ${fmt(entry.beforeProfile.maxRssMB, 0)} MB ${entry.beforeProfile.outcome}; rows ${fmt(entry.beforeRows!.seconds)} s ${fmt(entry.beforeRows!.maxRssMB, 0)} MB ${entry.beforeRows!.outcome}`);
    }
  }

  const within = (m: Measure, bound: number) => (m.maxRssMB !== null && m.maxRssMB < bound ? 'yes' : 'NO');
  const processMB = SERVICE_FUNCTIONS.process.memorySize;
  const readMB = SERVICE_FUNCTIONS.read.memorySize;
  lines.push(
    '# Hostile inputs benchmark',
    '',
    `Run on ${today()}. Machine: ${machineDescription()}. Each file is profiled, and one page of its rows read (with the read`,
    "function's byte budget and deadline), in its own child process: an esbuild bundle run with plain `node`, reading 256 KiB",
    'chunks. Seconds are wall-clock inside the child; peak RSS is the child\'s own. The machine is shared: compare within a run.',
    '',
    `Bounds: profiling stays under ${PROFILE_RSS_BOUND_MB} MB peak RSS whatever the input (the process function has ${processMB} MB);`,
    `a rows request under ${ROWS_RSS_BOUND_MB} MB (the read function has ${readMB} MB).`,
    '',
    '## Profile',
    '',
    '| file | stored MB | expands to MB | outcome | seconds | peak RSS MB | under the bound |',
    '| --- | ---: | ---: | --- | ---: | ---: | :---: |',
    ...results.map(({ s, profile }) =>
      `| ${s.name} | ${MB(statSync(s.path).size)} | ${MB(expandedBytes(s.path))} | ${profile.outcome} | ${fmt(profile.seconds)} | ${fmt(profile.maxRssMB, 0)} | ${within(profile, PROFILE_RSS_BOUND_MB)} |`,
    ),
    '',
    '## Rows',
    '',
    '| file | rows= | outcome | seconds | peak RSS MB | under the bound |',
    '| --- | --- | --- | ---: | ---: | :---: |',
    ...results.map(({ s, rows }) => `| ${s.name} | ${s.rows} | ${rows.outcome} | ${fmt(rows.seconds)} | ${fmt(rows.maxRssMB, 0)} | ${within(rows, ROWS_RSS_BOUND_MB)} |`),
  );
  if (before) {
    lines.push(
      '',
      `## Before: the engine at \`${BEFORE}\`, same run`,
      '',
      '| file | profile: outcome | seconds | peak RSS MB | rows: outcome | seconds | peak RSS MB |',
      '| --- | --- | ---: | ---: | --- | ---: | ---: |',
      ...results.map(
        ({ s, beforeProfile: p, beforeRows: r }) =>
          `| ${s.name} | ${p!.outcome} | ${fmt(p!.seconds)} | ${fmt(p!.maxRssMB, 0)} | ${r!.outcome} | ${fmt(r!.seconds)} | ${fmt(r!.maxRssMB, 0)} |`,
      ),
    );
  }
  const report = `${lines.join('\n')}\n`;
  if (!existsSync(join(__dirname))) mkdirSync(__dirname, { recursive: true });
  writeFileSync(join(__dirname, 'RESULTS.md'), report);
  console.log(report);
}

void main();
