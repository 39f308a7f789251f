/**
 * `npm run replay-dlq [-- --list] [-- <messageId>...]`: shows the processing queue's dead letters,
 * or moves them (all, or the given ones) back to the queue, on the running local service's SQS
 * queue (its endpoint and keys are in <data folder>/endpoints.json). All users' letters: this is
 * the operator's tool; through the API (`/local/dead-letters`) each user sees only their own.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { keysOf, moveAllDeadLetters, moveDeadLetters } from './dead-letters';
import type { Endpoints } from './service';

async function main(argv: string[]): Promise<number> {
  const file = join(resolve(process.env.LOCAL_DATA_DIR || '.local'), 'endpoints.json');
  let endpoints: Endpoints;
  try {
    endpoints = JSON.parse(await readFile(file, 'utf8')) as Endpoints;
  } catch {
    console.error(`No ${file}: start the local service with npm start first.`);
    return 1;
  }
  const sqs = new SQSClient({
    region: endpoints.region,
    endpoint: endpoints.sqsEndpoint,
    credentials: { accessKeyId: endpoints.accessKeyId, secretAccessKey: endpoints.secretAccessKey },
  });
  const queues = { from: endpoints.deadLetterQueueUrl, to: endpoints.queueUrl };
  try {
    if (argv.includes('--list')) {
      const letters: { messageId: string; keys: string[] }[] = [];
      await moveDeadLetters(sqs, queues, (l) => {
        letters.push({ messageId: l.messageId, keys: keysOf(l.body) });
        return false;
      });
      console.log(JSON.stringify({ deadLetters: letters }, null, 2));
      return 0;
    }
    const ids = argv.filter((a) => !a.startsWith('--'));
    let moved: number;
    if (ids.length) {
      moved = await moveDeadLetters(sqs, queues, (l) => ids.includes(l.messageId));
    } else {
      const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queues.from, AttributeNames: ['QueueArn'] }));
      moved = await moveAllDeadLetters(sqs, Attributes!.QueueArn!);
    }
    console.log(`Replayed ${moved} message(s).`);
    return 0;
  } finally {
    sqs.destroy();
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(`Could not reach the local service's queue: ${String((err as Error)?.message ?? err)}`);
    process.exitCode = 1;
  },
);
