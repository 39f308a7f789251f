/**
 * Bundle benchmark (not a test): `npm run bench:bundles` (BENCH_RUNS=15 by default).
 * For each Lambda entry, the minified bundle size and its load time in a fresh Node process over a
 * bare `node -e ''` start (median of BENCH_RUNS), beside a baseline built in the same run: a default
 * esbuild bundle (no minify) of a one-call client-s3 handler, as CJS and as ESM. Our bundles use
 * the options and plugins the stack deploys (lib/constructs/bundling.ts `bundleFunction`; one row
 * per function is built without the SDK schema plugin, to show what it is worth) and are loaded as deployed: without
 * --enable-source-maps (the stack sets it only with `-c sourceMaps=true`); one extra row loads
 * `list` with the flag to show what it costs. A second baseline is the service's own handlers as of
 * BENCH_BASELINE_REF (default `main`), taken from git and built with today's options, so a change
 * to the handlers is measured against what it replaces in the same run. Writes bench/bundles/RESULTS.md.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type BuildOptions } from 'esbuild';
import { ENV } from '../../lambda/shared/config';
import { SIGNING_KEY_NAMES, SIGNING_KEY_PURPOSES } from '../../lambda/shared/signing-keys';
import { bundleFunction, ESM_REQUIRE_BANNER, MODULE_ALIASES, SERVICE_ESBUILD_OPTIONS } from '../../lib/constructs/bundling';
import { machineDescription, today } from '../support/machine';

const ROOT = join(__dirname, '..', '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const FUNCTIONS = ['list', 'read', 'upload', 'process'] as const;
const BASELINE_SOURCE = `import { S3Client, ListBucketsCommand } from '@aws-sdk/client-s3';
export const handler = async () => new S3Client({}).send(new ListBucketsCommand({}));
`;
/** What the functions' module scope needs (loadConfig), as the stack sets it. */
const CHILD_ENV = {
  PATH: process.env.PATH ?? '',
  AWS_REGION: 'eu-west-1',
  [ENV.uploadsBucket]: 'uploads-bucket',
  [ENV.resultsBucket]: 'results-bucket',
  [ENV.allowedOrigins]: '',
  // The key secrets' ARNs, as the stack sets them. With no credentials here the fetch a keyed
  // function starts at load fails at once, so its load includes building the client and starting
  // the request but no network (in Lambda that round trip overlaps the rest of the cold start).
  ...Object.fromEntries(SIGNING_KEY_NAMES.map((p) => [SIGNING_KEY_PURPOSES[p].envVar, `arn:aws:secretsmanager:eu-west-1:111111111111:secret:${p}-key-AbCdEf`])),
  // What the handlers of a baseline ref before per-purpose keys read instead.
  SIGNING_SECRET: 'bench-signing-secret-bench-signing-secret',
};
const BASELINE_REF = process.env.BENCH_BASELINE_REF ?? 'main';

interface Row {
  name: string;
  format: 'esm' | 'cjs';
  file: string;
  /** Load with --enable-source-maps, as NODE_OPTIONS does in Lambda with `-c sourceMaps=true`. */
  sourceMaps: boolean;
  bytes?: number;
  loadMs?: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function runOnce(args: string[]): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { env: CHILD_ENV, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${result.stderr.toString()}`);
  return ms;
}

/**
 * Median wall time of each command. Round-robin (every command once per round, after one warm-up
 * round) so that drift in the machine's load affects all of them alike.
 */
function timeAll(commands: string[][]): number[] {
  const samples = commands.map(() => [] as number[]);
  for (let round = -1; round < RUNS; round++) {
    commands.forEach((args, i) => {
      const ms = runOnce(args);
      if (round >= 0) samples[i]!.push(ms);
    });
  }
  return samples.map(median);
}

function loadArgs(row: Row): string[] {
  const flags = row.sourceMaps ? ['--enable-source-maps'] : [];
  const code =
    row.format === 'esm'
      ? `import(${JSON.stringify(pathToFileURL(row.file).href)}).then((m) => { if (typeof m.handler !== 'function') process.exit(3); })`
      : `if (typeof require(${JSON.stringify(row.file)}).handler !== 'function') process.exit(3)`;
  return [...flags, '-e', code];
}

async function main(): Promise<void> {
  const out = mkdtempSync(join(tmpdir(), 'bench-bundles-'));
  const rows: Row[] = [];
  try {
    for (const format of ['cjs', 'esm'] as const) {
      const file = join(out, `baseline.${format === 'esm' ? 'mjs' : 'cjs'}`);
      await build({
        stdin: { contents: BASELINE_SOURCE, resolveDir: ROOT, loader: 'ts', sourcefile: 'baseline.ts' },
        bundle: true,
        platform: 'node',
        format,
        outfile: file,
        logLevel: 'error',
      });
      rows.push({ name: 'baseline (one-call client-s3, esbuild defaults)', format, file, sourceMaps: false });
    }
    const service = SERVICE_ESBUILD_OPTIONS as unknown as BuildOptions;
    const ext = service.format === 'esm' ? 'mjs' : 'cjs';
    for (const name of FUNCTIONS) {
      const file = join(out, name, `index.${ext}`);
      await bundleFunction(join(ROOT, 'lambda', 'functions', `${name}.ts`), join(out, name), { outfile: file });
      rows.push({ name, format: service.format as 'esm' | 'cjs', file, sourceMaps: false });
    }
    // The same functions as of BASELINE_REF, built with today's options from that ref's lambda/.
    const refDir = join(out, 'ref');
    mkdirSync(refDir);
    const archive = execFileSync('git', ['-C', ROOT, 'archive', '--format=tar', BASELINE_REF, 'lambda', 'package.json', 'package-lock.json'], { maxBuffer: 64 * 1024 * 1024 });
    execFileSync('tar', ['-x', '-C', refDir], { input: archive });
    // The ref's own runtime dependencies, at its locked versions: a dependency since dropped (or
    // changed) would otherwise be missing, or measured at today's version. From npm's cache.
    execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--silent'], { cwd: refDir, stdio: 'inherit' });
    // The aliases point into the ref's own tree: today's alias targets import the SDK from this
    // checkout's node_modules, a second copy of the layers the ref's client shares (+17 KB).
    const refAliases = Object.fromEntries(
      Object.entries(MODULE_ALIASES).map(([from, to]) => {
        const own = join(refDir, relative(ROOT, to));
        return [from, existsSync(own) ? own : to];
      }),
    );
    for (const name of FUNCTIONS) {
      const file = join(out, `${name}-ref`, `index.${ext}`);
      await bundleFunction(join(refDir, 'lambda', 'functions', `${name}.ts`), join(out, `${name}-ref`), { nodePaths: [join(ROOT, 'node_modules')], alias: refAliases, outfile: file });
      rows.push({ name: `${name} @ ${BASELINE_REF} (same-run baseline)`, format: service.format as 'esm' | 'cjs', file, sourceMaps: false });
    }
    // What the SDK schema plugin is worth: the same options without it (all of S3's operation schemas).
    for (const name of FUNCTIONS) {
      const file = join(out, `${name}-all-schemas`, `index.${ext}`);
      await build({ ...service, entryPoints: [join(ROOT, 'lambda', 'functions', `${name}.ts`)], outfile: file, logLevel: 'error' });
      rows.push({ name: `${name} (without the SDK schema plugin)`, format: service.format as 'esm' | 'cjs', file, sourceMaps: false });
    }
    // The cost of `-c sourceMaps=true`: the same list bundle, loaded with its .map parsed at start.
    const list = rows.find((r) => r.name === 'list')!;
    rows.push({ ...list, name: 'list (with --enable-source-maps, `-c sourceMaps=true`)', sourceMaps: true });
    // The same options in the other module format, to show what the format choice is worth.
    const other = service.format === 'esm' ? 'cjs' : 'esm';
    for (const name of FUNCTIONS) {
      const file = join(out, `${name}-${other}`, `index.${other === 'esm' ? 'mjs' : 'cjs'}`);
      const banner = other === 'esm' ? { js: ESM_REQUIRE_BANNER } : undefined;
      await bundleFunction(join(ROOT, 'lambda', 'functions', `${name}.ts`), join(out, `${name}-${other}`), { format: other, banner, outfile: file });
      rows.push({ name: `${name} (same options, ${other})`, format: other, file, sourceMaps: false });
    }

    const [bare, ...loads] = timeAll([['-e', ''], ...rows.map(loadArgs)]);
    rows.forEach((row, i) => {
      row.bytes = statSync(row.file).size;
      row.loadMs = Math.max(0, loads[i]! - bare!);
    });
    const baseCjs = rows[0]!;
    const baseEsm = rows[1]!;
    const ratio = (base: Row, row: Row) => (row.loadMs! > 0 ? `${(base.loadMs! / row.loadMs!).toFixed(2)}×` : '∞');
    const lines = [
      '# Bundle sizes and load times',
      '',
      `Generated by \`npm run bench:bundles\` (bench/bundles/run.ts) on ${today()}.`,
      `Machine: ${machineDescription()}. Runs per bundle: ${RUNS} (round-robin after one warm-up round), median.`,
      `Bare \`node -e ''\`: ${bare!.toFixed(1)} ms (subtracted from every load time).`,
      '',
      'Load = fresh `node` process that imports (ESM) or requires (CJS) the bundle and checks `typeof handler`, minus bare start.',
      'All rows are loaded without `--enable-source-maps`, as the stack deploys by default, except the one row that says so (what `-c sourceMaps=true` costs).',
      'Speed-up = baseline load / our load (higher is better; goal ≥ 1.5× against both baselines).',
      '',
      '| bundle | format | size (KB) | load over bare (ms) | speed-up vs baseline CJS | speed-up vs baseline ESM |',
      '|---|---|---:|---:|---:|---:|',
      ...rows.map(
        (r) => `| ${r.name} | ${r.format} | ${(r.bytes! / 1024).toFixed(0)} | ${r.loadMs!.toFixed(1)} | ${ratio(baseCjs, r)} | ${ratio(baseEsm, r)} |`,
      ),
      '',
    ];
    const notes = readFileSync(join(__dirname, 'NOTES.md'), 'utf8');
    const text = `${lines.join('\n')}\n${notes}`;
    writeFileSync(join(__dirname, 'RESULTS.md'), text);
    process.stdout.write(text);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
