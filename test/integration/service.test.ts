import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalService, type LocalService } from '../../local/service';
import { serviceSuite } from './service-suite';

jest.setTimeout(120_000);

describe('local service with the embedded S3 (s3rver)', () => {
  let dir: string;
  let service: LocalService;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3fs-local-'));
    service = await startLocalService({ dataDir: dir, port: 0, s3Port: 0, env: { MULTIPART_THRESHOLD_BYTES: String(8 * 1024 * 1024) } });
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
});
