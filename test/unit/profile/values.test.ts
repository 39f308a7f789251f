import { ColumnAccumulator } from '../../../lambda/core/profile/column';
import { UNLIMITED } from '../../../lambda/core/profile/budget';
import { copyBytes, parseDate, parsed, parsedValue, readNumber } from '../../../lambda/core/profile/values';
import { seededRandom } from './helpers';

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
    const column = new ColumnAccumulator('c', { distinctExactLimit: 10_000, topValues: 3, mergeable: false, budget: UNLIMITED });
    for (const v of ['abcdz', 'abcd', 'abcdzz', 'abc', 'abcdy', 'ab', 'abcdzy', 'b', 'abce', 'a']) column.addField(bytes(v), 0, bytes(v).length);
    expect([column.toProfile().min, column.toProfile().max]).toEqual(['a', 'b']);
  });

  it('keeps the extremes of a column of numbers and strings in byte order', () => {
    const column = new ColumnAccumulator('c', { distinctExactLimit: 10_000, topValues: 3, mergeable: false, budget: UNLIMITED });
    for (const v of ['10', '9', 'x1', '100', '-5', 'x10', '2.5']) column.addField(bytes(v), 0, bytes(v).length);
    expect([column.toProfile().min, column.toProfile().max]).toEqual(['-5', 'x10']);
  });
});

/** What readNumber must give: Number() of the text when it has the accepted shape, else not a number. */
function referenceNumber(text: string): { value: number; integer: boolean } | null {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return null;
  return { value: Number(text), integer: !/[.eE]/.test(text) };
}

describe('readNumber', () => {
  it('agrees with Number() on generated signs, leading zeros, fractions, exponents, long digit runs and junk', () => {
    const rand = seededRandom(7);
    const pieces = ['0', '00', '1', '5', '9', '12345678', '999999999', '9007199254740993', '.', 'e', 'E', '+', '-', ' ', ',', 'x', '1,000'];
    const wrong: string[] = [];
    for (let k = 0; k < 20000; k++) {
      let text = '';
      const len = 1 + Math.floor(rand() * 5);
      for (let p = 0; p < len; p++) text += pieces[Math.floor(rand() * pieces.length)];
      const b = bytes(`#${text}#`);
      const ok = readNumber(b, 1, b.length - 1);
      const got = ok ? { value: parsedValue[0]!, integer: parsed.integer } : null;
      const want = referenceNumber(text);
      if (want === null ? got !== null : got === null || !Object.is(got.value, want.value) || got.integer !== want.integer) wrong.push(text);
    }
    expect(wrong).toEqual([]);
  });

  it.each([
    ['-0', -0, true],
    ['+7', 7, true],
    ['007', 7, true],
    ['.5', 0.5, false],
    ['5.', 5, false],
    ['123456789012345678', 123456789012345680, true],
    ['0.1234567890123', 0.1234567890123, false],
    ['1e3', 1000, false],
    ['-2.5E-3', -0.0025, false],
  ])('reads %s as %p', (text, value, integer) => {
    expect([readNumber(bytes(text), 0, text.length), parsedValue[0], parsed.integer]).toEqual([true, value, integer]);
  });

  it.each([' 1', '1 ', '1,000', '.', '-', 'e5', '1e', '1.2.3', '--1', '0x10'])('rejects %p', (text) => {
    expect(readNumber(bytes(text), 0, text.length)).toBe(false);
  });
});
