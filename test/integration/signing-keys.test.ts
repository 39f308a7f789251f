import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SERVICE_FUNCTIONS, type ServiceFunctionName } from '../../lambda/shared/grants';
import { SIGNING_KEY_NAMES, type SigningKeyPurpose } from '../../lambda/shared/signing-keys';
import { functionCredentials, type Credentials } from '../../local/function-keys';
import { randomKeyValue } from '../../local/secrets/server';
import { startLocalService, type LocalService } from '../../local/service';

/**
 * The signing keys in local mode, through the real local Secrets Manager over HTTP with the
 * Secrets Manager SDK: each function reads exactly its row's keys with its own key, and a rotation
 * (PutSecretValue, as `aws secretsmanager put-secret-value` does it) is seen by the running
 * handlers, which keep accepting what the previous key signed.
 */
jest.setTimeout(60_000);

let service: LocalService;
let dir: string;
let fnKeys: Record<ServiceFunctionName, Credentials>;
let arns: Record<SigningKeyPurpose, string>;
const clients: SecretsManagerClient[] = [];

function secretsClient(credentials: Credentials): SecretsManagerClient {
  const client = new SecretsManagerClient({ region: service.region, endpoint: service.endpoints().secretsEndpoint, credentials, maxAttempts: 1 });
  clients.push(client);
  return client;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3fs-keys-'));
  // Keys fetched again on every request, so a rotation shows on the next call (no waiting in a test).
  service = await startLocalService({ dataDir: dir, port: 0, s3Port: 0, reconcile: false, env: { SIGNING_KEYS_REFRESH_SECONDS: '0' } });
  fnKeys = functionCredentials((await readFile(join(dir, 'signing-secret'), 'utf8')).trim());
  arns = service.endpoints().signingKeySecrets as Record<SigningKeyPurpose, string>;
});
afterAll(async () => {
  clients.forEach((c) => c.destroy());
  await service.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('the local Secrets Manager', () => {
  const cases = (Object.keys(SERVICE_FUNCTIONS) as ServiceFunctionName[]).flatMap((fn) =>
    SIGNING_KEY_NAMES.map((purpose) => [fn, purpose, SERVICE_FUNCTIONS[fn].keys.includes(purpose)] as const),
  );
  it.each(cases)('lets the %s function read the %s key: %p (its row in the grants table)', async (fn, purpose, allowed) => {
    const read = secretsClient(fnKeys[fn]).send(new GetSecretValueCommand({ SecretId: arns[purpose] }));

    if (allowed) expect((await read).SecretString).toHaveLength(64);
    else await expect(read).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('refuses an unknown access key and a wrong secret key', async () => {
    const request = new GetSecretValueCommand({ SecretId: arns.cursor });

    await expect(secretsClient({ accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'x' }).send(request)).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
    await expect(secretsClient({ ...fnKeys.list, secretAccessKey: 'wrong' }).send(request)).rejects.toMatchObject({ name: 'InvalidSignatureException' });
  });

  it('refuses a function that tries to rotate its own key', async () => {
    const put = secretsClient(fnKeys.list).send(new PutSecretValueCommand({ SecretId: arns.cursor, SecretString: randomKeyValue() }));

    await expect(put).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('has no previous version of a key that was never rotated', async () => {
    const read = secretsClient(service.credentials).send(new GetSecretValueCommand({ SecretId: arns.upload, VersionStage: 'AWSPREVIOUS' }));

    await expect(read).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});

describe('rotating the cursor key while the service runs', () => {
  const user = 'rotation-user';
  const page = async (cursor?: string) => {
    const query = new URLSearchParams({ limit: '1', ...(cursor ? { cursor } : {}) });
    const res = await fetch(`${service.apiUrl}/buckets/uploads/objects?${query}`, { headers: { authorization: `Bearer ${service.token(user)}` } });
    return { status: res.status, body: (await res.json()) as { nextCursor?: string | null; error?: { code: string } } };
  };
  const rotate = () => secretsClient(service.credentials).send(new PutSecretValueCommand({ SecretId: arns.cursor, SecretString: randomKeyValue() }));

  it('accepts cursors signed with the previous key, signs new ones with the new key, and drops a key rotated twice', async () => {
    for (const name of ['a', 'b', 'c', 'd']) {
      await service.s3.send(new PutObjectCommand({ Bucket: service.buckets.uploads, Key: `users/${user}/${name}.txt`, Body: name }));
    }
    const first = await page();
    const beforeRotation = first.body.nextCursor!;

    await rotate();
    const second = await page(beforeRotation);
    const afterFirstRotation = second.body.nextCursor!;
    await rotate();
    const third = await page(afterFirstRotation);
    const oldest = await page(beforeRotation);

    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(third.status).toBe(200);
    expect(oldest).toEqual({ status: 400, body: { error: expect.objectContaining({ code: 'InvalidCursor' }) } });
  });
});
