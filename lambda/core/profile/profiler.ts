/**
 * The tabular profilers: delimited text and JSON Lines, fed chunk by chunk. Whatever the shape,
 * memory stays within the budget (budget.ts, limits.ts) and time linear in the input: the first
 * `maxFullColumns` columns are profiled in full, the next ones up to `maxColumns` are light (named,
 * typed, counted), the rest only counted; a JSON Lines row costs its own keys, never the union's.
 */
import { cutUtf8, MemoryBudget } from './budget';
import {
  ColumnAccumulator,
  columnProfile,
  FULL_COLUMN_FLOOR_BYTES,
  LightColumn,
  LIGHT_COLUMN_BYTES,
  lightColumnProfile,
  type ColumnOptions,
  type ColumnPartial,
  type LightColumnPartial,
} from './column';
import { CsvRecordParser, type HashedRecordSink } from './csv-parser';
import { HyperLogLog } from './hll';
import { nestsDeeperThan } from './json-depth';
import {
  MAX_COLUMNS,
  MAX_FIELD_BYTES,
  MAX_FULL_COLUMNS,
  MAX_JSON_DEPTH,
  MAX_LINE_BYTES,
  MAX_NAME_BYTES,
  MAX_VALUE_TEXT_BYTES,
  MEMORY_BUDGET_BYTES,
} from './limits';
import type { ColumnProfile, LightColumnProfile, ProfileBudget, ProfileErrors, ProfileOptions } from './types';
import { uniqueNames } from './names';

const MAX_SAMPLES = 10;
const BOM = [0xef, 0xbb, 0xbf];

/** What the tabular profilers produce, before the object-level fields are added. */
export interface TabularResult {
  rows: number;
  /** Every column there is (full, light and only counted). */
  columnCount: number;
  columns: ColumnProfile[];
  otherColumns: LightColumnProfile[];
  errors: ProfileErrors;
  sample: unknown[][];
  /** Present when the budget or the column caps changed anything. */
  budget?: ProfileBudget;
}

/**
 * What a tabular profiler has counted, as plain data (JSON-safe): the profile of a whole file, or of
 * one byte range of it (ranges.ts merges them with `mergeTabularPartials`). `finishTabular` makes
 * the profile, so a split file's profile is made by the same code as a whole one's.
 */
export interface TabularPartial {
  kind: 'delimited' | 'jsonl';
  rows: number;
  /** Line breaks read: what the next range's line numbers are offset by. */
  lineBreaks: number;
  columns: ColumnPartial[];
  light: LightColumnPartial[];
  /** JSON Lines: the rows each column (full, then light) appeared in; its nulls are the others. */
  seen?: number[];
  omitted: number;
  /** JSON Lines: the keys past the named columns, as a HyperLogLog (base64), when there were any. */
  omittedKeys?: string;
  /** Errors; their line numbers count from the range's first line. */
  errors: ProfileErrors;
  sample: unknown[][];
  memory: { limit: number; peak: number; samplesDropped: number };
}

/** The range-specific part of a tabular profiler's work (whole files: the defaults). */
export interface RangeRead {
  /** False for a range that starts after the first byte: no byte order mark to strip, no header to read. */
  atFileStart: boolean;
  /** CSV: the header, as the first range read it (names cut, at most the named columns) and its field count. */
  header?: { cells: string[]; count: number };
  /** CSV: stop before the first record that starts at or past this offset of the content. */
  stopAt?: number;
}

/** Where a profiler stops reading early: set by the source, read between chunks. */
export interface StopSignal {
  /** True once the content ended before the object (a gzip limit, the deadline): its last row is cut. */
  stopped(): boolean;
}

const NEVER_STOPPED: StopSignal = { stopped: () => false };

class ErrorLog {
  readonly errors: ProfileErrors = { raggedRows: 0, raggedLines: [], invalidUtf8: 0, oversizedFields: 0, samples: [] };
  note(line: number, message: string): void {
    if (this.errors.samples.length < MAX_SAMPLES) this.errors.samples.push({ line, message });
  }
}

/**
 * The columns of one profile and the budget they share: a new column is full while there are
 * fewer than `maxFull` and the budget has its floor, light while fewer than `maxNamed` are named
 * and the budget has room for one, else only counted.
 */
class ColumnSet {
  readonly budget: MemoryBudget;
  readonly full: ColumnAccumulator[] = [];
  readonly light: LightColumn[] = [];
  omitted = 0;
  private readonly maxFull: number;
  private readonly maxNamed: number;
  readonly options: ColumnOptions;
  private readonly sampleRows: number;
  readonly sample: unknown[][] = [];
  private samplesClosed = false;

  constructor(options: ProfileOptions) {
    this.budget = new MemoryBudget(options.memoryBudgetBytes ?? MEMORY_BUDGET_BYTES);
    this.maxFull = options.maxFullColumns ?? MAX_FULL_COLUMNS;
    this.maxNamed = Math.max(this.maxFull, options.maxColumns ?? MAX_COLUMNS);
    this.sampleRows = options.sampleRows ?? 5;
    this.options = {
      distinctExactLimit: options.distinctExactLimit ?? 10_000,
      topValues: options.topValues ?? 10,
      mergeable: options.mergeable ?? false,
      budget: this.budget,
    };
  }

  /** Makes the next column: a full one, a light one, or null when it is only counted. */
  add(name: string): ColumnAccumulator | LightColumn | null {
    const named = this.full.length + this.light.length;
    if (this.full.length < this.maxFull && this.light.length === 0 && this.budget.reserve(FULL_COLUMN_FLOOR_BYTES + 2 * name.length)) {
      const column = new ColumnAccumulator(name, this.options);
      this.full.push(column);
      return column;
    }
    if (named < this.maxNamed && this.budget.reserve(LIGHT_COLUMN_BYTES + 2 * name.length)) {
      const column = new LightColumn(name);
      this.light.push(column);
      return column;
    }
    this.omitted++;
    return null;
  }

  /** Whether another sample row is wanted. */
  get wantsSample(): boolean {
    return !this.samplesClosed && this.sample.length < this.sampleRows;
  }

  /** Keeps a sample row if the budget has room for it (`bytes`, about what its cells hold). */
  keepSample(row: unknown[], bytes: number): void {
    if (this.budget.reserve(bytes + 8 * row.length)) this.sample.push(row);
    else {
      this.budget.samplesDropped += this.sampleRows - this.sample.length;
      this.samplesClosed = true;
    }
  }

  report(omittedExact: boolean): ProfileBudget | undefined {
    const b = this.budget;
    if (this.light.length === 0 && this.omitted === 0 && b.sketchedColumns === 0 && b.samplesDropped === 0) return undefined;
    return {
      memoryBytes: b.limit,
      peakBytes: b.peak,
      fullColumns: this.full.length,
      lightColumns: this.light.length,
      omittedColumns: this.omitted,
      omittedExact,
      sketchedColumns: b.sketchedColumns,
      samplesDropped: b.samplesDropped,
    };
  }
}

/** A column name or sample cell from bytes, cut to `max` bytes on a character boundary. */
function cutText(buf: Buffer, s: number, e: number, max: number): string {
  return buf.toString('utf8', s, cutUtf8(buf, s, e, max));
}

/**
 * Feeds parsed CSV records into the columns. Short rows count their missing cells as nulls (as
 * pandas fills NaN); cells past the header's width are dropped; both are counted as ragged rows.
 */
class CsvProfileSink implements HashedRecordSink {
  rows = 0;
  /** Cells in the header: every column, profiled or not. */
  private width = -1;
  /** Columns profiled in full, then the light ones after them. */
  private fullWidth = 0;
  private namedWidth = 0;
  private col = 0;
  private headerCells: string[] = [];
  private headerCount = 0;
  private invalidInRecord = false;
  private sampleRow: string[] | null = null;
  private sampleBytes = 0;

  constructor(
    private readonly log: ErrorLog,
    readonly set: ColumnSet,
    private readonly maxNamed: number,
    header: { cells: string[]; count: number } | undefined,
  ) {
    if (header) this.setHeader(header.cells, header.count);
    this.startSample();
  }

  field(buf: Buffer, s: number, e: number): void {
    const c = this.col++;
    if (this.width < 0) {
      // Names past the named columns are never used: count them only.
      if (this.headerCount++ < this.maxNamed) this.headerCells.push(cutText(buf, s, e, MAX_NAME_BYTES));
      return;
    }
    if (c < this.fullWidth) {
      if (!this.set.full[c]!.addField(buf, s, e)) this.invalidInRecord = true;
      if (this.sampleRow) {
        const cell = cutText(buf, s, e, MAX_VALUE_TEXT_BYTES);
        this.sampleBytes += 2 * cell.length;
        this.sampleRow.push(cell);
      }
    } else if (c < this.namedWidth) {
      if (!this.set.light[c - this.fullWidth]!.addField(buf, s, e)) this.invalidInRecord = true;
    }
  }

  hashedField(buf: Buffer, s: number, e: number, h1: number, h2: number, high: number): void {
    const c = this.col;
    if (c < this.fullWidth && this.sampleRow === null) {
      this.col = c + 1;
      if (!this.set.full[c]!.addHashed(buf, s, e, h1, h2, high)) this.invalidInRecord = true;
      return;
    }
    this.field(buf, s, e);
  }

  endRecord(line: number): boolean {
    if (this.width < 0) {
      this.setHeader(this.headerCells, this.headerCount);
      this.headerCells = [];
      this.col = 0;
      this.startSample();
      return false;
    }
    if (this.col !== this.width) {
      const errors = this.log.errors;
      errors.raggedRows++;
      if (errors.raggedLines.length < MAX_SAMPLES) errors.raggedLines.push(line);
      this.log.note(line, `expected ${this.width} fields, found ${this.col}`);
      for (let c = this.col; c < this.namedWidth; c++) {
        if (c < this.fullWidth) this.set.full[c]!.addNull();
        else this.set.light[c - this.fullWidth]!.addNull();
      }
      if (this.sampleRow) while (this.sampleRow.length < this.fullWidth) this.sampleRow.push('');
    }
    if (this.invalidInRecord) {
      this.log.errors.invalidUtf8++;
      this.log.note(line, 'invalid UTF-8, decoded with replacement characters');
      this.invalidInRecord = false;
    }
    this.rows++;
    this.col = 0;
    if (this.sampleRow) {
      this.set.keepSample(this.sampleRow, this.sampleBytes);
      this.startSample();
    }
    return false;
  }

  private startSample(): void {
    this.sampleBytes = 0;
    this.sampleRow = this.width >= 0 && this.set.wantsSample ? [] : null;
  }

  private setHeader(cells: string[], count: number): void {
    for (const name of uniqueNames(cells)) this.set.add(name);
    this.set.omitted += count - cells.length;
    this.fullWidth = this.set.full.length;
    this.namedWidth = this.fullWidth + this.set.light.length;
    this.width = count;
  }
}

export async function profileDelimited(
  content: AsyncIterable<Buffer>,
  delimiter: string,
  options: ProfileOptions,
  stop: StopSignal = NEVER_STOPPED,
): Promise<TabularResult> {
  const { partial } = await delimitedPartial(content, delimiter, options, stop);
  return finishTabular(partial, options);
}

/**
 * Profiles delimited content into a TabularPartial. For a range (`read.stopAt`), `stoppedAt` is the
 * content offset of the first record it left to the next range, or -1 when it read to the end.
 */
export async function delimitedPartial(
  content: AsyncIterable<Buffer>,
  delimiter: string,
  options: ProfileOptions,
  stop: StopSignal = NEVER_STOPPED,
  read: RangeRead = { atFileStart: true },
): Promise<{ partial: TabularPartial; stoppedAt: number }> {
  const log = new ErrorLog();
  const set = new ColumnSet(options);
  const header = read.header ?? (options.header ? { cells: options.header, count: options.header.length } : undefined);
  const sink = new CsvProfileSink(log, set, Math.max(options.maxFullColumns ?? MAX_FULL_COLUMNS, options.maxColumns ?? MAX_COLUMNS), header);
  let skipped = 0;
  const parserOptions = {
    maxFieldBytes: options.maxFieldBytes ?? MAX_FIELD_BYTES,
    onIssue: (line: number, message: string) => log.note(line, message),
  };
  let parser: CsvRecordParser | null = null;
  let head: Buffer | null = read.atFileStart ? Buffer.alloc(0) : null;
  for await (const chunk of content) {
    let bytes = chunk;
    if (head !== null) {
      // A UTF-8 byte order mark is not part of the first column's name (it may come in pieces).
      head = head.length ? Buffer.concat([head, chunk]) : chunk;
      // Kept past this chunk, it is copied: a range's source may reuse its buffer (ranges.ts).
      if (head.length < 3 && head.every((b, i) => b === BOM[i])) {
        head = Buffer.from(head);
        continue;
      }
      skipped = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
      bytes = head.subarray(skipped);
      head = null;
    }
    parser ??= new CsvRecordParser(delimiter.charCodeAt(0), sink, read.stopAt === undefined ? parserOptions : { ...parserOptions, stopAt: read.stopAt - skipped });
    if (!parser.push(bytes) && parser.stoppedAt >= 0) break;
  }
  parser ??= new CsvRecordParser(delimiter.charCodeAt(0), sink, parserOptions);
  if (head !== null && head.length) parser.push(head); // a file of one or two bytes
  // Content cut short (a limit, the deadline) ends inside a row: that row is left out.
  if (!stop.stopped()) parser.finish();
  log.errors.oversizedFields = parser.oversizedFields;
  return {
    partial: {
      kind: 'delimited',
      rows: sink.rows,
      lineBreaks: parser.line - 1,
      columns: set.full.map((c) => c.partial()),
      light: set.light.map((c) => c.partial()),
      omitted: set.omitted,
      errors: log.errors,
      sample: set.sample,
      memory: { limit: set.budget.limit, peak: set.budget.peak, samplesDropped: set.budget.samplesDropped },
    },
    stoppedAt: parser.stoppedAt < 0 ? -1 : parser.stoppedAt + skipped,
  };
}

/** The profile's tabular part from what the profiler counted (a whole file's, or merged ranges'). */
export function finishTabular(p: TabularPartial, options: ProfileOptions): TabularResult {
  const topValues = options.topValues ?? 10;
  const mergeable = options.mergeable ?? false;
  const errors: ProfileErrors = { ...p.errors, raggedLines: [...p.errors.raggedLines], samples: [...p.errors.samples] };
  const columns = p.columns.map((c, i) => {
    const missing = p.seen ? p.rows - p.seen[i]! : 0;
    return columnProfile(missing ? { ...c, nulls: c.nulls + missing } : c, { topValues, mergeable });
  });
  const light = p.light.map((c, i) => {
    const missing = p.seen ? p.rows - p.seen[p.columns.length + i]! : 0;
    return lightColumnProfile(missing ? { ...c, nulls: c.nulls + missing } : c);
  });
  let omitted = p.omitted;
  if (p.omittedKeys !== undefined) omitted += Math.round(HyperLogLog.fromBase64(p.omittedKeys).estimate());
  if (p.kind === 'jsonl') {
    errors.invalidUtf8 = 0;
    for (const c of p.columns) errors.invalidUtf8 += c.invalidUtf8;
  }
  const sample = p.sample.map((row) => {
    const out = [...row];
    // Sample rows made before later keys appeared are padded to the final width.
    if (p.kind === 'jsonl') while (out.length < columns.length) out.push(null);
    return out;
  });
  const sketchedColumns = p.columns.filter((c) => c.freq.reason === 'memory-budget').length;
  const changed = p.light.length > 0 || omitted > 0 || sketchedColumns > 0 || p.memory.samplesDropped > 0;
  const budget: ProfileBudget | undefined = changed
    ? {
        memoryBytes: p.memory.limit,
        peakBytes: p.memory.peak,
        fullColumns: p.columns.length,
        lightColumns: p.light.length,
        omittedColumns: omitted,
        omittedExact: p.omittedKeys === undefined,
        sketchedColumns,
        samplesDropped: p.memory.samplesDropped,
      }
    : undefined;
  return {
    rows: p.rows,
    columnCount: p.columns.length + p.light.length + omitted,
    columns,
    otherColumns: light,
    errors,
    sample,
    ...(budget ? { budget } : {}),
  };
}

/** A 32-bit FNV-1a of a string's UTF-16 units, with a seed: two of them key a HyperLogLog. */
function stringHash(text: string, seed: number): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 12)) >>> 0;
}

/** A JSON Lines column: its accumulator (or null when only counted) and the rows it was in. */
interface JsonColumn {
  column: ColumnAccumulator | LightColumn | null;
  seen: number;
  /** Its place among the full columns, for sample rows; -1 for the others. */
  fullIndex: number;
}

/** A sample cell: a long string cut, a big object or array turned into its cut JSON text. */
function sampleCell(value: unknown): { cell: unknown; bytes: number } {
  if (typeof value === 'string') {
    if (value.length * 3 <= MAX_VALUE_TEXT_BYTES) return { cell: value, bytes: 2 * value.length };
    const buf = Buffer.from(value.slice(0, MAX_VALUE_TEXT_BYTES));
    const cut = cutText(buf, 0, buf.length, MAX_VALUE_TEXT_BYTES);
    return { cell: cut, bytes: 2 * cut.length };
  }
  if (typeof value === 'object' && value !== null) {
    const text = JSON.stringify(value);
    if (text.length <= MAX_VALUE_TEXT_BYTES / 3) return { cell: value, bytes: 4 * text.length };
    return sampleCell(text);
  }
  return { cell: value ?? null, bytes: 16 };
}

/**
 * JSON Lines: each line one object, its top-level fields the columns (the union of keys, in the
 * order first seen). A key that appears late counts as null in the rows before it. Each row costs
 * its own keys: a column's nulls are the rows it was not in, counted at the end. A line longer than
 * MAX_LINE_BYTES is skipped (never held whole), and so is one nested deeper than MAX_JSON_DEPTH
 * (before it is parsed); both are counted.
 */
export async function profileJsonLines(content: AsyncIterable<Buffer>, options: ProfileOptions, stop: StopSignal = NEVER_STOPPED): Promise<TabularResult> {
  return finishTabular(await jsonLinesPartial(content, options, stop), options);
}

/** Profiles JSON Lines content into a TabularPartial; a range's content is whole lines (ranges.ts cuts it). */
export async function jsonLinesPartial(
  content: AsyncIterable<Buffer>,
  options: ProfileOptions,
  stop: StopSignal = NEVER_STOPPED,
  read: RangeRead = { atFileStart: true },
): Promise<TabularPartial> {
  const log = new ErrorLog();
  const set = new ColumnSet(options);
  const columns = new Map<string, JsonColumn>();
  const maxNamed = Math.max(options.maxFullColumns ?? MAX_FULL_COLUMNS, options.maxColumns ?? MAX_COLUMNS);
  const maxLine = options.maxFieldBytes !== undefined ? Math.max(options.maxFieldBytes, MAX_LINE_BYTES) : MAX_LINE_BYTES;
  // Keys past the named columns are not kept (a map of every key is what made this quadratic in
  // memory): they are counted by a sketch.
  const omittedKeys = new HyperLogLog();
  let anyOmitted = false;
  let rows = 0;
  let invalidRows = 0;
  let lineNo = 0;
  let carry: Buffer[] = [];
  let carryLen = 0;
  let skipping = false;

  const invalid = (message: string): void => {
    invalidRows++;
    log.note(lineNo, message);
  };

  const handleLine = (line: Buffer): void => {
    lineNo++;
    let s = lineNo === 1 && read.atFileStart && line[0] === 0xef && line[1] === 0xbb && line[2] === 0xbf ? 3 : 0; // a byte order mark
    let e = line.length;
    while (s < e && (line[s] === 32 || line[s] === 9 || line[s] === 13)) s++;
    while (e > s && (line[e - 1] === 32 || line[e - 1] === 9 || line[e - 1] === 13)) e--;
    if (s === e) return;
    if (nestsDeeperThan(line, s, e, MAX_JSON_DEPTH)) {
      invalid(`nested deeper than ${MAX_JSON_DEPTH} levels, skipped`);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(line.toString('utf8', s, e));
    } catch {
      invalid('not valid JSON');
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      invalid('not a JSON object');
      return;
    }
    const record = value as Record<string, unknown>;
    const sample: unknown[] | null = set.wantsSample ? new Array<unknown>(set.full.length).fill(null) : null;
    let sampleBytes = 0;
    for (const key in record) {
      if (!Object.prototype.hasOwnProperty.call(record, key)) continue;
      let entry = columns.get(key);
      if (entry === undefined) {
        if (columns.size >= maxNamed) {
          omittedKeys.add(stringHash(key, 0x9747b28c), stringHash(key, 0x2f8a1b3c) & 0x1fffff);
          anyOmitted = true;
          continue;
        }
        const name = key.length > MAX_NAME_BYTES / 3 ? cutText(Buffer.from(key), 0, Buffer.byteLength(key), MAX_NAME_BYTES) : key;
        const column = set.add(name);
        entry = { column, seen: 0, fullIndex: column instanceof ColumnAccumulator ? set.full.length - 1 : -1 };
        columns.set(key, entry);
      }
      entry.seen++;
      const v = record[key];
      entry.column?.addJson(v);
      if (sample !== null && entry.fullIndex >= 0) {
        const { cell, bytes } = sampleCell(v);
        while (sample.length <= entry.fullIndex) sample.push(null);
        sample[entry.fullIndex] = cell;
        sampleBytes += bytes;
      }
    }
    rows++;
    if (sample !== null) set.keepSample(sample, sampleBytes);
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
        carryLen += nl - start;
        if (carryLen > maxLine) {
          lineNo++;
          tooLong(lineNo);
        } else handleLine(Buffer.concat(carry));
        carry = [];
        carryLen = 0;
      } else if (nl - start > maxLine) {
        lineNo++;
        tooLong(lineNo);
      } else {
        handleLine(chunk.subarray(start, nl));
      }
      start = nl + 1;
    }
    if (start < chunk.length && !skipping) {
      carry.push(Buffer.from(chunk.subarray(start)));
      carryLen += chunk.length - start;
      if (carryLen > maxLine) {
        tooLong(lineNo + 1);
        carry = [];
        carryLen = 0;
        skipping = true;
      }
    }
  }
  // Content cut short ends inside a line: that line is left out.
  if (carryLen > 0 && !stop.stopped()) handleLine(Buffer.concat(carry));

  function tooLong(line: number): void {
    log.errors.oversizedFields++;
    log.note(line, `line longer than ${maxLine} bytes skipped`);
  }

  // A column's nulls are the rows it was not in: `finishTabular` adds them from `seen`.
  const entries = [...columns.values()].filter((e) => e.column !== null);
  const seenOf = new Map(entries.map((e) => [e.column!, e.seen]));
  return {
    kind: 'jsonl',
    rows,
    lineBreaks: lineNo,
    columns: set.full.map((c) => c.partial()),
    light: set.light.map((c) => c.partial()),
    seen: [...set.full.map((c) => seenOf.get(c)!), ...set.light.map((c) => seenOf.get(c)!)],
    omitted: set.omitted,
    ...(anyOmitted ? { omittedKeys: omittedKeys.toBase64() } : {}),
    errors: { ...log.errors, ...(invalidRows > 0 ? { invalidRows } : {}) },
    sample: set.sample,
    memory: { limit: set.budget.limit, peak: set.budget.peak, samplesDropped: set.budget.samplesDropped },
  };
}
