/**
 * The console's sign-in page checked against the local user pool: the same users, passwords,
 * TOTP secrets and lock-out as the JSON 1.1 endpoint `s3files login` speaks to, in the steps of
 * Cognito's hosted UI (password; a new password for a temporary one; a code for a user with TOTP).
 * A form posts the password itself, so it is checked against the stored SRP verifier (x from the
 * salt, the user's `sub` and the password, g^x mod N compared in constant time: cli/srp.ts).
 */
import { randomBytes } from 'node:crypto';
import { createVerifier, passwordMatchesVerifier } from '../../cli/srp';
import { SignInError, type SignInChecks, type SignInStep } from '../oauth';
import type { PasswordLockout } from './lockout';
import { passwordPolicyProblem, type StoredUser, type UserStore } from './users';

/** Cognito's answers, word for word; the first is the same for an unknown user and a wrong password. */
export const WRONG_PASSWORD = 'Incorrect username or password.';
export const LOCKED_OUT = 'Password attempts exceeded';
export const WRONG_CODE = 'Invalid code received for user';
export const TEMPORARY_PASSWORD_EXPIRED = 'Temporary password has expired and must be reset by an administrator.';

export function createPoolSignIn(options: { users: UserStore; lockout: PasswordLockout; now: () => number }): SignInChecks {
  const { users, lockout, now } = options;
  // An unknown name is checked against this verifier, so it costs the same work as a known one.
  const decoy = createVerifier(users.poolName, 'no-such-user', randomBytes(32).toString('hex'));

  /** After the password (and a new one, if it was temporary). */
  function secondFactor(user: StoredUser): SignInStep {
    // The stack's pool requires TOTP; locally a user who has not set it up (with `s3files login`)
    // signs in to the console with the password alone, so a newcomer needs no authenticator app.
    return user.totp?.verified ? { kind: 'totpRequired', sub: user.sub } : { kind: 'signedIn', sub: user.sub };
  }

  return {
    async password(username, password) {
      if (lockout.isLockedOut(username)) throw new SignInError(LOCKED_OUT);
      const user = users.findByName(username);
      const matches = passwordMatchesVerifier({
        poolName: users.poolName,
        userId: user?.sub ?? 'no-such-user',
        password,
        saltHex: user?.saltHex ?? decoy.saltHex,
        verifierHex: user?.verifierHex ?? decoy.verifierHex,
      });
      if (!user || !matches) {
        lockout.recordFailure(username);
        throw new SignInError(WRONG_PASSWORD);
      }
      lockout.recordSuccess(username);
      if (user.status === 'FORCE_CHANGE_PASSWORD') {
        if ((user.temporaryPasswordExpiresAt ?? 0) <= now()) throw new SignInError(TEMPORARY_PASSWORD_EXPIRED);
        return { kind: 'newPasswordRequired', sub: user.sub };
      }
      return secondFactor(user);
    },

    async newPassword(sub, password) {
      const problem = passwordPolicyProblem(password);
      if (problem) throw new SignInError(`Password does not conform to policy: ${problem}`);
      users.setPassword(sub, password);
      const user = users.findBySub(sub);
      if (!user) throw new SignInError(WRONG_PASSWORD);
      return secondFactor(user);
    },

    async totp(sub, code) {
      if (!users.acceptTotpCode(sub, code.replace(/\s/g, ''), now())) throw new SignInError(WRONG_CODE);
      return { kind: 'signedIn', sub };
    },
  };
}
