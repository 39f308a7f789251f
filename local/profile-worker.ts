/**
 * The body of a profile worker thread (started through profile-worker.cjs): profiles the byte
 * ranges it is sent, one message at a time, reading the file itself.
 */
import { createReadStream } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { profileRange, type ByteRangeSource } from '../lambda/core/profile';
import { READ_CHUNK, readFileRange } from './file-range';
import { serveRequests } from '../lambda/shared/thread-pool';
import type { ThreadJob } from './profile-threads';

/**
 * The file as a range's source. A splittable plan's range keeps no chunk past the next, so it reads
 * into two reused buffers (file-range.ts: flat memory per thread); an unsplit one (gzip through
 * zlib) keeps chunks, so it gets fresh ones.
 */
export function fileSource(path: string, reuse = false): ByteRangeSource {
  return {
    read: (start, end) =>
      reuse ? readFileRange(path, start, end) : end > start ? createReadStream(path, { start, end: end - 1, highWaterMark: READ_CHUNK }) : (async function* () {})(),
  };
}

if (parentPort) {
  serveRequests(
    parentPort,
    (job: ThreadJob) => profileRange(fileSource(job.path, job.plan.splittable), job.plan, job.range),
    (err) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err)),
  );
}
