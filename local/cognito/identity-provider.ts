/**
 * The local user pool's sign-in: the Cognito Identity Provider actions `s3files login` uses, with
 * Cognito's challenges, errors and refusals, for a pool configured as the stack's (SRP only, TOTP
 * required, 7-day refresh tokens, 1-hour ID tokens, 10-minute sign-in sessions, user existence
 * errors prevented). Plain functions of their JSON input; ./server.ts puts them on HTTP.
 *
 *   InitiateAuth USER_SRP_AUTH            → PASSWORD_VERIFIER (SALT, SRP_B, SECRET_BLOCK)
 *   RespondToAuthChallenge PASSWORD_VERIFIER → NEW_PASSWORD_REQUIRED (a temporary password)
 *                                           | MFA_SETUP (no TOTP yet) | SOFTWARE_TOKEN_MFA
 *   RespondToAuthChallenge NEW_PASSWORD_REQUIRED → MFA_SETUP | SOFTWARE_TOKEN_MFA
 *   AssociateSoftwareToken (Session)      → SecretCode, Session
 *   VerifySoftwareToken (Session, code)   → SUCCESS, Session
 *   RespondToAuthChallenge MFA_SETUP | SOFTWARE_TOKEN_MFA → tokens
 *   InitiateAuth REFRESH_TOKEN_AUTH       → new ID and access tokens
 *   RevokeToken                            → the refresh token no longer refreshes
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createSrpServerSession, parseSrpTimestamp, SrpError, type SrpServerSession } from '../../cli/srp';
import type { PasswordLockout } from './lockout';
import { base32Decode, base32Encode, matchTotp } from './totp';
import { passwordPolicyProblem, type StoredUser, type UserStore } from './users';

export class CognitoError extends Error {
  constructor(
    /** `__type`, which the SDK turns into the exception's name. */
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'CognitoError';
  }
}

const notAuthorized = (message = 'Incorrect username or password.') => new CognitoError('NotAuthorizedException', message);
const invalidParameter = (message: string) => new CognitoError('InvalidParameterException', message);
const expiredSession = () => notAuthorized('Invalid session for the user, session is expired.');

export const ID_TOKEN_SECONDS = 60 * 60;
export const REFRESH_TOKEN_DAYS = 7;
/** The stack's authSessionValidity: the time a person has for the challenges of one sign-in. */
export const SESSION_SECONDS = 10 * 60;
/** Wrong TOTP codes one sign-in session may try before it has to start over. */
const MAX_CODE_ATTEMPTS = 5;

type Stage = 'PASSWORD_VERIFIER' | 'NEW_PASSWORD_REQUIRED' | 'MFA_SETUP' | 'MFA_SETUP_VERIFIED' | 'SOFTWARE_TOKEN_MFA';

interface Session {
  sub: string | undefined;
  stage: Stage;
  expiresAt: number;
  srp?: SrpServerSession;
  pendingTotpSecret?: string;
  wrongCodes: number;
}

export interface IdentityProviderOptions {
  users: UserStore;
  userPoolId: string;
  clientId: string;
  /** Signs an ID token for `sub` (local/auth.ts's tokens, which the gateway checks). */
  signIdToken(sub: string, claims: Record<string, unknown>, nowMs: number, ttlSeconds: number): string;
  /** Signs an access token; never accepted by the gateway (another key). */
  signAccessToken(claims: Record<string, unknown>): string;
  /** Derives the fake salts of unknown users, so a name's salt is the same at every attempt. */
  secret: Buffer;
  now: () => number;
  /** Failed passwords per user name, shared with the console's sign-in page. */
  lockout: PasswordLockout;
}

/** The stack's pool signs in by email; a local user named like an address gets it as that claim. */
const emailOf = (user: StoredUser): Record<string, string> => (user.username.includes('@') ? { email: user.username } : {});

export type Action = (input: Record<string, unknown>) => Promise<Record<string, unknown>>;

function str(input: Record<string, unknown>, name: string): string {
  const value = input[name];
  if (typeof value !== 'string' || value === '') throw invalidParameter(`Missing required parameter ${name}`);
  return value;
}

function params(input: Record<string, unknown>, name: string): Record<string, string> {
  const value = input[name];
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw invalidParameter(`Missing required parameter ${name}`);
  for (const v of Object.values(value)) if (typeof v !== 'string') throw invalidParameter(`${name} values must be strings`);
  return value as Record<string, string>;
}

function param(map: Record<string, string>, name: string, what: string): string {
  const value = map[name];
  if (!value) throw invalidParameter(`Missing required parameter ${what}.${name}`);
  return value;
}

export function createIdentityProvider(options: IdentityProviderOptions): Record<string, Action> {
  const { users, clientId, now } = options;
  const poolName = users.poolName;
  const issuer = `local/${options.userPoolId}`;
  const sessions = new Map<string, Session>();

  function checkClient(input: Record<string, unknown>): void {
    if (str(input, 'ClientId') !== clientId) throw new CognitoError('ResourceNotFoundException', `User pool client ${String(input.ClientId)} does not exist.`);
  }

  function openSession(session: Omit<Session, 'expiresAt' | 'wrongCodes'>, key = randomBytes(48).toString('base64')): string {
    for (const [k, s] of sessions) if (s.expiresAt <= now()) sessions.delete(k);
    sessions.set(key, { ...session, expiresAt: now() + SESSION_SECONDS * 1000, wrongCodes: 0 });
    return key;
  }

  /** Takes the session out: each Session string is good for one answer, as Cognito's. */
  function takeSession(key: string | undefined, stages: Stage[]): Session & { sub: string } {
    const session = key ? sessions.get(key) : undefined;
    if (!session || session.expiresAt <= now()) throw expiredSession();
    sessions.delete(key!);
    if (!stages.includes(session.stage) || !session.sub) throw invalidParameter('The session is not for this challenge.');
    return session as Session & { sub: string };
  }

  function userOf(sub: string): StoredUser {
    const user = users.findBySub(sub);
    if (!user) throw notAuthorized();
    return user;
  }

  function tokens(user: StoredUser, withRefresh: boolean): Record<string, unknown> {
    const at = now();
    const authTime = Math.floor(at / 1000);
    const idToken = options.signIdToken(user.sub, { aud: clientId, auth_time: authTime, ...emailOf(user), event_id: randomBytes(8).toString('hex') }, at, ID_TOKEN_SECONDS);
    const accessToken = options.signAccessToken({
      sub: user.sub,
      iss: issuer,
      client_id: clientId,
      token_use: 'access',
      scope: 'aws.cognito.signin.user.admin',
      username: user.sub,
      auth_time: authTime,
      iat: authTime,
      exp: authTime + ID_TOKEN_SECONDS,
    });
    const result: Record<string, unknown> = { IdToken: idToken, AccessToken: accessToken, ExpiresIn: ID_TOKEN_SECONDS, TokenType: 'Bearer' };
    if (withRefresh) {
      const refreshToken = randomBytes(48).toString('base64url');
      users.addRefreshToken(refreshToken, user.sub, at + REFRESH_TOKEN_DAYS * 24 * 60 * 60 * 1000, at);
      result.RefreshToken = refreshToken;
    }
    return { ChallengeParameters: {}, AuthenticationResult: result };
  }

  /** After the password (and a new one, if needed): set up TOTP, or give a code. */
  function secondFactor(user: StoredUser): Record<string, unknown> {
    if (user.totp?.verified) {
      return {
        ChallengeName: 'SOFTWARE_TOKEN_MFA',
        Session: openSession({ sub: user.sub, stage: 'SOFTWARE_TOKEN_MFA' }),
        ChallengeParameters: { USER_ID_FOR_SRP: user.sub },
      };
    }
    return {
      ChallengeName: 'MFA_SETUP',
      Session: openSession({ sub: user.sub, stage: 'MFA_SETUP' }),
      ChallengeParameters: { MFAS_CAN_SETUP: '["SOFTWARE_TOKEN_MFA"]', USER_ID_FOR_SRP: user.sub },
    };
  }

  function fakeSalt(username: string): string {
    return createHmac('sha256', options.secret).update(`salt:${username.toLowerCase()}`).digest().subarray(0, 16).toString('hex');
  }

  async function initiateAuth(input: Record<string, unknown>): Promise<Record<string, unknown>> {
    checkClient(input);
    const flow = str(input, 'AuthFlow');
    const auth = params(input, 'AuthParameters');
    if (flow === 'USER_SRP_AUTH') {
      const username = param(auth, 'USERNAME', 'AuthParameters');
      const srpA = param(auth, 'SRP_A', 'AuthParameters');
      const user = users.findByName(username);
      // An unknown name gets a challenge like any other (a stable fake salt, a random verifier) and
      // fails at the password, as with preventUserExistenceErrors: the answer does not tell.
      const saltHex = user?.saltHex ?? fakeSalt(username);
      const verifierHex = user?.verifierHex ?? randomBytes(384).toString('hex');
      let srp: SrpServerSession;
      try {
        srp = createSrpServerSession({ srpAHex: srpA, verifierHex });
      } catch (err) {
        if (err instanceof SrpError) throw invalidParameter(`SRP_A is not valid: ${err.message}`);
        throw err;
      }
      const userId = user?.sub ?? username;
      const secretBlock = openSession({ sub: user?.sub, stage: 'PASSWORD_VERIFIER', srp }, randomBytes(64).toString('base64'));
      return {
        ChallengeName: 'PASSWORD_VERIFIER',
        ChallengeParameters: { SALT: saltHex, SRP_B: srp.srpB, SECRET_BLOCK: secretBlock, USER_ID_FOR_SRP: userId, USERNAME: userId },
      };
    }
    if (flow === 'REFRESH_TOKEN_AUTH' || flow === 'REFRESH_TOKEN') {
      const token = param(auth, 'REFRESH_TOKEN', 'AuthParameters');
      const entry = users.findRefreshToken(token);
      if (!entry) throw notAuthorized('Invalid Refresh Token');
      if (entry.revoked) throw notAuthorized('Refresh Token has been revoked');
      if (entry.expiresAt <= now()) throw notAuthorized('Refresh Token has expired');
      return tokens(userOf(entry.sub), false);
    }
    if (flow === 'USER_PASSWORD_AUTH' || flow === 'ADMIN_USER_PASSWORD_AUTH' || flow === 'ADMIN_NO_SRP_AUTH' || flow === 'USER_AUTH' || flow === 'CUSTOM_AUTH') {
      throw invalidParameter(`${flow} flow not enabled for this client`);
    }
    throw invalidParameter(`1 validation error detected: Value '${flow}' at 'authFlow' failed to satisfy constraint`);
  }

  async function respondToAuthChallenge(input: Record<string, unknown>): Promise<Record<string, unknown>> {
    checkClient(input);
    const challenge = str(input, 'ChallengeName');
    const responses = params(input, 'ChallengeResponses');
    const sessionKey = typeof input.Session === 'string' ? input.Session : undefined;
    switch (challenge) {
      case 'PASSWORD_VERIFIER': {
        const secretBlock = param(responses, 'PASSWORD_CLAIM_SECRET_BLOCK', 'ChallengeResponses');
        const signature = param(responses, 'PASSWORD_CLAIM_SIGNATURE', 'ChallengeResponses');
        const timestamp = param(responses, 'TIMESTAMP', 'ChallengeResponses');
        const username = param(responses, 'USERNAME', 'ChallengeResponses');
        const session = sessions.get(secretBlock);
        sessions.delete(secretBlock);
        if (!session || session.stage !== 'PASSWORD_VERIFIER' || session.expiresAt <= now()) throw expiredSession();
        if (!parseSrpTimestamp(timestamp)) throw invalidParameter(`TIMESTAMP "${timestamp}" is not of the form "ddd MMM D HH:mm:ss UTC YYYY"`);
        const user = session.sub ? users.findBySub(session.sub) : undefined;
        const userId = user?.sub;
        // Counted by the name signed in with (an unknown one too), so the lock-out does not tell who exists.
        const lockoutName = user?.username ?? username;
        if (options.lockout.isLockedOut(lockoutName)) throw notAuthorized('Password attempts exceeded');
        if (!user || !session.srp || (username !== userId && username.toLowerCase() !== user.username.toLowerCase()) || !session.srp.verifyClaim({ poolName, userId: user.sub, secretBlock, timestamp, signature })) {
          options.lockout.recordFailure(lockoutName);
          throw notAuthorized();
        }
        options.lockout.recordSuccess(lockoutName);
        if (user.status === 'FORCE_CHANGE_PASSWORD') {
          if ((user.temporaryPasswordExpiresAt ?? 0) <= now()) throw notAuthorized('Temporary password has expired and must be reset by an administrator.');
          return {
            ChallengeName: 'NEW_PASSWORD_REQUIRED',
            Session: openSession({ sub: user.sub, stage: 'NEW_PASSWORD_REQUIRED' }),
            ChallengeParameters: { USER_ID_FOR_SRP: user.sub, requiredAttributes: '[]', userAttributes: JSON.stringify(emailOf(user)) },
          };
        }
        return secondFactor(user);
      }
      case 'NEW_PASSWORD_REQUIRED': {
        const password = param(responses, 'NEW_PASSWORD', 'ChallengeResponses');
        const session = takeSession(sessionKey, ['NEW_PASSWORD_REQUIRED']);
        const problem = passwordPolicyProblem(password);
        if (problem) {
          // The answer can be corrected: the session stays usable.
          sessions.set(sessionKey!, session);
          throw new CognitoError('InvalidPasswordException', `Password does not conform to policy: ${problem}`);
        }
        users.setPassword(session.sub, password);
        return secondFactor(userOf(session.sub));
      }
      case 'SOFTWARE_TOKEN_MFA': {
        const code = param(responses, 'SOFTWARE_TOKEN_MFA_CODE', 'ChallengeResponses');
        const session = takeSession(sessionKey, ['SOFTWARE_TOKEN_MFA']);
        const user = userOf(session.sub);
        if (!users.acceptTotpCode(user.sub, code, now())) {
          if (++session.wrongCodes < MAX_CODE_ATTEMPTS) sessions.set(sessionKey!, session);
          throw new CognitoError('CodeMismatchException', 'Invalid code received for user');
        }
        return tokens(user, true);
      }
      case 'MFA_SETUP': {
        const session = takeSession(sessionKey, ['MFA_SETUP', 'MFA_SETUP_VERIFIED']);
        if (session.stage !== 'MFA_SETUP_VERIFIED') throw invalidParameter('Software token MFA is not set up: call AssociateSoftwareToken and VerifySoftwareToken with this session first.');
        return tokens(userOf(session.sub), true);
      }
      default:
        throw invalidParameter(`The challenge ${challenge} is not served by the local user pool`);
    }
  }

  async function associateSoftwareToken(input: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (input.AccessToken !== undefined) throw invalidParameter('The local user pool associates software tokens during sign-in only (Session), not with an AccessToken.');
    const session = takeSession(typeof input.Session === 'string' ? input.Session : undefined, ['MFA_SETUP']);
    const secret = base32Encode(randomBytes(20));
    return { SecretCode: secret, Session: openSession({ sub: session.sub, stage: 'MFA_SETUP', pendingTotpSecret: secret }) };
  }

  async function verifySoftwareToken(input: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (input.AccessToken !== undefined) throw invalidParameter('The local user pool verifies software tokens during sign-in only (Session), not with an AccessToken.');
    const code = str(input, 'UserCode');
    const key = typeof input.Session === 'string' ? input.Session : undefined;
    const session = takeSession(key, ['MFA_SETUP']);
    if (!session.pendingTotpSecret) throw invalidParameter('No software token was associated with this session: call AssociateSoftwareToken first.');
    const step = matchTotp(base32Decode(session.pendingTotpSecret), code, now());
    if (step === undefined) {
      if (++session.wrongCodes < MAX_CODE_ATTEMPTS) sessions.set(key!, session);
      throw new CognitoError('EnableSoftwareTokenMFAException', 'Code mismatch and fail enable Software Token MFA');
    }
    const secret = session.pendingTotpSecret;
    users.updateUser(session.sub, (u) => {
      u.totp = { secret, verified: true, lastStep: step };
    });
    return { Status: 'SUCCESS', Session: openSession({ sub: session.sub, stage: 'MFA_SETUP_VERIFIED' }) };
  }

  async function revokeToken(input: Record<string, unknown>): Promise<Record<string, unknown>> {
    checkClient(input);
    const token = str(input, 'Token');
    // RFC 7009, which RevokeToken follows: an unknown or already revoked token is not an error.
    users.revokeRefreshToken(token);
    return {};
  }

  return {
    InitiateAuth: initiateAuth,
    RespondToAuthChallenge: respondToAuthChallenge,
    AssociateSoftwareToken: associateSoftwareToken,
    VerifySoftwareToken: verifySoftwareToken,
    RevokeToken: revokeToken,
  };
}
