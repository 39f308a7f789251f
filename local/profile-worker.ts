/**
 * The body of a profile worker thread (started through profile-worker.cjs): profiles the byte
 * ranges it is sent, one message at a time, reading the file itself.
 */
import { createReadStream } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { profileRange, type ByteRangeSource, type Range, type RangePlan } from '../lambda/core/profile';
import type { ThreadRequest, ThreadReply } from './profile-threads';

const READ_CHUNK = 256 * 1024;

export function fileSource(path: string): ByteRangeSource {
  return {
    read: (start, end) => (end > start ? createReadStream(path, { start, end: end - 1, highWaterMark: READ_CHUNK }) : (async function* () {})()),
  };
}

async function handle(request: ThreadRequest): Promise<ThreadReply> {
  try {
    const partial = await profileRange(fileSource(request.path), request.plan as RangePlan, request.range as Range);
    return { id: request.id, partial };
  } catch (err) {
    return { id: request.id, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}

parentPort?.on('message', (request: ThreadRequest) => {
  void handle(request).then((reply) => parentPort!.postMessage(reply));
});
