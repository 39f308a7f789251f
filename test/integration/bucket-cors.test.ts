import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUCKET_EXPOSED_HEADERS } from '../../lambda/shared/cors';
import { startEmbeddedS3, ADMIN_CREDENTIALS, type EmbeddedS3 } from '../../local/s3/server';

describe('the embedded S3 buckets CORS', () => {
  let dir: string;
  let s3: EmbeddedS3;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 's3fs-cors-'));
    s3 = await startEmbeddedS3({ directory: dir, port: 0, buckets: ['b'], corsOrigins: ['http://localhost:*'] });
  });

  afterAll(async () => {
    await s3.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets a browser read the same response headers as the deployed buckets (ETag, Content-Range...)', async () => {
    const client = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: ADMIN_CREDENTIALS });
    await client.send(new PutObjectCommand({ Bucket: 'b', Key: 'k.csv', Body: 'a,b\n1,2\n' }));
    // A browser reads through a presigned URL, as from the API's redirect (anonymous reads are refused).
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: 'b', Key: 'k.csv' }), { expiresIn: 60 });
    client.destroy();

    const res = await fetch(url, { headers: { origin: 'http://localhost:5173', range: 'bytes=0-3' } });

    expect(res.status).toBe(206);
    expect(['http://localhost:5173', '*']).toContain(res.headers.get('access-control-allow-origin'));
    const exposed = (res.headers.get('access-control-expose-headers') ?? '').split(',').map((h) => h.trim().toLowerCase());
    expect(exposed).toEqual(expect.arrayContaining(BUCKET_EXPOSED_HEADERS.map((h) => h.toLowerCase())));
  });
});
