import { execFile, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startLocalService, type LocalService } from '../../local/service';
import { describeWith, type OptionalTool } from './support/optional-tools';

/**
 * README.md's "From Python" block, run as written by the system Python (requests + pandas) against
 * the local service, so the example cannot rot. Skipped, saying why, where that Python cannot
 * import them (Debian: python3-pandas, python3-requests; .ci/run installs them).
 */
jest.setTimeout(60_000);

const PYTHON = '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import pandas, requests'], { encoding: 'utf8' });
const PYTHON_PANDAS: OptionalTool = {
  id: 'python-pandas',
  missing: probe.error
    ? `${PYTHON} cannot be run (${probe.error.message})`
    : probe.status !== 0
      ? `${PYTHON} cannot import pandas and requests (${probe.stderr.trim().split('\n').pop()})`
      : undefined,
  install: 'Install them with: apt-get install -y --no-install-recommends python3-pandas python3-requests',
};

function readmePythonBlock(): string {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### From Python'));
  const block = /```python\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README.md has no python block under "### From Python"');
  return block;
}

describeWith(PYTHON_PANDAS, "README's Python example", () => {
  let dir: string;
  let service: LocalService;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3fs-python-'));
    service = await startLocalService({ dataDir: dir, port: 0, s3Port: 0, reconcile: false });
  });
  afterAll(async () => {
    await service?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads a CSV uploaded through the API into a pandas DataFrame', async () => {
    const token = service.token(`py-${randomUUID().slice(0, 8)}`);
    const csv = Buffer.from('city,price\nParis,3.5\nOslo,4\n"São Paulo, SP",12.25\n');
    const created = await fetch(`${service.apiUrl}/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ key: 'reports/q1.csv', contentType: 'text/csv', size: csv.length }),
    });
    expect(created.status).toBe(201);
    const session = (await created.json()) as { url: string; headers: Record<string, string> };
    expect((await fetch(session.url, { method: 'PUT', headers: session.headers, body: new Uint8Array(csv) })).status).toBe(200);
    const script = `${readmePythonBlock()}\nimport json\nprint(json.dumps({"shape": list(df.shape), "columns": list(df.columns), "rows": df.values.tolist()}))\n`;

    // Asynchronously: the service answering the script runs in this process.
    const { stdout } = await promisify(execFile)(PYTHON, ['-c', script], {
      env: { ...process.env, API: service.apiUrl, TOKEN: token, NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost' },
      timeout: 30_000,
    });

    expect(JSON.parse(stdout)).toEqual({
      shape: [3, 2],
      columns: ['city', 'price'],
      rows: [
        ['Paris', 3.5],
        ['Oslo', 4],
        ['São Paulo, SP', 12.25],
      ],
    });
  });
});
