import { parse } from 'csv-parse/sync';
import { CsvRecordParser, HASH_SEED1, HASH_SEED2, parseRecords, type HashedRecordSink } from '../../../lambda/core/profile/csv-parser';
import { randomChunks, seededRandom, splitBytes } from './helpers';

const bytes = (s: string) => Buffer.from(s, 'utf8');

function generateCsv(rand: () => number, delimiter: string, eol: string): string {
  const pieces = ['a', 'b', 'xyz', 'héllo', '€', '😀', ' ', '1.5', '-3', delimiter, '"', '\n', '\r', '\r\n', ',', ';'];
  const rows = 1 + Math.floor(rand() * 12);
  const cols = 1 + Math.floor(rand() * 5);
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    const fields: string[] = [];
    for (let c = 0; c < cols; c++) {
      let value = '';
      const len = Math.floor(rand() * 6);
      for (let k = 0; k < len; k++) value += pieces[Math.floor(rand() * pieces.length)];
      const needsQuotes = /["\r\n]/.test(value) || value.includes(delimiter);
      // A lone empty field would be a blank line, which both parsers skip: give it a value.
      if (cols === 1 && value === '') value = 'x';
      fields.push(needsQuotes || rand() < 0.2 ? `"${value.replace(/"/g, '""')}"` : value);
    }
    lines.push(fields.join(delimiter));
  }
  return lines.join(eol) + (rand() < 0.5 ? eol : '');
}

/** The field hash lanes as `ColumnAccumulator.addField` computes them, written plainly. */
function referenceLanes(b: Buffer, s: number, e: number): [number, number, number] {
  let h1 = HASH_SEED1;
  let h2 = HASH_SEED2;
  let high = 0;
  for (let i = s; i < e; i += 4) {
    let w = 0;
    for (let k = 0; k < 4 && i + k < e; k++) w |= b[i + k]! << (8 * k);
    high |= w;
    h1 = Math.imul(h1 ^ w, 0x9e3779b1);
    h2 = Math.imul(h2 + w, 0x85ebca77);
    if (i + 4 <= e) {
      h1 = (h1 << 15) | (h1 >>> 17);
      h2 = (h2 << 13) | (h2 >>> 19);
    }
  }
  return [h1, h2, high];
}

/** Parses with a HashedRecordSink; checks each hashed field's lanes; returns the records and start lines. */
function parseHashed(chunks: Uint8Array[], delimiter: number): { records: string[][]; lines: number[]; hashed: number } {
  const records: string[][] = [];
  const lines: number[] = [];
  let row: string[] = [];
  let hashed = 0;
  const sink: HashedRecordSink = {
    field: (b, s, e) => void row.push(b.toString('utf8', s, e)),
    hashedField: (b, s, e, h1, h2, high) => {
      hashed++;
      expect([h1, h2, high]).toEqual(referenceLanes(b, s, e));
      row.push(b.toString('utf8', s, e));
    },
    endRecord: (line) => {
      records.push(row);
      lines.push(line);
      row = [];
      return false;
    },
  };
  const parser = new CsvRecordParser(delimiter, sink);
  for (const chunk of chunks) parser.push(chunk);
  parser.finish();
  return { records, lines, hashed };
}

describe('CsvRecordParser', () => {
  it('splits fields on the delimiter and records on line breaks', () => {
    expect(parseRecords([bytes('a,b\n1,2\n')])).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
  });

  it('keeps delimiters, doubled quotes and line breaks inside quoted fields', () => {
    expect(parseRecords([bytes('"a,b","say ""hi""","two\r\nlines"\n')])).toEqual([['a,b', 'say "hi"', 'two\r\nlines']]);
  });

  it('accepts CR, LF and CRLF as record ends in one file', () => {
    expect(parseRecords([bytes('a\rb\nc\r\nd')])).toEqual([['a'], ['b'], ['c'], ['d']]);
  });

  it('skips blank lines', () => {
    expect(parseRecords([bytes('a,b\n\n\r\n1,2\n')])).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
  });

  it('emits a final record without a trailing line break, including a trailing empty field', () => {
    expect(parseRecords([bytes('a,b\n1,')])).toEqual([
      ['a', 'b'],
      ['1', ''],
    ]);
  });

  it('gives the same records whatever the chunk boundaries, one byte at a time included', () => {
    const text = bytes('h1,h2\r\n"x\r\ny",""""\r\n"€😀",plain\r\n"a""b",c');
    const whole = parseRecords([text]);
    for (const size of [1, 2, 3, 5]) expect(parseRecords(splitBytes(text, [size]))).toEqual(whole);
  });

  it('truncates a field longer than the cap and counts it', () => {
    const issues: string[] = [];
    const rows: number[] = [];
    const parser = new CsvRecordParser(
      44,
      {
        field: (_b, s, e) => rows.push(e - s),
        endRecord: () => false,
      },
      { maxFieldBytes: 100, onIssue: (_line, message) => issues.push(message) },
    );
    const big = bytes(`a,"${'x'.repeat(5000)}",b\n1,${'y'.repeat(300)},2\n`);
    for (const chunk of splitBytes(big, [64])) parser.push(chunk);
    parser.finish();
    expect(rows).toEqual([1, 100, 1, 1, 100, 1]);
    expect(parser.oversizedFields).toBe(2);
    expect(issues).toHaveLength(2);
  });

  it('reports the physical line where each record starts, counting line breaks inside quotes', () => {
    const lines: number[] = [];
    const parser = new CsvRecordParser(44, { field: () => undefined, endRecord: (line) => (lines.push(line), false) });
    parser.push(bytes('a\n"b\r\nc"\n\nd\r\ne'));
    parser.finish();
    expect(lines).toEqual([1, 2, 5, 6]);
  });

  it('stops as soon as the sink asks', () => {
    let records = 0;
    const parser = new CsvRecordParser(44, { field: () => undefined, endRecord: () => ++records === 2 });
    expect(parser.push(bytes('a\nb\nc\nd\n'))).toBe(false);
    expect(records).toBe(2);
  });

  it('matches csv-parse on 400 generated files fed in random chunk sizes', () => {
    const rand = seededRandom(20240611);
    for (let k = 0; k < 400; k++) {
      const delimiter = [',', '\t', ';', '|'][k % 4]!;
      const eol = k % 3 === 0 ? '\r\n' : '\n';
      const text = generateCsv(rand, delimiter, eol);
      const expected = parse(text, { delimiter, relax_column_count: true, skip_empty_lines: true, record_delimiter: eol }) as string[][];
      const actual = parseRecords(randomChunks(bytes(text), rand, 1 + Math.floor(rand() * 16)), delimiter.charCodeAt(0));
      expect({ text, records: actual }).toEqual({ text, records: expected });
    }
  });

  it('hands a hashed sink quoted fields without doubled quotes or line breaks as hashed fields, the others as plain ones', () => {
    const hashed: string[] = [];
    const plain: string[] = [];
    const sink: HashedRecordSink = {
      field: (b, s, e) => void plain.push(b.toString('utf8', s, e)),
      hashedField: (b, s, e, h1, h2, high) => {
        expect([h1, h2, high]).toEqual(referenceLanes(b, s, e));
        hashed.push(b.toString('utf8', s, e));
      },
      endRecord: () => false,
    };
    const parser = new CsvRecordParser(44, sink);
    parser.push(bytes('"Paris, France",x\n"a""b","c\nd"\n"",""\n"São Paulo"\n'));
    parser.finish();
    expect({ hashed, plain }).toEqual({ hashed: ['Paris, France', 'x', '', '', 'São Paulo'], plain: ['a"b', 'c\nd'] });
  });

  it('gives a sink that takes hashed fields the same records and lines as a plain sink, with correct hash lanes', () => {
    const rand = seededRandom(99);
    let hashed = 0;
    for (let k = 0; k < 400; k++) {
      const delimiter = [',', '\t', ';', '|'][k % 4]!;
      const text = bytes(generateCsv(rand, delimiter, k % 3 === 0 ? '\r\n' : '\n') + (k % 5 === 0 ? '\n\r\n\nlast' : ''));
      const plainLines: number[] = [];
      const plain = new CsvRecordParser(delimiter.charCodeAt(0), { field: () => undefined, endRecord: (line) => (plainLines.push(line), false) });
      plain.push(text);
      plain.finish();
      const chunks = k % 2 === 0 ? [text] : randomChunks(text, rand, 1 + Math.floor(rand() * 16));
      const result = parseHashed(chunks, delimiter.charCodeAt(0));
      expect({ records: result.records, lines: result.lines }).toEqual({ records: parseRecords([text], delimiter.charCodeAt(0)), lines: plainLines });
      hashed += result.hashed;
    }
    expect(hashed).toBeGreaterThan(1000);
  });
});
