import { join, resolve } from 'node:path';
import { loadOrCreateKey, signIdToken } from './auth';
import { validateUserId } from '../lambda/shared/keys';

/**
 * `npm run token -- <user> [--ttl SECONDS]`: prints a bearer token for `<user>` (the `sub` claim),
 * signed with the local service's key in LOCAL_DATA_DIR (.local).
 */
function main(argv: string[]): number {
  const args = [...argv];
  let ttlSeconds: number | undefined;
  const ttlAt = args.indexOf('--ttl');
  if (ttlAt >= 0) {
    ttlSeconds = Number(args[ttlAt + 1]);
    args.splice(ttlAt, 2);
    if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) {
      console.error('--ttl takes a positive number of seconds');
      return 2;
    }
  }
  const user = args[0] ?? 'local-user';
  try {
    validateUserId(user);
  } catch {
    console.error(`"${user}" is not a valid user id: 1-128 characters of A-Z a-z 0-9 . _ @ -, starting with a letter or digit`);
    return 2;
  }
  const key = loadOrCreateKey(join(resolve(process.env.LOCAL_DATA_DIR || '.local'), 'jwt-key'));
  console.log(signIdToken(key, user, ttlSeconds ? { ttlSeconds } : {}));
  return 0;
}

process.exitCode = main(process.argv.slice(2));
