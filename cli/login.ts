/**
 * Signing in to the user pool as the stack configures it (SRP only, TOTP required), keeping the
 * tokens, and refreshing them: what `s3files login` and `logout` do, and what every other command
 * uses for its bearer token when S3FILES_TOKEN is not set.
 *
 * The tokens live in `$XDG_CONFIG_HOME/s3files/tokens.json` (default `~/.config/s3files/`), the
 * folder 0700 and the file 0600, one entry per API URL, so a local service and a deployed one can
 * both be signed in to.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  AssociateSoftwareTokenCommand,
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
  RespondToAuthChallengeCommand,
  RevokeTokenCommand,
  VerifySoftwareTokenCommand,
  type AuthenticationResultType,
  type ChallengeNameType,
} from '@aws-sdk/client-cognito-identity-provider';
import { createSrpClient, poolNameOf } from './srp';

/** Where the user pool is: the stack's outputs, or the local service's endpoints.json. */
export interface CognitoConfig {
  userPoolId: string;
  clientId: string;
  region: string;
  /** The local user pool's URL; unset for Cognito itself. */
  endpoint?: string;
}

export class LoginError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'LoginError';
  }
}

export function cognitoClient(config: CognitoConfig): CognitoIdentityProviderClient {
  // The actions used here are unauthenticated in Cognito: no AWS credentials are looked up or sent.
  return new CognitoIdentityProviderClient({ region: config.region, ...(config.endpoint ? { endpoint: config.endpoint } : {}), maxAttempts: 2 });
}

export interface SignInPrompts {
  /** NEW_PASSWORD_REQUIRED: a user created by an administrator chooses a password. */
  newPassword(): Promise<string>;
  /** MFA_SETUP: show the secret for an authenticator app (the otpauth:// URI and the key itself). */
  showTotpSetup(setup: { secret: string; uri: string }): Promise<void> | void;
  /** SOFTWARE_TOKEN_MFA, or the first code at MFA_SETUP. */
  totpCode(): Promise<string>;
}

export interface Tokens {
  idToken: string;
  accessToken: string;
  refreshToken: string;
  /** Epoch ms when the ID token expires (its `exp`). */
  expiresAt: number;
  /** The user's `sub`. */
  sub: string;
}

/** The claims of a JWT, unverified: the CLI reads its own token's `exp` and `sub`, nothing more. */
export function jwtClaims(token: string): Record<string, unknown> {
  try {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

function expiryOf(idToken: string): number {
  const exp = jwtClaims(idToken).exp;
  if (typeof exp !== 'number') throw new LoginError('BadToken', 'The ID token from the user pool has no expiry');
  return exp * 1000;
}

/** The otpauth:// URI authenticator apps read (Google's Key Uri Format); scan it, or type the secret. */
export function otpauthUri(secret: string, account: string, issuer: string): string {
  return `otpauth://totp/${encodeURIComponent(issuer)}:${encodeURIComponent(account)}?secret=${secret}&issuer=${encodeURIComponent(issuer)}`;
}

/**
 * USER_SRP_AUTH to the end: PASSWORD_VERIFIER, then whatever the pool asks (NEW_PASSWORD_REQUIRED,
 * MFA_SETUP with AssociateSoftwareToken and VerifySoftwareToken, SOFTWARE_TOKEN_MFA), until it
 * gives tokens. `now` stamps the SRP claim.
 */
export async function signIn(
  client: CognitoIdentityProviderClient,
  config: CognitoConfig,
  credentials: { username: string; password: string },
  prompts: SignInPrompts,
  now: () => Date = () => new Date(),
): Promise<Tokens> {
  const srp = createSrpClient();
  const started = await client.send(
    new InitiateAuthCommand({ AuthFlow: 'USER_SRP_AUTH', ClientId: config.clientId, AuthParameters: { USERNAME: credentials.username, SRP_A: srp.srpA } }),
  );
  if (started.ChallengeName !== 'PASSWORD_VERIFIER') throw new LoginError('UnexpectedChallenge', `The user pool asked for ${started.ChallengeName ?? 'nothing'}, not PASSWORD_VERIFIER`);
  const p = started.ChallengeParameters ?? {};
  const userId = p.USER_ID_FOR_SRP ?? credentials.username;
  const claim = srp.passwordClaim({
    poolName: poolNameOf(config.userPoolId),
    userIdForSrp: userId,
    password: credentials.password,
    saltHex: p.SALT ?? '',
    srpBHex: p.SRP_B ?? '',
    secretBlock: p.SECRET_BLOCK ?? '',
    now: now(),
  });
  let step = await client.send(
    new RespondToAuthChallengeCommand({
      ClientId: config.clientId,
      ChallengeName: 'PASSWORD_VERIFIER',
      ChallengeResponses: { USERNAME: userId, PASSWORD_CLAIM_SECRET_BLOCK: p.SECRET_BLOCK ?? '', PASSWORD_CLAIM_SIGNATURE: claim.signature, TIMESTAMP: claim.timestamp },
      ...(started.Session ? { Session: started.Session } : {}),
    }),
  );
  for (let rounds = 0; rounds < 5; rounds++) {
    if (step.AuthenticationResult) return tokensOf(step.AuthenticationResult);
    const respond = (name: ChallengeNameType, responses: Record<string, string>, session = step.Session) =>
      client.send(new RespondToAuthChallengeCommand({ ClientId: config.clientId, ChallengeName: name, ChallengeResponses: { USERNAME: userId, ...responses }, Session: session }));
    switch (step.ChallengeName) {
      case 'NEW_PASSWORD_REQUIRED':
        step = await respond('NEW_PASSWORD_REQUIRED', { NEW_PASSWORD: await prompts.newPassword() });
        break;
      case 'MFA_SETUP': {
        const associated = await client.send(new AssociateSoftwareTokenCommand({ Session: step.Session }));
        if (!associated.SecretCode) throw new LoginError('UnexpectedAnswer', 'AssociateSoftwareToken gave no secret');
        await prompts.showTotpSetup({ secret: associated.SecretCode, uri: otpauthUri(associated.SecretCode, credentials.username, 'S3 File Service') });
        const verified = await client.send(new VerifySoftwareTokenCommand({ Session: associated.Session, UserCode: await prompts.totpCode(), FriendlyDeviceName: 's3files' }));
        if (verified.Status !== 'SUCCESS') throw new LoginError('MfaSetupFailed', `VerifySoftwareToken answered ${verified.Status ?? 'nothing'}`);
        step = await respond('MFA_SETUP', {}, verified.Session);
        break;
      }
      case 'SOFTWARE_TOKEN_MFA':
        step = await respond('SOFTWARE_TOKEN_MFA', { SOFTWARE_TOKEN_MFA_CODE: await prompts.totpCode() });
        break;
      default:
        throw new LoginError('UnexpectedChallenge', `The user pool asked for ${step.ChallengeName ?? 'nothing'}, which s3files cannot answer`);
    }
  }
  throw new LoginError('UnexpectedChallenge', 'The user pool kept asking for more challenges');
}

function tokensOf(result: AuthenticationResultType, refreshToken?: string): Tokens {
  const refresh = result.RefreshToken ?? refreshToken;
  if (!result.IdToken || !result.AccessToken || !refresh) throw new LoginError('UnexpectedAnswer', 'The user pool gave no ID, access or refresh token');
  const sub = jwtClaims(result.IdToken).sub;
  return { idToken: result.IdToken, accessToken: result.AccessToken, refreshToken: refresh, expiresAt: expiryOf(result.IdToken), sub: typeof sub === 'string' ? sub : '' };
}

/** REFRESH_TOKEN_AUTH: new ID and access tokens; the refresh token stays (or is rotated, if the pool does). */
export async function refreshTokens(client: CognitoIdentityProviderClient, config: CognitoConfig, refreshToken: string): Promise<Tokens> {
  const res = await client.send(new InitiateAuthCommand({ AuthFlow: 'REFRESH_TOKEN_AUTH', ClientId: config.clientId, AuthParameters: { REFRESH_TOKEN: refreshToken } }));
  if (!res.AuthenticationResult) throw new LoginError('UnexpectedChallenge', `A refresh was answered with ${res.ChallengeName ?? 'no tokens'}`);
  return tokensOf(res.AuthenticationResult, refreshToken);
}

export async function revokeRefreshToken(client: CognitoIdentityProviderClient, config: CognitoConfig, refreshToken: string): Promise<void> {
  await client.send(new RevokeTokenCommand({ ClientId: config.clientId, Token: refreshToken }));
}

// ---------------------------------------------------------------- the token file

export interface StoredLogin extends Tokens {
  apiUrl: string;
  username: string;
  cognito: CognitoConfig;
}

interface TokenFile {
  version: 1;
  /** By API URL. */
  logins: Record<string, StoredLogin>;
}

export function tokenFilePath(env: Record<string, string | undefined>): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 's3files', 'tokens.json');
}

function readTokenFile(file: string): TokenFile {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as TokenFile;
    if (parsed && parsed.version === 1 && parsed.logins && typeof parsed.logins === 'object') return parsed;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, logins: {} };
  }
  throw new LoginError('BadTokenFile', `${file} is not a token file of s3files: delete it and run s3files login`);
}

/** Written to a 0600 temporary file and renamed, in a 0700 folder: never readable by others, never half-written. */
function writeTokenFile(file: string, data: TokenFile): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(data, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

export function readLogin(file: string, apiUrl: string): StoredLogin | undefined {
  return readTokenFile(file).logins[apiUrl];
}

export function saveLogin(file: string, login: StoredLogin): void {
  const data = readTokenFile(file);
  data.logins[login.apiUrl] = login;
  writeTokenFile(file, data);
}

/** Removes the API's entry; the file goes when it was the last. Whether there was one. */
export function removeLogin(file: string, apiUrl: string): StoredLogin | undefined {
  const data = readTokenFile(file);
  const login = data.logins[apiUrl];
  if (!login) return undefined;
  delete data.logins[apiUrl];
  if (Object.keys(data.logins).length === 0) rmSync(file, { force: true });
  else writeTokenFile(file, data);
  return login;
}

/** Refresh this long before the ID token expires, so a request never leaves with a token about to lapse. */
export const REFRESH_MARGIN_MS = 5 * 60 * 1000;

/**
 * The bearer token of a stored login, refreshed (and saved) when it expires within the margin.
 * Called before every request, so a long upload refreshes as it goes.
 */
export function storedTokenProvider(input: { file: string; apiUrl: string; now?: () => number; client?: (config: CognitoConfig) => CognitoIdentityProviderClient }): () => Promise<string> {
  const now = input.now ?? Date.now;
  let refreshing: Promise<StoredLogin> | undefined;
  return async () => {
    let login = readLogin(input.file, input.apiUrl);
    if (!login) throw new LoginError('NotSignedIn', `Not signed in to ${input.apiUrl}: run s3files login`);
    if (login.expiresAt - now() > REFRESH_MARGIN_MS) return login.idToken;
    const current = login;
    refreshing ??= (async () => {
      const client = (input.client ?? cognitoClient)(current.cognito);
      try {
        const tokens = await refreshTokens(client, current.cognito, current.refreshToken);
        const updated = { ...current, ...tokens };
        saveLogin(input.file, updated);
        return updated;
      } catch (err) {
        if ((err as Error).name === 'NotAuthorizedException') {
          throw new LoginError('NotSignedIn', `The sign-in to ${input.apiUrl} has expired or was revoked (${(err as Error).message}): run s3files login`);
        }
        throw err;
      } finally {
        client.destroy();
        refreshing = undefined;
      }
    })();
    login = await refreshing;
    return login.idToken;
  };
}
