/**
 * The engine's budgets and limits on small inputs: the options shrink the caps so that a few
 * kilobytes show what a hostile file does at the real ones (test/integration/hostile.test.ts runs
 * the real corpus at the real limits through the service).
 */
import { gzipSync } from 'node:zlib';
import {
  CorruptGzipError,
  DecompressionLimitError,
  FieldTooLongError,
  GZIP_MAX_RATIO,
  InvalidRowError,
  LineTooLongError,
  MAX_FIELD_BYTES,
  MAX_JSON_DEPTH,
  MAX_LINE_BYTES,
  NestingTooDeepError,
  profileObject,
  readRows,
  RowTooLargeError,
  TooManyColumnsError,
} from '../../../lambda/core/profile';
import { nestsDeeperThan } from '../../../lambda/core/profile/json-depth';
import { PROFILE_RSS_BOUND_MB, ROWS_RSS_BOUND_MB } from '../../../lambda/core/profile/limits';
import { ROWS_DEADLINE_MS } from '../../../lambda/core/read-limits';
import { SERVICE_FUNCTIONS } from '../../../lambda/shared/grants';
import { uniqueNames } from '../../../lambda/core/profile/names';
import { bodyOf } from './helpers';

// Some of these read tens of MiB (a gzip bomb to its cap): room for a loaded machine.
jest.setTimeout(180_000);

const deep = (levels: number) => `{"a":${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}}`;

describe('column names', () => {
  it('suffixes repeats as pandas does, suffixing again a suffixed name that is taken', () => {
    expect(uniqueNames(['a.1', 'a.2', 'a', 'a', 'a'])).toEqual(['a.1', 'a.2', 'a', 'a.1.1', 'a.2.1']);
    expect(uniqueNames(['a', 'a', 'a.1', 'a'])).toEqual(['a', 'a.1', 'a.1.1', 'a.2']);
    expect(uniqueNames(['', 'x', ''])).toEqual(['Unnamed: 0', 'x', 'Unnamed: 2']);
  });
});

describe('column caps', () => {
  const wide = (columns: number, rows: number) =>
    [Array.from({ length: columns }, (_v, c) => `c${c}`).join(','), ...Array.from({ length: rows }, (_v, r) => Array.from({ length: columns }, (_w, c) => String(r * c)).join(','))].join('\n') + '\n';

  it('profiles the first columns in full, names and types the next, counts the rest, and says so', async () => {
    const p = await profileObject({ body: bodyOf(wide(10, 4)), key: 'w.csv' }, { maxFullColumns: 3, maxColumns: 7 });
    expect(p.columnCount).toBe(10);
    expect(p.columns!.map((c) => c.name)).toEqual(['c0', 'c1', 'c2']);
    expect(p.otherColumns).toEqual(['c3', 'c4', 'c5', 'c6'].map((name) => ({ name, type: 'integer', count: 4, nulls: 0 })));
    expect(p.budget).toMatchObject({ fullColumns: 3, lightColumns: 4, omittedColumns: 3, omittedExact: true });
    expect(p.sample![0]).toEqual(['0', '0', '0']);
  });

  it('adds nothing to the profile of a file within every cap', async () => {
    const p = await profileObject({ body: bodyOf(wide(3, 4)), key: 'w.csv' });
    expect(p).not.toHaveProperty('budget');
    expect(p).not.toHaveProperty('otherColumns');
    expect(p).not.toHaveProperty('truncated');
  });

  it('gives JSON Lines keys past the caps the same treatment, nulls counted for the rows they are not in', async () => {
    const lines = Array.from({ length: 50 }, (_v, i) => JSON.stringify({ id: i, [`k${i}`]: i })).join('\n');
    const p = await profileObject({ body: bodyOf(lines), key: 'k.jsonl' }, { maxFullColumns: 2, maxColumns: 10 });
    expect(p.rows).toBe(50);
    expect(p.columns!.map((c) => [c.name, c.count, c.nulls])).toEqual([
      ['id', 50, 0],
      ['k0', 1, 49],
    ]);
    expect(p.otherColumns![0]).toEqual({ name: 'k1', type: 'integer', count: 1, nulls: 49 });
    expect(p.otherColumns).toHaveLength(8);
    // The 41 keys past the named ones are counted by a sketch (exact at this size).
    expect(p.budget).toMatchObject({ omittedColumns: 41, omittedExact: false });
    expect(p.columnCount).toBe(10 + 41);
  });
});

describe('memory budget', () => {
  it('turns exact counts into a sketch when the budget has no room, and says why', async () => {
    const lines = ['id', ...Array.from({ length: 20_000 }, (_v, i) => `value-number-${i}`)].join('\n');
    const roomy = await profileObject({ body: bodyOf(lines, 4096), key: 'u.csv' }, { distinctExactLimit: 100_000 });
    expect(roomy.columns![0]!.distinct).toEqual({ value: 20_000, exact: true });
    const tight = await profileObject({ body: bodyOf(lines, 4096), key: 'u.csv' }, { distinctExactLimit: 100_000, memoryBudgetBytes: 256 * 1024 });
    expect(tight.columns![0]!.distinct.exact).toBe(false);
    expect(tight.columns![0]!.sketch).toEqual({ reason: 'memory-budget', capacity: expect.any(Number) as unknown });
    expect(tight.budget).toMatchObject({ memoryBytes: 256 * 1024, sketchedColumns: 1 });
    expect(tight.budget!.peakBytes).toBeLessThanOrEqual(256 * 1024);
  });

  it('says distinct-limit when the exact limit, not the budget, made the sketch', async () => {
    const lines = ['id', ...Array.from({ length: 300 }, (_v, i) => `v${i}`)].join('\n');
    const p = await profileObject({ body: bodyOf(lines), key: 'u.csv' }, { distinctExactLimit: 100 });
    expect(p.columns![0]!.sketch).toEqual({ reason: 'distinct-limit', capacity: 2048 });
    expect(p).not.toHaveProperty('budget');
  });
});

describe('nesting', () => {
  it('finds depth by a scan that skips brackets in strings', () => {
    const text = Buffer.from('{"a":"[[[[[[","b":[[1]]}');
    expect(nestsDeeperThan(text, 0, text.length, 3)).toBe(false);
    expect(nestsDeeperThan(text, 0, text.length, 2)).toBe(true);
  });

  it('skips and counts a JSON Lines row nested past the limit, and profiles the others', async () => {
    const p = await profileObject({ body: bodyOf(`{"a":1}\n${deep(5000)}\n${deep(MAX_JSON_DEPTH)}\n`), key: 'd.jsonl' });
    expect(p.rows).toBe(2);
    expect(p.errors).toMatchObject({ invalidRows: 1, samples: [{ line: 2, message: expect.stringContaining(`${MAX_JSON_DEPTH} levels`) as unknown }] });
  });

  it('refuses such a row in ?rows with NestingTooDeepError, and reads the row before it', async () => {
    const body = `{"a":1}\n${deep(5000)}\n`;
    await expect(readRows({ body: bodyOf(body), key: 'd.jsonl' }, { offset: 0, limit: 5 })).rejects.toBeInstanceOf(NestingTooDeepError);
    await expect(readRows({ body: bodyOf(body), key: 'd.jsonl' }, { offset: 0, limit: 1 })).resolves.toEqual({ columns: ['a'], rows: [[1]], nextOffset: 1 });
  });
});

describe('?rows limits', () => {
  it('refuses a JSON Lines line past the cap without holding it, and pages past it', async () => {
    const long = Buffer.concat([Buffer.from('{"a":"'), Buffer.alloc(MAX_LINE_BYTES, 'x'), Buffer.from('"}\n{"a":2}\n')]);
    await expect(readRows({ body: bodyOf(long, 65536), key: 'l.jsonl' }, { offset: 0, limit: 1 })).rejects.toMatchObject({
      constructor: LineTooLongError,
      limit: MAX_LINE_BYTES,
    });
    await expect(readRows({ body: bodyOf(long, 65536), key: 'l.jsonl' }, { offset: 1, limit: 1 })).resolves.toEqual({ columns: ['a'], rows: [[2]], nextOffset: null });
  });

  it('refuses a field past the cap in a row asked for, not in a row before it', async () => {
    const csv = Buffer.concat([Buffer.from('a,b\n1,"'), Buffer.alloc(MAX_FIELD_BYTES + 1, 'y'), Buffer.from('"\n2,x\n')]);
    await expect(readRows({ body: bodyOf(csv, 65536), key: 'f.csv' }, { offset: 0, limit: 1 })).rejects.toBeInstanceOf(FieldTooLongError);
    await expect(readRows({ body: bodyOf(csv, 65536), key: 'f.csv' }, { offset: 1, limit: 1 })).resolves.toEqual({ columns: ['a', 'b'], rows: [['2', 'x']], nextOffset: null });
  });

  it('refuses an invalid row with InvalidRowError naming its line', async () => {
    await expect(readRows({ body: bodyOf('{"a":1}\n[1]\n'), key: 'e.jsonl' }, { offset: 0, limit: 5 })).rejects.toMatchObject({
      constructor: InvalidRowError,
      message: expect.stringContaining('Line 2') as unknown,
    });
  });

  it('ends the page where the next row would pass the byte budget, counting the escaping the proxy response adds', async () => {
    // Each row is 1,000 quotes: 1,002 bytes of JSON, about 4,000 once the page is escaped again.
    const lines = Array.from({ length: 10 }, () => JSON.stringify({ q: '"'.repeat(1000) })).join('\n');
    const page = await readRows({ body: bodyOf(lines), key: 'q.jsonl' }, { offset: 0, limit: 10, maxBytes: 20_000 });
    expect(page.rows.length).toBeGreaterThanOrEqual(3);
    expect(page.rows.length).toBeLessThanOrEqual(4);
    expect(page.nextOffset).toBe(page.rows.length);
    expect(page.truncated).toEqual({ reason: 'response-size' });
    expect(Buffer.byteLength(JSON.stringify(JSON.stringify(page)))).toBeLessThanOrEqual(20_000);
  });

  it('counts a wide JSON Lines page by the nulls of every row, not by the keys each row has', async () => {
    const lines = Array.from({ length: 400 }, (_v, i) => JSON.stringify({ [`k${i}`]: i })).join('\n');
    const page = await readRows({ body: bodyOf(lines), key: 'k.jsonl' }, { offset: 0, limit: 400, maxBytes: 100_000 });
    expect(page.truncated).toEqual({ reason: 'response-size' });
    expect(Buffer.byteLength(JSON.stringify(JSON.stringify(page)))).toBeLessThanOrEqual(100_000);
    expect(page.rows.length).toBe(page.nextOffset);
  });

  it('refuses a row that alone is over the budget with RowTooLargeError', async () => {
    const csv = `a\n${'z'.repeat(5000)}\n`;
    await expect(readRows({ body: bodyOf(csv), key: 'r.csv' }, { offset: 0, limit: 1, maxBytes: 4000 })).rejects.toBeInstanceOf(RowTooLargeError);
  });

  it('answers a deadline already past with no rows, a cursor at the offset asked for, and the reason', async () => {
    const page = await readRows({ body: bodyOf('a\n1\n2\n'), key: 'r.csv' }, { offset: 1, limit: 1, deadline: Date.now() - 1 });
    expect(page).toEqual({ columns: [], rows: [], nextOffset: 1, truncated: { reason: 'deadline' } });
  });

  it('refuses a header past the columns it names with TooManyColumnsError', async () => {
    const header = Array.from({ length: 50_001 }, (_v, i) => `c${i}`).join(',');
    await expect(readRows({ body: bodyOf(`${header}\n`, 4096), key: 'h.csv' }, { offset: 0, limit: 1 })).rejects.toBeInstanceOf(TooManyColumnsError);
  });

  it('refuses a truncated gzip stream with CorruptGzipError, as the profiler does', async () => {
    const gz = gzipSync(Buffer.from(`a\n${'1\n'.repeat(100_000)}`));
    const cut = gz.subarray(0, gz.length >> 1);
    await expect(readRows({ body: bodyOf(cut, 4096), key: 't.csv.gz' }, { offset: 90_000, limit: 1 })).rejects.toBeInstanceOf(CorruptGzipError);
    await expect(profileObject({ body: bodyOf(cut, 4096), key: 't.csv.gz' })).rejects.toBeInstanceOf(CorruptGzipError);
  });
});

describe('gzip bounds', () => {
  // gzip members one after another: 64 MiB of 1 KiB rows from 64 KB, 1,000:1, read with the ratio
  // checked from 16 MiB (the real 256 MiB is the integration test's and the benchmark's).
  const row = `0,${'x'.repeat(1021)}\n`;
  const from = 16 * 1024 * 1024;
  const bomb = () => {
    const member = gzipSync(Buffer.from(row.repeat(1024)));
    return Buffer.concat([gzipSync('a,b\n'), ...Array.from({ length: 64 }, () => member)]);
  };

  it('profiles a bomb up to the expansion cap and says so', async () => {
    const p = await profileObject({ body: bodyOf(bomb(), 65536), key: 'b.csv.gz' }, { gzipRatioFromBytes: from });
    expect(p.truncated).toMatchObject({ reason: 'gzip-expansion', limit: GZIP_MAX_RATIO });
    expect(p.truncated!.contentBytes).toBeGreaterThanOrEqual(from - 1024 * 1024);
    // Past both the 16 MiB and 200 times the compressed bytes read so far (read ahead, in 64 KiB chunks).
    expect(p.truncated!.contentBytes).toBeLessThanOrEqual(Math.max(from, GZIP_MAX_RATIO * p.truncated!.bytesRead));
    expect(p.truncated!.contentBytes).toBeLessThan(64 * 1024 * 1024);
    expect(p.sha256).toBeNull();
  });

  it('reads rows before the cap and refuses rows past it with DecompressionLimitError', async () => {
    await expect(readRows({ body: bodyOf(bomb(), 65536), key: 'b.csv.gz' }, { offset: 0, limit: 2, gzipRatioFromBytes: from })).resolves.toMatchObject({ rows: [['0', row.slice(2, -1)], ['0', row.slice(2, -1)]] });
    await expect(readRows({ body: bodyOf(bomb(), 65536), key: 'b.csv.gz' }, { offset: 100_000, limit: 2, gzipRatioFromBytes: from })).rejects.toMatchObject({
      constructor: DecompressionLimitError,
      limit: GZIP_MAX_RATIO,
    });
  });
});

describe('deadline', () => {
  it('profiles what it read before the deadline and says so, with no sha256', async () => {
    const p = await profileObject({ body: bodyOf('a\n1\n2\n'), key: 'r.csv' }, { deadline: Date.now() - 1 });
    expect(p.truncated).toEqual({ reason: 'deadline', bytesRead: expect.any(Number) as unknown, contentBytes: 0 });
    expect(p.sha256).toBeNull();
  });
});

describe('the bounds and the functions', () => {
  it('gives the process and read functions more memory than the engine is bounded by', () => {
    expect(SERVICE_FUNCTIONS.process.memorySize).toBeGreaterThan(PROFILE_RSS_BOUND_MB);
    expect(SERVICE_FUNCTIONS.read.memorySize).toBeGreaterThan(ROWS_RSS_BOUND_MB);
  });

  it('stops a rows request before the read function times out', () => {
    expect(ROWS_DEADLINE_MS).toBeLessThan(SERVICE_FUNCTIONS.read.timeoutSeconds * 1000);
  });
});
