import { ColumnAccumulator } from '../../../lambda/core/profile/column';
import { copyBytes, parseDate } from '../../../lambda/core/profile/values';

const bytes = (s: string) => Buffer.from(s, 'utf8');

describe('copyBytes', () => {
  it('copies a short slice into the destination at the given offset', () => {
    const dst = Buffer.alloc(8, 0x2e);
    copyBytes(Buffer.from('xabcx'), 1, 4, dst, 2);
    expect(dst.toString()).toBe('..abc...');
  });

  it('copies a slice longer than the loop threshold whole', () => {
    const src = Buffer.from('0123456789'.repeat(10));
    const dst = Buffer.alloc(100);
    copyBytes(src, 5, 95, dst, 3);
    expect(dst.subarray(3, 93).toString()).toBe(src.subarray(5, 95).toString());
  });
});

describe('parseDate', () => {
  it('gives Date.UTC of every day from 1899 to 2157, across the month table and beyond it', () => {
    const wrong: string[] = [];
    for (let t = Date.UTC(1899, 0, 1); t <= Date.UTC(2157, 11, 31); t += 86400000) {
      const text = new Date(t).toISOString().slice(0, 10);
      if (parseDate(bytes(text), 0, 10) !== t) wrong.push(text);
    }
    expect(wrong).toEqual([]);
  });

  it('reads dates of the first and last years ISO 8601 spells with four digits', () => {
    expect([parseDate(bytes('0001-03-01'), 0, 10), parseDate(bytes('9999-12-31T23:59:59Z'), 0, 20)]).toEqual([
      Date.parse('0001-03-01T00:00:00Z'),
      Date.parse('9999-12-31T23:59:59Z'),
    ]);
  });
});

describe('ColumnAccumulator lexical extremes', () => {
  it('finds the byte-order minimum and maximum among strings that share their first four bytes', () => {
    const column = new ColumnAccumulator('c', { distinctExactLimit: 10_000, topValues: 3, mergeable: false });
    for (const v of ['abcdz', 'abcd', 'abcdzz', 'abc', 'abcdy', 'ab', 'abcdzy', 'b', 'abce', 'a']) column.addField(bytes(v), 0, bytes(v).length);
    expect([column.toProfile().min, column.toProfile().max]).toEqual(['a', 'b']);
  });

  it('keeps the extremes of a column of numbers and strings in byte order', () => {
    const column = new ColumnAccumulator('c', { distinctExactLimit: 10_000, topValues: 3, mergeable: false });
    for (const v of ['10', '9', 'x1', '100', '-5', 'x10', '2.5']) column.addField(bytes(v), 0, bytes(v).length);
    expect([column.toProfile().min, column.toProfile().max]).toEqual(['-5', 'x10']);
  });
});
