import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { literalSchemaKeys, SDK_SCHEMA_MODULES, sdkSchemaKeysPlugin } from '../../lib/constructs/bundling';

describe('literalSchemaKeys (the SDK schema plugin of every Lambda bundle)', () => {
  it('writes a computed key naming one of the module’s string constants as that string', () => {
    const source = ['const _e = "error";', 'const _hE = "httpError";', 'const _c = "client";', 'export var A$ = [-3, n0, "A", { [_e]: _c, [_hE]: 403 }, [], []];'].join('\n');
    const { code, rewritten } = literalSchemaKeys(source);
    expect(code).toContain('{ "error": _c, "httpError": 403 }');
    expect(rewritten).toBe(2);
  });

  it('leaves alone keys that are not its own string constants, and keeps escapes as written', () => {
    const source = ['const _q = "say \\"hi\\"";', 'let _v = "variable";', 'const _n = 7;', 'export var B$ = { [_q]: 1, [_v]: 2, [_n]: 3, [other]: 4 };'].join('\n');
    const { code, rewritten } = literalSchemaKeys(source);
    expect(code).toContain('{ "say \\"hi\\"": 1, [_v]: 2, [_n]: 3, [other]: 4 }');
    expect(rewritten).toBe(1);
  });

  it('applies to the SDK’s generated schema modules only', () => {
    expect(SDK_SCHEMA_MODULES.test('/p/node_modules/@aws-sdk/client-s3/dist-es/schemas/schemas_0.js')).toBe(true);
    expect(SDK_SCHEMA_MODULES.test('C:\\p\\node_modules\\@aws-sdk\\client-s3\\dist-es\\schemas\\schemas_0.js')).toBe(true);
    expect(SDK_SCHEMA_MODULES.test('/p/node_modules/@aws-sdk/client-s3/dist-es/commands/GetObjectCommand.js')).toBe(false);
    expect(SDK_SCHEMA_MODULES.test('/p/lambda/shared/schemas/api.js')).toBe(false);
  });

  describe('on the installed @aws-sdk/client-s3', () => {
    const dir = mkdtempSync(join(tmpdir(), 'schema-keys-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    /** Every schema the module exports, bundled with the given plugins and loaded. */
    async function schemas(name: string, plugins: Plugin[]): Promise<Record<string, unknown>> {
      const outfile = join(dir, `${name}.js`);
      await build({
        stdin: { contents: "export * from '@aws-sdk/client-s3/dist-es/schemas/schemas_0';", resolveDir: process.cwd(), loader: 'js' },
        bundle: true,
        platform: 'node',
        format: 'cjs',
        mainFields: ['module', 'main'],
        plugins,
        outfile,
        logLevel: 'silent',
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loads the bundle just built
      return require(outfile) as Record<string, unknown>;
    }

    /** A schema as data: its thunks (`() => OtherShape$`) named, not followed (shapes recurse). */
    const asData = (value: unknown) => JSON.stringify(value, (_k, v: unknown) => (typeof v === 'function' ? `thunk:${String(v)}` : v));

    it('rewrites every computed key of the schema module', () => {
      const source = readFileSync(require.resolve('@aws-sdk/client-s3/dist-es/schemas/schemas_0'), 'utf8');
      expect(source).toMatch(/\[_[A-Za-z0-9_$]+\]:/);
      const { code, rewritten } = literalSchemaKeys(source);
      expect(rewritten).toBeGreaterThan(1000);
      expect(code).not.toMatch(/\[_[A-Za-z0-9_$]+\]:/);
    });

    it('leaves every schema the module exports the same data as before', async () => {
      const [before, after] = await Promise.all([schemas('before', []), schemas('after', [sdkSchemaKeysPlugin])]);
      const names = Object.keys(before).filter((n) => n.endsWith('$'));
      expect(names.length).toBeGreaterThan(400);
      expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
      for (const name of names) expect([name, asData(after[name])]).toEqual([name, asData(before[name])]);
    });
  });
});
