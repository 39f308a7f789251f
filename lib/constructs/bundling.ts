/**
 * How every Lambda bundle is built, in one place: the esbuild options, the plugins and
 * `bundleFunction`, through which the CDK construct (service-function.ts, via
 * lib/bundle-function.ts), the bundle benchmark (bench/bundles/run.ts) and the bundle tests all
 * build, so what is measured and tested is what is deployed. Why each choice: bench/bundles/NOTES.md.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { build, type BuildOptions, type BuildResult, type Plugin } from 'esbuild';

/**
 * The syntax esbuild emits: the oldest Node.js the project supports (package.json `engines`), not the
 * Lambda runtime (SERVICE_RUNTIME, newer), so the bundle test and benchmark can load the very bundle
 * that is deployed under any supported Node.
 */
export const NODE_TARGET = 'node22';

/**
 * CommonJS: in three of four bench runs it loaded a few per cent faster than the same bundle as ESM,
 * within noise otherwise (bench/bundles/RESULTS.md; the profile shows ESM compile as the largest single
 * cost). `module` first in
 * mainFields still makes esbuild read the SDK's ES sources (`dist-es`), which tree-shake far
 * better than its CommonJS builds; esbuild converts them.
 */
export const BUNDLE_FORMAT = 'cjs' as 'esm' | 'cjs';
export const MAIN_FIELDS = ['module', 'main'];

/**
 * A few bundled CommonJS dependencies `require()` Node built-ins at run time; in an ES module that
 * needs a real `require`, which this banner provides (esbuild's `__require` shim uses it).
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __cjsRequire } from 'node:module'; const require = __cjsRequire(import.meta.url);";

/**
 * Swaps the SDK's default credential chain for environment credentials only
 * (lambda/shared/lambda-credentials.ts): in Lambda the role's credentials are always in
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, and the rest of the chain (SSO,
 * ini, process, web identity, IMDS, and `@aws-sdk/nested-clients` for STS/SSO) is ~30% of each
 * bundle's bytes and ~20% of its load time (bench/bundles/RESULTS.md). Bundles only: local mode and tests
 * resolve the real module. Absolute path, so the alias does not depend on esbuild's working directory.
 */
export const MODULE_ALIASES: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': path.join(__dirname, '..', '..', 'lambda', 'shared', 'lambda-credentials.ts'),
};

/** The options, as esbuild's own API spells them (the benchmark calls esbuild directly). */
export const SERVICE_ESBUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: NODE_TARGET,
  format: BUNDLE_FORMAT,
  mainFields: MAIN_FIELDS,
  minify: true,
  treeShaking: true,
  // The .map is built and shipped in every asset, but Node loads it only with
  // `-c sourceMaps=true` (NODE_OPTIONS=--enable-source-maps): parsing it costs each cold start.
  // No `keepNames`: +5% bytes and a measurable 1-2 ms more load (bench/bundles/NOTES.md).
  sourcemap: true,
  sourcesContent: false,
  // Bundle the SDK too (nothing external): versions pinned by our lock file, and only the
  // commands we import end up in the bundle, instead of the whole SDK the runtime provides.
  external: [] as string[],
  alias: MODULE_ALIASES,
  banner: BUNDLE_FORMAT === 'esm' ? { js: ESM_REQUIRE_BANNER } : undefined,
  legalComments: 'none',
} as const;

/** One string constant of a generated SDK schema module: `const _hE = "httpError";`. */
const SCHEMA_STRING_CONST = /^const (_[A-Za-z0-9_$]+) = ("(?:[^"\\\n]|\\.)*");$/gm;
/** A computed property key naming an identifier: `[_hE]:`. */
const COMPUTED_KEY = /\[(_[A-Za-z0-9_$]+)\]:/g;

/**
 * Rewrites the computed trait keys of a generated SDK schema module (`{ [_hE]: 403 }`, where
 * `const _hE = "httpError"`) as the literal keys they stand for (`{ "httpError": 403 }`). Same
 * object, same behaviour; the difference is that esbuild cannot prove a computed key free of side
 * effects, so every schema holding one is kept in the bundle whether or not anything uses it, and
 * with them every schema they refer to: all of S3's ~100 operations (~65 KB of each minified
 * bundle) for the handful of commands a function sends. Upstream: aws/aws-sdk-js-v3#7607, and the
 * codegen fix proposed in smithy-lang/smithy-typescript#1889, which makes this step a no-op.
 * Only keys whose identifier is one of the module's own top-level string constants are rewritten;
 * anything else is left as it is (and then merely not tree-shaken).
 */
export function literalSchemaKeys(source: string): { code: string; rewritten: number } {
  const strings = new Map<string, string>();
  for (const [, name, literal] of source.matchAll(SCHEMA_STRING_CONST)) strings.set(name!, literal!);
  let rewritten = 0;
  const code = source.replace(COMPUTED_KEY, (whole, name: string) => {
    const literal = strings.get(name);
    if (literal === undefined) return whole;
    rewritten++;
    return `${literal}:`;
  });
  return { code, rewritten };
}

/** The SDK's generated schema modules (`@aws-sdk/client-s3/dist-es/schemas/schemas_0.js`). */
export const SDK_SCHEMA_MODULES = /[\\/]node_modules[\\/]@aws-sdk[\\/][^\\/]+[\\/]dist-es[\\/]schemas[\\/][^\\/]+\.js$/;

/** The esbuild plugin that applies `literalSchemaKeys` to every SDK schema module it bundles. */
export const sdkSchemaKeysPlugin: Plugin = {
  name: 'sdk-literal-schema-keys',
  setup(bundler) {
    bundler.onLoad({ filter: SDK_SCHEMA_MODULES }, async ({ path: file }) => ({
      contents: literalSchemaKeys(await readFile(file, 'utf8')).code,
      loader: 'js',
    }));
  },
};

/** The plugins every Lambda bundle is built with (plugins need esbuild's JS API, not its CLI). */
export const SERVICE_ESBUILD_PLUGINS: readonly Plugin[] = [sdkSchemaKeysPlugin];

/** The file name of a bundle inside its asset: Lambda's handler is `index.handler`. */
export const BUNDLE_FILE = BUNDLE_FORMAT === 'esm' ? 'index.mjs' : 'index.js';

/**
 * Bundles one Lambda entry module into `outdir` (`index.js` and its `.map`) exactly as the stack
 * ships it: the options and plugins above. The CDK construct (service-function.ts, through
 * lib/bundle-function.ts), the bundle benchmark and the bundle tests all build through here.
 */
export function bundleFunction(entry: string, outdir: string, overrides: BuildOptions = {}): Promise<BuildResult> {
  return build({
    ...(SERVICE_ESBUILD_OPTIONS as unknown as BuildOptions),
    plugins: [...SERVICE_ESBUILD_PLUGINS],
    entryPoints: [entry],
    outfile: path.join(outdir, BUNDLE_FILE),
    logLevel: 'error',
    ...overrides,
  });
}
