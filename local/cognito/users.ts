/**
 * The local user pool's users, in one JSON file of the data folder (`<data>/cognito/users.json`,
 * mode 0600): per user a UUID `sub` (Cognito's internal user name in a pool that signs in by
 * alias), the name they sign in with (compared case-insensitively, as the stack's pool does), an
 * SRP salt and verifier instead of the password, the TOTP secret, and the refresh tokens issued
 * (by their SHA-256 only). Written whole to a temporary file and renamed, so a reader (the service,
 * while `npm run user` adds someone) always sees a complete file; the file is read again on every
 * use, so a user added by another process can sign in at once.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createVerifier } from '../../cli/srp';
import { base32Decode, matchTotp } from './totp';

export type UserStatus = 'FORCE_CHANGE_PASSWORD' | 'CONFIRMED';

export interface StoredUser {
  sub: string;
  /** As given at creation; looked up lower-cased. */
  username: string;
  status: UserStatus;
  saltHex: string;
  verifierHex: string;
  /** Epoch ms after which a temporary password no longer signs in (Cognito: 7 days). */
  temporaryPasswordExpiresAt?: number;
  /** Base32; `verified` once a VerifySoftwareToken proved the user's app has it. */
  totp?: { secret: string; verified: boolean; lastStep?: number };
  createdAt: number;
}

export interface StoredRefreshToken {
  sub: string;
  expiresAt: number;
  revoked: boolean;
}

interface UserFile {
  version: 1;
  users: StoredUser[];
  /** By the SHA-256 (hex) of the token: the file never holds a usable refresh token. */
  refreshTokens: Record<string, StoredRefreshToken>;
}

/** The stack's password policy (lib/constructs/auth.ts): 12 characters, lower, upper, digit, symbol. */
export const PASSWORD_MIN_LENGTH = 12;
export const TEMPORARY_PASSWORD_DAYS = 7;
const DAY_MS = 24 * 60 * 60 * 1000;

/** What is wrong with a password under the pool's policy, or undefined when it passes. */
export function passwordPolicyProblem(password: string): string | undefined {
  if (password.length < PASSWORD_MIN_LENGTH) return `Password not long enough (at least ${PASSWORD_MIN_LENGTH} characters)`;
  if (!/[a-z]/.test(password)) return 'Password must have lowercase characters';
  if (!/[A-Z]/.test(password)) return 'Password must have uppercase characters';
  if (!/[0-9]/.test(password)) return 'Password must have numeric characters';
  if (!/[\^$*.[\]{}()?"!@#%&/\\,><':;|_~`=+\- ]/.test(password)) return 'Password must have symbol characters';
  return undefined;
}

export const hashRefreshToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export class UserExistsError extends Error {
  constructor(username: string) {
    super(`A user named "${username}" already exists`);
    this.name = 'UserExistsError';
  }
}

/** A user name Cognito would take: 1-128 printable characters, no whitespace. */
export function validateUsername(username: string): void {
  if (!/^[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,128}$/u.test(username)) {
    throw new RangeError(`"${username}" is not a user name: 1-128 characters, no spaces or control characters`);
  }
}

export class UserStore {
  readonly file: string;

  constructor(
    dataDir: string,
    /** The pool's name in SRP (the part of the pool id after "_"): part of every verifier. */
    readonly poolName: string,
  ) {
    this.file = join(dataDir, 'cognito', 'users.json');
  }

  private read(): UserFile {
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as UserFile;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, users: [], refreshTokens: {} };
      throw err;
    }
  }

  private write(data: UserFile): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(data, null, 2) + '\n', { mode: 0o600 });
    renameSync(tmp, this.file);
  }

  /** Reads, changes and writes the file in one synchronous step (no other request runs in between). */
  private update<T>(change: (data: UserFile) => T): T {
    const data = this.read();
    const result = change(data);
    this.write(data);
    return result;
  }

  list(): StoredUser[] {
    return this.read().users;
  }

  findByName(username: string): StoredUser | undefined {
    const wanted = username.toLowerCase();
    return this.read().users.find((u) => u.username.toLowerCase() === wanted);
  }

  findBySub(sub: string): StoredUser | undefined {
    return this.read().users.find((u) => u.sub === sub);
  }

  /** An administrator's AdminCreateUser: a new user with a temporary password, to change at first sign-in. */
  addUser(username: string, now: number, options: { sub?: string } = {}): { user: StoredUser; temporaryPassword: string } {
    validateUsername(username);
    const temporaryPassword = generateTemporaryPassword();
    const user = this.update((data) => {
      if (data.users.some((u) => u.username.toLowerCase() === username.toLowerCase())) throw new UserExistsError(username);
      const sub = options.sub ?? randomUUID();
      if (data.users.some((u) => u.sub === sub)) throw new UserExistsError(username);
      const created: StoredUser = {
        sub,
        username,
        status: 'FORCE_CHANGE_PASSWORD',
        ...createVerifier(this.poolName, sub, temporaryPassword),
        temporaryPasswordExpiresAt: now + TEMPORARY_PASSWORD_DAYS * DAY_MS,
        createdAt: now,
      };
      data.users.push(created);
      return created;
    });
    return { user, temporaryPassword };
  }

  /** An administrator's AdminSetUserPassword with Permanent=false: a new temporary password, to change at the next sign-in. */
  resetTemporaryPassword(sub: string, now: number): string {
    const temporaryPassword = generateTemporaryPassword();
    this.updateUser(sub, (user) => {
      Object.assign(user, createVerifier(this.poolName, sub, temporaryPassword));
      user.status = 'FORCE_CHANGE_PASSWORD';
      user.temporaryPasswordExpiresAt = now + TEMPORARY_PASSWORD_DAYS * DAY_MS;
    });
    return temporaryPassword;
  }

  /**
   * Whether `code` is the user's TOTP code now (a step either side allowed) and was not used before
   * (RFC 6238 section 5.2: a second sign-in within the same 30 s needs the next code); records the
   * step when it is. False when the user has no verified TOTP.
   */
  acceptTotpCode(sub: string, code: string, now: number): boolean {
    const user = this.findBySub(sub);
    const step = user?.totp?.verified ? matchTotp(base32Decode(user.totp.secret), code, now) : undefined;
    if (step === undefined || step <= (user?.totp?.lastStep ?? -1)) return false;
    this.updateUser(sub, (u) => {
      u.totp!.lastStep = step;
    });
    return true;
  }

  setPassword(sub: string, password: string): void {
    this.updateUser(sub, (user) => {
      Object.assign(user, createVerifier(this.poolName, sub, password));
      user.status = 'CONFIRMED';
      delete user.temporaryPasswordExpiresAt;
    });
  }

  updateUser(sub: string, change: (user: StoredUser) => void): StoredUser {
    return this.update((data) => {
      const user = data.users.find((u) => u.sub === sub);
      if (!user) throw new Error(`No user ${sub}`);
      change(user);
      return user;
    });
  }

  addRefreshToken(token: string, sub: string, expiresAt: number, now: number): void {
    this.update((data) => {
      // Expired ones are of no more use to anyone: dropped whenever a new one is written.
      for (const [hash, entry] of Object.entries(data.refreshTokens)) if (entry.expiresAt < now) delete data.refreshTokens[hash];
      data.refreshTokens[hashRefreshToken(token)] = { sub, expiresAt, revoked: false };
    });
  }

  findRefreshToken(token: string): StoredRefreshToken | undefined {
    return this.read().refreshTokens[hashRefreshToken(token)];
  }

  /** Whether there was such a token (revoked now, or already). */
  revokeRefreshToken(token: string): boolean {
    return this.update((data) => {
      const entry = data.refreshTokens[hashRefreshToken(token)];
      if (entry) entry.revoked = true;
      return entry !== undefined;
    });
  }
}

/** 16 characters meeting the policy: 12 random ones plus one of each class the policy asks for. */
function generateTemporaryPassword(): string {
  const random = randomBytes(9).toString('base64url');
  const classes = ['abcdefghijkmnpqrstuvwxyz', 'ABCDEFGHJKLMNPQRSTUVWXYZ', '23456789', '!#%+=-_'];
  const extra = classes.map((set) => set[randomBytes(1)[0]! % set.length]!);
  return random + extra.join('');
}

export interface FirstUser {
  username: string;
  /** Set when the user still has to choose a password: the temporary one to sign in with now. */
  temporaryPassword?: string;
}

/**
 * `npm start`'s user, so a newcomer signs in to the console with nothing else installed: in an
 * empty pool it adds `username` with that name as its `sub` too (so the token `npm start` prints
 * for that user id and the console sign-in reach the same `users/<sub>/`), with a temporary
 * password. Until the user has chosen their own password a temporary password is all there is to
 * print, and only its verifier is kept, so each start sets a fresh one (the previous one stops
 * working). Undefined when the pool has other users but not this one: they were added on purpose.
 */
export function ensureFirstUser(users: UserStore, username: string, now: number): FirstUser | undefined {
  const existing = users.findBySub(username);
  if (!existing) {
    if (users.list().length > 0) return undefined;
    return { username, temporaryPassword: users.addUser(username, now, { sub: username }).temporaryPassword };
  }
  if (existing.status === 'FORCE_CHANGE_PASSWORD') return { username: existing.username, temporaryPassword: users.resetTemporaryPassword(existing.sub, now) };
  return { username: existing.username };
}
