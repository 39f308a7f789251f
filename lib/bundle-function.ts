/**
 * `tsx lib/bundle-function.ts ENTRY OUTDIR`: bundles one Lambda entry into OUTDIR as the stack ships
 * it (lib/constructs/bundling.ts `bundleFunction`). The CDK construct runs this as a child process:
 * CDK's bundling hook is synchronous, and esbuild runs plugins only in its asynchronous API.
 */
import { bundleFunction } from './constructs/bundling';

const [entry, outdir] = process.argv.slice(2);
if (!entry || !outdir) {
  process.stderr.write('usage: tsx lib/bundle-function.ts ENTRY OUTDIR\n');
  process.exit(2);
}
bundleFunction(entry, outdir).catch((err: unknown) => {
  // esbuild has printed the errors already (logLevel 'error').
  process.stderr.write(`bundling ${entry} failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
