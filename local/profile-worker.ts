/**
 * The body of a profile worker thread (started through profile-worker.cjs): profiles the byte
 * ranges, or hashes the whole files, it is sent, one message at a time, reading files itself.
 */
import { createHash } from 'node:crypto';
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

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function handle(request: ThreadRequest): Promise<ThreadReply> {
  try {
    if (request.kind === 'sha256') return { id: request.id, sha256: await sha256Of(request.path) };
    const partial = await profileRange(fileSource(request.path), request.plan as RangePlan, request.range as Range);
    return { id: request.id, partial };
  } catch (err) {
    return { id: request.id, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}

parentPort?.on('message', (request: ThreadRequest) => {
  void handle(request).then((reply) => parentPort!.postMessage(reply));
});
