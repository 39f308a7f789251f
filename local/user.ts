/**
 * `npm run user -- add <name>`: creates a user of the local user pool, as an administrator's
 * AdminCreateUser would, and prints a temporary password (valid 7 days) to change at the first
 * sign-in (the console's page, or `s3files login`, which then sets up TOTP). `npm run user -- reset
 * <name>` gives a forgotten password's user a new temporary one (AdminSetUserPassword, not
 * permanent). `npm run user -- list` shows the users. Works whether
 * or not the service runs (the pool re-reads its users on every request). LOCAL_DATA_DIR (.local).
 */
import { resolve } from 'node:path';
import { localUserPoolId } from './cognito/server';
import { TEMPORARY_PASSWORD_DAYS, UserExistsError, UserStore } from './cognito/users';

const USAGE = 'Usage: npm run user -- add <name>   |   npm run user -- reset <name>   |   npm run user -- list';

function main(argv: string[]): number {
  const dataDir = resolve(process.env.LOCAL_DATA_DIR || '.local');
  const users = new UserStore(dataDir, localUserPoolId(process.env.AWS_REGION || 'us-east-1').split('_')[1]!);
  const [command, name, ...rest] = argv;
  if (command === 'add' && name && rest.length === 0) {
    try {
      const { user, temporaryPassword } = users.addUser(name, Date.now());
      console.log(`Added ${user.username} (sub ${user.sub}).`);
      console.log(`Temporary password (valid ${TEMPORARY_PASSWORD_DAYS} days): ${temporaryPassword}`);
      console.log(`Sign in to the console (npm start prints its URL), or with: npx s3files login ${user.username}   (you choose a new password; the CLI then sets up an authenticator app)`);
      return 0;
    } catch (err) {
      if (err instanceof UserExistsError || err instanceof RangeError) {
        console.error(err.message);
        return 1;
      }
      throw err;
    }
  }
  if (command === 'reset' && name && rest.length === 0) {
    const user = users.findByName(name);
    if (!user) {
      console.error(`No user named "${name}" (npm run user -- list)`);
      return 1;
    }
    console.log(`Temporary password for ${user.username} (valid ${TEMPORARY_PASSWORD_DAYS} days): ${users.resetTemporaryPassword(user.sub, Date.now())}`);
    return 0;
  }
  if (command === 'list' && name === undefined) {
    for (const u of users.list()) console.log(`${u.username}\t${u.sub}\t${u.status}\t${u.totp?.verified ? 'TOTP' : 'no TOTP yet'}`);
    return 0;
  }
  console.error(USAGE);
  return 2;
}

process.exitCode = main(process.argv.slice(2));
