import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InitiateAuthCommand, NotAuthorizedException, CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import { readLogin, removeLogin, saveLogin, storedTokenProvider, tokenFilePath, type StoredLogin } from '../../../cli/login';

const cognito = mockClient(CognitoIdentityProviderClient);
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (claims: Record<string, unknown>) => `${b64({ alg: 'HS256' })}.${b64(claims)}.sig`;
const NOW = 1_900_000_000_000;

describe('the stored login', () => {
  let dir: string;
  let file: string;
  const login = (overrides: Partial<StoredLogin> = {}): StoredLogin => ({
    apiUrl: 'http://api.test',
    username: 'ada',
    cognito: { userPoolId: 'us-east-1_P', clientId: 'c', region: 'us-east-1', endpoint: 'http://127.0.0.1:1' },
    idToken: jwt({ sub: 's', exp: NOW / 1000 + 3600 }),
    accessToken: 'a',
    refreshToken: 'r',
    expiresAt: NOW + 3600_000,
    sub: 's',
    ...overrides,
  });

  beforeEach(() => {
    cognito.reset();
    dir = mkdtempSync(join(tmpdir(), 's3files-tokens-'));
    file = tokenFilePath({ XDG_CONFIG_HOME: dir });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lives in $XDG_CONFIG_HOME/s3files, else ~/.config/s3files', () => {
    expect(tokenFilePath({ XDG_CONFIG_HOME: '/x' })).toBe('/x/s3files/tokens.json');
    expect(tokenFilePath({ HOME: '/home/ada' })).toBe('/home/ada/.config/s3files/tokens.json');
  });

  it('is written 0600 in a 0700 folder, one entry per API URL, and removed with its last entry', () => {
    saveLogin(file, login());
    saveLogin(file, login({ apiUrl: 'http://other.test' }));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 's3files')).mode & 0o777).toBe(0o700);
    expect(removeLogin(file, 'http://api.test')?.username).toBe('ada');
    expect(readLogin(file, 'http://other.test')).toBeDefined();
    removeLogin(file, 'http://other.test');
    expect(() => statSync(file)).toThrow();
  });

  it('refuses a file that is not a token file, rather than overwriting it', () => {
    saveLogin(file, login());
    writeFileSync(file, '[1,2]');
    expect(() => readLogin(file, 'http://api.test')).toThrow('not a token file');
  });

  it('gives the stored ID token while it is more than 5 minutes from expiry, without asking Cognito', async () => {
    saveLogin(file, login());
    const token = await storedTokenProvider({ file, apiUrl: 'http://api.test', now: () => NOW + 3600_000 - 5 * 60_000 - 1 })();
    expect(token).toBe(login().idToken);
    expect(cognito.calls()).toHaveLength(0);
  });

  it('refreshes within 5 minutes of expiry, and saves the new token', async () => {
    saveLogin(file, login());
    const fresh = jwt({ sub: 's', exp: NOW / 1000 + 7200 });
    cognito.on(InitiateAuthCommand).resolves({ AuthenticationResult: { IdToken: fresh, AccessToken: 'a2', ExpiresIn: 3600, TokenType: 'Bearer' } });
    const token = await storedTokenProvider({ file, apiUrl: 'http://api.test', now: () => NOW + 3600_000 - 5 * 60_000 })();
    expect(token).toBe(fresh);
    expect(cognito.commandCalls(InitiateAuthCommand)[0]!.args[0].input).toEqual({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: 'c', AuthParameters: { REFRESH_TOKEN: 'r' } });
    expect(readLogin(file, 'http://api.test')).toMatchObject({ idToken: fresh, accessToken: 'a2', refreshToken: 'r', expiresAt: NOW + 7200_000 });
  });

  it('says to sign in again when Cognito refuses the refresh token', async () => {
    saveLogin(file, login({ expiresAt: 0 }));
    cognito.on(InitiateAuthCommand).rejects(new NotAuthorizedException({ message: 'Refresh Token has expired', $metadata: {} }));
    await expect(storedTokenProvider({ file, apiUrl: 'http://api.test', now: () => NOW })()).rejects.toMatchObject({ code: 'NotSignedIn' });
  });
});
