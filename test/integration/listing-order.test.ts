import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startLocalService, type Handlers, type LocalService, type LocalServiceOptions } from '../../local/service';
import { MOTO, MOTO_CREDENTIALS, startMoto, type Moto } from './support/moto';
import { describeWith } from './support/optional-tools';

/**
 * Paging through the API over keys chosen to collide in directory order (`g007` < `g007-x.csv` <
 * `g007.csv` < `g007/a.csv` in bytes, but a directory walk visits `g007/` apart): every key
 * exactly once, in S3's UTF-8 byte order, whatever the page size, with and without a delimiter and
 * a prefix. s3rver lost and repeated keys here. Run against the embedded S3 and, where installed,
 * against moto_server, so our listing is checked against a second implementation.
 */
jest.setTimeout(240_000);

const USER = 'lister';
const NAMES = Array.from({ length: 625 }, (_, i) => `g${String(i).padStart(3, '0')}`);
const KEYS = NAMES.flatMap((n) => [n, `${n}.csv`, `${n}-x.csv`, `${n}/a.csv`]);

/** The listing the slow, obvious way: filter, sort by UTF-8 bytes, group by the delimiter. */
function reference(prefix: string, delimiter: string): string[] {
  const sorted = KEYS.filter((k) => k.startsWith(prefix)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const out: string[] = [];
  for (const key of sorted) {
    const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    const entry = cut >= 0 ? key.slice(0, cut + delimiter.length) : key;
    if (out[out.length - 1] !== entry) out.push(entry);
  }
  return out;
}

const notCalled = async () => ({ statusCode: 500, body: '' });
/** No processing: this is about listings (and 2,500 profiles would only slow the test down). */
const handlersWithoutProcessing = (build: NonNullable<LocalServiceOptions['buildHandlers']>): NonNullable<LocalServiceOptions['buildHandlers']> => (deps) => ({
  ...build(deps),
  process: async () => ({ batchItemFailures: [] }),
});

function listingSuite(start: () => Promise<{ service: LocalService; stop: () => Promise<void> }>, cases: { limit: number; delimiter: string; prefix: string }[]) {
  let service: LocalService;
  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ service, stop } = await start());
    for (let i = 0; i < KEYS.length; i += 50) {
      await Promise.all(KEYS.slice(i, i + 50).map((k) => service.s3.send(new PutObjectCommand({ Bucket: service.buckets.uploads, Key: `users/${USER}/${k}`, Body: k }))));
    }
  });
  afterAll(async () => stop?.());

  /** Every entry of a listing through the API, following nextCursor, as a client pages. */
  async function pageThrough(limit: number, delimiter: string, prefix: string): Promise<string[]> {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10_000; page++) {
      const query = new URLSearchParams({ limit: String(limit), ...(delimiter ? { delimiter } : {}), ...(prefix ? { prefix } : {}), ...(cursor ? { cursor } : {}) });
      const res = await fetch(`${service.apiUrl}/buckets/uploads/objects?${query}`, { headers: { authorization: `Bearer ${service.token(USER)}` } });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { objects: { key: string }[]; prefixes: string[]; nextCursor: string | null };
      // Within a page, objects and prefixes interleave in byte order; merge them back.
      const entries = [...body.objects.map((o) => o.key), ...body.prefixes].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      expect(entries.length).toBeLessThanOrEqual(limit);
      seen.push(...entries);
      cursor = body.nextCursor;
      if (!cursor) return seen;
    }
    throw new Error('the listing did not end');
  }

  it.each(cases)('returns every entry once, in byte order, with limit=$limit delimiter="$delimiter" prefix="$prefix"', async ({ limit, delimiter, prefix }) => {
    expect(await pageThrough(limit, delimiter, prefix)).toEqual(reference(prefix, delimiter));
  });
}

const ALL_CASES = [
  ...[1, 7, 100, 1000].map((limit) => ({ limit, delimiter: '', prefix: '' })),
  ...[1, 7, 100, 1000].map((limit) => ({ limit, delimiter: '/', prefix: '' })),
  ...[1, 7].map((limit) => ({ limit, delimiter: '', prefix: 'g00' })),
  ...[1, 7].map((limit) => ({ limit, delimiter: '/', prefix: 'g00' })),
];

describe('paging over colliding keys through the API, on the embedded S3', () => {
  listingSuite(async () => {
    const dir = await mkdtemp(join(tmpdir(), 's3fs-listing-'));
    const service = await startLocalService({ dataDir: dir, port: 0, s3Port: 0, reconcile: false, buildHandlers: handlersWithoutProcessing((await import('../../local/handlers')).buildHandlers) });
    return {
      service,
      stop: async () => {
        await service.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }, ALL_CASES);
});

describeWith(MOTO, 'paging over colliding keys through the API, on moto_server', () => {
  // moto answers more slowly: limit=1 over all 2,500 keys is left to the embedded S3's run.
  const cases = ALL_CASES.filter((c) => c.limit > 1 || c.prefix !== '');
  listingSuite(async () => {
    const dir = await mkdtemp(join(tmpdir(), 's3fs-listing-moto-'));
    const moto: Moto = await startMoto();
    const handlers: Handlers = { list: notCalled, read: notCalled, upload: notCalled, process: async () => ({ batchItemFailures: [] }) };
    const real = (await import('../../local/handlers')).buildHandlers;
    const service = await startLocalService({
      dataDir: dir,
      port: 0,
      s3Endpoint: moto.endpoint,
      credentials: { ...MOTO_CREDENTIALS },
      reconcile: false,
      pollIntervalMs: 60_000,
      buildHandlers: (deps) => ({ ...handlers, list: real(deps).list }),
    });
    return {
      service,
      stop: async () => {
        await service.stop();
        await moto.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }, cases);
});
