import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { profileObject } from '../../lambda/core/profile';
import { createProcessHandler } from '../../lambda/handlers/process';
import { buildHandlers } from '../../local/handlers';
import { startLocalService, type LocalService } from '../../local/service';

/**
 * Load with a ledger (`npm run bench:load`): many uploads at once through the API (mixed sizes,
 * one in ten multipart) while clients list and read; every upload the API acknowledged is written
 * down (key, size, SHA-256) and at the end must be listed, read back with the same SHA-256, and
 * have a profile. Latency per route and throughput go to bench/load/RESULTS.md.
 * The short version runs in test/trust/load.test.ts; it asserts the ledger, never timings.
 */
const MiB = 1024 * 1024;
const LOOPBACK = '127.0.0.1';

export interface LoadOptions {
  uploads: number;
  readers: number;
  /** Largest multipart object; single PUTs go up to the multipart threshold (5 MiB). */
  maxBytes: number;
  /** Every n-th upload is multipart. */
  multipartEvery: number;
  /** Hard limit for the whole run (uploads, reads, processing, verification). */
  timeLimitMs: number;
  log?: (line: string) => void;
}

export interface LedgerEntry {
  key: string;
  size: number;
  sha256: string;
  multipart: boolean;
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
}

const THRESHOLD = 5 * MiB;
const USER = 'load-user';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One request to a loopback address, with a timeout. */
function http(method: string, url: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Reply> {
  const u = new URL(url);
  if (u.hostname !== LOOPBACK && u.hostname !== 'localhost') return Promise.reject(new Error(`not a loopback address: ${url}`));
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, method, path: u.pathname + u.search, headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) }, timeout: 120_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${u.pathname}: timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Seeded PRNG (mulberry32), so a run's size mix is repeatable. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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

function makeData(size: number, csv: boolean, i: number): Buffer {
  if (!csv) return randomBytes(size);
  const lines: string[] = ['id,name,value'];
  let length = lines[0]!.length + 1;
  for (let r = 0; length < size; r++) {
    const line = `${r},row-${i}-${r},${(r * 1.5).toFixed(1)}`;
    lines.push(line);
    length += line.length + 1;
  }
  return Buffer.from(lines.join('\n') + '\n').subarray(0, size);
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export async function runLoad(options: LoadOptions, service?: LocalService): Promise<LoadReport> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const deadline = started + options.timeLimitMs;
  let dir: string | undefined;
  if (!service) {
    dir = await mkdtemp(join(tmpdir(), 's3fs-load-'));
    service = await startLocalService({
      dataDir: dir,
      port: 0,
      s3Port: 0,
      host: LOOPBACK,
      env: { MULTIPART_THRESHOLD_BYTES: String(THRESHOLD) },
      buildHandlers: (deps) => ({ ...buildHandlers(deps), process: createProcessHandler({ ...deps, profileObject, log: () => undefined }) }),
    });
  }
  const api = service.apiUrl;
  const auth = { authorization: `Bearer ${service.token(USER)}` };
  const latencies: Record<string, number[]> = {};
  const timed = async <T>(route: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      (latencies[route] ??= []).push(performance.now() - t0);
    }
  };
  const json = async (route: string, method: string, path: string, body?: unknown, expect = 200) => {
    const res = await timed(route, () => http(method, api + path, { ...auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, body !== undefined ? Buffer.from(JSON.stringify(body)) : undefined));
    if (res.status !== expect) throw new Error(`${method} ${path}: ${res.status} ${res.body.toString('utf8').slice(0, 200)}`);
    return JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
  };
  const putS3 = async (url: string, data: Buffer, headers: Record<string, string>) => {
    const res = await timed('PUT presigned URL (S3)', () => http('PUT', url, headers, data));
    if (res.status !== 200) throw new Error(`PUT: ${res.status} ${res.body.toString('utf8').slice(0, 200)}`);
    return String(res.headers.etag ?? '');
  };

  const ledger: LedgerEntry[] = [];
  const rejected: string[] = [];
  const random = prng(42);
  const plans = Array.from({ length: options.uploads }, (_, i) => planUpload(i, options, random));
  let bytes = 0;

  async function uploadOne(i: number): Promise<void> {
    const { size, csv } = plans[i]!;
    const key = `load/${String(i).padStart(4, '0')}-${size}.${csv ? 'csv' : 'bin'}`;
    const data = makeData(size, csv, i);
    const created = await json('POST /uploads', 'POST', '/uploads', { key, size, contentType: csv ? 'text/csv' : 'application/octet-stream' }, 201);
    let multipart = false;
    if (created.uploadId === null) {
      await putS3(created.url as string, data, created.headers as Record<string, string>);
    } else {
      multipart = true;
      const uploadId = created.uploadId as string;
      const partSize = created.partSize as number;
      const numbers = Array.from({ length: created.partCount as number }, (_, n) => n + 1);
      const signed = await json('POST /uploads/{uploadId}/parts', 'POST', `/uploads/${uploadId}/parts`, { key, partNumbers: numbers });
      const urls = new Map((signed.parts as { partNumber: number; url: string }[]).map((p) => [p.partNumber, p.url]));
      const parts = await Promise.all(numbers.map(async (n) => ({ partNumber: n, etag: await putS3(urls.get(n)!, data.subarray((n - 1) * partSize, n * partSize), {}) })));
      await json('POST /uploads/{uploadId}/complete', 'POST', `/uploads/${uploadId}/complete`, { key, parts });
    }
    // Acknowledged: the API said 200 to the completion, or S3 to the presigned PUT.
    ledger.push({ key, size, sha256: sha256(data), multipart });
    bytes += size;
  }

  let uploading = true;
  let serverErrors = 0;
  async function reader(r: number): Promise<void> {
    const rnd = prng(1000 + r);
    for (let n = 0; n < 100_000 && uploading && Date.now() < deadline; n++) {
      const list = await timed('GET /buckets/{bucket}/objects', () => http('GET', `${api}/buckets/uploads/objects?prefix=load%2F&limit=100`, auth));
      if (list.status >= 500) serverErrors++;
      const entry = ledger.length ? ledger[Math.floor(rnd() * ledger.length)] : undefined;
      if (!entry) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        continue;
      }
      const path = `${api}/buckets/uploads/objects/${entry.key.split('/').map(encodeURIComponent).join('/')}`;
      const res = await timed(n % 2 ? 'HEAD /buckets/{bucket}/objects/{key+}' : 'GET /buckets/{bucket}/objects/{key+}', () => http(n % 2 ? 'HEAD' : 'GET', path, auth));
      if (res.status >= 500) serverErrors++;
    }
  }

  log(`uploading ${options.uploads} objects at once while ${options.readers} clients list and read...`);
  const readers = Array.from({ length: options.readers }, (_, r) => reader(r));
  const outcomes = await Promise.allSettled(plans.map((_, i) => uploadOne(i)));
  outcomes.forEach((o, i) => {
    if (o.status === 'rejected') rejected.push(`#${i}: ${String((o.reason as Error)?.message ?? o.reason)}`);
  });
  const uploadSeconds = (Date.now() - started) / 1000;
  uploading = false;
  await Promise.all(readers);
  log(`uploads done in ${uploadSeconds.toFixed(1)} s (${ledger.length} acknowledged, ${rejected.length} rejected); waiting for processing...`);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([service.processing.idle(), new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))))]);
  clearTimeout(timer);

  // Verification: every acknowledged upload is listed, reads back identical, and has a profile.
  const listed = new Map<string, number>();
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const body: Record<string, unknown> = await json('verify: list', 'GET', `/buckets/uploads/objects?prefix=load%2F&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    for (const o of body.objects as { key: string; size: number }[]) listed.set(o.key, o.size);
    cursor = body.nextCursor as string | null;
    if (!cursor) break;
  }
  const notListed = ledger.filter((e) => listed.get(e.key) !== e.size).map((e) => e.key);
  const wrongContent: string[] = [];
  const noProfile: string[] = [];
  const queue = [...ledger];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let entry = queue.shift(); entry && Date.now() < deadline + 60_000; entry = queue.shift()) {
        const path = `/buckets/uploads/objects/${entry.key.split('/').map(encodeURIComponent).join('/')}`;
        let res = await http('GET', api + path, auth);
        if (res.status === 307) res = await http('GET', String(res.headers.location));
        if (res.status !== 200 || sha256(res.body) !== entry.sha256) wrongContent.push(entry.key);
        const profile = await http('GET', `${api}/buckets/results/objects/${path.slice('/buckets/uploads/objects/'.length)}.profile.json`, auth);
        if (profile.status !== 200 || !String(JSON.parse(profile.body.toString('utf8') || '{}').profiledAt ?? '')) noProfile.push(entry.key);
      }
      return undefined;
    }),
  );
  const unchecked = queue.map((e) => e.key);
  wrongContent.push(...unchecked);

  const totalSeconds = (Date.now() - started) / 1000;
  if (dir) {
    await service.stop();
    await rm(dir, { recursive: true, force: true });
  }
  delete latencies['verify: list'];
  return { options, ledger, rejected, notListed, wrongContent, noProfile, serverErrors, latencies, uploadSeconds, totalSeconds, bytes };
}

export function resultsMarkdown(report: LoadReport): string {
  const rows = Object.entries(report.latencies)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([route, values]) => {
      const sorted = [...values].sort((a, b) => a - b);
      const f = (n: number) => n.toFixed(1);
      return `| ${route} | ${values.length} | ${f(values.length / report.uploadSeconds)} | ${f(percentile(sorted, 50))} | ${f(percentile(sorted, 95))} | ${f(percentile(sorted, 99))} |`;
    });
  const cpu = cpus();
  const { options: o } = report;
  return [
    '# Load with a ledger',
    '',
    `\`npm run bench:load\`: ${o.uploads} uploads started at once through the API (0 B to ${(o.maxBytes / MiB).toFixed(0)} MiB, every ${o.multipartEvery}th multipart, multipart threshold 5 MiB) while ${o.readers} clients list and read, against the local service (embedded s3rver, in the same process as the load generator).`,
    '',
    `Machine: ${cpu.length} CPUs (nproc), ${cpu[0]?.model ?? 'unknown CPU'}, Node ${process.version}, ${process.platform}/${process.arch}. Run on ${new Date().toISOString().slice(0, 10)}.`,
    '',
    '## Ledger',
    '',
    `- acknowledged: ${report.ledger.length} of ${o.uploads} (${report.ledger.filter((e) => e.multipart).length} multipart), ${(report.bytes / MiB).toFixed(1)} MiB; rejected: ${report.rejected.length}`,
    `- listed with the right size: ${report.ledger.length - report.notListed.length}; read back with the same SHA-256: ${report.ledger.length - report.wrongContent.length}; with a profile: ${report.ledger.length - report.noProfile.length}`,
    `- 5xx seen by readers: ${report.serverErrors}`,
    `- uploads finished in ${report.uploadSeconds.toFixed(1)} s (${(report.ledger.length / report.uploadSeconds).toFixed(1)} uploads/s, ${(report.bytes / MiB / report.uploadSeconds).toFixed(1)} MiB/s); whole run with processing and verification ${report.totalSeconds.toFixed(1)} s`,
    '',
    '## Latency per route (during the upload phase)',
    '',
    '| route | requests | req/s | p50 ms | p95 ms | p99 ms |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows,
    '',
    'Latencies are measured at the client, from request to complete response, with everything (load generator, gateway, handlers, s3rver, processor) sharing the machine\'s cores; they describe this local setup, not AWS. The generator also makes and hashes every upload\'s bytes in its own event loop while the requests are in flight, which adds to the upload-phase latencies (most visible on POST /uploads, the first request of each upload).',
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
  return lost === 0 && report.serverErrors === 0 ? 0 : 1;
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
