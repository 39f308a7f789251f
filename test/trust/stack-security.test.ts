/* eslint-disable @typescript-eslint/no-explicit-any -- the synthesized template is untyped JSON */
import { Template } from 'aws-cdk-lib/assertions';
import * as nag from '../../lib/constructs/nag';
import { buildStack } from '../infra/helpers';

/**
 * Security checks on the synthesized stack that test/infra does not already make. Covered there,
 * and not repeated here: cdk-nag AwsSolutions + Serverless with no unacknowledged finding
 * (nag.test.ts), throttling and access logs (stack.test.ts "logs access and errors, traces the
 * stage and throttles each method"), each function's exact S3 actions (stack.test.ts "permissions").
 * Owned here: no wildcard action (`s3:*` included) and no `*` resource (so no S3 action on `*`)
 * in any Allow of any policy (IAM, bucket, queue) unless the action has no narrower resource, for
 * the default and the dev stack; and every cdk-nag acknowledgement carries a written reason.
 */

// IAM actions that accept only Resource "*" (no resource-level permissions exist for them).
const RESOURCE_STAR_ONLY = new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets']);
/**
 * The vended-log delivery actions a state machine's role needs to log to CloudWatch Logs: they
 * support no resource-level permission (the Step Functions developer guide's logging policy grants
 * them on "*"). Allowed on "*" only in the fan-out state machine's role.
 */
const LOG_DELIVERY_STAR_ONLY = new Set([
  'logs:CreateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:DescribeLogGroups',
  'logs:DescribeResourcePolicies',
  'logs:GetLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:UpdateLogDelivery',
]);

interface Statement {
  where: string;
  Effect: string;
  Action: string[];
  Resource: unknown[];
}

function statementsOf(template: Record<string, any>): Statement[] {
  const out: Statement[] = [];
  for (const [id, res] of Object.entries<any>(template.Resources)) {
    const docs: any[] = [];
    if (res.Properties?.PolicyDocument) docs.push(res.Properties.PolicyDocument);
    if (String(res.Type).startsWith('AWS::IAM::')) for (const p of res.Properties?.Policies ?? []) docs.push(p.PolicyDocument);
    for (const doc of docs) {
      for (const s of doc.Statement as any[]) {
        out.push({ where: `${res.Type} ${id}`, Effect: s.Effect, Action: [s.Action ?? s.NotAction].flat(), Resource: [s.Resource ?? s.NotResource].flat() });
      }
    }
  }
  return out;
}

const stacks = {
  default: {},
  dev: { allowedOrigins: 'https://app.example.com', autoDeleteObjects: 'true' },
};

describe.each(Object.entries(stacks))('the %s stack', (_, context) => {
  const acknowledgements: { rule: string; reason: string }[] = [];
  let statements: Statement[];

  beforeAll(() => {
    const original = nag.acknowledgeNag;
    const spy = jest.spyOn(nag, 'acknowledgeNag').mockImplementation((scope, rule, reason) => {
      acknowledgements.push({ rule, reason });
      original(scope, rule, reason);
    });
    const { stack } = buildStack({ context });
    statements = statementsOf(Template.fromStack(stack).toJSON());
    spy.mockRestore();
  });

  it('has policies to check', () => {
    expect(statements.filter((s) => s.Effect === 'Allow').length).toBeGreaterThan(10);
  });

  it('allows no wildcard action in any policy', () => {
    const wildcards = statements
      .filter((s) => s.Effect === 'Allow')
      .flatMap((s) => s.Action.filter((a) => a === '*' || a.endsWith(':*')).map((a) => `${s.where}: ${a}`));
    expect(wildcards).toEqual([]);
  });

  it('allows Resource "*" only for actions that have no narrower resource', () => {
    const broad = statements
      .filter((s) => s.Effect === 'Allow' && s.Resource.includes('*'))
      .flatMap((s) =>
        s.Action.filter((a) => !RESOURCE_STAR_ONLY.has(a) && !(LOG_DELIVERY_STAR_ONLY.has(a) && s.where.includes(' FanOutStateMachineRole'))).map((a) => `${s.where}: ${a} on *`),
      );
    expect(broad).toEqual([]);
  });

  it('acknowledges cdk-nag findings only with a written reason naming the rule', () => {
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const { rule, reason } of acknowledgements) {
      expect(rule).toMatch(/^(AwsSolutions|Serverless)-[A-Za-z0-9]+(\[.+\])?$/);
      expect(reason.trim().split(/\s+/).length).toBeGreaterThanOrEqual(6);
    }
  });
});
