import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';

/**
 * client/ runs in the browser (the console bundles it) as well as in Node (the s3files command):
 * nothing in it, nor anything it imports, may need Node. And the runtime (lambda/) never imports it.
 */
const ROOT = join(__dirname, '..', '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

describe('client/', () => {
  it('bundles for the browser with everything it imports (no Node module anywhere in it)', async () => {
    const result = await build({
      entryPoints: sources(join(ROOT, 'client')),
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      outdir: '/out',
      logLevel: 'silent',
    });

    expect(result.errors).toEqual([]);
    expect(result.outputFiles.length).toBeGreaterThan(0);
  });

  it('is never imported by the runtime in lambda/', () => {
    const offenders = sources(join(ROOT, 'lambda')).filter((file) => /from ['"](\.\.\/)+client\//.test(readFileSync(file, 'utf8')));

    expect(offenders.map((f) => relative(ROOT, f))).toEqual([]);
  });
});
