import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../cli/main';
import { startLocalService, type LocalService } from '../../local/service';

/**
 * The `s3files` command end to end: the real bin shim run as a child process against an
 * in-process local service (embedded S3) on free ports, with a temporary data folder.
 */
jest.setTimeout(120_000);

const MiB = 1024 * 1024;
const BIN = resolve(__dirname, '../../cli/s3files.cjs');

let service: LocalService;
let dir: string;
let env: Record<string, string>;
const prefix = `cli-${randomUUID().slice(0, 8)}`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function s3files(args: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: { ...env, ...extraEnv } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function writeRandomFile(name: string, bytes: number): { path: string; sha: string } {
  const path = join(dir, name);
  const data = randomBytes(bytes);
  writeFileSync(path, data);
  return { path, sha: sha256(data) };
}

/** The file holding an object's bytes in the embedded S3's data folder (local/s3/store.ts), to corrupt it. */
function blobOf(key: string): string {
  const found: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.json') && folder.includes(`${sep}objects${sep}`)) {
        const meta = JSON.parse(readFileSync(path, 'utf8')) as { key?: string; blobs?: { name: string }[] };
        if (meta.key?.endsWith(`/${key}`) && meta.blobs?.length === 1) found.push(join(path, '..', '..', '..', 'blobs', meta.blobs[0]!.name));
      }
    }
  };
  walk(join(dir, 'data'));
  if (found.length !== 1) throw new Error(`Expected one stored object for ${key}, found ${found.length}`);
  return found[0]!;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 's3files-e2e-'));
  service = await startLocalService({
    dataDir: join(dir, 'data'),
    port: 0,
    s3Port: 0,
    env: { MULTIPART_THRESHOLD_BYTES: String(5 * MiB) },
  });
  env = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    S3FILES_API_URL: service.apiUrl,
    S3FILES_TOKEN: service.token(`cli-user-${randomUUID().slice(0, 8)}`),
    S3FILES_STATE_DIR: join(dir, 'state'),
  };
});

afterAll(async () => {
  await service?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('s3files', () => {
  it('lists the buckets, marking the read-only one', async () => {
    const run = await s3files(['buckets']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('uploads\nresults (read-only)\n');
  });

  it('uploads a small file with one PUT and prints it back with cat', async () => {
    writeFileSync(join(dir, 'hello.csv'), 'name,n\nada,1\nbob,2\n');
    const put = await s3files(['put', 'hello.csv', `${prefix}/small/hello.csv`, '--json']);
    expect(put.code).toBe(0);
    expect(JSON.parse(put.stdout)).toMatchObject({ key: `${prefix}/small/hello.csv`, multipart: false, size: 19 });
    const cat = await s3files(['cat', `${prefix}/small/hello.csv`]);
    expect(cat.stdout).toBe('name,n\nada,1\nbob,2\n');
  });

  it('uploads a big file in parallel parts and downloads the same bytes', async () => {
    const file = writeRandomFile('big.bin', 20 * MiB);
    const put = await s3files(['put', file.path, `${prefix}/big/big.bin`, '--json', '--concurrency', '3']);
    expect(put.code).toBe(0);
    const result = JSON.parse(put.stdout);
    expect(result).toMatchObject({ multipart: true, size: 20 * MiB, resumed: false, partsSkipped: [] });
    expect(result.partsUploaded.length).toBeGreaterThan(1);
    const get = await s3files(['get', `${prefix}/big/big.bin`, 'big.copy']);
    expect(get.code).toBe(0);
    expect(sha256(readFileSync(join(dir, 'big.copy')))).toBe(file.sha);
  });

  /**
   * `s3files put` run in-process with a fetch under which the first part reaches S3 and every later
   * part PUT is refused as a presigned URL that has expired would be (403, not retried), so the
   * upload stops with one part stored, as a killed one does.
   */
  async function putInterruptedAfterFirstPart(path: string, key: string): Promise<{ code: number; partsStored: number; stderr: string }> {
    let partsStored = 0;
    const failAfterFirstPart: typeof fetch = async (input, init) => {
      const isPartPut = init?.method === 'PUT' && String(input).includes('partNumber=');
      if (isPartPut && partsStored >= 1) return new Response('<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>', { status: 403 });
      const res = await fetch(input, init);
      if (isPartPut && res.ok) partsStored++;
      return res;
    };
    const stderr = new PassThrough();
    let stderrText = '';
    stderr.on('data', (d: Buffer) => (stderrText += d.toString()));
    const code = await main(['put', path, key, '--concurrency', '1'], { stdout: new PassThrough(), stderr, env, cwd: dir, fetch: failAfterFirstPart });
    return { code, partsStored, stderr: stderrText };
  }

  it('resumes an interrupted upload, sending only the parts that were missing', async () => {
    const file = writeRandomFile('resume.bin', 20 * MiB);
    const key = `${prefix}/resume/resume.bin`;
    const { code: interrupted, partsStored, stderr: stderrText } = await putInterruptedAfterFirstPart(file.path, key);

    expect(interrupted).toBe(1);
    expect(partsStored).toBe(1);
    expect(stderrText).toContain('--resume');

    const resumed = await s3files(['put', file.path, key, '--resume', '--json']);
    expect(resumed.code).toBe(0);
    const result = JSON.parse(resumed.stdout);
    expect(result.resumed).toBe(true);
    expect(result.partsSkipped).toEqual([1]);
    expect(result.partsUploaded).not.toContain(1);
    expect([...result.partsSkipped, ...result.partsUploaded].sort()).toEqual(Array.from({ length: result.partsSkipped.length + result.partsUploaded.length }, (_, i) => i + 1));
    await s3files(['get', key, 'resume.copy']);
    expect(sha256(readFileSync(join(dir, 'resume.copy')))).toBe(file.sha);
  });

  it('resumes an upload whose file changed in place under a kept mtime: the changed part is found and sent again, ending byte-identical', async () => {
    const file = writeRandomFile('inplace.bin', 20 * MiB);
    const key = `${prefix}/resume/inplace.bin`;
    const mtime = 1_700_000_000; // whole seconds: setting it again gives the same mtimeMs
    utimesSync(file.path, mtime, mtime);
    const killed = await putInterruptedAfterFirstPart(file.path, key);
    expect({ code: killed.code, partsStored: killed.partsStored }).toEqual({ code: 1, partsStored: 1 });
    const changed = readFileSync(file.path);
    changed[100] = changed[100]! ^ 0x01; // part 1, which S3 already holds: same size, same mtime
    writeFileSync(file.path, changed);
    utimesSync(file.path, mtime, mtime);

    const resumed = await s3files(['put', file.path, key, '--resume', '--json']);

    expect({ code: resumed.code, stderr: resumed.stderr }).toEqual({ code: 0, stderr: expect.stringContaining('part 1 changed since the interrupted upload sent it; sending again') });
    const result = JSON.parse(resumed.stdout);
    expect(result).toMatchObject({ resumed: true, partsChanged: [1], partsSkipped: [], checksum: { algorithm: 'CRC32' } });
    expect(result.partsUploaded).toContain(1);
    const get = await s3files(['get', key, 'inplace.copy']);
    expect(get.stdout).toContain('CRC32 verified');
    expect(sha256(readFileSync(join(dir, 'inplace.copy')))).toBe(sha256(changed));
  });

  it('verifies a download against the stored CRC32, and refuses one whose stored bytes were corrupted, keeping no file', async () => {
    const file = writeRandomFile('stored.bin', 100_000);
    const key = `${prefix}/corrupt/stored.bin`;
    expect((await s3files(['put', file.path, key])).code).toBe(0);
    const good = await s3files(['get', key, 'stored.good']);
    expect({ code: good.code, stdout: good.stdout }).toEqual({ code: 0, stdout: expect.stringContaining('CRC32 verified') });

    const blob = blobOf(key);
    const bytes = readFileSync(blob);
    bytes[5000] = bytes[5000]! ^ 0x01;
    writeFileSync(blob, bytes);
    const bad = await s3files(['get', key, 'stored.bad']);

    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${key}: the bytes downloaded do not match the CRC32 S3 stored for the object`);
    expect(existsSync(join(dir, 'stored.bad'))).toBe(false);
  });

  it('lists one folder level by default and every key with --recursive', async () => {
    writeFileSync(join(dir, 'a.txt'), 'a');
    await s3files(['put', 'a.txt', `${prefix}/ls/a.txt`]);
    await s3files(['put', 'a.txt', `${prefix}/ls/sub/b.txt`]);
    const level = await s3files(['ls', `${prefix}/ls/`, '--json']);
    expect(JSON.parse(level.stdout)).toMatchObject({ prefixes: [`${prefix}/ls/sub/`], objects: [expect.objectContaining({ key: `${prefix}/ls/a.txt`, size: 1 })] });
    const all = await s3files(['ls', `${prefix}/ls/`, '--recursive']);
    expect(all.stdout).toContain(`${prefix}/ls/a.txt`);
    expect(all.stdout).toContain(`${prefix}/ls/sub/b.txt`);
  });

  it('deletes an object with rm, after which cat fails with the API error and exit code 1', async () => {
    writeFileSync(join(dir, 'gone.txt'), 'bye');
    await s3files(['put', 'gone.txt', `${prefix}/rm/gone.txt`]);
    const rm = await s3files(['rm', `${prefix}/rm/gone.txt`]);
    expect(rm.code).toBe(0);
    const cat = await s3files(['cat', `${prefix}/rm/gone.txt`]);
    expect(cat.code).toBe(1);
    expect(cat.stderr).toMatch(/^s3files: NoSuchKey: /);
  });

  it('prints the profile the service computed for an uploaded CSV', async () => {
    writeFileSync(join(dir, 'people.csv'), 'name,age\nada,36\nbob,41\ncy,29\n');
    await s3files(['put', 'people.csv', `${prefix}/profile/people.csv`]);
    await service.processing.idle();
    const run = await s3files(['profile', `${prefix}/profile/people.csv`]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('\n  "rows": 3,');
    expect(JSON.parse(run.stdout)).toMatchObject({ rows: 3, columns: [expect.objectContaining({ name: 'name' }), expect.objectContaining({ name: 'age' })] });
  });

  it('profiles a local file without the service when given a path', async () => {
    writeFileSync(join(dir, 'local.csv'), 'x,y\n1,2\n3,4\n');
    const run = await s3files(['profile', 'local.csv', '--json'], { S3FILES_API_URL: 'http://127.0.0.1:9', S3FILES_TOKEN: 'unused' });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ rows: 2 });
  });

  it('prints rows of a CSV as a table, with the chosen columns and window', async () => {
    writeFileSync(join(dir, 'rows.csv'), 'a,b,c\n1,2,3\n4,5,6\n7,8,9\n');
    await s3files(['put', 'rows.csv', `${prefix}/rows/rows.csv`]);
    const run = await s3files(['rows', `${prefix}/rows/rows.csv`, '--offset', '1', '--limit', '1', '--columns', 'a,c']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('a\tc\n4\t6\n');
  });

  it('exits with 2 and says why on a usage error', async () => {
    const run = await s3files(['put']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('s3files: Usage: wrong number of arguments');
  });

  it('prints the API error as JSON with --json', async () => {
    const run = await s3files(['cat', `${prefix}/missing.txt`, '--json']);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stderr)).toMatchObject({ error: { code: 'NoSuchKey' } });
  });

  it.each(['buckets', 'ls', 'put', 'get', 'cat', 'rm', 'profile', 'rows'])('prints help for %s with --help', async (command) => {
    const run = await s3files([command, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^Usage: s3files ${command}`));
  });
});
