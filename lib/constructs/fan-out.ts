import { CfnResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import {
  Choice,
  Condition,
  DefinitionBody,
  DistributedMap,
  Fail,
  JsonPath,
  LogLevel,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
  type IChainable,
  type TaskStateBase,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke, SqsSendMessage } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { FAN_OUT } from '../../lambda/shared/fan-out';
import { acknowledgeNag, nagArnRef } from './nag';
import type { ServiceFunction } from './service-function';

export interface FanOutProps {
  plan: ServiceFunction;
  range: ServiceFunction;
  merge: ServiceFunction;
  /** Where a failed run's S3 record goes, as a message the processor can take again: the processing dead-letter queue. */
  deadLetterQueue: IQueue;
  /** @default RETAIN */
  logRemovalPolicy?: RemovalPolicy;
}

/**
 * The fan-out state machine (lambda/core/fan-out.ts has the steps): Plan -> a Distributed Map over
 * the ranges, each a Range invocation in a child execution -> Merge. Its input is what the processor
 * starts it with, `{ record, attempt }` (the S3 record as S3 sent it); its name is the run's
 * (key + sequencer + attempt), so a duplicate event starts nothing.
 *
 * Failures: every task retries with backoff; what still fails is caught and sent, as
 * `{ Records: [record], fanOutAttempt: attempt + 1 }`, to the processing dead-letter queue, where the
 * dead-letter alarm fires like for any other failure, and a replay of it starts a new run (the
 * attempt is part of the name). A Catch rather than an EventBridge rule on FAILED/TIMED_OUT: the
 * rule would deliver an execution-status event, which the processor cannot take again, and there is
 * no execution timeout here to catch (each task is bounded by its function's timeout); an ABORTED
 * run was stopped by a person, who knows. The Map's results are discarded: each range's
 * boundaries are stored with its partial profile, where the merge reads them, so the state stays
 * small (the plan's ranges, at most FAN_OUT.maxRanges) whatever the number of ranges.
 */
export class FanOut extends Construct {
  readonly stateMachine: StateMachine;
  readonly logGroup: LogGroup;
  readonly failedAlarm: Alarm;

  constructor(scope: Construct, id: string, props: FanOutProps) {
    super(scope, id);

    const retried = <T extends TaskStateBase>(task: T): T => {
      task.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 3, maxDelay: Duration.seconds(30) });
      return task;
    };

    const deadLetter = new SqsSendMessage(this, 'SendToDeadLetters', {
      queue: props.deadLetterQueue,
      messageBody: TaskInput.fromObject({
        Records: JsonPath.array(JsonPath.stringAt('$.record')),
        fanOutAttempt: JsonPath.mathAdd(JsonPath.numberAt('$.attempt'), 1),
        fanOutRun: JsonPath.stringAt('$$.Execution.Name'),
        error: JsonPath.objectAt('$.failure'),
      }),
      resultPath: JsonPath.DISCARD,
    });
    const failed = deadLetter.next(new Fail(this, 'Failed', { error: 'FanOutFailed', cause: 'The object could not be profiled; its record is in the dead-letter queue' }));
    const catchInto = (state: { addCatch(handler: IChainable, props?: { resultPath?: string }): unknown }) => state.addCatch(failed, { resultPath: '$.failure' });

    const plan = retried(
      new LambdaInvoke(this, 'Plan', {
        lambdaFunction: props.plan,
        payload: TaskInput.fromObject({ record: JsonPath.objectAt('$.record'), attempt: JsonPath.numberAt('$.attempt'), runName: JsonPath.stringAt('$$.Execution.Name') }),
        payloadResponseOnly: true,
        resultPath: '$.plan',
      }),
    );
    catchInto(plan);

    const range = retried(
      new LambdaInvoke(this, 'ProfileRange', {
        lambdaFunction: props.range,
        payloadResponseOnly: true,
      }),
    );
    const ranges = new DistributedMap(this, 'Ranges', {
      itemsPath: JsonPath.stringAt('$.plan.ranges'),
      itemSelector: { job: JsonPath.objectAt('$.plan.job'), range: JsonPath.objectAt('$$.Map.Item.Value') },
      maxConcurrency: FAN_OUT.maxConcurrency,
      // One range that fails after its retries fails the run: a profile without it would be wrong.
      toleratedFailurePercentage: 0,
      // Standard children: a gzip object is one range that may run for the function's 15 minutes,
      // longer than an Express child's 5.
      mapExecutionType: StateMachineType.STANDARD,
      resultPath: JsonPath.DISCARD,
      label: 'Ranges',
    });
    ranges.itemProcessor(range);
    catchInto(ranges);

    const merge = retried(
      new LambdaInvoke(this, 'Merge', {
        lambdaFunction: props.merge,
        payload: TaskInput.fromObject({ job: JsonPath.objectAt('$.plan.job'), ranges: JsonPath.listAt('$.plan.ranges') }),
        payloadResponseOnly: true,
        resultPath: '$.merge',
      }),
    );
    catchInto(merge);

    const definition = plan.next(
      new Choice(this, 'AnythingToProfile')
        // The object was overwritten or deleted since its event: the newer one has its own run.
        .when(Condition.isPresent('$.plan.done'), new Succeed(this, 'NothingToProfile'))
        .otherwise(ranges.next(merge).next(new Succeed(this, 'Profiled'))),
    );

    this.logGroup = new LogGroup(this, 'Logs', {
      // The vended-logs prefix keeps the account's CloudWatch Logs resource policy small.
      logGroupName: `/aws/vendedlogs/states/${Stack.of(this).stackName}-fan-out`,
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(definition),
      comment: 'Profiles an object too big for one pass of the processor: plan, ranges in parallel, merge',
      tracingEnabled: true,
      // ALL with execution data: a run's payloads are S3 keys, offsets and boundaries, never file content.
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: true },
    });

    const role = this.stateMachine.role;
    acknowledgeNag(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      'X-Ray tracing (xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules, GetSamplingTargets) and log delivery to CloudWatch Logs (logs:CreateLogDelivery and the other delivery actions) support no narrower resource. test/trust/stack-security.test.ts allows these on "*" in this role only.',
    );
    for (const fn of [props.plan, props.range, props.merge]) {
      const cfn = fn.node.defaultChild;
      if (!(cfn instanceof CfnResource)) continue;
      acknowledgeNag(role, `AwsSolutions-IAM5[Resource::${nagArnRef(cfn)}:*]`, `The versions and aliases of the ${fn.serviceName} function (CDK's LambdaInvoke grant): the state machine invokes that one function only.`);
    }
    // The Distributed Map's own child executions: names Step Functions makes at run time, under
    // this state machine's name (spelled as cdk-nag spells the ARN CDK builds from it).
    const stack = Stack.of(this);
    const smId = stack.resolve(stack.getLogicalId(this.stateMachine.node.defaultChild as CfnResource)) as string;
    const executions = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${smId}"}]}]}`;
    const mapPolicy = this.stateMachine.node.findChild('DistributedMapPolicy');
    for (const resource of [`${executions}:*`, `${executions}/Ranges:*`]) {
      acknowledgeNag(mapPolicy, `AwsSolutions-IAM5[Resource::${resource}]`, 'The executions of this state machine and of its Distributed Map\'s map run (DescribeExecution, StopExecution): Step Functions names them at run time.');
    }

    this.failedAlarm = new Alarm(this, 'FailedAlarm', {
      alarmDescription: 'A fan-out run failed, timed out or was aborted; a failed run\'s record is in the processing dead-letter queue.',
      metric: this.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }).with({}),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}
