/**
 * The processing queue's dead letters in local mode: whose they are (the user whose upload the S3
 * event names, so each user sees and replays only their own), and moving them back to the queue
 * with SQS's own calls, as one would redrive a dead-letter queue in AWS. A dead-letter store of JSON
 * files kept by an earlier local mode is moved into the dead-letter queue at start, so no dead
 * letter is lost by upgrading.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  StartMessageMoveTaskCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { S3Event } from 'aws-lambda';
import { decodeEventKey } from '../lambda/core/process';
import { userIdOfS3Key } from '../lambda/shared/keys';

export interface DeadLetter {
  messageId: string;
  /** The S3 event notification, as it was sent to the queue. */
  body: string;
  sentTimestamp: number;
  receiveCount: number;
}

/** The S3 keys a message's S3 event names (none for a body that is not one). */
export function keysOf(body: string): string[] {
  try {
    return ((JSON.parse(body) as S3Event).Records ?? []).map((r) => decodeEventKey(r.s3.object.key));
  } catch {
    return [];
  }
}

/** Whether the dead letter is `userId`'s: every key it names is in their area. */
export function belongsTo(letter: Pick<DeadLetter, 'body'>, userId: string): boolean {
  const keys = keysOf(letter.body);
  return keys.length > 0 && keys.every((k) => userIdOfS3Key(k) === userId);
}

/**
 * Moves the dead letters `select` picks from `from` back to `to` (send, then delete), leaving the
 * others in place; returns how many moved. `select` sees every message of the dead-letter queue
 * once: it is received, as the SQS console's "poll for messages" does, and those left are made
 * visible again.
 */
export async function moveDeadLetters(
  sqs: SQSClient,
  queues: { from: string; to: string },
  select: (letter: Pick<DeadLetter, 'messageId' | 'body'>) => boolean,
): Promise<number> {
  let moved = 0;
  const left: { id: string; handle: string }[] = [];
  const seen = new Set<string>();
  for (;;) {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queues.from, MaxNumberOfMessages: 10, VisibilityTimeout: 60, WaitTimeSeconds: 0 }));
    const fresh = Messages.filter((m) => m.MessageId && !seen.has(m.MessageId));
    if (fresh.length === 0) break;
    for (const m of fresh) {
      seen.add(m.MessageId!);
      if (select({ messageId: m.MessageId!, body: m.Body ?? '' })) {
        await sqs.send(new SendMessageCommand({ QueueUrl: queues.to, MessageBody: m.Body ?? '' }));
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queues.from, ReceiptHandle: m.ReceiptHandle }));
        moved++;
      } else {
        left.push({ id: m.MessageId!, handle: m.ReceiptHandle! });
      }
    }
  }
  for (let i = 0; i < left.length; i += 10) {
    const batch = left.slice(i, i + 10);
    await sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queues.from, Entries: batch.map((l, n) => ({ Id: String(n), ReceiptHandle: l.handle, VisibilityTimeout: 0 })) }));
  }
  return moved;
}

/**
 * Moves every dead letter back to its source queue with SQS's own redrive (StartMessageMoveTask),
 * as the console's "Start DLQ redrive" does, and waits for it; returns how many moved.
 */
export async function moveAllDeadLetters(sqs: SQSClient, deadLetterQueueArn: string): Promise<number> {
  await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: deadLetterQueueArn }));
  for (;;) {
    // The newest task first, ours: one task at a time per queue, and SQS names the handle of a
    // running task only, so a finished one cannot be found by it.
    const { Results = [] } = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: deadLetterQueueArn, MaxResults: 1 }));
    const task = Results[0];
    if (task && task.Status !== 'RUNNING') {
      if (task.Status !== 'COMPLETED') throw new Error(`The dead-letter redrive ended ${task.Status}: ${task.FailureReason ?? 'no reason given'}`);
      return task.ApproximateNumberOfMessagesMoved ?? 0;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Sends the letters of an earlier local mode's `<data>/dead-letters/*.json` to the dead-letter queue, then removes them. */
export async function importLegacyDeadLetters(dir: string, sqs: SQSClient, deadLetterQueueUrl: string): Promise<number> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.json'));
  for (const file of files) {
    const letter = JSON.parse(await readFile(join(dir, file), 'utf8')) as { message?: { body?: unknown } };
    if (typeof letter.message?.body === 'string') await sqs.send(new SendMessageCommand({ QueueUrl: deadLetterQueueUrl, MessageBody: letter.message.body }));
    await rm(join(dir, file));
  }
  if (files.length) await rm(dir, { recursive: true, force: true });
  return files.length;
}
