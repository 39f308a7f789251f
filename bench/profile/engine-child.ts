/** Child process for run.ts: profiles one file and prints {seconds, maxRssMB, rows} as JSON. */
import { profileLocalFile } from '../../cli/profile-local';

async function main(): Promise<void> {
  const start = process.hrtime.bigint();
  const profile = await profileLocalFile(process.argv[2]!);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  process.stdout.write(JSON.stringify({ seconds, maxRssMB: process.resourceUsage().maxRSS / 1024, rows: profile.rows }));
}
void main();
