import { Readable } from 'node:stream';

export { seededRandom } from '../../../bench/support/seeded-random';

/** Splits bytes into chunks at the given sizes, cycling through them. */
export function splitBytes(bytes: Uint8Array, sizes: number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let k = 0;
  for (let i = 0; i < bytes.length; ) {
    const size = Math.max(1, sizes[k++ % sizes.length]!);
    chunks.push(bytes.subarray(i, i + size));
    i += size;
  }
  return chunks;
}

/** Splits bytes into chunks of random sizes between 1 and max. */
export function randomChunks(bytes: Uint8Array, rand: () => number, max: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; ) {
    const size = 1 + Math.floor(rand() * max);
    chunks.push(bytes.subarray(i, i + size));
    i += size;
  }
  return chunks;
}

/** An async iterable body over chunks that records how many were pulled and whether it was closed. */
export function trackedBody(chunks: Uint8Array[]): AsyncIterable<Uint8Array> & { pulled: number; closed: boolean } {
  const body = {
    pulled: 0,
    closed: false,
    async *[Symbol.asyncIterator]() {
      try {
        for (const chunk of chunks) {
          body.pulled++;
          yield chunk;
        }
      } finally {
        body.closed = true;
      }
    },
  };
  return body;
}

export function bodyOf(data: string | Uint8Array, chunkSize = 7): Readable {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
  return Readable.from(splitBytes(bytes, [chunkSize]).map((c) => Buffer.from(c)));
}
