import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { functionCredentials } from '../../local/function-keys';
import { startLocalService, type LocalService } from '../../local/service';

/**
 * What S3 refuses, refused locally with S3's status and error code: presigned URLs from the API
 * (signed by the upload function's own key) used other than as signed, wrong keys, expired URLs and
 * two auth mechanisms at once. Each case is one request a client could really send.
 */
jest.setTimeout(30_000);

let service: LocalService;
let dir: string;
let token: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3fs-auth-'));
  service = await startLocalService({ dataDir: dir, port: 0, s3Port: 0, reconcile: false });
  token = service.token('alice');
});
afterAll(async () => {
  await service.stop();
  await rm(dir, { recursive: true, force: true });
});

const BODY = 'a,b\n1,2\n';

/** A presigned PUT for `key` from POST /uploads, as the API gives it to its caller. */
async function presignedPut(key: string): Promise<{ url: URL; headers: Record<string, string> }> {
  const res = await fetch(`${service.apiUrl}/uploads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ key, contentType: 'text/csv', size: BODY.length }),
  });
  const created = (await res.json()) as { url: string; headers: Record<string, string> };
  return { url: new URL(created.url), headers: created.headers };
}

async function errorOf(res: Response): Promise<{ status: number; code: string | undefined }> {
  return { status: res.status, code: /<Code>([^<]+)<\/Code>/.exec(await res.text())?.[1] };
}

const put = (url: URL | string, headers: Record<string, string>, body = BODY) => fetch(url, { method: 'PUT', headers, body });

describe('the embedded S3 refuses what S3 refuses', () => {
  it('accepts the presigned PUT exactly as signed', async () => {
    const { url, headers } = await presignedPut('ok.csv');

    expect((await put(url, headers)).status).toBe(200);
  });

  it('refuses a presigned PUT whose key was edited into another user\'s area: 403 SignatureDoesNotMatch', async () => {
    const { url, headers } = await presignedPut('mine.csv');
    url.pathname = url.pathname.replace('/users/alice/', '/users/bob/');

    expect(await errorOf(await put(url, headers))).toEqual({ status: 403, code: 'SignatureDoesNotMatch' });
  });

  it('refuses a presigned PUT with another content-type than the signed one: 403 SignatureDoesNotMatch', async () => {
    const { url } = await presignedPut('typed.csv');

    expect(await errorOf(await put(url, { 'content-type': 'text/html' }))).toEqual({ status: 403, code: 'SignatureDoesNotMatch' });
  });

  it('refuses a presigned PUT whose X-Amz-Expires was raised: 403 SignatureDoesNotMatch', async () => {
    const { url, headers } = await presignedPut('longer.csv');
    url.searchParams.set('X-Amz-Expires', '604800');

    expect(await errorOf(await put(url, headers))).toEqual({ status: 403, code: 'SignatureDoesNotMatch' });
  });

  it('refuses a presigned PUT whose signature was changed: 403 SignatureDoesNotMatch', async () => {
    const { url, headers } = await presignedPut('forged.csv');
    const signature = url.searchParams.get('X-Amz-Signature')!;
    url.searchParams.set('X-Amz-Signature', `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`);

    expect(await errorOf(await put(url, headers))).toEqual({ status: 403, code: 'SignatureDoesNotMatch' });
  });

  it('refuses a presigned PUT with a body of another length than the signed one: 403 SignatureDoesNotMatch', async () => {
    const { url, headers } = await presignedPut('sized.csv');

    expect(await errorOf(await put(url, headers, `${BODY}extra`))).toEqual({ status: 403, code: 'SignatureDoesNotMatch' });
  });

  it('refuses a request signed with a wrong secret key: 403 SignatureDoesNotMatch', async () => {
    const wrong = new S3Client({ region: service.region, endpoint: service.s3Endpoint, forcePathStyle: true, credentials: { accessKeyId: service.credentials.accessKeyId, secretAccessKey: 'not-the-secret' } });
    const url = await getSignedUrl(wrong, new GetObjectCommand({ Bucket: service.buckets.uploads, Key: 'users/alice/ok.csv' }), { expiresIn: 60 });
    wrong.destroy();

    expect(await errorOf(await fetch(url))).toEqual({ status: 403, code: 'SignatureDoesNotMatch' });
  });

  it('refuses a request signed with a key it does not know: 403 InvalidAccessKeyId', async () => {
    const unknown = new S3Client({ region: service.region, endpoint: service.s3Endpoint, forcePathStyle: true, credentials: { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' } });
    const url = await getSignedUrl(unknown, new GetObjectCommand({ Bucket: service.buckets.uploads, Key: 'users/alice/ok.csv' }), { expiresIn: 60 });
    unknown.destroy();

    expect(await errorOf(await fetch(url))).toEqual({ status: 403, code: 'InvalidAccessKeyId' });
  });

  it('refuses an expired presigned URL: 403 AccessDenied', async () => {
    const past = new Date(Date.now() - 3600_000);
    const url = await getSignedUrl(service.s3, new GetObjectCommand({ Bucket: service.buckets.uploads, Key: 'users/alice/ok.csv' }), { expiresIn: 60, signingDate: past });

    expect(await errorOf(await fetch(url))).toEqual({ status: 403, code: 'AccessDenied' });
  });

  it('refuses a presigned URL that also carries an Authorization header: 400 InvalidArgument', async () => {
    const url = await getSignedUrl(service.s3, new GetObjectCommand({ Bucket: service.buckets.uploads, Key: 'users/alice/ok.csv' }), { expiresIn: 60 });

    expect(await errorOf(await fetch(url, { headers: { authorization: `Bearer ${token}` } }))).toEqual({ status: 400, code: 'InvalidArgument' });
  });

  it('holds each function to its grants: the upload function\'s key may write but not read, 403 AccessDenied', async () => {
    const keys = functionCredentials((await readFile(join(dir, 'signing-secret'), 'utf8')).trim());
    const uploader = new S3Client({ region: service.region, endpoint: service.s3Endpoint, forcePathStyle: true, credentials: keys.upload });
    const url = await getSignedUrl(uploader, new GetObjectCommand({ Bucket: service.buckets.uploads, Key: 'users/alice/ok.csv' }), { expiresIn: 60 });
    uploader.destroy();

    expect(await errorOf(await fetch(url))).toEqual({ status: 403, code: 'AccessDenied' });
  });

  it('holds the list function to the user area: listing the bucket root is 403 AccessDenied', async () => {
    const keys = functionCredentials((await readFile(join(dir, 'signing-secret'), 'utf8')).trim());
    const lister = new S3Client({ region: service.region, endpoint: service.s3Endpoint, forcePathStyle: true, credentials: keys.list });

    await expect(lister.send(new ListObjectsV2Command({ Bucket: service.buckets.uploads, Prefix: 'users/alice/' }))).resolves.toBeDefined();
    await expect(lister.send(new ListObjectsV2Command({ Bucket: service.buckets.uploads }))).rejects.toMatchObject({ name: 'AccessDenied' });
    lister.destroy();
  });
});
