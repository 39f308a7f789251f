import { ColumnAccumulator, type ColumnOptions } from './column';
import { CsvRecordParser, DEFAULT_MAX_FIELD_BYTES, type HashedRecordSink } from './csv-parser';
import type { ColumnProfile, ProfileErrors, ProfileOptions } from './types';

const MAX_SAMPLES = 10;
const MAX_JSON_LINE_BYTES = 16 * 1024 * 1024;

/** Column names as pandas makes them: `Unnamed: i` for blanks, `.1`, `.2` suffixes for repeats. */
export function uniqueNames(raw: string[]): string[] {
  const seen = new Map<string, number>();
  return raw.map((name, i) => {
    let base = name.trim() === '' ? `Unnamed: ${i}` : name;
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    if (n > 0) {
      let candidate = `${base}.${n}`;
      while (seen.has(candidate)) candidate = `${base}.${n + 1}`;
      seen.set(candidate, 1);
      base = candidate;
    }
    return base;
  });
}

/** What the tabular profilers produce, before the object-level fields are added. */
export interface TabularResult {
  rows: number;
  columns: ColumnProfile[];
  errors: ProfileErrors;
  sample: unknown[][];
}

class ErrorLog {
  readonly errors: ProfileErrors = { raggedRows: 0, raggedLines: [], invalidUtf8: 0, oversizedFields: 0, samples: [] };
  note(line: number, message: string): void {
    if (this.errors.samples.length < MAX_SAMPLES) this.errors.samples.push({ line, message });
  }
}

function columnOptions(options: ProfileOptions): ColumnOptions {
  return {
    distinctExactLimit: options.distinctExactLimit ?? 10_000,
    topValues: options.topValues ?? 10,
    mergeable: options.mergeable ?? false,
  };
}

/**
 * Feeds parsed CSV records into column accumulators. Short rows count their missing cells as nulls
 * (as pandas fills NaN); cells past the header's width are dropped; both are counted as ragged rows.
 */
class CsvProfileSink implements HashedRecordSink {
  columns: ColumnAccumulator[] = [];
  rows = 0;
  private width = -1;
  private col = 0;
  private headerCells: string[] = [];
  private invalidInRecord = false;
  private sampleRow: string[] | null = null;
  readonly sample: string[][] = [];

  constructor(
    private readonly log: ErrorLog,
    private readonly options: ProfileOptions,
  ) {
    if (options.header) this.setHeader(options.header);
    this.startSample();
  }

  field(buf: Buffer, s: number, e: number): void {
    const c = this.col++;
    if (this.width < 0) {
      this.headerCells.push(buf.toString('utf8', s, e));
      return;
    }
    if (c < this.width) {
      if (!this.columns[c]!.addField(buf, s, e)) this.invalidInRecord = true;
    }
    if (this.sampleRow) this.sampleRow.push(buf.toString('utf8', s, e));
  }

  hashedField(buf: Buffer, s: number, e: number, h1: number, h2: number, high: number): void {
    const c = this.col;
    if (c < this.width && this.sampleRow === null) {
      this.col = c + 1;
      if (!this.columns[c]!.addHashed(buf, s, e, h1, h2, high)) this.invalidInRecord = true;
      return;
    }
    this.field(buf, s, e);
  }

  endRecord(line: number): boolean {
    if (this.width < 0) {
      this.setHeader(this.headerCells);
      this.col = 0;
      this.startSample();
      return false;
    }
    if (this.col !== this.width) {
      const errors = this.log.errors;
      errors.raggedRows++;
      if (errors.raggedLines.length < MAX_SAMPLES) errors.raggedLines.push(line);
      this.log.note(line, `expected ${this.width} fields, found ${this.col}`);
      for (let c = this.col; c < this.width; c++) this.columns[c]!.addNull();
    }
    if (this.invalidInRecord) {
      this.log.errors.invalidUtf8++;
      this.log.note(line, 'invalid UTF-8, decoded with replacement characters');
      this.invalidInRecord = false;
    }
    this.rows++;
    this.col = 0;
    if (this.sampleRow) {
      this.sample.push(this.sampleRow);
      this.startSample();
    }
    return false;
  }

  private startSample(): void {
    this.sampleRow = this.width >= 0 && this.sample.length < (this.options.sampleRows ?? 5) ? [] : null;
  }

  private setHeader(cells: string[]): void {
    const opts = columnOptions(this.options);
    this.columns = uniqueNames(cells).map((name) => new ColumnAccumulator(name, opts));
    this.width = this.columns.length;
  }
}

export async function profileDelimited(content: AsyncIterable<Buffer>, delimiter: string, options: ProfileOptions): Promise<TabularResult> {
  const log = new ErrorLog();
  const sink = new CsvProfileSink(log, options);
  const parser = new CsvRecordParser(delimiter.charCodeAt(0), sink, {
    maxFieldBytes: options.maxFieldBytes ?? DEFAULT_MAX_FIELD_BYTES,
    onIssue: (line, message) => log.note(line, message),
  });
  let first = true;
  for await (const chunk of content) {
    // A UTF-8 byte order mark is not part of the first column's name.
    const start = first && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf ? 3 : 0;
    first = false;
    parser.push(start ? chunk.subarray(start) : chunk);
  }
  parser.finish();
  log.errors.oversizedFields = parser.oversizedFields;
  return {
    rows: sink.rows,
    columns: sink.columns.map((c) => c.toProfile()),
    errors: log.errors,
    sample: sink.sample,
  };
}

/**
 * JSON Lines: each line one object, its top-level fields the columns (the union of keys, in the
 * order first seen). A key that appears late counts as null in the rows before it.
 */
export async function profileJsonLines(content: AsyncIterable<Buffer>, options: ProfileOptions): Promise<TabularResult> {
  const log = new ErrorLog();
  const opts = columnOptions(options);
  const columns = new Map<string, ColumnAccumulator>();
  const sample: unknown[][] = [];
  const sampleRows = options.sampleRows ?? 5;
  let rows = 0;
  let lineNo = 0;
  let carry: Buffer[] = [];
  let carryLen = 0;
  let skipping = false;

  const handleLine = (line: Buffer): void => {
    lineNo++;
    const text = line.toString('utf8').trim();
    if (text === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      log.note(lineNo, 'not valid JSON');
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      log.note(lineNo, 'not a JSON object');
      return;
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!columns.has(key)) {
        const column = new ColumnAccumulator(key, opts);
        for (let i = 0; i < rows; i++) column.addNull();
        columns.set(key, column);
      }
    }
    for (const [key, column] of columns) {
      if (key in record) column.addJson(record[key]);
      else column.addNull();
    }
    if (sample.length < sampleRows) sample.push([...columns.keys()].map((k) => record[k] ?? null));
    rows++;
  };

  for await (const chunk of content) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      if (skipping) {
        skipping = false;
        lineNo++;
      } else if (carryLen > 0) {
        carry.push(chunk.subarray(start, nl));
        handleLine(Buffer.concat(carry));
        carry = [];
        carryLen = 0;
      } else {
        handleLine(chunk.subarray(start, nl));
      }
      start = nl + 1;
    }
    if (start < chunk.length && !skipping) {
      carry.push(Buffer.from(chunk.subarray(start)));
      carryLen += chunk.length - start;
      if (carryLen > MAX_JSON_LINE_BYTES) {
        log.errors.oversizedFields++;
        log.note(lineNo + 1, `line longer than ${MAX_JSON_LINE_BYTES} bytes skipped`);
        carry = [];
        carryLen = 0;
        skipping = true;
      }
    }
  }
  if (carryLen > 0) handleLine(Buffer.concat(carry));
  const profiles = [...columns.values()].map((c) => c.toProfile());
  log.errors.invalidUtf8 = profiles.length ? [...columns.values()].reduce((n, c) => n + c.invalidUtf8, 0) : 0;
  // Sample rows made before later keys appeared are padded to the final width.
  for (const row of sample) while (row.length < profiles.length) row.push(null);
  return { rows, columns: profiles, errors: log.errors, sample };
}
