import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalService, type LocalService } from '../../local/service';
import { serviceSuite } from './service-suite';
import { MOTO, MOTO_CREDENTIALS, startMoto, type Moto } from './support/moto';
import { describeWith } from './support/optional-tools';

/**
 * The same suite against a second S3 implementation, moto_server (Python), through the S3_ENDPOINT
 * path: buckets created by the service, uploads found by the poller. Skipped, saying so, when
 * moto_server is not on PATH (it is not needed for local mode itself).
 */
jest.setTimeout(180_000);

describeWith(MOTO, 'local service against moto_server (S3_ENDPOINT, polling)', () => {
  let dir: string;
  let moto: Moto;
  let service: LocalService;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3fs-moto-'));
    moto = await startMoto();
    service = await startLocalService({
      dataDir: dir,
      port: 0,
      s3Endpoint: moto.endpoint,
      credentials: { ...MOTO_CREDENTIALS },
      pollIntervalMs: 200,
      env: { MULTIPART_THRESHOLD_BYTES: String(8 * 1024 * 1024) },
    });
  });
  afterAll(async () => {
    await service?.stop();
    await moto?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('finds uploads by polling, as it must for an external server', () => {
    expect(service.polling).toBe(true);
  });

  serviceSuite(() => service);
});
