import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { mergeProfiles, profileObject, readRows, type Profile } from '../../../lambda/core/profile';
import { bodyOf, seededRandom, splitBytes, trackedBody } from './helpers';

const col = (p: Profile, name: string) => p.columns!.find((c) => c.name === name)!;

function generatedRows(rows: number): string[] {
  const rand = seededRandom(7);
  const cities = ['Oslo', '"Paris, FR"', 'Lima', 'Zürich'];
  const out: string[] = [];
  for (let i = 0; i < rows; i++) {
    const v = rand() < 0.1 ? '' : (rand() * 200 - 50).toFixed(3);
    out.push(`${i},${cities[i % 4]},${v},${Math.floor(rand() * 50)},2024-0${1 + (i % 9)}-1${i % 10}`);
  }
  return out;
}

describe('profileObject', () => {
  it('infers integer, number, string, boolean and date columns with their statistics', async () => {
    const csv = 'i,n,s,b,d\n1,1.5,x,true,2024-01-02\n2,2.5,y,False,2023-12-31\n3,,x,TRUE,2024-03-01\n';
    const p = await profileObject({ body: bodyOf(csv), key: 'x.csv' });
    expect(p.columns!.map((c) => c.type)).toEqual(['integer', 'number', 'string', 'boolean', 'date']);
    expect(col(p, 'n')).toMatchObject({ count: 2, nulls: 1, min: 1.5, max: 2.5, mean: 2 });
    expect(col(p, 'n').stddev).toBeCloseTo(Math.SQRT1_2, 12);
    expect(col(p, 's').top).toEqual([
      { value: 'x', count: 2 },
      { value: 'y', count: 1 },
    ]);
    expect(col(p, 'd')).toMatchObject({ min: '2023-12-31', max: '2024-03-01' });
  });

  it('counts a value as one whether it arrives unquoted, quoted or split across chunks', async () => {
    const values = ['abcdefgh', 'abcdefghi', 'ab', 'abcd', 'ü-ümlaut'];
    const lines = ['v'];
    for (const v of values) lines.push(v, `"${v}"`, v);
    const bytes = Buffer.from(`${lines.join('\n')}\n`);
    const whole = await profileObject({ body: bodyOf(bytes, bytes.length), key: 'x.csv' });
    const split = await profileObject({ body: bodyOf(bytes, 3), key: 'x.csv' });
    for (const p of [whole, split]) {
      expect(col(p, 'v').distinct).toEqual({ value: values.length, exact: true });
      expect(col(p, 'v').top.map((t) => t.count)).toEqual(values.map(() => 3));
    }
  });

  it('switches to HyperLogLog past the exact bound and states its error', async () => {
    const csv = 'id\n' + Array.from({ length: 5000 }, (_v, i) => `v${i}`).join('\n');
    const p = await profileObject({ body: bodyOf(csv, 4096), key: 'ids.csv' }, { distinctExactLimit: 1000 });
    const d = col(p, 'id').distinct;
    expect(d.exact).toBe(false);
    expect(d.error).toBeCloseTo(1.04 / 128, 6);
    expect(Math.abs(d.value - 5000) / 5000).toBeLessThan(5 * d.error!);
    expect(col(p, 'id').topMethod).toBe('misra-gries');
  });

  it('samples the top values of a column where almost every value is new, and still finds its heavy hitter', async () => {
    const rand = seededRandom(11);
    const values: string[] = [];
    let heavy = 0;
    for (let i = 0; i < 60_000; i++) {
      if (rand() < 0.2) {
        values.push('unknown');
        heavy++;
      } else {
        values.push(`u${i}`);
      }
    }
    const p = await profileObject({ body: bodyOf('v\n' + values.join('\n'), 8192), key: 'v.csv' });
    const v = col(p, 'v');
    expect(v.topMethod).toBe('misra-gries-sampled');
    expect(v.top[0]!.value).toBe('unknown');
    // The documented error: 2n / capacity plus a few sampling standard deviations, sqrt(8 * count).
    expect(Math.abs(v.top[0]!.count - heavy)).toBeLessThan((2 * 60_000) / 2048 + 4 * Math.sqrt(8 * heavy));
    expect(v.top.slice(1)).toEqual([]);
    expect(Math.abs(v.distinct.value - (60_000 - heavy + 1)) / 48_000).toBeLessThan(5 * v.distinct.error!);
  });

  it('gives the same sampled top values on every run', async () => {
    const csv = 'v\n' + Array.from({ length: 40_000 }, (_v, i) => (i % 7 === 0 ? 'x' : `u${i}`)).join('\n');
    const a = await profileObject({ body: bodyOf(csv, 4096), key: 'v.csv' });
    const b = await profileObject({ body: bodyOf(csv, 1000), key: 'v.csv' });
    expect(col(a, 'v').topMethod).toBe('misra-gries-sampled');
    expect(col(a, 'v').top).toEqual(col(b, 'v').top);
  });

  it('keeps a histogram whose bins hold every numeric value', async () => {
    const csv = 'v\n' + Array.from({ length: 1000 }, (_v, i) => String(i * 0.37 - 100)).join('\n');
    const p = await profileObject({ body: bodyOf(csv, 512), key: 'h.csv' });
    const h = col(p, 'v').histogram!;
    expect(h.bins.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(h.bins.length).toBeLessThanOrEqual(64);
    expect(h.min).toBeLessThanOrEqual(-100);
    expect(h.max).toBeGreaterThan(269.63);
  });

  it('truncates and reports a field over the size cap without failing', async () => {
    const csv = `a,b\n1,"${'x'.repeat(50_000)}"\n2,y\n`;
    const p = await profileObject({ body: bodyOf(csv, 1000), key: 'big.csv' }, { maxFieldBytes: 1024 });
    expect(p.errors!.oversizedFields).toBe(1);
    expect(p.rows).toBe(2);
  });

  it('profiles gzip-compressed CSV, counting compressed bytes and hashing them as stored', async () => {
    const gz = gzipSync(Buffer.from('a,b\n1,2\n3,4\n'));
    const p = await profileObject({ body: bodyOf(gz, 5), key: 'data.csv.gz', etag: '"e"' });
    expect(p).toMatchObject({ format: 'csv', compression: 'gzip', bytes: gz.length, rows: 2, etag: '"e"' });
    expect(p.sha256).toBe(createHash('sha256').update(gz).digest('hex'));
  });

  it('profiles JSON Lines with the union of keys in first-seen order', async () => {
    const jsonl = '{"a":1,"b":"x"}\n{"a":2.5,"c":true}\n\n{"b":"2024-01-01","a":null}\n';
    const p = await profileObject({ body: bodyOf(jsonl, 4), key: 'events.jsonl' });
    expect(p).toMatchObject({ format: 'jsonl', rows: 3, columnCount: 3 });
    expect(p.columns!.map((c) => [c.name, c.type, c.count, c.nulls])).toEqual([
      ['a', 'number', 2, 1],
      ['b', 'string', 2, 1],
      ['c', 'boolean', 1, 2],
    ]);
  });

  it('takes a file without a delimited name or type as text when under 90% of its lines agree on a delimiter', async () => {
    const prose = Buffer.from('Dear team, hello.\nThe report is attached\nsee page 2; and 3\nRegards\nAnna\n');
    const p = await profileObject({ body: bodyOf(prose, 7), key: 'letter.txt' });
    expect(p).toMatchObject({ format: 'text', delimiter: null, rows: null });
  });

  it('takes a file without a delimited name or type as delimited when 90% of its lines agree', async () => {
    const table = Buffer.from('a|b|c\n1|2|3\n4|5|6\n7|8|9\n');
    const p = await profileObject({ body: bodyOf(table, 7), key: 'table.txt' });
    expect(p).toMatchObject({ format: 'delimited', delimiter: '|', rows: 3 });
  });

  it('gives a binary object the basic profile only', async () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 13, 1, 2, 3]);
    const p = await profileObject({ body: bodyOf(bytes, 3), key: 'img.png', contentType: 'image/png' });
    expect(p).toMatchObject({ format: 'binary', bytes: 11, contentType: 'image/png', rows: null, columns: null });
    expect(p.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('mergeProfiles', () => {
  it('merges the profiles of two halves split at a row boundary into the profile of the whole', async () => {
    const rows = generatedRows(30_000);
    const header = 'id,city,v,q,d';
    const whole = await profileObject({ body: bodyOf([header, ...rows].join('\n'), 8192), key: 'w.csv' }, { mergeable: true });
    const first = await profileObject({ body: bodyOf([header, ...rows.slice(0, 12_345)].join('\n'), 8192), key: 'w.csv' }, { mergeable: true });
    const second = await profileObject(
      { body: bodyOf(rows.slice(12_345).join('\n'), 8192), key: 'w.csv' },
      { mergeable: true, header: header.split(',') },
    );
    const merged = mergeProfiles(first, second);
    expect(merged.rows).toBe(whole.rows);
    for (const w of whole.columns!) {
      const m = col(merged, w.name);
      expect({ name: w.name, type: m.type, count: m.count, nulls: m.nulls, min: m.min, max: m.max, histogram: m.histogram }).toEqual({
        name: w.name,
        type: w.type,
        count: w.count,
        nulls: w.nulls,
        min: w.min,
        max: w.max,
        histogram: w.histogram,
      });
      if (w.mean !== null) expect(m.mean).toBeCloseTo(w.mean, 9);
      if (w.stddev !== null) expect(m.stddev).toBeCloseTo(w.stddev, 9);
      if (w.distinct.exact) expect(m.distinct).toEqual(w.distinct);
      else expect(Math.abs(m.distinct.value - w.distinct.value) / w.distinct.value).toBeLessThan(3 * w.distinct.error!);
    }
    expect(col(merged, 'city').top).toEqual(col(whole, 'city').top);
  });
});

describe('readRows', () => {
  const csv = Buffer.from('id,name,score\n' + Array.from({ length: 40_000 }, (_v, i) => `${i},n${i},${i % 7}`).join('\n') + '\n');

  it('returns the requested page of rows and the next offset', async () => {
    const result = await readRows({ body: bodyOf(csv, 1000), key: 'r.csv' }, { offset: 2, limit: 3 });
    expect(result).toEqual({
      columns: ['id', 'name', 'score'],
      rows: [
        ['2', 'n2', '2'],
        ['3', 'n3', '3'],
        ['4', 'n4', '4'],
      ],
      nextOffset: 5,
    });
  });

  it('returns only the requested columns, in the requested order', async () => {
    const result = await readRows({ body: bodyOf(csv, 1000), key: 'r.csv' }, { offset: 0, limit: 1, columns: ['score', 'id'] });
    expect(result.columns).toEqual(['score', 'id']);
    expect(result.rows).toEqual([['0', '0']]);
  });

  it('stops reading and closes the body once it has the page', async () => {
    const chunks = splitBytes(csv, [1000]);
    const body = trackedBody(chunks);
    await readRows({ body, key: 'r.csv' }, { offset: 0, limit: 10 });
    // It reads the first 64 KiB to sniff the format, and no further.
    expect(body.pulled).toBeLessThan(chunks.length / 2);
    expect(body.closed).toBe(true);
  });

  it('gives no next offset on the last page', async () => {
    const result = await readRows({ body: bodyOf(csv, 1000), key: 'r.csv' }, { offset: 39_998, limit: 5 });
    expect(result.rows).toHaveLength(2);
    expect(result.nextOffset).toBeNull();
  });

  it('rejects an unknown column with UnknownColumnError', async () => {
    await expect(readRows({ body: bodyOf(csv, 1000), key: 'r.csv' }, { offset: 0, limit: 1, columns: ['nope'] })).rejects.toMatchObject({
      name: 'UnknownColumnError',
    });
  });

  it('rejects a binary object with UnsupportedFormatError', async () => {
    await expect(readRows({ body: bodyOf(Buffer.from([0, 1, 2, 3])), key: 'x.bin' }, { offset: 0, limit: 1 })).rejects.toMatchObject({
      name: 'UnsupportedFormatError',
    });
  });

  it('reads JSON Lines rows of a file that starts with a byte order mark', async () => {
    const result = await readRows({ body: bodyOf('\uFEFF{"a":1}\n{"a":2}\n'), key: 'e.jsonl' }, { offset: 0, limit: 1 });
    expect(result).toEqual({ columns: ['a'], rows: [[1]], nextOffset: 1 });
  });

  it('rejects a JSON Lines row that is not a JSON object with InvalidRowError, naming its line', async () => {
    await expect(readRows({ body: bodyOf('{"a":1}\n\n{"a":\n'), key: 'e.jsonl' }, { offset: 0, limit: 5 })).rejects.toMatchObject({
      name: 'InvalidRowError',
      code: 'InvalidRow',
      message: expect.stringContaining('Line 3') as unknown,
    });
  });

  it('reads JSON Lines rows as JSON values', async () => {
    const result = await readRows({ body: bodyOf('{"a":1}\n{"a":2,"b":"x"}\n{"a":3}\n'), key: 'e.ndjson' }, { offset: 1, limit: 1 });
    expect(result).toEqual({ columns: ['a', 'b'], rows: [[2, 'x']], nextOffset: 2 });
  });
});
