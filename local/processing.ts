/**
 * Between an upload and the processor, as in AWS: each S3 event is sent to an SQS queue (the local
 * SQS server, local/sqs/, kept on disk under `<data>/sqs`) with the stack's redrive policy and
 * dead-letter queue, and an event-source mapping (local/event-source-mapping.ts) receives batches,
 * calls the process handler with the SQS event Lambda would give it, deletes what succeeded and
 * leaves `batchItemFailures` to come back. Settings are the stack's (lambda/shared/processing-queue.ts),
 * but for one: a failed record comes back after `retryAfterSeconds` (1 s) rather than the stack's
 * 30-minute visibility timeout, so a retry can be watched on a laptop.
 */
import { join } from 'node:path';
import { CreateQueueCommand, SendMessageCommand, SetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { SERVICE_FUNCTIONS } from '../lambda/shared/grants';
import { PROCESSING_QUEUE, processingVisibilityTimeoutSeconds } from '../lambda/shared/processing-queue';
import { belongsTo, importLegacyDeadLetters, moveAllDeadLetters, moveDeadLetters, type DeadLetter } from './dead-letters';
import { startEventSourceMapping } from './event-source-mapping';
import type { Credentials } from './function-keys';
import { toS3EventRecord, type ObjectCreated } from './notifications';
import { startLocalQueue } from './sqs/server';

export type ProcessHandler = (event: SQSEvent) => Promise<SQSBatchResponse | void>;

export interface ProcessingQueueOptions {
  dataDir: string;
  region: string;
  /** The queue server's port; 0 picks a free one. */
  port: number;
  /** The key the queue accepts (the service's own). */
  credentials: Credentials;
  /** The name of the queue; its dead-letter queue is `<name>-dead-letters`. */
  queueName: string;
  handler: ProcessHandler;
  /** Seconds before a failed record is received again (local mode only; AWS: the visibility timeout). */
  retryAfterSeconds?: number;
  log: (line: string) => void;
}

export interface ProcessingQueue {
  /** The queue server, for SQS tools (`npm run replay-dlq`, the AWS CLI's `sqs`). */
  endpoint: string;
  queueUrl: string;
  deadLetterQueueUrl: string;
  /** Sends the S3 event of a created object; never makes the caller wait or fail. */
  notify(created: ObjectCreated): void;
  /** Resolves when every event sent before has been processed or dead-lettered, retries included. */
  idle(): Promise<void>;
  /** The dead letters, or only `userId`'s. */
  deadLetters(userId?: string): Promise<DeadLetter[]>;
  /** Moves dead letters back to the queue (those of `userId`, those with the given ids); how many moved. */
  replay(select?: { userId?: string; ids?: readonly string[] }): Promise<number>;
  /** Puts a message straight into the dead-letter queue, as the fan-out state machine's Catch does in AWS. */
  sendDeadLetter(body: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startProcessingQueue(options: ProcessingQueueOptions): Promise<ProcessingQueue> {
  const { region, log } = options;
  const server = await startLocalQueue({ directory: join(options.dataDir, 'sqs'), region, credentials: [options.credentials], port: options.port, log });
  const sqs = new SQSClient({ region, endpoint: server.endpoint, credentials: options.credentials });
  const stopsInOrder: (() => Promise<void>)[] = [];
  try {
    const deadLetterQueueName = `${options.queueName}-dead-letters`;
    const day = 24 * 3600;
    const deadLetterQueueUrl = await createQueue(sqs, deadLetterQueueName, { MessageRetentionPeriod: String(PROCESSING_QUEUE.deadLetterRetentionDays * day) });
    const queueUrl = await createQueue(sqs, options.queueName, {
      VisibilityTimeout: String(processingVisibilityTimeoutSeconds(SERVICE_FUNCTIONS.process.timeoutSeconds)),
      MessageRetentionPeriod: String(PROCESSING_QUEUE.retentionDays * day),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: server.queueArn(deadLetterQueueName), maxReceiveCount: PROCESSING_QUEUE.maxReceiveCount }),
    });
    const imported = await importLegacyDeadLetters(join(options.dataDir, 'dead-letters'), sqs, deadLetterQueueUrl);
    if (imported) log(`moved ${imported} dead letters of an earlier local mode into ${deadLetterQueueName}`);

    const mapping = startEventSourceMapping({
      sqs,
      queueUrl,
      queueArn: server.queueArn(options.queueName),
      region,
      handler: options.handler,
      batchSize: PROCESSING_QUEUE.batchSize,
      maxConcurrency: PROCESSING_QUEUE.maxConcurrency,
      functionTimeoutMs: SERVICE_FUNCTIONS.process.timeoutSeconds * 1000,
      retryAfterSeconds: options.retryAfterSeconds ?? 1,
      log,
    });
    stopsInOrder.push(() => mapping.stop());

    const sending = new Set<Promise<void>>();
    const notify = (created: ObjectCreated) => {
      log(`event ${created.eventName} ${created.key}`);
      const sent: Promise<void> = sqs
        .send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ Records: [toS3EventRecord(created, region)] }) }))
        .then(
          () => undefined,
          // Lost only if the queue is down (stopping); start-up reconciliation queues the object again.
          (err: unknown) => log(`event for ${created.key} not queued: ${String((err as Error)?.message ?? err)}`),
        )
        .finally(() => sending.delete(sent));
      sending.add(sent);
    };
    stopsInOrder.unshift(async () => {
      while (sending.size) await Promise.all([...sending]);
    });

    const deadLetters = async (userId?: string): Promise<DeadLetter[]> => {
      const letters = (await server.peek(deadLetterQueueName)).map(({ messageId, body, sentTimestamp, receiveCount }) => ({ messageId, body, sentTimestamp, receiveCount }));
      return userId === undefined ? letters : letters.filter((l) => belongsTo(l, userId));
    };

    return {
      endpoint: server.endpoint,
      queueUrl,
      deadLetterQueueUrl,
      notify,
      idle: async () => {
        while (sending.size) await Promise.all([...sending]);
        await mapping.idle();
      },
      deadLetters,
      sendDeadLetter: async (body) => {
        await sqs.send(new SendMessageCommand({ QueueUrl: deadLetterQueueUrl, MessageBody: body }));
      },
      replay: async ({ userId, ids } = {}) => {
        if (userId === undefined && ids === undefined) return moveAllDeadLetters(sqs, server.queueArn(deadLetterQueueName));
        return moveDeadLetters(sqs, { from: deadLetterQueueUrl, to: queueUrl }, (l) => (userId === undefined || belongsTo(l, userId)) && (ids === undefined || ids.includes(l.messageId)));
      },
      stop: async () => {
        for (const stop of stopsInOrder) await stop();
        sqs.destroy();
        await server.close();
      },
    };
  } catch (err) {
    for (const stop of stopsInOrder) await stop().catch(() => undefined);
    sqs.destroy();
    await server.close();
    throw err;
  }
}

/** Creates the queue, or brings an existing one's attributes to these (a restart after an upgrade). */
async function createQueue(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<string> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: attributes }));
  return QueueUrl!;
}
