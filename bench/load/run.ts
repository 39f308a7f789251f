/**
 * Load with a ledger (`npm run bench:load`): many uploads at once through the API (mixed sizes,
 * one in ten multipart) while clients list and read; every upload the API acknowledged is written
 * down (key, size, SHA-256) and at the end must be listed, read back with the same SHA-256, and
 * have a profile. Latency per route and throughput go to bench/load/RESULTS.md.
 * The short version runs in test/trust/load.test.ts; it asserts the ledger, never timings.
 *
 * The service runs in its own process (`local/start.ts`, as `npm start` runs it, on free loopback
 * ports and a temp data folder), so the latencies are the service's and not the generator's: the
 * generator makes and hashes every upload body before the timed phase (slices of two pre-made
 * buffers behind a prefix unique to the upload) and only sends bytes while it is timing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { encodeKey } from '../../client/api-client';
import type { Endpoints } from '../../local/service';
import { machineDescription, today } from '../support/machine';
import { seededRandom } from '../support/seeded-random';

const MiB = 1024 * 1024;
const LOOPBACK = '127.0.0.1';
const ROOT = join(__dirname, '..', '..');

export interface LoadOptions {
  uploads: number;
  readers: number;
  /** Largest multipart object; single PUTs go up to the multipart threshold (5 MiB). */
  maxBytes: number;
  /** Every n-th upload is multipart. */
  multipartEvery: number;
  /** Hard limit for the whole run (start, uploads, reads, processing, verification, stop). */
  timeLimitMs: number;
  log?: (line: string) => void;
}

export interface LedgerEntry {
  key: string;
  size: number;
  sha256: string;
  multipart: boolean;
}

export interface ServiceExit {
  code: number | null;
  signal: string | null;
  /** Whether it exited with 0 on its own after SIGTERM (not killed). */
  clean: boolean;
}

export interface LoadReport {
  options: LoadOptions;
  ledger: LedgerEntry[];
  /** Uploads the API did not acknowledge (with why); they are not in the ledger. */
  rejected: string[];
  /** Ledger entries that failed a check at the end. */
  notListed: string[];
  wrongContent: string[];
  noProfile: string[];
  /** 5xx answers seen by the readers. */
  serverErrors: number;
  latencies: Record<string, number[]>;
  uploadSeconds: number;
  totalSeconds: number;
  bytes: number;
  /** Planned bodies of 6 bytes or more, and how many distinct SHA-256s they have (should be equal). */
  bodies: { checked: number; distinct: number };
  /** The generator's own event-loop delay during the timed phase, in ms: how much it could skew latencies. */
  generatorLoopDelayMs: { p50: number; p99: number; max: number };
  serviceExit: ServiceExit;
}

const THRESHOLD = 5 * MiB;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * A new connection per request. With Node's keep-alive agent, a request now and then went out on a
 * connection the service was closing (first seen as `socket hang up` on a reader's first listing,
 * right after the ~7 s it takes to make the bodies, i.e. past the service's 5 s keep-alive
 * timeout): a client-side race that says nothing about the service. On loopback a connection costs
 * well under a millisecond.
 */
const agent = new Agent({ keepAlive: false });

/** One request to a loopback address, with a timeout; the body may come in pieces (written in order). */
function http(method: string, url: string, headers: Record<string, string> = {}, body?: Buffer | Buffer[], timeoutMs = 120_000): Promise<Reply> {
  const u = new URL(url);
  if (u.hostname !== LOOPBACK && u.hostname !== 'localhost') return Promise.reject(new Error(`not a loopback address: ${url}`));
  const pieces = body === undefined ? undefined : Array.isArray(body) ? body : [body];
  const length = pieces?.reduce((n, p) => n + p.length, 0);
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: u.hostname, port: u.port, method, path: u.pathname + u.search, headers: { ...headers, ...(length !== undefined ? { 'content-length': String(length) } : {}) }, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${u.pathname}: timed out`)));
    req.on('error', (err) => reject(Object.assign(err, { message: `${method} ${u.pathname}: ${err.message}` })));
    for (const piece of pieces ?? []) req.write(piece);
    req.end();
  });
}


/** The i-th upload's size and type: 0 B now and then, log-uniform up to 5 MiB, or multipart up to maxBytes. */
export function planUpload(i: number, options: Pick<LoadOptions, 'maxBytes' | 'multipartEvery'>, random: () => number) {
  if (i % options.multipartEvery === options.multipartEvery - 1) {
    return { size: THRESHOLD + 1 + Math.floor(random() * (options.maxBytes - THRESHOLD)), csv: false };
  }
  if (i % 50 === 0) return { size: 0, csv: false };
  const size = Math.max(1, Math.floor(Math.exp(random() * Math.log(THRESHOLD))));
  return { size, csv: i % 2 === 0 };
}

/** An upload body as pieces that are never copied: a prefix unique to the upload, then a slice of a shared buffer. */
export interface Body {
  pieces: Buffer[];
  size: number;
  sha256: string;
}

/** The shared buffers the bodies are cut from: random bytes, and CSV rows with where each row starts. */
export interface BodyPools {
  random: Buffer;
  csv: Buffer;
  csvLineStarts: number[];
}

export function makePools(maxBytes: number): BodyPools {
  const random = randomBytes(maxBytes + MiB);
  const lines: string[] = [];
  const csvLineStarts: number[] = [];
  let length = 0;
  for (let r = 0; length < THRESHOLD + MiB; r++) {
    const line = `${r},row-${r},${(r * 1.5).toFixed(1)}\n`;
    csvLineStarts.push(length);
    lines.push(line);
    length += line.length;
  }
  return { random, csv: Buffer.from(lines.join('')), csvLineStarts };
}

/**
 * The i-th body, hashed here (before any timing). Binary: the index as 4 bytes, then random bytes
 * from an offset that depends on i. CSV: a header naming the upload (`id0007,name,value`), then
 * rows from a row start that depends on i. Cut to `size`, keeping the unique start.
 */
export function makeBody(i: number, size: number, csv: boolean, pools: BodyPools): Body {
  let prefix: Buffer;
  let pool: Buffer;
  let offset: number;
  if (csv) {
    prefix = Buffer.from(`id${String(i).padStart(4, '0')},name,value\n`);
    pool = pools.csv;
    const room = pool.length - Math.max(0, size - prefix.length);
    const starts = pools.csvLineStarts.filter((s) => s <= room);
    offset = starts[(i * 7919) % starts.length] ?? 0;
  } else {
    prefix = Buffer.alloc(4);
    prefix.writeUInt32BE(i);
    pool = pools.random;
    offset = (i * 65_537) % (pool.length - Math.max(0, size - prefix.length) + 1);
  }
  const pieces = size <= prefix.length ? [csv ? prefix.subarray(0, size) : prefix.subarray(prefix.length - size)] : [prefix, pool.subarray(offset, offset + size - prefix.length)];
  if (pieces.reduce((n, p) => n + p.length, 0) !== size) throw new Error(`body #${i}: pool too small for ${size} bytes`);
  const hash = createHash('sha256');
  for (const p of pieces) hash.update(p);
  return { pieces, size, sha256: hash.digest('hex') };
}

/** Bytes [start, end) of a body, as sub-views of its pieces (no copy). */
export function rangeOf(pieces: Buffer[], start: number, end: number): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (const p of pieces) {
    const from = Math.max(start, at);
    const to = Math.min(end, at + p.length);
    if (to > from) out.push(p.subarray(from - at, to - at));
    at += p.length;
  }
  return out;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

interface ServiceProcess {
  endpoints: Endpoints;
  /** SIGTERM, then waits (bounded) for the exit; SIGKILL if it does not come. */
  stop(): Promise<ServiceExit>;
}

/**
 * `local/start.ts` in a child process (node with tsx's loader), on free loopback ports and a temp
 * data folder; ready once `GET /health` answers and `endpoints.json` is written.
 */
async function startServiceProcess(dir: string, deadline: number, log: (line: string) => void): Promise<ServiceProcess> {
  const [port, s3Port, sqsPort] = [await freePort(), await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    S3_PORT: String(s3Port),
    SQS_PORT: String(sqsPort),
    LOCAL_DATA_DIR: dir,
    LOG_REQUESTS: '0',
    MULTIPART_THRESHOLD_BYTES: String(THRESHOLD),
  };
  delete env.S3_ENDPOINT;
  delete env.ALLOWED_ORIGINS;
  delete env.NODE_OPTIONS;
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'local', 'start.ts')], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-4000)));
  const exited = new Promise<ServiceExit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, clean: code === 0 && signal === null }));
    child.once('error', (err) => {
      stderr += `\n${String(err)}`;
      resolve({ code: null, signal: null, clean: false });
    });
  });
  let gone: ServiceExit | undefined;
  void exited.then((e) => (gone = e));

  const stop = async (): Promise<ServiceExit> => {
    if (gone) return { ...gone, clean: false };
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([exited, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 30_000)))]);
    clearTimeout(timer);
    if (result) return result;
    child.kill('SIGKILL');
    return { ...(await exited), clean: false };
  };

  const apiUrl = `http://${LOOPBACK}:${port}`;
  const readyBy = Math.min(deadline, Date.now() + 60_000);
  for (let attempt = 0; attempt < 1200 && Date.now() < readyBy && !gone; attempt++) {
    const healthy = await http('GET', `${apiUrl}/health`, {}, undefined, 2_000).then(
      (res) => res.status === 200,
      () => false,
    );
    if (healthy) {
      const endpoints = await readFile(join(dir, 'endpoints.json'), 'utf8').then(
        (text) => JSON.parse(text) as Endpoints,
        () => undefined,
      );
      if (endpoints?.apiUrl === apiUrl) {
        log(`service running in process ${child.pid} at ${apiUrl} (S3 on port ${s3Port})`);
        return { endpoints, stop };
      }
    }
    await sleep(100);
  }
  await stop();
  throw new Error(`the service did not start (${gone ? `exited ${gone.code ?? gone.signal}` : 'no answer on /health'}): ${stderr.trim().slice(-1500)}`);
}

export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const deadline = started + options.timeLimitMs;
  const dir = await mkdtemp(join(tmpdir(), 's3fs-load-'));
  let service: ServiceProcess | undefined;
  try {
    service = await startServiceProcess(dir, deadline, log);
    const report = await loadAgainst(service.endpoints, options, started, deadline, log);
    const serviceExit = await service.stop();
    service = undefined;
    log(`service stopped: ${serviceExit.clean ? 'exit 0 after SIGTERM' : `code ${serviceExit.code} signal ${serviceExit.signal}`}`);
    return { ...report, serviceExit, totalSeconds: (Date.now() - started) / 1000 };
  } finally {
    if (service) await service.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

async function loadAgainst(
  endpoints: Endpoints,
  options: LoadOptions,
  started: number,
  deadline: number,
  log: (line: string) => void,
): Promise<Omit<LoadReport, 'serviceExit'>> {
  const api = endpoints.apiUrl;
  const auth = { authorization: `Bearer ${endpoints.token}` };
  const latencies: Record<string, number[]> = {};
  const timed = async <T>(route: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      (latencies[route] ??= []).push(performance.now() - t0);
    }
  };
  const send = async (route: string | undefined, method: string, path: string, body?: unknown, expect = 200) => {
    const go = () => http(method, api + path, { ...auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, body !== undefined ? Buffer.from(JSON.stringify(body)) : undefined);
    const res = route ? await timed(route, go) : await go();
    if (res.status !== expect) throw new Error(`${method} ${path}: ${res.status} ${res.body.toString('utf8').slice(0, 200)}`);
    return JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
  };
  const putS3 = async (url: string, data: Buffer[], headers: Record<string, string>) => {
    const res = await timed('PUT presigned URL (S3)', () => http('PUT', url, headers, data));
    if (res.status !== 200) throw new Error(`PUT: ${res.status} ${res.body.toString('utf8').slice(0, 200)}`);
    return String(res.headers.etag ?? '');
  };
  /** Every key under `load/` in a bucket, page by page (bounded). */
  const listAll = async (bucket: string): Promise<Map<string, number>> => {
    const listed = new Map<string, number>();
    let cursor: string | null = null;
    for (let page = 0; page < 1000; page++) {
      const body: Record<string, unknown> = await send(undefined, 'GET', `/buckets/${bucket}/objects?prefix=load%2F&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      for (const o of body.objects as { key: string; size: number }[]) listed.set(o.key, o.size);
      cursor = body.nextCursor as string | null;
      if (!cursor) break;
    }
    return listed;
  };

  // Before the timed phase: every body made and hashed, so the generator only sends while timing.
  const random = seededRandom(42);
  const plans = Array.from({ length: options.uploads }, (_, i) => planUpload(i, options, random));
  const pools = makePools(options.maxBytes);
  const bodies = plans.map(({ size, csv }, i) => makeBody(i, size, csv, pools));
  const checked = bodies.filter((b) => b.size >= 6);
  const distinct = new Set(checked.map((b) => b.sha256)).size;
  log(`made and hashed ${bodies.length} bodies in ${((Date.now() - started) / 1000).toFixed(1)} s since start (${distinct} distinct of ${checked.length} of 6 bytes or more)`);

  const ledger: LedgerEntry[] = [];
  const rejected: string[] = [];
  let bytes = 0;

  async function uploadOne(i: number): Promise<void> {
    const { size, csv } = plans[i]!;
    const body = bodies[i]!;
    const key = `load/${String(i).padStart(4, '0')}-${size}.${csv ? 'csv' : 'bin'}`;
    const created = await send('POST /uploads', 'POST', '/uploads', { key, size, contentType: csv ? 'text/csv' : 'application/octet-stream' }, 201);
    let multipart = false;
    if (created.uploadId === null) {
      await putS3(created.url as string, body.pieces, created.headers as Record<string, string>);
    } else {
      multipart = true;
      const uploadId = created.uploadId as string;
      const partSize = created.partSize as number;
      const numbers = Array.from({ length: created.partCount as number }, (_, n) => n + 1);
      const signed = await send('POST /uploads/{uploadId}/parts', 'POST', `/uploads/${uploadId}/parts`, { key, partNumbers: numbers });
      const urls = new Map((signed.parts as { partNumber: number; url: string }[]).map((p) => [p.partNumber, p.url]));
      const parts = await Promise.all(numbers.map(async (n) => ({ partNumber: n, etag: await putS3(urls.get(n)!, rangeOf(body.pieces, (n - 1) * partSize, n * partSize), {}) })));
      await send('POST /uploads/{uploadId}/complete', 'POST', `/uploads/${uploadId}/complete`, { key, parts });
    }
    // Acknowledged: the API said 200 to the completion, or S3 to the presigned PUT.
    ledger.push({ key, size, sha256: body.sha256, multipart });
    bytes += size;
  }

  let uploading = true;
  let serverErrors = 0;
  async function reader(r: number): Promise<void> {
    const rnd = seededRandom(1000 + r);
    for (let n = 0; n < 100_000 && uploading && Date.now() < deadline; n++) {
      const list = await timed('GET /buckets/{bucket}/objects', () => http('GET', `${api}/buckets/uploads/objects?prefix=load%2F&limit=100`, auth));
      if (list.status >= 500) serverErrors++;
      const entry = ledger.length ? ledger[Math.floor(rnd() * ledger.length)] : undefined;
      if (!entry) {
        await sleep(20);
        continue;
      }
      const path = `${api}/buckets/uploads/objects/${encodeKey(entry.key)}`;
      const res = await timed(n % 2 ? 'HEAD /buckets/{bucket}/objects/{key+}' : 'GET /buckets/{bucket}/objects/{key+}', () => http(n % 2 ? 'HEAD' : 'GET', path, auth));
      if (res.status >= 500) serverErrors++;
    }
  }

  log(`uploading ${options.uploads} objects at once while ${options.readers} clients list and read...`);
  // The histogram's samples include its own 10 ms interval; what is reported is the delay beyond it.
  const SAMPLE_MS = 10;
  const loopDelay = monitorEventLoopDelay({ resolution: SAMPLE_MS });
  loopDelay.enable();
  const timedFrom = Date.now();
  const readers = Array.from({ length: options.readers }, (_, r) => reader(r));
  const outcomes = await Promise.allSettled(plans.map((_, i) => uploadOne(i)));
  outcomes.forEach((o, i) => {
    if (o.status === 'rejected') rejected.push(`#${i}: ${String((o.reason as Error)?.message ?? o.reason)}`);
  });
  const uploadSeconds = (Date.now() - timedFrom) / 1000;
  uploading = false;
  await Promise.all(readers);
  loopDelay.disable();
  const ms = (ns: number) => Math.max(0, ns / 1e6 - SAMPLE_MS);
  const generatorLoopDelayMs = { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) };
  log(`uploads done in ${uploadSeconds.toFixed(1)} s (${ledger.length} acknowledged, ${rejected.length} rejected); waiting for processing...`);

  // The service is in another process: wait by polling the results listing until every
  // acknowledged upload has a profile there, or the deadline, or two minutes without progress.
  const wanted = ledger.map((e) => `${e.key}.profile.json`);
  let profiled = 0;
  let progressAt = Date.now();
  for (let poll = 0; poll < 10_000 && Date.now() < deadline && Date.now() - progressAt < 120_000; poll++) {
    const results = await listAll('results').catch(() => new Map<string, number>());
    const now = wanted.filter((k) => results.has(k)).length;
    if (now > profiled) [profiled, progressAt] = [now, Date.now()];
    if (profiled === wanted.length) break;
    await sleep(500);
  }
  log(`${profiled} of ${wanted.length} profiles listed; verifying...`);

  // Verification: every acknowledged upload is listed, reads back identical, and has a profile.
  const listed = await listAll('uploads');
  const notListed = ledger.filter((e) => listed.get(e.key) !== e.size).map((e) => e.key);
  const wrongContent: string[] = [];
  const noProfile: string[] = [];
  const queue = [...ledger];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let entry = queue.shift(); entry && Date.now() < deadline + 60_000; entry = queue.shift()) {
        const path = `/buckets/uploads/objects/${encodeKey(entry.key)}`;
        let res = await http('GET', api + path, auth);
        if (res.status === 307) res = await http('GET', String(res.headers.location));
        if (res.status !== 200 || sha256(res.body) !== entry.sha256) wrongContent.push(entry.key);
        const profile = await http('GET', `${api}/buckets/results/objects/${encodeKey(entry.key)}.profile.json`, auth);
        if (profile.status !== 200 || !String(JSON.parse(profile.body.toString('utf8') || '{}').profiledAt ?? '')) noProfile.push(entry.key);
      }
      return undefined;
    }),
  );
  const unchecked = queue.map((e) => e.key);
  wrongContent.push(...unchecked);

  return {
    options,
    ledger,
    rejected,
    notListed,
    wrongContent,
    noProfile,
    serverErrors,
    latencies,
    uploadSeconds,
    totalSeconds: (Date.now() - started) / 1000,
    bytes,
    bodies: { checked: checked.length, distinct },
    generatorLoopDelayMs,
  };
}

export function resultsMarkdown(report: LoadReport): string {
  const rows = Object.entries(report.latencies)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([route, values]) => {
      const sorted = [...values].sort((a, b) => a - b);
      const f = (n: number) => n.toFixed(1);
      return `| ${route} | ${values.length} | ${f(values.length / report.uploadSeconds)} | ${f(percentile(sorted, 50))} | ${f(percentile(sorted, 95))} | ${f(percentile(sorted, 99))} |`;
    });
  const { options: o, generatorLoopDelayMs: d, serviceExit: x } = report;
  return [
    '# Load with a ledger',
    '',
    `\`npm run bench:load\`: ${o.uploads} uploads started at once through the API (0 B to ${(o.maxBytes / MiB).toFixed(0)} MiB, every ${o.multipartEvery}th multipart, multipart threshold 5 MiB) while ${o.readers} clients list and read, against the local service (\`local/start.ts\` with its embedded S3, signatures and grants enforced) running in its own process, separate from the load generator; one connection per request.`,
    '',
    `Machine: ${machineDescription()}. Run on ${today()}.`,
    '',
    '## Ledger',
    '',
    `- acknowledged: ${report.ledger.length} of ${o.uploads} (${report.ledger.filter((e) => e.multipart).length} multipart), ${(report.bytes / MiB).toFixed(1)} MiB; rejected: ${report.rejected.length}`,
    `- listed with the right size: ${report.ledger.length - report.notListed.length}; read back with the same SHA-256: ${report.ledger.length - report.wrongContent.length}; with a profile: ${report.ledger.length - report.noProfile.length}`,
    `- distinct contents: ${report.bodies.distinct} SHA-256s among the ${report.bodies.checked} bodies of 6 bytes or more`,
    `- 5xx seen by readers: ${report.serverErrors}`,
    `- uploads finished in ${report.uploadSeconds.toFixed(1)} s (${(report.ledger.length / report.uploadSeconds).toFixed(1)} uploads/s, ${(report.bytes / MiB / report.uploadSeconds).toFixed(1)} MiB/s); whole run with service start, body preparation, processing, verification and stop ${report.totalSeconds.toFixed(1)} s`,
    `- service process stopped with SIGTERM: ${x.clean ? 'exited 0' : `did not exit cleanly (code ${x.code}, signal ${x.signal})`}`,
    '',
    '## Latency per route (during the upload phase)',
    '',
    '| route | requests | req/s | p50 ms | p95 ms | p99 ms |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    `Latencies are measured at the client, from request to complete response. The service (gateway, handlers, embedded S3, processor) runs in its own Node process; the load generator in another. Every upload body was made and SHA-256-hashed before the timed phase (a unique per-upload prefix followed by a slice of a pre-made random or CSV buffer), so during it the generator only sends and receives: its own event-loop delay over the upload phase (beyond a 10 ms sampling interval) was p50 ${d.p50.toFixed(1)} ms, p99 ${d.p99.toFixed(1)} ms, max ${d.max.toFixed(1)} ms. Both processes still share the machine's ${cpus().length} cores, so the figures describe this local setup, not AWS.`,
    '',
  ].join('\n');
}

async function main(): Promise<number> {
  const uploads = Number(process.env.LOAD_UPLOADS ?? 500);
  const readers = Number(process.env.LOAD_READERS ?? 50);
  const report = await runLoad({ uploads, readers, maxBytes: 20 * MiB, multipartEvery: 10, timeLimitMs: 15 * 60_000, log: (l) => console.log(l) });
  const markdown = resultsMarkdown(report);
  console.log(markdown);
  for (const r of report.rejected.slice(0, 10)) console.error(`rejected ${r}`);
  await writeFile(join(__dirname, 'RESULTS.md'), markdown);
  const lost = report.notListed.length + report.wrongContent.length + report.noProfile.length;
  console.log(`ledger: ${report.ledger.length} acknowledged, ${lost} lost`);
  return lost === 0 && report.serverErrors === 0 && report.serviceExit.clean ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
