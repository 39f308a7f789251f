import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileRange } from '../../../local/file-range';

describe('readFileRange', () => {
  let dir: string;
  let path: string;
  const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) % 251));
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'file-range-'));
    path = join(dir, 'bytes.bin');
    writeFileSync(path, bytes);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Copies each chunk before asking for the next: what a consumer may rely on. */
  async function collect(start: number, end: number, chunk: number): Promise<{ data: Buffer; chunks: number }> {
    const parts: Buffer[] = [];
    for await (const c of readFileRange(path, start, end, chunk)) parts.push(Buffer.from(c));
    return { data: Buffer.concat(parts), chunks: parts.length };
  }

  it.each([1, 7, 64, 1000, 4096])('reads [start, end) in chunks of at most %i bytes', async (chunk) => {
    for (const [start, end] of [
      [0, 1000],
      [3, 998],
      [500, 501],
    ] as const) {
      const { data, chunks } = await collect(start, end, chunk);
      expect(data.equals(bytes.subarray(start, end))).toBe(true);
      expect(chunks).toBe(Math.ceil((end - start) / chunk));
    }
  });

  it('reads nothing for an empty range, and stops at the end of a file shorter than the range', async () => {
    expect((await collect(10, 10, 64)).data.length).toBe(0);
    expect((await collect(900, 5000, 64)).data.equals(bytes.subarray(900))).toBe(true);
  });

  it('reuses two buffers in turn: a chunk is overwritten once the one after it has been asked for', async () => {
    const seen: Buffer[] = [];
    for await (const c of readFileRange(path, 0, 400, 100)) seen.push(c);
    expect(new Set(seen.map((c) => c.buffer)).size).toBe(2);
  });

  it('closes the file when the consumer stops early (with a read in flight)', async () => {
    const open = () => readdirSync('/proc/self/fd').length;
    const before = open();
    for await (const c of readFileRange(path, 0, 1000, 10)) {
      expect(c.length).toBe(10);
      expect(open()).toBe(before + 1);
      break;
    }
    expect(open()).toBe(before);
  });
});
