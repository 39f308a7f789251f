import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  mergeRanges,
  planRanges,
  profileObject,
  profileRange,
  profileRanges,
  type ByteRangeSource,
  type Profile,
  type Range,
  type RangePartial,
  type RangePlan,
} from '../../../lambda/core/profile';
import { bodyOf, expectSame, seededRandom } from './helpers';

/** Chunk sizes the source yields, cycled: single bytes to whole lines. */
const CHUNKS = [1, 2, 3, 5, 8, 13, 64, 257];

const DIR = join(__dirname, '..', '..', 'fixtures', 'profile');

/** The bytes as a ByteRangeSource, in chunks of `chunk` bytes (to cross chunk boundaries too). */
function sourceOf(bytes: Buffer, chunk: number, reads: { count: number } = { count: 0 }): ByteRangeSource {
  return {
    async *read(start: number, end: number) {
      reads.count++;
      for (let i = start; i < end; i += chunk) yield bytes.subarray(i, Math.min(end, i + chunk));
    },
  };
}

/**
 * The bytes as a source that reuses one buffer, as the thread's file source does: each chunk is
 * copied into it, and overwritten with quotes once the next chunk is asked for, so a range that
 * kept a chunk past that point would read garbage.
 */
function reusingSourceOf(bytes: Buffer, chunk: number): ByteRangeSource {
  return {
    async *read(start: number, end: number) {
      const buf = Buffer.alloc(chunk);
      for (let i = start; i < end; i += chunk) {
        const n = bytes.copy(buf, 0, i, Math.min(end, i + chunk));
        yield buf.subarray(0, n);
        buf.fill(0x22);
      }
    },
  };
}

/** A plan with the ranges cut at the given offsets. */
function planAt(bytes: Buffer, key: string, cuts: number[]): RangePlan {
  const plan = planRanges({ size: bytes.length, head: bytes.subarray(0, 65536), key });
  if (!plan.splittable) return plan;
  const edges = [0, ...cuts, bytes.length];
  const ranges: Range[] = edges.slice(1).map((end, i) => ({ index: i, start: edges[i]!, end }));
  return { ...plan, ranges };
}

async function split(bytes: Buffer, key: string, cuts: number[], chunk: number, reuse = false, runs = { count: 0 }): Promise<Profile> {
  const plan = planAt(bytes, key, cuts);
  // Only a splittable plan's ranges promise not to keep a chunk (an unsplit one reads through gunzip).
  const source = reuse && plan.splittable ? reusingSourceOf(bytes, chunk) : sourceOf(bytes, chunk);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return profileRanges(
    plan,
    (range) => {
      runs.count++;
      return profileRange(source, plan, range);
    },
    { sha256 },
  );
}

function generated(): Record<string, Buffer> {
  const rand = seededRandom(15);
  const quoted: string[] = ['id,text,amount,when,flag'];
  const crlf: string[] = ['\uFEFFa,b,c'];
  const ragged: string[] = ['x,y,z'];
  const jsonl: string[] = [];
  for (let i = 0; i < 14; i++) {
    const text = rand() < 0.3 ? `"line one\nline ""two"", with comma\r\nthree ${i % 7}"` : rand() < 0.5 ? `plain ${i % 5}` : '';
    const amount = rand() < 0.1 ? 'n/a' : (rand() * 1000 - 300).toFixed(2);
    quoted.push(`${i},${text},${amount},2024-0${1 + (i % 9)}-1${i % 10}T0${i % 10}:00:00Z,${rand() < 0.5}`);
    crlf.push(`${i % 11},"q${i % 4}",${rand() < 0.2 ? '' : (i * 1.5).toString()}`);
    const cells = ['1', 'two', '"3,3"', '4', '5'].slice(0, 1 + Math.floor(rand() * 5));
    ragged.push(cells.join(','));
    if (i % 9 === 4) jsonl.push('');
    if (i % 13 === 5) jsonl.push('not json');
    const obj: Record<string, unknown> = { id: i, name: `n${i % 6}` };
    if (i > 5) obj.late = i % 3 === 0 ? null : `v${i % 4}`;
    if (i % 5 === 0) obj.nested = { a: [i] };
    obj.score = i % 4 === 0 ? 'high' : rand() * 10;
    jsonl.push(JSON.stringify(obj));
  }
  return {
    'gen_quoted_newlines.csv': Buffer.from(`${quoted.join('\n')}\n`),
    'gen_crlf_bom.csv': Buffer.from(`${crlf.join('\r\n')}\r\n`),
    'gen_ragged.csv': Buffer.from(`${ragged.join('\n')}\n\n\n`),
    'gen_lines.jsonl': Buffer.from(`\uFEFF${jsonl.join('\n')}`),
  };
}

const fixtures: [string, Buffer][] = [
  ...readdirSync(DIR).map((name): [string, Buffer] => [name, readFileSync(join(DIR, name))]),
  ...Object.entries(generated()),
];

describe('split and merge', () => {
  it.each(fixtures)('gives the single-pass profile of %s cut into 2 ranges at every byte offset', async (name, bytes) => {
    const single = await profileObject({ body: bodyOf(bytes, 64), key: name });
    for (let a = 1; a < bytes.length; a++) {
      expectSame(await split(bytes, name, [a], CHUNKS[a % CHUNKS.length]!), single, `${name} cut at ${a}`);
    }
  });

  it.each(fixtures)('gives the single-pass profile of %s cut into 2 ranges from a source that reuses its buffer', async (name, bytes) => {
    const single = await profileObject({ body: bodyOf(bytes, 64), key: name });
    for (let a = 1; a < bytes.length; a++) {
      // The same guesses too: a re-run from the known boundary would hide a speculation that read garbage.
      const fresh = { count: 0 };
      const reused = { count: 0 };
      await split(bytes, name, [a], CHUNKS[a % CHUNKS.length]!, false, fresh);
      expectSame(await split(bytes, name, [a], CHUNKS[a % CHUNKS.length]!, true, reused), single, `${name} cut at ${a}, reused buffer`);
      expect(`${name} cut at ${a}: ${reused.count} range runs`).toBe(`${name} cut at ${a}: ${fresh.count} range runs`);
    }
  });

  it.each(fixtures)('gives the single-pass profile of %s cut into 3 ranges with every byte offset as a cut', async (name, bytes) => {
    const single = await profileObject({ body: bodyOf(bytes, 64), key: name });
    const n = bytes.length;
    for (let a = 1; a < n - 1; a++) {
      for (const b of new Set([a + 1, Math.floor((a + n) / 2)])) {
        if (b <= a || b >= n) continue;
        expectSame(await split(bytes, name, [a, b], CHUNKS[(a + b) % CHUNKS.length]!), single, `${name} cut at ${a},${b}`);
      }
    }
  });

  it('asks for a range again from the known boundary when its guess was wrong, and the result is exact', async () => {
    // A quote inside an unquoted field is a literal character: parity then misleads the "outside"
    // reading, and with one column both readings' next records fit the header, so it is kept.
    const bytes = Buffer.from('a\nx"y\n"p\nq"\nz\n');
    const single = await profileObject({ body: bodyOf(bytes, 64), key: 'q.csv' });
    const plan = planAt(bytes, 'q.csv', [3]);
    const source = sourceOf(bytes, 4);
    const partials = await Promise.all(plan.ranges.map((r) => profileRange(source, plan, r)));
    expect(partials[1]).toMatchObject({ firstRecordStart: 9, guess: 'outside-quotes' });
    expect(mergeRanges(plan, partials)).toEqual({ rerun: [{ index: 1, start: 3, end: bytes.length, knownStart: 6 }] });
    partials[1] = await profileRange(source, plan, { ...plan.ranges[1]!, knownStart: 6 });
    const merged = mergeRanges(plan, partials, { sha256: single.sha256 });
    expect(merged).toEqual({ profile: single });
  });

  it('ends the merge with a range the deadline stopped: the profile of the records before it, truncated, with no sha256', async () => {
    const bytes = Buffer.from(`id,text\n${Array.from({ length: 40 }, (_, i) => `${i},"t ${i % 7}\nmore"`).join('\n')}\n`);
    const plan = planAt(bytes, 'd.csv', [Math.floor(bytes.length / 3), Math.floor((2 * bytes.length) / 3)]);
    const source = sourceOf(bytes, 16);
    // Range 0 ends before the deadline; ranges 1 and 2 start after it (a deadline already past).
    const past = { ...plan, options: { deadline: Date.now() - 1 } };
    const first = await profileRange(source, plan, plan.ranges[0]!);
    const partials: RangePartial[] = [];

    const merged = await profileRanges(plan, async (range) => {
      const partial = range.index === 0 ? first : await profileRange(source, past, range);
      partials[range.index] = partial;
      return partial;
    });

    const prefix = bytes.subarray(0, first.nextRecordStart);
    const single = await profileObject({ body: bodyOf(prefix, 64), key: 'd.csv' });
    // Its first record was not read before the deadline: re-run from the boundary range 0 proved.
    expect(partials[1]).toMatchObject({ guess: 'known', firstRecordStart: first.nextRecordStart });
    expect(merged.truncated).toEqual({ reason: 'deadline', bytesRead: first.nextRecordStart, contentBytes: first.nextRecordStart });
    expect(merged.sha256).toBeNull();
    expect(merged.bytes).toBe(first.nextRecordStart);
    const { truncated: _t, sha256: _s, ...rest } = merged;
    const { sha256: _s1, ...expected } = single;
    expectSame(rest as typeof single, expected as typeof single, 'prefix');
  });

  it('keeps line numbers in errors absolute', async () => {
    const bytes = Buffer.from('a,b\n1,2\n3\n"x\ny",4\n5,6,7\n');
    const merged = await split(bytes, 'l.csv', [12], 3);
    expect(merged.errors!.raggedLines).toEqual([3, 6]);
    expect(merged.errors!.samples.map((s) => s.line)).toEqual([3, 6]);
  });

  it('profiles gzip as one range, with its own hash', async () => {
    const { gzipSync } = await import('node:zlib');
    const bytes = gzipSync(Buffer.from('a,b\n1,2\n3,4\n'));
    const plan = planRanges({ size: bytes.length, head: bytes, key: 'g.csv.gz', workers: 4 });
    expect(plan).toMatchObject({ splittable: false, compression: 'gzip', ranges: [{ index: 0, start: 0, end: bytes.length }] });
    const source = sourceOf(bytes, 5);
    const profile = await profileRanges(plan, (r) => profileRange(source, plan, r));
    expect(profile).toEqual(await profileObject({ body: bodyOf(bytes, 64), key: 'g.csv.gz' }));
  });

  it('plans ranges of about equal size that cover the object', () => {
    const bytes = Buffer.from(`a,b\n${'1,2\n'.repeat(1000)}`);
    const plan = planRanges({ size: bytes.length, head: bytes.subarray(0, 65536), key: 'p.csv', workers: 3 });
    expect(plan.ranges.map((r) => [r.start, r.end])).toEqual([
      [0, 1335],
      [1335, 2670],
      [2670, 4004],
    ]);
    expect(plan.header).toEqual({ cells: ['a', 'b'], count: 2 });
    expect(plan.dataStart).toBe(4);
  });
});
