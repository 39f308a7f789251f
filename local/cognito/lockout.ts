/**
 * Cognito's lock-out after failed passwords, per user name (an unknown name included, so a lock-out
 * tells nothing of who exists): after 5 failures a user is locked out for 1 second, doubling with
 * each further failure up to 15 minutes; attempts while locked out are refused without being
 * counted; a right password, or 15 minutes without a failure, starts the count again. Kept in
 * memory: a restart forgets it. Shared by the JSON 1.1 endpoint (`s3files login`) and the console's
 * sign-in page, as Cognito counts a user's failures across all ways in.
 */
const FREE_FAILURES = 5;
const MAX_LOCKOUT_MS = 15 * 60 * 1000;

interface Failures {
  count: number;
  lastAt: number;
  lockedUntil: number;
}

export class PasswordLockout {
  private readonly failures = new Map<string, Failures>();

  constructor(private readonly now: () => number) {}

  /** Whether a password for this name is refused unseen now. */
  isLockedOut(username: string): boolean {
    const entry = this.current(username);
    return entry !== undefined && entry.lockedUntil > this.now();
  }

  recordFailure(username: string): void {
    const at = this.now();
    const entry = this.current(username) ?? { count: 0, lastAt: at, lockedUntil: 0 };
    entry.count += 1;
    entry.lastAt = at;
    if (entry.count >= FREE_FAILURES) entry.lockedUntil = at + Math.min(1000 * 2 ** (entry.count - FREE_FAILURES), MAX_LOCKOUT_MS);
    this.failures.set(username.toLowerCase(), entry);
  }

  recordSuccess(username: string): void {
    this.failures.delete(username.toLowerCase());
  }

  private current(username: string): Failures | undefined {
    const key = username.toLowerCase();
    const entry = this.failures.get(key);
    if (entry && entry.lastAt + MAX_LOCKOUT_MS <= this.now() && entry.lockedUntil <= this.now()) {
      this.failures.delete(key);
      return undefined;
    }
    return entry;
  }
}
