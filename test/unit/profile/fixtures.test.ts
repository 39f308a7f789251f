import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { profileObject, type Profile } from '../../../lambda/core/profile';
import { bodyOf } from './helpers';

const DIR = join(__dirname, '..', '..', 'fixtures', 'profile');

/** Profiles a fixture fed in 3-byte chunks, so every boundary case is crossed. */
async function profileFixture(name: string): Promise<Profile> {
  return profileObject({ body: bodyOf(readFileSync(join(DIR, name)), 3), key: name });
}

const col = (p: Profile, name: string) => p.columns!.find((c) => c.name === name)!;

describe('fixture corpus', () => {
  it('keeps a comma inside quotes in its field (comma_in_quotes)', async () => {
    const p = await profileFixture('comma_in_quotes.csv');
    expect(p.sample).toEqual([['John', 'Doe', '120 any st.', 'Anytown, WW', '08123']]);
    expect(col(p, 'zip')).toMatchObject({ type: 'integer', min: 8123 });
  });

  it('collapses doubled quotes (escaped_quotes)', async () => {
    const p = await profileFixture('escaped_quotes.csv');
    expect(col(p, 'b').top.map((t) => t.value)).toContain('ha "ha" ha');
    expect(col(p, 'b').type).toBe('string');
  });

  it('keeps JSON text in a field whole (json)', async () => {
    const p = await profileFixture('json.csv');
    expect(p.sample![0]![1]).toBe('{"type": "Point", "coordinates": [102.0, 0.5]}');
  });

  it('keeps a line break inside quotes and counts rows, not lines (newlines)', async () => {
    const p = await profileFixture('newlines.csv');
    expect(p).toMatchObject({ rows: 3, columnCount: 3 });
    expect(p.sample![1]![0]).toBe('Once upon \na time');
    expect(col(p, 'c')).toMatchObject({ type: 'integer', min: 3, max: 9, mean: 6 });
  });

  it('handles quotes and line breaks together (quotes_and_newlines)', async () => {
    const p = await profileFixture('quotes_and_newlines.csv');
    expect(p.rows).toBe(2);
    expect(p.sample![0]![1]).toBe('ha \n"ha" \nha');
  });

  it('decodes multi-byte UTF-8 split across chunks (utf8)', async () => {
    const p = await profileFixture('utf8.csv');
    expect(col(p, 'c')).toMatchObject({ type: 'string', min: '3', max: 'ʤ' });
    expect(p.errors!.invalidUtf8).toBe(0);
  });

  it('profiles an empty file as no rows and no columns (empty)', async () => {
    const p = await profileFixture('empty.csv');
    expect(p).toMatchObject({ format: 'csv', rows: 0, columnCount: 0, bytes: 0 });
  });

  it('profiles a header-only file as empty columns (header_only)', async () => {
    const p = await profileFixture('header_only.csv');
    expect(p).toMatchObject({ rows: 0, columnCount: 3 });
    expect(col(p, 'a')).toMatchObject({ type: 'empty', count: 0, nulls: 0 });
  });

  it('reads CRLF line endings (simple_crlf)', async () => {
    const p = await profileFixture('simple_crlf.csv');
    expect(p.columns!.map((c) => c.name)).toEqual(['a', 'b', 'c']);
    expect(p.sample).toEqual([['1', '2', '3']]);
  });

  it('skips a blank CRLF line (empty_crlf)', async () => {
    const p = await profileFixture('empty_crlf.csv');
    expect(p.rows).toBe(1);
    expect(p.errors!.raggedRows).toBe(0);
  });

  it('profiles coordinates as numbers (location_coordinates)', async () => {
    const p = await profileFixture('location_coordinates.csv');
    expect(col(p, 'lat')).toMatchObject({ type: 'number', min: 40.7128, max: 51.5074 });
    expect(col(p, 'lng')).toMatchObject({ type: 'number', min: -74.006, max: -0.1278 });
  });

  it('drops a byte order mark and reads a last line without a line break', async () => {
    const p = await profileFixture('bom_no_trailing_newline.csv');
    expect(p.columns!.map((c) => c.name)).toEqual(['id', 'name']);
    expect(p.rows).toBe(2);
  });

  it('accepts CR, LF and CRLF mixed in one file', async () => {
    const p = await profileFixture('mixed_line_endings.csv');
    expect(p.rows).toBe(3);
    expect(col(p, 'v').top.map((t) => t.value)).toEqual(['x', 'y', 'z']);
  });

  it('counts ragged rows and reports their first line numbers', async () => {
    const p = await profileFixture('ragged.csv');
    expect(p.errors).toMatchObject({ raggedRows: 2, raggedLines: [3, 4] });
    expect(col(p, 'c')).toMatchObject({ count: 3, nulls: 1 });
  });

  it('counts invalid UTF-8 and decodes it with replacement characters', async () => {
    const p = await profileFixture('invalid_utf8.csv');
    expect(p.errors!.invalidUtf8).toBe(1);
    expect(p.errors!.samples[0]!.line).toBe(3);
    expect(p.sample![1]![1]).toBe('bad\uFFFD\uFFFD');
  });

  it('reads the common spellings of missing values as nulls', async () => {
    const p = await profileFixture('nulls.csv');
    expect(col(p, 'v')).toMatchObject({ type: 'integer', count: 1, nulls: 7, min: 5, max: 5 });
  });

  it('reads a .tsv file with tabs', async () => {
    const p = await profileFixture('tabs.tsv');
    expect(p).toMatchObject({ format: 'tsv', delimiter: '\t', rows: 2 });
  });

  it('sniffs a semicolon delimiter in a .txt file, ignoring decimal commas', async () => {
    const p = await profileFixture('semicolon.txt');
    expect(p).toMatchObject({ format: 'delimited', delimiter: ';', rows: 2 });
  });
});
