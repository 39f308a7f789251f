import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TimeHeap } from '../../../local/sqs/heap';
import { QueueStore, type Queue } from '../../../local/sqs/store';

/**
 * The local queue's rules that take minutes or hours of SQS time (retention, delays, the 12-hour
 * visibility limit), checked on the store with a clock the test moves. Receives here never wait,
 * so no real timer is involved.
 */

let dir: string;
let clock: number;
let store: QueueStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3fs-sqs-store-'));
  clock = Date.UTC(2026, 0, 1);
  store = await QueueStore.open({ directory: dir, region: 'us-east-1', accountId: '000000000000', now: () => clock });
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const send = (queue: Queue, body: string, delaySeconds?: number) =>
  store.send(queue, { body, md5OfBody: '', senderId: 'test', ...(delaySeconds !== undefined ? { delaySeconds } : {}) });
const counts = (queue: Queue) =>
  store.getQueueAttributes(queue, ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed']);

describe('the local queue store', () => {
  it('drops a message older than the retention period when a receive reaches it', async () => {
    const queue = await store.createQueue('retention', { MessageRetentionPeriod: '60' });
    await send(queue, 'old');
    clock += 30_000;
    await send(queue, 'young');

    clock += 30_000;
    const received = await store.receive(queue, 10, 30, 0);

    expect(received.map((m) => m.body)).toEqual(['young']);
    expect(counts(queue)).toEqual({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '1', ApproximateNumberOfMessagesDelayed: '0' });
  });

  it('holds a delayed message back for its DelaySeconds, counted as delayed rather than in flight', async () => {
    const queue = await store.createQueue('delay', {});
    await send(queue, 'later', 120);

    const early = await store.receive(queue, 10, 30, 0);
    const whileDelayed = counts(queue);
    clock += 120_000;
    const onTime = await store.receive(queue, 10, 30, 0);

    expect(early).toEqual([]);
    expect(whileDelayed).toEqual({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0', ApproximateNumberOfMessagesDelayed: '1' });
    expect(onTime.map((m) => [m.body, m.attributes.ApproximateReceiveCount])).toEqual([['later', '1']]);
  });

  it('refuses a visibility change that would keep a message in flight beyond 12 hours from its receive', async () => {
    const queue = await store.createQueue('limit', {});
    await send(queue, 'long job');
    const [message] = await store.receive(queue, 1, 12 * 3600, 0);
    clock += 6 * 3600_000;

    await store.changeMessageVisibility(queue, message!.receiptHandle, 6 * 3600);
    const refused = store.changeMessageVisibility(queue, message!.receiptHandle, 6 * 3600 + 1);

    await expect(refused).rejects.toMatchObject({ code: 'InvalidParameterValue', message: expect.stringContaining('beyond the limit [43200 seconds]') });
  });

  it('answers MessageNotInflight for a visibility change once the message is visible again', async () => {
    const queue = await store.createQueue('not-in-flight', {});
    await send(queue, 'expired');
    const [message] = await store.receive(queue, 1, 30, 0);
    clock += 31_000;

    const refused = store.changeMessageVisibility(queue, message!.receiptHandle, 10);

    await expect(refused).rejects.toMatchObject({ code: 'AWS.SimpleQueueService.MessageNotInflight' });
  });

  it('refuses a second purge within 60 seconds with PurgeQueueInProgress', async () => {
    const queue = await store.createQueue('purge', {});
    await store.purge(queue);
    clock += 59_000;

    await expect(store.purge(queue)).rejects.toMatchObject({ status: 403, code: 'AWS.SimpleQueueService.PurgeQueueInProgress' });
    clock += 1_000;
    await expect(store.purge(queue)).resolves.toBeUndefined();
  });
});

describe('the time heap', () => {
  it('gives entries back earliest first, whatever order they were pushed in', () => {
    const heap = new TimeHeap();
    const times = [50, 10, 40, 10, 30, 20, 60, 0];
    times.forEach((at, i) => heap.push({ at, id: String(i), version: 0 }));

    const popped: number[] = [];
    for (let entry = heap.pop(); entry; entry = heap.pop()) popped.push(entry.at);

    expect(popped).toEqual([...times].sort((a, b) => a - b));
  });
});
