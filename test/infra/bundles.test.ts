import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Template } from 'aws-cdk-lib/assertions';
import { ENV } from '../../lambda/shared/config';
import { SIGNING_KEY_NAMES, SIGNING_KEY_PURPOSES } from '../../lambda/shared/signing-keys';
import { buildStack, logicalId } from './helpers';

const BUNDLE_ENV = {
  PATH: process.env.PATH,
  AWS_REGION: 'eu-west-1',
  [ENV.uploadsBucket]: 'uploads-bucket',
  [ENV.resultsBucket]: 'results-bucket',
  [ENV.allowedOrigins]: '',
  // Names of the key secrets, as the stack sets them; with no credentials in this environment the
  // fetch started at load fails, which only the first request would see.
  ...Object.fromEntries(SIGNING_KEY_NAMES.map((p) => [SIGNING_KEY_PURPOSES[p].envVar, `arn:aws:secretsmanager:eu-west-1:111111111111:secret:${p}-key-AbCdEf`])),
};

/**
 * One real synth: esbuild bundles the real entries in lambda/functions with the options the stack
 * deploys, and each bundle is loaded by a fresh Node process, as Lambda would, with the environment
 * the stack sets (no NODE_OPTIONS by default).
 */
describe('function bundles', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bundles-'));
  let bundles: Record<string, string>;

  beforeAll(() => {
    const { app, stack } = buildStack({ bundle: true, outdir, context: { 'aws:cdk:enable-asset-metadata': true }, props: { functionsDir: path.join(__dirname, '..', '..', 'lambda', 'functions') } });
    app.synth();
    const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Metadata?: Record<string, string> }>;
    bundles = Object.fromEntries(
      Object.entries(stack.functions).map(([name, fn]) => {
        const assetDir = path.join(outdir, resources[logicalId(fn)]!.Metadata!['aws:asset:path']!);
        const file = ['index.mjs', 'index.js'].map((f) => path.join(assetDir, f)).find((f) => fs.existsSync(f));
        return [name, file ?? assetDir];
      }),
    );
  }, 180_000);

  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  it.each(['list', 'read', 'upload', 'process', 'fanOutPlan', 'fanOutRange', 'fanOutMerge'])('builds a %s bundle that exports a handler function', (name) => {
    const file = bundles[name]!;
    const probe = `import(${JSON.stringify(pathToFileURL(file).href)}).then((m) => process.stdout.write(typeof m.handler))`;
    const output = execFileSync(process.execPath, ['-e', probe], { env: BUNDLE_ENV, encoding: 'utf8' });
    expect(output).toBe('function');
  });

  it('maps a start-up error in a bundle back to the TypeScript source with --enable-source-maps (-c sourceMaps=true)', () => {
    // Without the bucket variable, loadConfig throws at module scope, inside the minified bundle.
    const env = { ...BUNDLE_ENV, [ENV.uploadsBucket]: '' };
    const probe = `try { require(${JSON.stringify(bundles.list!)}) } catch (err) { process.stdout.write(String(err.stack)) }`;
    const output = execFileSync(process.execPath, ['--enable-source-maps', '-e', probe], { env, encoding: 'utf8' });
    expect(output).toContain(`Missing required environment variable ${ENV.uploadsBucket}`);
    expect(output).toMatch(/lambda[\\/]shared[\\/]config\.ts:\d+/);
  });

  it.each(['list', 'read', 'upload', 'process'])('builds a %s bundle whose only credential source is the environment', (name) => {
    // lib/constructs/bundling.ts aliases the SDK's default chain to lambda/shared/lambda-credentials.ts.
    const code = fs.readFileSync(bundles[name]!, 'utf8');
    expect(code).toContain('@aws-sdk/credential-provider-env - fromEnv');
    expect(code).not.toContain('defaultProvider::fromSSO');
  });

  it.each([
    ['list', true],
    ['upload', true],
    ['read', false],
    ['process', false],
  ])('builds a %s bundle that fetches signing keys from Secrets Manager: %p (only functions with keys pay for it)', (name, carries) => {
    const code = fs.readFileSync(bundles[name]!, 'utf8');
    expect(code.includes('GetSecretValue')).toBe(carries);
  });

  it.each(['list', 'read', 'upload', 'process'])('builds a %s bundle with one SDK client, S3 (other services through lambda/shared/aws-json.ts)', (name) => {
    // Each SDK client names its package for the user agent; a second one would bring its own protocol stack.
    const code = fs.readFileSync(bundles[name]!, 'utf8');
    expect([...new Set(code.match(/"@aws-sdk\/client-[a-z0-9-]+"/g))]).toEqual(['"@aws-sdk/client-s3"']);
  });

  it.each([
    ['list', 'ListObjectsV2'],
    ['read', 'HeadObject'],
    ['upload', 'CompleteMultipartUpload'],
    ['process', 'HeadObject'],
  ])('builds a %s bundle with the schema of the S3 operations it sends (%s) and none of the others', (name, sent) => {
    // The SDK schema plugin (lib/constructs/bundling.ts): without it every bundle holds all of S3's operations.
    const code = fs.readFileSync(bundles[name]!, 'utf8');
    expect(code).toContain(`"${sent}"`);
    for (const unsent of ['WriteGetObjectResponse', 'SelectObjectContent', 'PutBucketLifecycleConfiguration', 'GetBucketAnalyticsConfiguration']) {
      expect([unsent, code.includes(`"${unsent}"`)]).toEqual([unsent, false]);
    }
  });

  it('writes a source map next to every bundle', () => {
    for (const file of Object.values(bundles)) expect(fs.existsSync(`${file}.map`)).toBe(true);
  });
});
