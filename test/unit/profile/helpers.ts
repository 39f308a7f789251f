import { Readable } from 'node:stream';
import type { Profile } from '../../../lambda/core/profile';

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

/** The profile with mean and stddev set aside: they are compared within 1e-9 relative. */
function exactPart(p: Profile): { exact: Profile; moments: (number | null)[] } {
  const moments: (number | null)[] = [];
  const columns = p.columns?.map((c) => {
    moments.push(c.mean, c.stddev);
    return { ...c, mean: null, stddev: null };
  });
  return { exact: { ...p, ...(columns ? { columns } : {}) }, moments };
}

export function expectSame(merged: Profile, single: Profile, label: string): void {
  const m = exactPart(merged);
  const s = exactPart(single);
  try {
    expect(m.exact).toEqual(s.exact);
    expect(m.moments.length).toBe(s.moments.length);
    m.moments.forEach((v, i) => {
      const w = s.moments[i]!;
      if (v === null || w === null) expect(v).toBe(w);
      else expect(Math.abs(v - w)).toBeLessThanOrEqual(1e-9 * Math.max(Math.abs(w), 1e-300));
    });
  } catch (err) {
    throw new Error(`${label}: ${(err as Error).message}`);
  }
}
