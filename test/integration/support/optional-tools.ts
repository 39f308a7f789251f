/**
 * Suites that need a tool the repo cannot install on every machine (moto_server is pip-only; the
 * browser and Debian's pandas come from apt). Where the tool is missing the suite is reported as
 * skipped, named with the reason and the install command, never as a passing placeholder test.
 * Where the machine is supposed to have it (.ci/run lists what it installed in
 * S3FS_REQUIRED_TOOLS), a missing tool fails the run instead of skipping quietly.
 */
import { existsSync } from 'node:fs';

export interface OptionalTool {
  /** Short name, as listed in S3FS_REQUIRED_TOOLS (comma-separated). */
  id: string;
  /** Why it cannot be used here, or undefined when it can. */
  missing: string | undefined;
  /** How to get it. */
  install: string;
}

const required = new Set((process.env.S3FS_REQUIRED_TOOLS ?? '').split(',').map((s) => s.trim()).filter(Boolean));

/** `describe` when the tool is there; skipped (saying why) or failed (when required) when not. */
export function describeWith(tool: OptionalTool, title: string, suite: () => void): void {
  if (tool.missing === undefined) {
    describe(title, suite);
  } else if (required.has(tool.id)) {
    describe(title, () => {
      it(`needs ${tool.id}`, () => {
        throw new Error(`${tool.id} is required on this machine (S3FS_REQUIRED_TOOLS) but ${tool.missing}. ${tool.install}`);
      });
    });
  } else {
    console.warn(`Skipping "${title}": ${tool.missing}. ${tool.install}`);
    describe.skip(`${title} [skipped: ${tool.missing}]`, suite);
  }
}

/** Debian's headless Chromium, which playwright-core drives (`playwright install` cannot download browsers here). */
export const CHROMIUM_PATH = '/usr/bin/chromium-headless-shell';
export const CHROMIUM: OptionalTool = {
  id: 'chromium',
  missing: existsSync(CHROMIUM_PATH) ? undefined : `${CHROMIUM_PATH} is not installed`,
  install: 'apt-get install -y --no-install-recommends chromium-headless-shell',
};
