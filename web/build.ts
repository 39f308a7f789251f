/**
 * Bundles the console with the repo's esbuild: `web/src/main.tsx` (and the CSS it imports) into
 * `console.js` + `console.css`, next to `index.html`. `npm run build:web` writes them to `web/dist/`
 * (what the stack deploys); local mode builds the same files in memory when first asked for them.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build, buildSync, type BuildOptions } from 'esbuild';

export interface ConsoleAsset {
  body: Buffer;
  contentType: string;
}

/** Paths as served (`/console.js`) → bytes. */
export type ConsoleAssets = Map<string, ConsoleAsset>;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

const options = (minify: boolean): BuildOptions => ({
  entryPoints: { console: join(__dirname, 'src', 'main.tsx') },
  bundle: true,
  format: 'esm',
  target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify,
  legalComments: 'none',
  logLevel: 'silent',
});

export async function buildConsole(opts: { minify?: boolean } = {}): Promise<ConsoleAssets> {
  const result = await build({ ...options(opts.minify ?? true), outdir: '/', write: false });
  const assets: ConsoleAssets = new Map();
  for (const file of result.outputFiles) {
    const ext = file.path.slice(file.path.lastIndexOf('.'));
    assets.set(file.path, { body: Buffer.from(file.contents), contentType: TYPES[ext] ?? 'application/octet-stream' });
  }
  assets.set('/index.html', { body: await readFile(join(__dirname, 'index.html')), contentType: TYPES['.html']! });
  return assets;
}

/** The same files written to `outdir`, synchronously: what the stack's asset bundling (tryBundle) needs. */
export function writeConsoleSync(outdir: string): void {
  mkdirSync(outdir, { recursive: true });
  buildSync({ ...options(true), outdir, write: true });
  copyFileSync(join(__dirname, 'index.html'), join(outdir, 'index.html'));
}
