import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalService, type LocalService } from '../../local/service';
import { serviceSuite } from './service-suite';

jest.setTimeout(120_000);

describe('local service with the embedded S3 (s3rver)', () => {
  let dir: string;
  let service: LocalService;
  const logged: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3fs-local-'));
    service = await startLocalService({ dataDir: dir, port: 0, s3Port: 0, env: { MULTIPART_THRESHOLD_BYTES: String(8 * 1024 * 1024) }, log: (line) => logged.push(line) });
  });
  afterAll(async () => {
    await service?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  serviceSuite(() => service);

  it('answers /health without a token', async () => {
    const res = await fetch(`${service.apiUrl}/health`);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('logs each API request as one line of JSON, as the deployed functions do', async () => {
    const token = service.token('log-reader');

    await fetch(`${service.apiUrl}/buckets/uploads/objects?prefix=x`, { headers: { authorization: `Bearer ${token}` } });

    const requests = logged.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.userId === 'log-reader');
    expect(requests).toEqual([
      { level: 'info', message: 'request', requestId: expect.any(String), route: 'GET /buckets/{bucket}/objects', userId: 'log-reader', status: 200, outcome: 'ok', durationMs: expect.any(Number) },
    ]);
    expect(logged.join('\n')).not.toContain(token);
  });
});
