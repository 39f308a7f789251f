import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildStack } from './helpers';

interface Report {
  pluginReports: { pluginName: string; violations: { ruleName: string; violatingConstructs?: { constructPath: string }[] }[] }[];
}

/**
 * cdk-nag 3 is a policy-validation plugin: findings land in the cloud assembly's validation report
 * (and errors make synth throw), not in annotations. Synthesise with the packs bin/app.ts uses and
 * list every finding that was not acknowledged, warnings included.
 */
function unacknowledgedFindings(context: Record<string, unknown>): string[] {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'nag-'));
  try {
    const { app } = buildStack({ nag: true, outdir, context });
    let thrown: unknown;
    try {
      app.synth();
    } catch (err) {
      thrown = err;
    }
    const file = ['policy-validation-report.json', 'validation-report.json'].map((f) => path.join(outdir, f)).find((f) => fs.existsSync(f));
    if (!file) throw thrown ?? new Error('cdk-nag wrote no validation report: are the packs registered?');
    const report = JSON.parse(fs.readFileSync(file, 'utf8')) as Report;
    expect(report.pluginReports.map((p) => p.pluginName).sort()).toEqual(['AwsSolutions', 'Serverless']);
    return report.pluginReports.flatMap((p) =>
      p.violations.flatMap((v) => (v.violatingConstructs ?? [{ constructPath: '?' }]).map((c) => `${v.ruleName} at ${c.constructPath}`)),
    );
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

describe('cdk-nag', () => {
  it('finds nothing unacknowledged in the default stack (AwsSolutions and Serverless packs)', () => {
    expect(unacknowledgedFindings({})).toEqual([]);
  });

  it('finds nothing unacknowledged with browser origins and a dev stack', () => {
    expect(unacknowledgedFindings({ allowedOrigins: 'https://app.example.com,https://admin.example.com', autoDeleteObjects: 'true' })).toEqual([]);
  });

  it('finds nothing unacknowledged with an alarm email, no web ACL, no reserved concurrency and the account logging role', () => {
    expect(unacknowledgedFindings({ alarmEmail: 'ops@example.com', waf: 'false', processorReservedConcurrency: 'none', apiGatewayCloudWatchRole: 'true' })).toEqual([]);
  });
});
