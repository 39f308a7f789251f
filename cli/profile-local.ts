/**
 * Profiles a local file with the same engine the service runs on S3 objects.
 * `npx tsx cli/profile-local.ts <file>` prints the profile as JSON.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { profileObject, type Profile, type ProfileOptions } from '../lambda/core/profile';

export async function profileLocalFile(path: string, options: ProfileOptions = {}): Promise<Profile> {
  const { size } = await stat(path);
  return profileObject({ body: createReadStream(path, { highWaterMark: 256 * 1024 }), key: basename(path), size }, options);
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
