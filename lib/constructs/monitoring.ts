/**
 * Operations: one SNS topic that every alarm of the service notifies (and an email subscription
 * when an address is given), the alarms, and a CloudWatch dashboard of the service.
 */
import { Aws, Duration, Stack } from 'aws-cdk-lib';
import type { Stage } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  type Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { ServiceFunctionName } from '../../lambda/shared/grants';
import { acknowledgeNag } from './nag';

/** API Gateway's longest integration timeout for a REST API: a request still running then gets 504. */
export const API_INTEGRATION_TIMEOUT_SECONDS = 29;

/**
 * The p99 latency the API alarms at: 80% of the time after which a request fails anyway (the
 * slowest API function's timeout, or API Gateway's 29 s if that came first), so someone hears of
 * slow requests before they turn into 5xx.
 */
export function apiLatencyThresholdMs(apiFunctionTimeoutsSeconds: readonly number[]): number {
  const failsAfter = Math.min(API_INTEGRATION_TIMEOUT_SECONDS, Math.max(...apiFunctionTimeoutsSeconds));
  return Math.round(failsAfter * 0.8 * 1000);
}

export interface MonitoringProps {
  /** Subscribed to the topic by email when set (the address confirms the subscription once). */
  alarmEmail?: string;
  functions: Record<ServiceFunctionName, IFunction>;
  /** The API functions' timeouts, for the latency threshold. */
  apiFunctionTimeoutsSeconds: readonly number[];
  stage: Stage;
  queue: IQueue;
  /** The processing queue's visibility timeout: a message older than that has waited at least one retry's time. */
  queueVisibilityTimeout: Duration;
  deadLetterQueue: IQueue;
  /** Alarms made elsewhere (the dead-letter alarm) that must notify the topic too. */
  alarms: Alarm[];
}

/**
 * Every alarm here and in `props.alarms` notifies `topic` when it fires and when it clears
 * (test/infra checks that each AWS::CloudWatch::Alarm of the template has the topic as an action).
 *
 * The topic is encrypted with a customer-managed key: CloudWatch cannot publish to a topic
 * encrypted with the AWS-managed SNS key, whose policy cannot be changed to let it. Its policy
 * refuses publishing without TLS (enforceSSL) and lets CloudWatch alarms of this account publish.
 */
export class Monitoring extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const alarmArns = `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*`;
    const fromOurAlarms = { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID }, ArnLike: { 'aws:SourceArn': alarmArns } };

    const key = new Key(this, 'TopicKey', {
      description: `${stack.stackName}: encrypts the alarm topic`,
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'], // in a key policy, "*" is this key
        conditions: fromOurAlarms,
      }),
    );
    this.topic = new Topic(this, 'Alarms', {
      displayName: `${stack.stackName} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: fromOurAlarms,
      }),
    );
    if (props.alarmEmail) {
      const subscription = this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
      acknowledgeNag(
        subscription,
        'Serverless-SNSRedrivePolicy',
        'No dead-letter queue for alarm emails: an alarm stays in ALARM in CloudWatch (console, the dashboard\'s alarm widget) whether or not its email arrived, and a dead-letter queue would need an alarm of its own, which could only notify this same topic.',
      );
    }

    const fiveMinutes = Duration.minutes(5);
    const anyIn5Minutes = (construct: string, metric: IMetric, description: string) =>
      this.alarm(construct, {
        metric,
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        alarmDescription: description,
      });

    const functionEntries = Object.entries(props.functions) as [ServiceFunctionName, IFunction][];
    for (const [name, fn] of functionEntries) {
      const id = `${name[0]!.toUpperCase()}${name.slice(1)}`;
      // The API handlers turn their own failures into responses; an Errors datapoint is a crash,
      // a timeout or an out-of-memory, each a bug or an outage.
      anyIn5Minutes(`${id}Errors`, fn.metricErrors({ period: fiveMinutes, statistic: 'Sum' }), `The ${name} function failed (crash, timeout or out of memory).`);
      anyIn5Minutes(
        `${id}Throttles`,
        fn.metricThrottles({ period: fiveMinutes, statistic: 'Sum' }),
        `The ${name} function was throttled: the account's (or its reserved) concurrency was used up.`,
      );
    }

    const queueAgeSeconds = props.queueVisibilityTimeout.toSeconds();
    this.alarm('QueueAge', {
      metric: props.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: queueAgeSeconds,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      alarmDescription: `An uploaded object has waited more than ${queueAgeSeconds} s (one visibility timeout) to be processed: it has been retried, or the processor is behind.`,
    });

    // The service answers 5xx only for bugs and outages (bad input is a 4xx), so any is news.
    this.alarm('Api5xx', {
      metric: props.stage.metricServerError({ period: fiveMinutes, statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      alarmDescription: 'The API answered 5xx: a bug, an outage of S3 or Lambda, or a timeout.',
    });
    const latencyMs = apiLatencyThresholdMs(props.apiFunctionTimeoutsSeconds);
    this.alarm('ApiLatencyP99', {
      metric: props.stage.metricLatency({ period: fiveMinutes, statistic: 'p99' }),
      threshold: latencyMs,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      // One slow request in a quiet 5 minutes is the p99 on its own: ask for two such periods.
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      alarmDescription: `The API's p99 latency is above ${latencyMs} ms, close to the point where requests fail (function timeout, API Gateway's ${API_INTEGRATION_TIMEOUT_SECONDS} s).`,
    });

    const action = new SnsAction(this.topic);
    for (const alarm of [...this.alarms, ...props.alarms]) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
    this.alarms.push(...props.alarms);

    this.dashboard = this.buildDashboard(props, functionEntries);
  }

  private alarm(id: string, props: ConstructorParameters<typeof Alarm>[2]): Alarm {
    const alarm = new Alarm(this, id, { treatMissingData: TreatMissingData.NOT_BREACHING, ...props });
    this.alarms.push(alarm);
    return alarm;
  }

  private buildDashboard(props: MonitoringProps, functions: [ServiceFunctionName, IFunction][]): Dashboard {
    const period = Duration.minutes(5);
    const perFunction = (metric: (fn: IFunction) => Metric) => functions.map(([name, fn]) => metric(fn).with({ label: name, period }));
    const dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `${Stack.of(this).stackName}-service`,
      defaultInterval: Duration.hours(3),
    });
    dashboard.addWidgets(
      new TextWidget({ markdown: `# ${Stack.of(this).stackName}\nAPI, functions and the processing queue. Every alarm notifies the alarm topic.`, width: 24, height: 2 }),
    );
    dashboard.addWidgets(new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 4 }));
    dashboard.addWidgets(
      new GraphWidget({
        title: 'API requests and errors',
        left: [props.stage.metricCount({ period, statistic: 'Sum', label: 'requests' })],
        right: [
          props.stage.metricClientError({ period, statistic: 'Sum', label: '4xx' }),
          props.stage.metricServerError({ period, statistic: 'Sum', label: '5xx' }),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: 'API latency (ms)',
        left: ['p50', 'p90', 'p99'].map((statistic) => props.stage.metricLatency({ period, statistic, label: statistic })),
        right: [props.stage.metricIntegrationLatency({ period, statistic: 'p99', label: 'integration p99' })],
        width: 12,
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({ title: 'Invocations', left: perFunction((fn) => fn.metricInvocations({ statistic: 'Sum' })), width: 6 }),
      new GraphWidget({ title: 'Errors', left: perFunction((fn) => fn.metricErrors({ statistic: 'Sum' })), width: 6 }),
      new GraphWidget({ title: 'Throttles', left: perFunction((fn) => fn.metricThrottles({ statistic: 'Sum' })), width: 6 }),
      new GraphWidget({ title: 'Duration p99 (ms)', left: perFunction((fn) => fn.metricDuration({ statistic: 'p99' })), width: 6 }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Processing queue',
        left: [
          props.queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum', label: 'waiting' }),
          props.queue.metricApproximateNumberOfMessagesNotVisible({ period, statistic: 'Maximum', label: 'in flight' }),
        ],
        right: [props.queue.metricApproximateAgeOfOldestMessage({ period, statistic: 'Maximum', label: 'oldest (s)' })],
        width: 12,
      }),
      new GraphWidget({
        title: 'Dead letters',
        left: [props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum', label: 'dead letters' })],
        width: 12,
      }),
    );
    return dashboard;
  }
}
