/**
 * A file's bytes [start, end) read into two buffers in turn: the next read runs while the caller
 * works on the chunk before, and a chunk is overwritten once the caller has asked for the next one.
 * Read this way, a range thread (and the hash beside them) allocates 512 KiB once instead of a fresh
 * buffer per read: fresh ones are freed only when V8 collects, and an isolate that allocates little
 * else lets ~64 MB of dead buffers pile up first (its external-memory trigger), per thread.
 * For a consumer that keeps no chunk past the next (a splittable plan's range, a hash).
 */
import { open } from 'node:fs/promises';

export const READ_CHUNK = 256 * 1024;

export async function* readFileRange(path: string, start: number, end: number, chunkBytes = READ_CHUNK): AsyncGenerator<Buffer> {
  if (end <= start) return;
  const file = await open(path, 'r');
  const buffers = [Buffer.allocUnsafeSlow(chunkBytes), Buffer.allocUnsafeSlow(chunkBytes)];
  const readAt = (buf: Buffer, at: number) => file.read(buf, 0, Math.min(chunkBytes, end - at), at);
  let turn = 0;
  let at = start;
  let pending: ReturnType<typeof readAt> | null = readAt(buffers[0]!, at);
  try {
    while (pending) {
      const { bytesRead } = await pending;
      pending = null;
      if (bytesRead === 0) return; // the file is shorter than it was said to be
      at += bytesRead;
      if (at < end) pending = readAt(buffers[turn ^ 1]!, at);
      yield buffers[turn]!.subarray(0, bytesRead);
      turn ^= 1;
    }
  } finally {
    await pending?.catch(() => undefined);
    await file.close();
  }
}
