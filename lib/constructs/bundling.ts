/**
 * The esbuild options every Lambda bundle is built with, in one place: the CDK construct
 * (service-function.ts) and the bundle benchmark (bench/bundles/run.ts) both read them, so what is
 * measured is what is deployed. Why each choice: bench/bundles/RESULTS.md.
 */
import * as path from 'node:path';

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
