import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cognitoClient, jwtClaims, refreshTokens } from '../../cli/login';
import { base32Decode, totp } from '../../local/cognito/totp';
import { startLocalService, type LocalService } from '../../local/service';

/**
 * `s3files login` end to end: the real bin shim as a child process, against the local service
 * (gateway, embedded S3, local user pool) found through its endpoints.json. A new user signs in
 * (new password, TOTP set-up), signs in again with a code, uses the stored token, has it
 * refreshed, and signs out. The user pool's clock is the test's, moved by whole TOTP steps.
 */
jest.setTimeout(120_000);

const BIN = resolve(__dirname, '../../cli/s3files.cjs');
const STEP = 30_000;
// In the past, so the ID tokens minted on this clock are already valid for the gateway's real one.
let clock = Math.floor((Date.now() - 10 * 60_000) / STEP) * STEP;

let service: LocalService;
let dir: string;
let env: Record<string, string>;
let tokenFile: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs s3files; `answer` sees stderr as it grows and may write lines to stdin (prompts). */
function s3files(args: string[], extraEnv: Record<string, string> = {}, answer?: (stderr: string, write: (line: string) => void) => void): Promise<Run> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: { ...env, ...extraEnv }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      answer?.(stderr, (line) => child.stdin.write(line + '\n'));
    });
    if (!answer) child.stdin.end();
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

const storedLogin = () => (JSON.parse(readFileSync(tokenFile, 'utf8')) as { logins: Record<string, { idToken: string; refreshToken: string; expiresAt: number }> }).logins[service.apiUrl]!;
function editStoredLogin(change: (login: { expiresAt: number }) => void): void {
  const data = JSON.parse(readFileSync(tokenFile, 'utf8')) as { logins: Record<string, { expiresAt: number }> };
  change(data.logins[service.apiUrl]!);
  writeFileSync(tokenFile, JSON.stringify(data));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 's3files-login-'));
  const dataDir = join(dir, 'data');
  service = await startLocalService({ dataDir, port: 0, s3Port: 0, cognitoClock: () => clock, reconcile: false });
  writeFileSync(join(dataDir, 'endpoints.json'), JSON.stringify(service.endpoints()));
  env = { PATH: process.env.PATH ?? '', HOME: dir, XDG_CONFIG_HOME: join(dir, 'config'), LOCAL_DATA_DIR: dataDir, S3FILES_STATE_DIR: join(dir, 'state') };
  tokenFile = join(dir, 'config', 's3files', 'tokens.json');
});

afterAll(async () => {
  await service?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('s3files login', () => {
  const name = `ada-${randomUUID().slice(0, 8)}`;
  const password = 'Analytical-Engine-1843!';
  let secret = '';

  it('signs a new user in: new password, TOTP set-up from the printed key, tokens kept 0600 in a 0700 folder', async () => {
    const temporary = service.cognito.users.addUser(name, clock).temporaryPassword;
    let answered = false;
    const run = await s3files(['login', name], { S3FILES_PASSWORD: temporary, S3FILES_NEW_PASSWORD: password }, (stderr, write) => {
      const key = /or type the key: ([A-Z2-7]+)/.exec(stderr)?.[1];
      if (key && !answered && stderr.includes('Code from your authenticator app: ')) {
        answered = true;
        secret = key;
        write(totp(base32Decode(key), clock));
      }
    });
    expect(run.stderr).toContain('otpauth://totp/S3%20File%20Service:');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`signed in to ${service.apiUrl} as ${name}`);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'config', 's3files')).mode & 0o777).toBe(0o700);
    expect(jwtClaims(storedLogin().idToken).sub).toBe(service.cognito.users.findByName(name)!.sub);
  });

  it('uses the stored token for the other commands: the upload lands in the user\'s own area', async () => {
    writeFileSync(join(dir, 'note.txt'), 'hello\n');
    expect((await s3files(['put', 'note.txt', 'login-test/note.txt'])).code).toBe(0);
    const ls = await s3files(['ls', 'login-test/', '--json']);
    expect(ls.code).toBe(0);
    expect((JSON.parse(ls.stdout) as { objects: { key: string }[] }).objects.map((o) => o.key)).toEqual(['login-test/note.txt']);
    const sub = service.cognito.users.findByName(name)!.sub;
    await expect(service.s3.send(new (await import('@aws-sdk/client-s3')).HeadObjectCommand({ Bucket: service.buckets.uploads, Key: `users/${sub}/login-test/note.txt` }))).resolves.toBeDefined();
  });

  it('refuses a wrong password, saying so', async () => {
    const run = await s3files(['login', name, '--code', '000000'], { S3FILES_PASSWORD: password + 'x' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('NotAuthorizedException: Incorrect username or password.');
  });

  it('signs in again with the password and a code from the app (--code)', async () => {
    clock += STEP;
    const before = storedLogin().refreshToken;
    const run = await s3files(['login', name, '--code', totp(base32Decode(secret), clock), '--json'], { S3FILES_PASSWORD: password });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ apiUrl: service.apiUrl, username: name });
    expect(storedLogin().refreshToken).not.toBe(before);
  });

  it('refreshes the ID token with the refresh token when it is about to expire', async () => {
    const old = storedLogin();
    editStoredLogin((login) => (login.expiresAt = Date.now() + 60_000)); // within the 5-minute margin
    const ls = await s3files(['ls', 'login-test/']);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toContain('login-test/note.txt');
    const now = storedLogin();
    expect(now.idToken).not.toBe(old.idToken);
    expect(now.refreshToken).toBe(old.refreshToken);
    expect(now.expiresAt).toBe((jwtClaims(now.idToken).exp as number) * 1000);
  });

  it('says to sign in again once the refresh token has expired', async () => {
    editStoredLogin((login) => (login.expiresAt = 0));
    const saved = clock;
    clock += 7 * 24 * 60 * 60 * 1000 + STEP;
    try {
      const ls = await s3files(['ls']);
      expect(ls.code).toBe(1);
      expect(ls.stderr).toContain('NotSignedIn');
      expect(ls.stderr).toContain('run s3files login');
    } finally {
      clock = saved;
    }
  });

  it('signs out: revokes the refresh token and deletes the token file', async () => {
    const { refreshToken } = storedLogin();
    const run = await s3files(['logout']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`signed out of ${service.apiUrl}\n`);
    expect(() => statSync(tokenFile)).toThrow();
    const client = cognitoClient(service.endpoints().cognito);
    try {
      await expect(refreshTokens(client, service.endpoints().cognito, refreshToken)).rejects.toMatchObject({ name: 'NotAuthorizedException', message: 'Refresh Token has been revoked' });
    } finally {
      client.destroy();
    }
    expect((await s3files(['logout'])).stdout).toBe(`not signed in to ${service.apiUrl}\n`);
  });
});
