import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Event, SQSEvent } from 'aws-lambda';
import { decodeEventKey } from '../../lambda/core/process';
import { MIN_PART_BYTES } from '../../lambda/core/multipart';
import { buildHandlers } from '../../local/handlers';
import { startLocalService, type BuildHandlers, type LocalService } from '../../local/service';

/**
 * Requests completing one upload at the same time, over HTTP against local mode with the embedded
 * S3: exactly one is answered 200, every other 409, and the object is profiled once (the process
 * handler is the real one, noting each key it is given).
 */
jest.setTimeout(120_000);

type Json = Record<string, unknown>;

function noting(processed: string[]): BuildHandlers {
  return (deps) => {
    const handlers = buildHandlers(deps);
    return {
      ...handlers,
      process: async (event: SQSEvent) => {
        processed.push(...event.Records.map((r) => decodeEventKey((JSON.parse(r.body) as S3Event).Records[0]!.s3.object.key)));
        return handlers.process(event);
      },
    };
  };
}

describe('concurrent completions of one upload in local mode', () => {
  const processed: string[] = [];
  let dir: string;
  let service: LocalService;
  let token: string;
  const user = 'concurrent-user';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3fs-concurrent-'));
    service = await startLocalService({ dataDir: dir, port: 0, s3Port: 0, reconcile: false, buildHandlers: noting(processed), env: { MULTIPART_THRESHOLD_BYTES: String(8 * 1024 * 1024) } });
    token = service.token(user);
  });
  afterAll(async () => {
    await service?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const postJson = async (path: string, body: unknown) => {
    const res = await fetch(`${service.apiUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Json };
  };

  /** A 2-part upload with every part sent, ready to complete. */
  async function uploadedParts(key: string, body: Buffer) {
    const created = await postJson('/uploads', { key, contentType: 'text/csv', size: body.length });
    expect(created.status).toBe(201);
    const { uploadId, partSize, partCount } = created.body as { uploadId: string; partSize: number; partCount: number };
    const id = encodeURIComponent(uploadId);
    const numbers = Array.from({ length: partCount }, (_, i) => i + 1);
    const signed = await postJson(`/uploads/${id}/parts`, { key, partNumbers: numbers });
    const parts = await Promise.all(
      (signed.body.parts as { partNumber: number; url: string }[]).map(async ({ partNumber, url }) => {
        const res = await fetch(url, { method: 'PUT', body: new Uint8Array(body.subarray((partNumber - 1) * partSize, partNumber * partSize)) });
        expect(res.status).toBe(200);
        return { partNumber, etag: res.headers.get('etag')! };
      }),
    );
    return { id, parts };
  }

  it('answers exactly one of four concurrent completes 200 and the others 409, and profiles the object once', async () => {
    const row = 'n,1234567890\n';
    const body = Buffer.from('name,value\n' + row.repeat(Math.ceil((MIN_PART_BYTES + 100) / row.length)));
    const key = 'race/four.csv';
    const { id, parts } = await uploadedParts(key, body);

    const answers = await Promise.all([
      postJson(`/uploads/${id}/complete`, { key, parts }),
      postJson(`/uploads/${id}/complete`, { key }),
      postJson(`/uploads/${id}/complete`, { key, parts }),
      postJson(`/uploads/${id}/complete`, { key }),
    ]);
    await service.processing.idle();

    const ok = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status !== 200);
    expect(ok).toEqual([{ status: 200, body: { key, etag: expect.stringMatching(/-2"$/), size: body.length } }]);
    expect(refused.map((a) => a.status)).toEqual([409, 409, 409]);
    for (const { body: refusal } of refused) {
      expect(['UploadCompleting', 'UploadAlreadyCompleted']).toContain((refusal.error as Json).code);
    }
    expect(processed.filter((k) => k === `users/${user}/${key}`)).toHaveLength(1);
  });

  it('answers a complete after the upload completed 409 UploadAlreadyCompleted, naming the object, and does not profile it again', async () => {
    const body = Buffer.alloc(MIN_PART_BYTES + 7, 0x41);
    const key = 'race/later.csv';
    const { id, parts } = await uploadedParts(key, body);
    const first = await postJson(`/uploads/${id}/complete`, { key, parts });

    const again = await postJson(`/uploads/${id}/complete`, { key, parts });
    await service.processing.idle();

    expect(first.status).toBe(200);
    expect(again).toEqual({ status: 409, body: { error: { code: 'UploadAlreadyCompleted', message: expect.stringContaining(String(first.body.etag)) } } });
    expect(processed.filter((k) => k === `users/${user}/${key}`)).toHaveLength(1);
  });
});
