/* eslint-disable @typescript-eslint/no-explicit-any -- the synthesized template is untyped JSON */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_FAN_OUT_BYTES, ENV } from '../../lambda/shared/config';
import { FAN_OUT } from '../../lambda/shared/fan-out';
import { FAN_OUT_ROOT } from '../../lambda/shared/keys';
import { buildStack, logicalId } from './helpers';

// asl-validator ships no types: (definition) -> { isValid, errors }.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const validateAsl = require('asl-validator') as (definition: unknown) => { isValid: boolean; errors: unknown[] };

const { stack } = buildStack();
const template = Template.fromStack(stack);
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
const stateMachine = resources[logicalId(stack.fanOut.stateMachine)]!.Properties;

/** The definition as Step Functions gets it, each CloudFormation reference replaced by a made-up ARN. */
function definitionOf(props: Record<string, any>): any {
  const body = props.DefinitionString as string | { 'Fn::Join': [string, unknown[]] };
  if (typeof body === 'string') return JSON.parse(body);
  const text = body['Fn::Join'][1]
    .map((part) => (typeof part === 'string' ? part : JSON.stringify(part) === '{"Ref":"AWS::Partition"}' ? 'aws' : 'arn:aws:lambda:eu-west-1:111111111111:function:stand-in'))
    .join('');
  return JSON.parse(text);
}
const definition = definitionOf(stateMachine);
const mapState = definition.States.Ranges;

describe('fan-out state machine', () => {
  it('is a valid Amazon States Language definition (asl-validator)', () => {
    const result = validateAsl(definition);

    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it('runs Plan, then a Distributed Map over the plan\'s ranges, then Merge', () => {
    expect(definition.StartAt).toBe('Plan');
    expect(definition.States.Plan.Next).toBe('AnythingToProfile');
    expect(mapState).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.plan.ranges',
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
      ItemSelector: { 'job.$': '$.plan.job', 'range.$': '$$.Map.Item.Value' },
      Next: 'Merge',
    });
  });

  it('runs at most FAN_OUT.maxConcurrency range workers at once and tolerates no failed range', () => {
    expect(mapState.MaxConcurrency).toBe(FAN_OUT.maxConcurrency);
    // Absent is ASL's default, 0; neither tolerance may be set to anything else.
    expect(mapState.ToleratedFailurePercentage ?? 0).toBe(0);
    expect(mapState.ToleratedFailureCount ?? 0).toBe(0);
  });

  it('keeps the map\'s results out of the state, so its size does not grow with the number of ranges', () => {
    expect(mapState.ResultPath).toBeNull();
  });

  it.each(['Plan', 'Merge'])('retries the %s task with backoff and sends what still fails to the dead letters', (name) => {
    const state = definition.States[name];
    expect(state.Retry).toEqual(expect.arrayContaining([expect.objectContaining({ ErrorEquals: ['States.ALL'], MaxAttempts: 3, BackoffRate: 2 })]));
    expect(state.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'SendToDeadLetters' }]);
  });

  it('retries each range worker with backoff, and a range that still fails fails the map into the dead letters', () => {
    const worker = mapState.ItemProcessor.States[mapState.ItemProcessor.StartAt];
    expect(worker.Retry).toEqual(expect.arrayContaining([expect.objectContaining({ ErrorEquals: ['States.ALL'], MaxAttempts: 3 })]));
    expect(mapState.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'SendToDeadLetters' }]);
  });

  it('dead-letters a failed run as an S3 notification with the next attempt, which the processor takes again', () => {
    const send = definition.States.SendToDeadLetters;
    expect(send.Resource).toBe('arn:aws:states:::sqs:sendMessage');
    expect(send.Parameters.MessageBody).toEqual({
      'Records.$': 'States.Array($.record)',
      'fanOutAttempt.$': 'States.MathAdd($.attempt, 1)',
      'fanOutRun.$': '$$.Execution.Name',
      'error.$': '$.failure',
    });
    expect(send.Next).toBe('Failed');
    expect(definition.States.Failed.Type).toBe('Fail');
    expect(JSON.stringify(stateMachine.DefinitionString)).toContain(logicalId(stack.processing.deadLetterQueue));
  });

  it('names the run by the execution name, which the plan uses for the partials\' prefix', () => {
    expect(definition.States.Plan.Parameters).toEqual({ 'record.$': '$.record', 'attempt.$': '$.attempt', 'runName.$': '$$.Execution.Name' });
  });

  it('ends without work when the object changed since its event (the plan says done)', () => {
    expect(definition.States.AnythingToProfile.Choices).toEqual([{ Variable: '$.plan.done', IsPresent: true, Next: 'NothingToProfile' }]);
  });

  it('is a Standard state machine with X-Ray tracing and logs every event with its data to its own log group', () => {
    expect(stateMachine).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [logicalId(stack.fanOut.logGroup), 'Arn'] } } }],
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: Match.stringLikeRegexp('^/aws/vendedlogs/states/'), RetentionInDays: 30 });
  });

  it('alarms when a run fails, on the topic every alarm notifies', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsFailed',
      Namespace: 'AWS/States',
      Threshold: 0,
      AlarmActions: [{ Ref: logicalId(stack.monitoring.topic) }],
    });
  });

  it('lets the processor start this state machine and nothing else in Step Functions, and names it in its environment', () => {
    const processRole = logicalId(stack.functions.process.role!);
    const statements = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: processRole }]))
      .flatMap((r) => r.Properties.PolicyDocument.Statement as any[])
      .filter((s) => [s.Action].flat().some((a: string) => a.startsWith('states:')));
    expect(statements).toEqual([{ Effect: 'Allow', Action: 'states:StartExecution', Resource: { Ref: logicalId(stack.fanOut.stateMachine) } }]);
    expect(resources[logicalId(stack.functions.process)]!.Properties.Environment.Variables).toMatchObject({
      [ENV.fanOutStateMachineArn]: { Ref: logicalId(stack.fanOut.stateMachine) },
      [ENV.fanOutBytes]: String(DEFAULT_FAN_OUT_BYTES),
    });
  });

  it('gives no other function a Step Functions permission', () => {
    for (const [name, fn] of Object.entries(stack.functions)) {
      if (name === 'process') continue;
      const role = logicalId(fn.role!);
      const actions = Object.values(resources)
        .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: role }]))
        .flatMap((r) => (r.Properties.PolicyDocument.Statement as any[]).flatMap((s) => [s.Action].flat() as string[]));
      expect([name, actions.filter((a) => a.startsWith('states:'))]).toEqual([name, []]);
    }
  });

  it('takes the threshold from the fanOutBytes context', () => {
    const { stack: lowered } = buildStack({ context: { fanOutBytes: '1048576' } });
    const vars = Template.fromStack(lowered).toJSON().Resources[logicalId(lowered.functions.process)].Properties.Environment.Variables;
    expect(vars[ENV.fanOutBytes]).toBe('1048576');
  });

  it('expires partial profiles a failed run left behind', () => {
    const rules = resources[logicalId(stack.storage.results)]!.Properties.LifecycleConfiguration.Rules as any[];
    expect(rules).toEqual(expect.arrayContaining([expect.objectContaining({ Prefix: FAN_OUT_ROOT, ExpirationInDays: FAN_OUT.partsRetentionDays, Status: 'Enabled' })]));
  });
});
