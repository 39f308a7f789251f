import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalService, type LocalService } from '../../local/service';
import { serviceSuite } from './service-suite';

/**
 * The same suite against a second S3 implementation, moto_server (Python), through the S3_ENDPOINT
 * path: buckets created by the service, uploads found by the poller. Skipped, saying so, when
 * moto_server is not on PATH (it is not needed for local mode itself).
 */
jest.setTimeout(180_000);

const hasMoto = spawnSync('sh', ['-c', 'command -v moto_server'], { encoding: 'utf8' }).status === 0;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}`);
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`moto_server did not answer on ${url} within ${timeoutMs} ms`);
}

if (!hasMoto) {
  describe('local service against moto_server', () => {
    it('is skipped: moto_server is not on PATH (pip install "moto[server]" to run it)', () => {
      console.warn('moto_server is not on PATH: the suite against a second S3 implementation did not run.');
      expect(hasMoto).toBe(false);
    });
  });
} else {
  describe('local service against moto_server (S3_ENDPOINT, polling)', () => {
    let dir: string;
    let moto: ChildProcess;
    let service: LocalService;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 's3fs-moto-'));
      const port = await freePort();
      moto = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
      await waitForHttp(`http://127.0.0.1:${port}/`, moto, 60_000);
      service = await startLocalService({
        dataDir: dir,
        port: 0,
        s3Endpoint: `http://127.0.0.1:${port}`,
        credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
        pollIntervalMs: 200,
        env: { MULTIPART_THRESHOLD_BYTES: String(8 * 1024 * 1024) },
      });
    });
    afterAll(async () => {
      await service?.stop();
      if (moto && moto.exitCode === null) {
        const exited = new Promise((r) => moto.once('exit', r));
        moto.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    });

    it('finds uploads by polling, as it must for an external server', () => {
      expect(service.polling).toBe(true);
    });

    serviceSuite(() => service);
  });
}
