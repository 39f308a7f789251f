import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { EventType, type Bucket } from 'aws-cdk-lib/aws-s3';
import { SqsDestination } from 'aws-cdk-lib/aws-s3-notifications';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { USER_ROOT } from '../../lambda/shared/keys';
import { PROCESSING_QUEUE, processingVisibilityTimeoutSeconds } from '../../lambda/shared/processing-queue';
import { acknowledgeNag } from './nag';
import type { ServiceFunction } from './service-function';

export interface ProcessingProps {
  /** Where new objects appear; every ObjectCreated under `users/` is processed. */
  source: Bucket;
  /** The processor; it must write somewhere other than `source`, so it can never trigger itself. */
  processor: ServiceFunction;
  /** @default PROCESSING_QUEUE.batchSize (10) */
  batchSize?: number;
  /** Upper bound on concurrent processor invocations (SQS event source maxConcurrency). @default PROCESSING_QUEUE.maxConcurrency (5) */
  maxConcurrency?: number;
}

/**
 * S3 ObjectCreated (any way: PUT, POST, copy, completed multipart upload) -> SQS -> processor.
 * The queue decouples S3 from the function, retries failed records (the processor reports them
 * with batchItemFailures) and parks poison messages in a dead-letter queue after PROCESSING_QUEUE.maxReceiveCount receives,
 * where an alarm fires. The numbers are lambda/shared/processing-queue.ts's, which local mode uses too.
 */
export class Processing extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly deadLetterAlarm: Alarm;
  readonly queueVisibilityTimeout: Duration;

  constructor(scope: Construct, id: string, props: ProcessingProps) {
    super(scope, id);
    const functionTimeout = props.processor.timeout ?? Duration.seconds(3);

    this.deadLetterQueue = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(PROCESSING_QUEUE.deadLetterRetentionDays),
    });
    acknowledgeNag(this.deadLetterQueue, 'Serverless-SQSRedrivePolicy', 'This queue is the dead-letter queue; its messages are inspected and redriven by hand, and an alarm fires when one arrives.');
    this.queueVisibilityTimeout = Duration.seconds(processingVisibilityTimeoutSeconds(functionTimeout.toSeconds()));
    this.queue = new Queue(this, 'ObjectCreated', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: this.queueVisibilityTimeout,
      retentionPeriod: Duration.days(PROCESSING_QUEUE.retentionDays),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: PROCESSING_QUEUE.maxReceiveCount },
    });

    props.source.addEventNotification(EventType.OBJECT_CREATED, new SqsDestination(this.queue), { prefix: USER_ROOT });

    const eventSource = new SqsEventSource(this.queue, {
      batchSize: props.batchSize ?? PROCESSING_QUEUE.batchSize,
      reportBatchItemFailures: true,
      maxConcurrency: props.maxConcurrency ?? PROCESSING_QUEUE.maxConcurrency,
    });
    props.processor.addEventSource(eventSource);
    acknowledgeNag(
      props.processor,
      'Serverless-LambdaEventSourceMappingDestination',
      `SQS event source mappings do not support an on-failure destination; failed records return to the queue and move to its dead-letter queue after ${PROCESSING_QUEUE.maxReceiveCount} receives.`,
    );

    this.deadLetterAlarm = new Alarm(this, 'DeadLettersAlarm', {
      alarmDescription: `Uploaded objects could not be processed after ${PROCESSING_QUEUE.maxReceiveCount} attempts; see the dead-letter queue.`,
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    // Its action (the alarm topic) is added by Monitoring, with every other alarm's.
  }
}
