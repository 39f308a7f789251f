/**
 * Profiles a local file with the same engine the service runs on S3 objects.
 * `npx tsx cli/profile-local.ts <file>` prints the profile as JSON.
 */
import type { Profile, ProfileOptions } from '../lambda/core/profile';
import { profileFileParallel, type ParallelOptions } from '../local/profile-threads';

/** Profiles the file on every core (range workers on worker threads, the hash on its own thread). */
export async function profileLocalFile(path: string, options: ProfileOptions = {}, parallel: ParallelOptions = {}): Promise<Profile> {
  return profileFileParallel(path, options, parallel);
}

if (require.main === module) {
  const path = process.argv[2];
  if (!path) {
    process.stderr.write('usage: npx tsx cli/profile-local.ts <file>\n');
    process.exit(2);
  }
  profileLocalFile(path).then(
    (profile) => process.stdout.write(`${JSON.stringify(profile, null, 2)}\n`),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
