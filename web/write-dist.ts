/** `npm run build:web`: the console's files into `web/dist/` (what the stack's BucketDeployment uploads), with their gzip sizes. */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildConsole } from './build';

async function main(): Promise<void> {
  const out = join(__dirname, 'dist');
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  for (const [path, asset] of await buildConsole()) {
    await writeFile(join(out, path), asset.body);
    console.log(`${path.padEnd(14)} ${String(asset.body.length).padStart(7)} bytes, ${String(gzipSync(asset.body).length).padStart(6)} gzip`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
