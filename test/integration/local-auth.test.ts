import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeToken, idTokenClaims, loadOrCreateKey, MAX_TOKEN_TTL_SECONDS, signIdToken, type Claims } from '../../local/auth';
import { startLocalService, type LocalService } from '../../local/service';

/**
 * Local auth refuses what the Cognito authorizer refuses: each case is a valid ID token with one
 * claim changed (or the signing key), signed with the service's own key so that only that claim
 * can be the reason, sent through the local gateway as a client would send it.
 */
jest.setTimeout(60_000);

const USER = 'dora';
let dir: string;
let service: LocalService;
let key: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3fs-auth-'));
  service = await startLocalService({ dataDir: dir, port: 0, s3Port: 0, reconcile: false });
  // The key the service signs and verifies with (it created it in its data folder).
  key = loadOrCreateKey(join(dir, 'jwt-key'));
});
afterAll(async () => {
  await service?.stop();
  await rm(dir, { recursive: true, force: true });
});

const nowSeconds = () => Math.floor(Date.now() / 1000);
/** A valid ID token's claims with some changed; `undefined` removes a claim. */
const claimsWith = (changes: Record<string, unknown>): Record<string, unknown> => ({ ...idTokenClaims(USER), ...changes });

async function listWith(token: string): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${service.apiUrl}/buckets`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { error?: { code: string } };
  return { status: res.status, ...(body.error ? { code: body.error.code } : {}) };
}

describe('local auth', () => {
  it('accepts a valid ID token, so each refusal below is the changed claim', async () => {
    expect(await listWith(encodeToken(key, claimsWith({})))).toEqual({ status: 200 });
  });

  it('accepts the token `npm run token` and service.token() issue', async () => {
    expect(await listWith(service.token(USER))).toEqual({ status: 200 });
  });

  it.each<[string, Record<string, unknown>]>([
    ['an exp of 1e308 (a token that would never expire)', { exp: 1e308 }],
    ['an exp further ahead than the longest ID token Cognito issues (1 day)', { exp: nowSeconds() + MAX_TOKEN_TTL_SECONDS + 60 }],
    ['an exp that is a string', { exp: String(nowSeconds() + 600) }],
    ['no exp', { exp: undefined }],
    ['an exp in the past', { exp: nowSeconds() - 1 }],
    ['an nbf in the future', { nbf: nowSeconds() + 600 }],
    ['an iat in the future', { iat: nowSeconds() + 600 }],
    ['an nbf that is not a number', { nbf: 'now' }],
    ['a foreign issuer', { iss: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Someone' }],
    ['no issuer', { iss: undefined }],
    ['token_use "access" where an ID token is expected', { token_use: 'access' }],
    ['no token_use', { token_use: undefined }],
    ['an audience of another app client', { aud: 'another-client' }],
    ['an audience list instead of the client id', { aud: ['s3files-local', 'another-client'] }],
    ['no audience', { aud: undefined }],
    ['a subject that is not a user id', { sub: '../alice' }],
  ])('answers 401 to a token with %s', async (_what, changes) => {
    expect(await listWith(encodeToken(key, claimsWith(changes)))).toEqual({ status: 401, code: 'Unauthorized' });
  });

  it('answers 401 to a valid token signed with another key', async () => {
    expect(await listWith(encodeToken(Buffer.alloc(32, 9), claimsWith({})))).toEqual({ status: 401, code: 'Unauthorized' });
  });

  it('will not issue a token that lives longer than a day', () => {
    expect(() => signIdToken(key, USER, { ttlSeconds: MAX_TOKEN_TTL_SECONDS + 1 })).toThrow(RangeError);
  });

  it('issues ID tokens with the local issuer, audience and token_use', () => {
    const [, payload] = service.token(USER).split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Claims;
    expect(claims).toMatchObject({ sub: USER, token_use: 'id', iss: 'local', aud: 's3files-local' });
    expect(claims.exp - claims.iat).toBe(MAX_TOKEN_TTL_SECONDS);
  });
});
