import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOSTILE_FILES, hostileCorpus, type HostileFile } from '../fixtures/hostile/corpus';
import { objectPath, putThroughApi } from './support/api';
import { startLocalService, type LocalService } from '../../local/service';
import { PROFILE_SUFFIX } from '../../lambda/shared/keys';

/**
 * Issue #11's done-when: every file of the hostile corpus (test/fixtures/hostile/corpus.ts, made in
 * the test, not stored) uploaded to the service in local mode, over HTTP: the processor writes a
 * profile for each (ok, truncated or failed, with its reason), none reaches the dead letters, and
 * `?rows` answers each with a page or a 4xx naming the limit, never a 5xx. The limits are the real
 * ones; `npm run bench:hostile` measures the time and memory of the same files.
 */
jest.setTimeout(600_000);

let dir: string;
let service: LocalService;
let token: string;
let corpus: { file: HostileFile; path: string }[];
const user = 'hostile-user';

/** The error codes about a limit, whose message says the limit in numbers. */
const LIMIT_CODES = new Set(['LineTooLong', 'FieldTooLong', 'NestingTooDeep', 'TooManyColumns', 'DecompressionLimit', 'ResponseTooLarge']);

const api = (path: string) => fetch(`${service.apiUrl}${path}`, { headers: { authorization: `Bearer ${token}` }, redirect: 'manual' });

const upload = (key: string, body: Buffer, contentType: string) => putThroughApi(service.apiUrl, token, key, body, contentType);

/** The stored profile, through the read route (inline, or by the redirect a big one gets). */
async function profileOf(key: string): Promise<Record<string, unknown>> {
  const res = await api(objectPath('results', `${key}${PROFILE_SUFFIX}`));
  if (res.status === 307) return (await (await fetch(res.headers.get('location')!)).json()) as Record<string, unknown>;
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

beforeAll(async () => {
  corpus = await hostileCorpus();
  dir = await mkdtemp(join(tmpdir(), 's3fs-hostile-'));
  service = await startLocalService({ dataDir: dir, port: 0, s3Port: 0, reconcile: false });
  token = service.token(user);
  for (const { file, path } of corpus) await upload(`hostile/${file.name}`, await readFile(path), file.contentType);
  await service.processing.idle();
});
afterAll(async () => {
  await service?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('the hostile corpus in local mode', () => {
  it('leaves no dead letters', async () => {
    expect(await service.processing.deadLetters()).toEqual([]);
  });

  describe.each(HOSTILE_FILES.filter((file) => !file.benchOnly).map((file) => [file.name, file] as const))('%s', (_name, file: HostileFile) => {
    it(`is profiled: ${file.expect.status}${file.expect.reason ? ` (${file.expect.reason})` : ''}`, async () => {
      const profile = await profileOf(`hostile/${file.name}`);
      expect(profile.status).toBe(file.expect.status);
      if (file.expect.status === 'truncated') expect(profile.truncated).toMatchObject({ reason: file.expect.reason });
      if (file.expect.status === 'failed') expect(profile.error).toMatchObject({ name: file.expect.reason });
    });

    it(`answers ?rows=${file.expect.rows} with ${file.expect.rowsStatus}${file.expect.rowsCode ? ` ${file.expect.rowsCode}` : ''}`, async () => {
      const res = await api(`${objectPath('uploads', `hostile/${file.name}`)}?rows=${file.expect.rows}`);
      const body = (await res.json()) as { error?: { code: string; message: string }; rows?: unknown[]; nextOffset?: number | null; truncated?: { reason: string } };
      expect(res.status).toBe(file.expect.rowsStatus);
      if (res.status >= 400) {
        expect(body.error?.code).toBe(file.expect.rowsCode);
        // A limit's error names it, in numbers; the others say what the content is.
        expect(body.error?.message).toMatch(LIMIT_CODES.has(file.expect.rowsCode!) ? /\d/ : /\w/);
      } else if (file.expect.rowsTruncated) {
        // On a loaded machine the read function's deadline may come first: also a short page with a cursor.
        expect([file.expect.rowsTruncated, 'deadline']).toContain(body.truncated?.reason);
        expect(body.nextOffset).toBe(Number(file.expect.rows.split(':')[0]) + body.rows!.length);
      } else {
        expect(body.truncated).toBeUndefined();
      }
    });
  });
});

describe('a short page continues where it stopped', () => {
  it('reads the wide file on from nextOffset, page by page, without gaps', async () => {
    const path = objectPath('uploads', 'hostile/wide-10000x1000.csv.gz');
    const firstRes = await api(`${path}?rows=0:1000`);
    expect(firstRes.status).toBe(200);
    const first = (await firstRes.json()) as { rows: string[][]; nextOffset: number };
    const secondRes = await api(`${path}?rows=${first.nextOffset}:1000`);
    expect(secondRes.status).toBe(200);
    const second = (await secondRes.json()) as { rows: string[][]; nextOffset: number };
    // Column c0 holds the row number.
    expect(first.rows.map((r) => Number(r[0]))).toEqual(first.rows.map((_r, i) => i));
    if (second.rows.length > 0) expect(Number(second.rows[0]![0])).toBe(first.nextOffset);
  });
});
