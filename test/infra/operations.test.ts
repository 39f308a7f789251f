/* eslint-disable @typescript-eslint/no-explicit-any -- the synthesized template is untyped JSON */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { SERVICE_FUNCTIONS } from '../../lambda/shared/grants';
import { COMMON_RULE_SET_COUNT_ONLY, wafRateLimits } from '../../lib/constructs/firewall';
import { apiLatencyThresholdMs } from '../../lib/constructs/monitoring';
import { email } from '../../lib/context';
import { processorReservedConcurrency } from '../../lib/file-service-stack';
import { PROCESSING_QUEUE } from '../../lambda/shared/processing-queue';
import { buildStack, logicalId } from './helpers';

/**
 * Operations of the deployed stack: the alarm topic, the alarms, the dashboard, the web ACL, the
 * processor's reserved concurrency, account-wide settings, CDK's notifications handler.
 */

const { stack } = buildStack();
const template = Template.fromStack(stack);
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
const topicId = logicalId(stack.monitoring.topic);
const alarms = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');

/** The alarm whose metric is `metricName` in `namespace` with these dimension values (Refs as their logical id). */
function alarmsOn(namespace: string, metricName: string): any[] {
  return alarms.map(([, r]) => r.Properties).filter((p) => p.Namespace === namespace && p.MetricName === metricName);
}
const dimensionRef = (alarm: any, name: string) => alarm.Dimensions.find((d: any) => d.Name === name)?.Value?.Ref;

describe('alarm topic', () => {
  it('encrypts the topic with a customer-managed key that rotates', () => {
    const keyId = resources[topicId]!.Properties.KmsMasterKeyId['Fn::GetAtt'][0];
    expect(resources[keyId]).toMatchObject({ Type: 'AWS::KMS::Key', Properties: { EnableKeyRotation: true } });
  });

  it('lets CloudWatch alarms of this account use the key and publish to the topic', () => {
    const keyId = resources[topicId]!.Properties.KmsMasterKeyId['Fn::GetAtt'][0];
    const cloudwatch = (statement: any) => statement.Principal?.Service === 'cloudwatch.amazonaws.com';
    const keyStatement = (resources[keyId]!.Properties.KeyPolicy.Statement as any[]).find(cloudwatch);
    expect(keyStatement).toMatchObject({ Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } });
    const topicPolicy = Object.values(resources).find((r) => r.Type === 'AWS::SNS::TopicPolicy')!;
    const publish = (topicPolicy.Properties.PolicyDocument.Statement as any[]).find(cloudwatch);
    expect(publish).toMatchObject({ Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: topicId }, Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } });
  });

  it('refuses publishing to the topic without TLS', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('has no subscription unless alarmEmail is set', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('subscribes alarmEmail to the topic by email', () => {
    const { stack: withEmail } = buildStack({ context: { alarmEmail: 'ops@example.com' } });
    Template.fromStack(withEmail).hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: logicalId(withEmail.monitoring.topic) },
    });
  });

  it('refuses an alarmEmail that is not an address', () => {
    expect(() => email('ops')).toThrow(/alarmEmail: "ops" is not an email address/);
    expect(email(' ops@example.com ')).toBe('ops@example.com');
    expect(email(undefined)).toBeUndefined();
  });
});

describe('alarms', () => {
  it('has alarms', () => {
    expect(alarms.length).toBeGreaterThanOrEqual(12);
  });

  it.each(alarms.map(([id, r]) => [id, r.Properties] as const))('%s notifies the alarm topic when it fires and when it clears', (_id, properties) => {
    expect(properties.AlarmActions).toEqual([{ Ref: topicId }]);
    expect(properties.OKActions).toEqual([{ Ref: topicId }]);
  });

  it.each(['list', 'read', 'upload', 'process'] as const)('alarms on any error or throttle of the %s function', (name) => {
    const functionId = logicalId(stack.functions[name]);
    for (const metric of ['Errors', 'Throttles']) {
      const matching = alarmsOn('AWS/Lambda', metric).filter((a) => dimensionRef(a, 'FunctionName') === functionId);
      expect(matching).toEqual([expect.objectContaining({ Statistic: 'Sum', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', Period: 300 })]);
    }
  });

  it('alarms when a message has waited one visibility timeout (30 minutes) in the processing queue', () => {
    const matching = alarmsOn('AWS/SQS', 'ApproximateAgeOfOldestMessage');
    expect(matching).toEqual([expect.objectContaining({ Statistic: 'Maximum', Threshold: 1800, ComparisonOperator: 'GreaterThanThreshold' })]);
    expect(resources[logicalId(stack.processing.queue)]!.Properties.VisibilityTimeout).toBe(1800);
    expect(JSON.stringify(matching[0].Dimensions)).toContain(logicalId(stack.processing.queue));
  });

  it('alarms when a message reaches the dead-letter queue', () => {
    const matching = alarmsOn('AWS/SQS', 'ApproximateNumberOfMessagesVisible');
    expect(matching).toEqual([expect.objectContaining({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' })]);
    expect(JSON.stringify(matching[0].Dimensions)).toContain(logicalId(stack.processing.deadLetterQueue));
  });

  it('alarms on any 5xx of the API stage', () => {
    const matching = alarmsOn('AWS/ApiGateway', '5XXError');
    expect(matching).toEqual([expect.objectContaining({ Statistic: 'Sum', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' })]);
    expect(matching[0].Dimensions).toEqual(expect.arrayContaining([expect.objectContaining({ Name: 'ApiName' }), expect.objectContaining({ Name: 'Stage' })]));
  });

  it('alarms when the p99 latency passes 8 s, 80% of the 10 s the API functions may take (before API Gateway\'s 29 s)', () => {
    const matching = alarmsOn('AWS/ApiGateway', 'Latency');
    expect(matching).toEqual([expect.objectContaining({ ExtendedStatistic: 'p99', Threshold: 8000, EvaluationPeriods: 3, DatapointsToAlarm: 2 })]);
    expect(SERVICE_FUNCTIONS.read.timeoutSeconds).toBe(10);
  });

  it('bases the latency threshold on API Gateway\'s 29 s when the functions may take longer', () => {
    expect(apiLatencyThresholdMs([10, 60])).toBe(23_200);
    expect(apiLatencyThresholdMs([5, 10])).toBe(8000);
  });
});

describe('dashboard', () => {
  const body = () => {
    const dashboard = Object.values(resources).find((r) => r.Type === 'AWS::CloudWatch::Dashboard')!;
    return JSON.stringify(stack.resolve(dashboard.Properties.DashboardBody));
  };

  it('shows the API, every function, the queue, the dead letters and every alarm', () => {
    const text = body();
    for (const metric of ['5XXError', '4XXError', 'Latency', 'Invocations', 'Errors', 'Throttles', 'Duration', 'ApproximateAgeOfOldestMessage', 'ApproximateNumberOfMessagesVisible']) {
      expect(text).toContain(metric);
    }
    for (const fn of Object.values(stack.functions)) expect(text).toContain(logicalId(fn));
    for (const [id] of alarms) expect(text).toContain(id);
  });
});

describe('web ACL', () => {
  const acl = () => Object.values(resources).find((r) => r.Type === 'AWS::WAFv2::WebACL')!.Properties;
  const rule = (name: string) => (acl().Rules as any[]).find((r) => r.Name === name);

  it('is a REGIONAL web ACL associated with the API stage, allowing by default', () => {
    expect(acl()).toMatchObject({ Scope: 'REGIONAL', DefaultAction: { Allow: {} } });
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      ResourceArn: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([{ Ref: logicalId(stack.api.restApi.deploymentStage) }])]) }),
      WebACLArn: { 'Fn::GetAtt': [logicalId(stack.firewall!.webAcl), 'Arn'] },
    });
  });

  it('answers more than 3000 requests in 5 minutes from one address with 429 and a JSON error', () => {
    expect(rule('RatePerIp')).toMatchObject({
      Priority: 0,
      Statement: { RateBasedStatement: { AggregateKeyType: 'IP', Limit: 3000, EvaluationWindowSec: 300 } },
      Action: { Block: { CustomResponse: { ResponseCode: 429, CustomResponseBodyKey: 'TooManyRequests' } } },
    });
    const body = acl().CustomResponseBodies.TooManyRequests;
    expect(body.ContentType).toBe('APPLICATION_JSON');
    expect(JSON.parse(body.Content)).toEqual({ error: { code: 'TooManyRequests', message: expect.any(String) } });
  });

  it('answers more than 1500 requests in 5 minutes with one bearer token with 429 (per user, as near as API Gateway allows)', () => {
    expect(rule('RatePerToken')).toMatchObject({
      Statement: {
        RateBasedStatement: { AggregateKeyType: 'CUSTOM_KEYS', Limit: 1500, EvaluationWindowSec: 300, CustomKeys: [{ Header: { Name: 'authorization' } }] },
      },
      Action: { Block: { CustomResponse: { ResponseCode: 429 } } },
    });
  });

  it('derives the rate limits from the per-method throttle, never below WAF\'s minimum of 10', () => {
    const { stack: custom } = buildStack({ context: { throttleRateLimit: '5' } });
    const rules = Object.values(Template.fromStack(custom).findResources('AWS::WAFv2::WebACL'))[0]!.Properties.Rules as any[];
    expect(rules.map((r) => r.Statement.RateBasedStatement?.Limit)).toEqual([300, 150, undefined]);
    expect(wafRateLimits(0.01)).toEqual({ perIp: 10, perToken: 10 });
  });

  it('runs AWS\'s core rule set, counting (not blocking) only the rules this API\'s legitimate requests break', () => {
    expect(rule('AwsCommonRuleSet')).toMatchObject({
      OverrideAction: { None: {} },
      Statement: { ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' } },
    });
    const overrides = rule('AwsCommonRuleSet').Statement.ManagedRuleGroupStatement.RuleActionOverrides as any[];
    expect(overrides.map((o) => o.Name).sort()).toEqual(
      ['RestrictedExtensions_QUERYARGUMENTS', 'RestrictedExtensions_URIPATH', 'SizeRestrictions_BODY', 'SizeRestrictions_QUERYSTRING', 'SizeRestrictions_URIPATH'].sort(),
    );
    for (const override of overrides) expect(override.ActionToUse).toEqual({ Count: {} });
    for (const reason of Object.values(COMMON_RULE_SET_COUNT_ONLY)) expect(reason.length).toBeGreaterThan(40);
  });

  it('has no web ACL with waf=false', () => {
    const { stack: without } = buildStack({ context: { waf: 'false' } });
    const t = Template.fromStack(without);
    t.resourceCountIs('AWS::WAFv2::WebACL', 0);
    t.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
    expect(without.firewall).toBeUndefined();
  });
});

describe('processor concurrency', () => {
  const processorOf = (s: typeof stack) => Template.fromStack(s).toJSON().Resources[logicalId(s.functions.process)].Properties;

  it('reserves the queue\'s maxConcurrency (5) for the processor, and nothing for the API functions', () => {
    expect(resources[logicalId(stack.functions.process)]!.Properties.ReservedConcurrentExecutions).toBe(PROCESSING_QUEUE.maxConcurrency);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: PROCESSING_QUEUE.maxConcurrency } });
    for (const name of ['list', 'read', 'upload'] as const) expect(resources[logicalId(stack.functions[name])]!.Properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('takes processorReservedConcurrency from context, "none" for no reservation', () => {
    expect(processorOf(buildStack({ context: { processorReservedConcurrency: '8' } }).stack).ReservedConcurrentExecutions).toBe(8);
    expect(processorOf(buildStack({ context: { processorReservedConcurrency: 'none' } }).stack).ReservedConcurrentExecutions).toBeUndefined();
  });

  it('refuses a reservation below the queue\'s maxConcurrency, which would throttle the event source', () => {
    expect(() => processorReservedConcurrency(4)).toThrow(/at least the queue's maxConcurrency \(5\)/);
    expect(() => buildStack({ context: { processorReservedConcurrency: 'many' } })).toThrow(/integer or "none"/);
  });
});

describe('account-wide settings', () => {
  it('sets the account\'s API Gateway logging role only with apiGatewayCloudWatchRole=true', () => {
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
    const withRole = Template.fromStack(buildStack({ context: { apiGatewayCloudWatchRole: 'true' } }).stack);
    withRole.resourceCountIs('AWS::ApiGateway::Account', 1);
    withRole.hasResourceProperties('AWS::IAM::Role', { AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'apigateway.amazonaws.com' } })] }) });
  });
});

describe('S3 notifications handler', () => {
  const handler = () => Object.entries(resources).find(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('BucketNotificationsHandler'))![1].Properties;
  const roleId = () => handler().Role['Fn::GetAtt'][0] as string;

  it('runs with the role Storage made, which has no managed policy', () => {
    expect(roleId()).toBe(logicalId(stack.storage.notificationsHandlerRole));
    expect(resources[roleId()]!.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('may only set the uploads bucket\'s notifications and write to its own log group', () => {
    const role = resources[roleId()]!.Properties;
    expect(role.Policies).toHaveLength(1);
    expect(role.Policies[0].PolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Action: 's3:PutBucketNotification', Resource: { 'Fn::GetAtt': [logicalId(stack.storage.uploads), 'Arn'] } },
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [logicalId(stack.storage.notificationsHandlerLogs), 'Arn'] } },
    ]);
    const otherPolicies = Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(roleId()));
    expect(otherPolicies).toEqual([]);
  });

  it('logs to that log group, in JSON like every function of the stack, kept for a month', () => {
    expect(handler().LoggingConfig).toEqual({
      LogGroup: { Ref: logicalId(stack.storage.notificationsHandlerLogs) },
      LogFormat: 'JSON',
      ApplicationLogLevel: 'INFO',
      SystemLogLevel: 'INFO',
    });
    expect(resources[logicalId(stack.storage.notificationsHandlerLogs)]!.Properties.RetentionInDays).toBe(30);
  });
});
