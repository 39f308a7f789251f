import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { passwordMatchesVerifier } from '../../../cli/srp';
import { ensureFirstUser, UserStore } from '../../../local/cognito/users';

/** npm start's first user, in a real users.json in a temporary folder. */
describe("npm start's first user", () => {
  let dir: string;
  let users: UserStore;
  const NOW = Date.UTC(2030, 0, 1);
  const matches = (sub: string, password: string) => {
    const user = users.findBySub(sub)!;
    return passwordMatchesVerifier({ poolName: users.poolName, userId: sub, password, saltHex: user.saltHex, verifierHex: user.verifierHex });
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 's3fs-first-user-'));
    users = new UserStore(dir, 's3filesLocal');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('adds the user, with its name as sub, and a temporary password that signs in', () => {
    const first = ensureFirstUser(users, 'local-user', NOW);

    expect(first).toEqual({ username: 'local-user', temporaryPassword: expect.any(String) });
    expect(users.findBySub('local-user')).toMatchObject({ username: 'local-user', status: 'FORCE_CHANGE_PASSWORD' });
    expect(matches('local-user', first!.temporaryPassword!)).toBe(true);
  });

  it('gives a fresh temporary password at the next start while the user has not chosen one, and the old one stops working', () => {
    const first = ensureFirstUser(users, 'local-user', NOW)!;

    const second = ensureFirstUser(users, 'local-user', NOW + 1000)!;

    expect(second.temporaryPassword).not.toBe(first.temporaryPassword);
    expect(matches('local-user', second.temporaryPassword!)).toBe(true);
    expect(matches('local-user', first.temporaryPassword!)).toBe(false);
    expect(users.list()).toHaveLength(1);
  });

  it('leaves a user who chose a password alone', () => {
    ensureFirstUser(users, 'local-user', NOW);
    users.setPassword('local-user', 'Chosen-password-1!');

    const again = ensureFirstUser(users, 'local-user', NOW + 1000);

    expect(again).toEqual({ username: 'local-user' });
    expect(matches('local-user', 'Chosen-password-1!')).toBe(true);
  });

  it('adds nobody to a pool that already has other users', () => {
    users.addUser('alice', NOW);

    expect(ensureFirstUser(users, 'local-user', NOW)).toBeUndefined();
    expect(users.list().map((u) => u.username)).toEqual(['alice']);
  });
});
