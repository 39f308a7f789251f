import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const VALIDATOR = join(__dirname, '..', 'node_modules', '@seriousme', 'openapi-schema-validator', 'bin', 'validate-api-cli.js');

/**
 * The verdict of @seriousme/openapi-schema-validator (OpenAPI 2.0 to 3.1) on a document, through
 * its CLI: the package is ESM-only, which Jest's CommonJS runtime cannot load.
 */
export function validateOpenApi(document: unknown): { valid: boolean; errors?: unknown } {
  const dir = mkdtempSync(join(tmpdir(), 'openapi-'));
  try {
    const file = join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(document));
    let out: string;
    try {
      out = execFileSync(process.execPath, [VALIDATOR, file], { encoding: 'utf8' });
    } catch (err) {
      // It exits 1 for an invalid document, with the verdict on stdout; anything else is a failure of the check itself.
      const stdout = (err as { stdout?: string }).stdout;
      if (!stdout) throw err;
      out = stdout;
    }
    return JSON.parse(out) as { valid: boolean; errors?: unknown };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
