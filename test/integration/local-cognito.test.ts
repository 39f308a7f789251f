import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CognitoIdentityProviderClient, InitiateAuthCommand, RespondToAuthChallengeCommand } from '@aws-sdk/client-cognito-identity-provider';
import { cognitoClient, refreshTokens, revokeRefreshToken, signIn, type CognitoConfig, type SignInPrompts } from '../../cli/login';
import { verifyIdToken } from '../../local/auth';
import { startLocalCognito, type LocalCognito } from '../../local/cognito/server';
import { base32Decode, totp } from '../../local/cognito/totp';

/**
 * The local user pool through @aws-sdk/client-cognito-identity-provider and the CLI's sign-in, on
 * a clock the test moves (TOTP steps, session and refresh-token lifetimes): what Cognito answers
 * and what it refuses, for a pool set up as the stack's.
 */
const STEP = 30_000;
let dir: string;
let cognito: LocalCognito;
let client: CognitoIdentityProviderClient;
let config: CognitoConfig;
const jwtKey = randomBytes(32);
// Whole TOTP steps from a fixed start, so a code's step is known, never raced.
let clock = Date.UTC(2030, 0, 1, 12, 0, 0);
const tick = (ms = STEP) => (clock += ms);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 's3files-cognito-'));
  cognito = await startLocalCognito({ dataDir: dir, region: 'eu-west-1', jwtKey, now: () => clock });
  config = { userPoolId: cognito.userPoolId, clientId: cognito.clientId, region: cognito.region, endpoint: cognito.endpoint };
  client = cognitoClient(config);
});

afterAll(async () => {
  client?.destroy();
  await cognito?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Prompts that answer from a script, and record the TOTP secret the set-up showed. */
function prompts(answers: { newPassword?: string; code?: (secret: string) => string; secret?: string }): SignInPrompts & { secret?: string } {
  const state: SignInPrompts & { secret?: string } = {
    newPassword: async () => answers.newPassword ?? fail('no new password expected'),
    showTotpSetup: ({ secret, uri }) => {
      expect(uri).toMatch(new RegExp(`^otpauth://totp/S3%20File%20Service:[^?:]+\\?secret=${secret}&issuer=S3%20File%20Service$`));
      state.secret = secret;
    },
    totpCode: async () => (answers.code ?? ((s) => totp(base32Decode(s), clock)))(state.secret ?? answers.secret ?? fail('no secret')),
  };
  return state;
}

function fail(message: string): never {
  throw new Error(message);
}

async function newUser(name: string): Promise<string> {
  return cognito.users.addUser(name, clock).temporaryPassword;
}

describe('the local user pool', () => {
  it('signs a new user in: temporary password, new password, TOTP set-up; the ID token is one the gateway accepts', async () => {
    const temporary = await newUser('ada@example.com');
    const p = prompts({ newPassword: 'Lovelace-1815!x' });
    const tokens = await signIn(client, config, { username: 'Ada@Example.com', password: temporary }, p);
    expect(p.secret).toMatch(/^[A-Z2-7]{32}$/);
    const claims = verifyIdToken(jwtKey, tokens.idToken, clock);
    expect(claims.sub).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(claims).toMatchObject({ token_use: 'id', aud: cognito.clientId, email: 'ada@example.com' });
    expect(claims.exp - claims.iat).toBe(3600);
    expect(() => verifyIdToken(jwtKey, tokens.accessToken, clock)).toThrow('signature');
    expect(statSync(cognito.users.file).mode & 0o777).toBe(0o600);
  });

  it('then asks for a TOTP code at every sign-in, and refuses a wrong one or the same one twice', async () => {
    const temporary = await newUser('bob');
    const setup = prompts({ newPassword: 'Builder-2024-xy!' });
    await signIn(client, config, { username: 'bob', password: temporary }, setup);
    const secret = setup.secret!;

    await expect(signIn(client, config, { username: 'bob', password: 'Builder-2024-xy!' }, prompts({ secret }))).rejects.toMatchObject({
      name: 'CodeMismatchException', // the set-up's code, in the same step: used once already
    });
    const wrong = (s: string) => String((Number(totp(base32Decode(s), clock)) + 1) % 1_000_000).padStart(6, '0');
    await expect(signIn(client, config, { username: 'bob', password: 'Builder-2024-xy!' }, prompts({ secret, code: wrong }))).rejects.toMatchObject({ name: 'CodeMismatchException' });
    tick();
    const tokens = await signIn(client, config, { username: 'bob', password: 'Builder-2024-xy!' }, prompts({ secret }));
    expect(verifyIdToken(jwtKey, tokens.idToken, clock).sub).toBe(tokens.sub);
  });

  it('refuses a wrong password, and an unknown user in the same words', async () => {
    const temporary = await newUser('carol');
    const wrong = signIn(client, config, { username: 'carol', password: temporary + 'x' }, prompts({}));
    await expect(wrong).rejects.toMatchObject({ name: 'NotAuthorizedException', message: 'Incorrect username or password.' });
    const unknown = signIn(client, config, { username: 'nobody', password: temporary }, prompts({}));
    await expect(unknown).rejects.toMatchObject({ name: 'NotAuthorizedException', message: 'Incorrect username or password.' });
  });

  it('gives an unknown user the same salt at every attempt, as it would a real one', async () => {
    const salt = async (username: string) =>
      (await client.send(new InitiateAuthCommand({ AuthFlow: 'USER_SRP_AUTH', ClientId: config.clientId, AuthParameters: { USERNAME: username, SRP_A: '02' } }))).ChallengeParameters?.SALT;
    expect(await salt('nobody-2')).toBe(await salt('nobody-2'));
  });

  it("refuses a new password that the pool's policy refuses", async () => {
    const temporary = await newUser('dave');
    for (const weak of ['Short-pw-1!', 'no-upper-case-12!', 'NoSymbolsAtAll123']) {
      await expect(signIn(client, config, { username: 'dave', password: temporary }, prompts({ newPassword: weak }))).rejects.toMatchObject({ name: 'InvalidPasswordException' });
    }
  });

  it('refuses the password flow (SRP only) and another app client', async () => {
    await expect(
      client.send(new InitiateAuthCommand({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: config.clientId, AuthParameters: { USERNAME: 'ada@example.com', PASSWORD: 'x' } })),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(
      client.send(new InitiateAuthCommand({ AuthFlow: 'USER_SRP_AUTH', ClientId: 'someone-else', AuthParameters: { USERNAME: 'ada@example.com', SRP_A: '02' } })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('refuses a session past its 10 minutes', async () => {
    const temporary = await newUser('erin');
    const p = prompts({ newPassword: 'Erin-password-12!' });
    p.newPassword = async () => {
      tick(10 * 60 * 1000 + 1);
      return 'Erin-password-12!';
    };
    await expect(signIn(client, config, { username: 'erin', password: temporary }, p)).rejects.toMatchObject({
      name: 'NotAuthorizedException',
      message: 'Invalid session for the user, session is expired.',
    });
  });

  it('refuses a temporary password after 7 days', async () => {
    const temporary = await newUser('frank');
    tick(7 * 24 * 60 * 60 * 1000);
    await expect(signIn(client, config, { username: 'frank', password: temporary }, prompts({}))).rejects.toMatchObject({ name: 'NotAuthorizedException' });
  });

  it('refreshes with the refresh token for 7 days, not after, and not once revoked', async () => {
    tick();
    const temporary = await newUser('grace');
    const tokens = await signIn(client, config, { username: 'grace', password: temporary }, prompts({ newPassword: 'Hopper-COBOL-59!' }));
    tick(6 * 24 * 60 * 60 * 1000);
    const refreshed = await refreshTokens(client, config, tokens.refreshToken);
    expect(refreshed.refreshToken).toBe(tokens.refreshToken);
    expect(verifyIdToken(jwtKey, refreshed.idToken, clock).sub).toBe(tokens.sub);
    tick(24 * 60 * 60 * 1000);
    await expect(refreshTokens(client, config, tokens.refreshToken)).rejects.toMatchObject({ name: 'NotAuthorizedException', message: 'Refresh Token has expired' });

    tick();
    const again = await signIn(client, config, { username: 'grace', password: 'Hopper-COBOL-59!' }, prompts({ secret: cognito.users.findByName('grace')!.totp!.secret }));
    await revokeRefreshToken(client, config, again.refreshToken);
    await expect(refreshTokens(client, config, again.refreshToken)).rejects.toMatchObject({ name: 'NotAuthorizedException', message: 'Refresh Token has been revoked' });
    await expect(refreshTokens(client, config, 'made-up')).rejects.toMatchObject({ name: 'NotAuthorizedException', message: 'Invalid Refresh Token' });
  });

  it('refuses a PASSWORD_VERIFIER answer whose timestamp is not in Cognito\'s format', async () => {
    const started = await client.send(new InitiateAuthCommand({ AuthFlow: 'USER_SRP_AUTH', ClientId: config.clientId, AuthParameters: { USERNAME: 'ada@example.com', SRP_A: '02' } }));
    const p = started.ChallengeParameters!;
    const answer = client.send(
      new RespondToAuthChallengeCommand({
        ClientId: config.clientId,
        ChallengeName: 'PASSWORD_VERIFIER',
        ChallengeResponses: { USERNAME: p.USER_ID_FOR_SRP!, PASSWORD_CLAIM_SECRET_BLOCK: p.SECRET_BLOCK!, PASSWORD_CLAIM_SIGNATURE: 'AAAA', TIMESTAMP: new Date(clock).toISOString() },
      }),
    );
    await expect(answer).rejects.toMatchObject({ name: 'InvalidParameterException' });
  });
  it('locks a user out after five wrong passwords, the right one included, and lets them in a second later', async () => {
    const temporary = await newUser('mallory');
    for (let i = 0; i < 5; i++) {
      await expect(signIn(client, config, { username: 'mallory', password: 'Wrong-pass-123!' }, prompts({}))).rejects.toMatchObject({ message: 'Incorrect username or password.' });
    }

    const locked = signIn(client, config, { username: 'mallory', password: temporary }, prompts({}));
    await expect(locked).rejects.toMatchObject({ name: 'NotAuthorizedException', message: 'Password attempts exceeded' });
    tick(1000);
    const after = await signIn(client, config, { username: 'mallory', password: temporary }, prompts({ newPassword: 'Mallory-new-pw-1!' }));

    expect(verifyIdToken(jwtKey, after.idToken, clock).sub).toBe(cognito.users.findByName('mallory')!.sub);
  });
});

describe('the local user pool from a web page (CORS, as Cognito answers)', () => {
  const target = { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSCognitoIdentityProviderService.InitiateAuth' };

  it('answers a preflight from any origin with POST and the headers asked for', async () => {
    const res = await fetch(cognito.endpoint, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-amz-target,x-amz-user-agent,amz-sdk-invocation-id' },
    });

    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-methods')).toBe('POST');
    expect(res.headers.get('access-control-allow-headers')).toBe('content-type,x-amz-target,x-amz-user-agent,amz-sdk-invocation-id');
  });

  it('refuses a preflight for another method', async () => {
    const res = await fetch(cognito.endpoint, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'PUT' } });

    expect(res.status).toBe(403);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('lets the page read an answer and an error, with the error type exposed', async () => {
    const body = (srpA: string) => JSON.stringify({ AuthFlow: 'USER_SRP_AUTH', ClientId: config.clientId, AuthParameters: { USERNAME: 'someone', SRP_A: srpA } });

    const challenge = await fetch(cognito.endpoint, { method: 'POST', headers: { ...target, origin: 'https://app.example' }, body: body('02') });
    const refused = await fetch(cognito.endpoint, { method: 'POST', headers: { ...target, origin: 'https://app.example' }, body: body('00') });

    expect(challenge.status).toBe(200);
    expect(challenge.headers.get('access-control-allow-origin')).toBe('*');
    expect(refused.status).toBe(400);
    expect(refused.headers.get('access-control-allow-origin')).toBe('*');
    expect(refused.headers.get('access-control-expose-headers')).toContain('x-amzn-ErrorType');
  });
});
