/**
 * Split and merge: a file profiled as byte ranges, by workers that may run anywhere (threads, Lambda
 * invocations), merged into exactly the single pass's profile. Pure and environment-free: bytes
 * come through a `ByteRangeSource`, plans and partials are JSON-safe plain data.
 *
 *   const plan = planRanges({ size, head, key, workers: 4 });
 *   const partials = await Promise.all(plan.ranges.map((r) => profileRange(source, plan, r)));
 *   let merged = mergeRanges(plan, partials);
 *   while ('rerun' in merged) { replace those partials with profileRange(source, plan, r) for each r; merge again }
 *
 * A range owns the records whose first byte lies in [start, end). A range after the first finds its
 * first record by speculation: it reads the byte before its start on, under two readings ("outside
 * quotes" and "inside quotes"), and keeps the reading whose next records have the header's field
 * count. It reads past its end to finish its last record and reports where the next record starts.
 * The merge checks that each range's first record is where the previous one said the next starts,
 * and asks for a wrong guess to be re-run from that known boundary: the profile is exact whatever
 * the guesses. JSON Lines split at any newline; gzip (and anything not tabular) is one range.
 */
import { cutUtf8 } from './budget';
import { asBuffer } from './bytes';
import { CsvRecordParser, type RecordSink } from './csv-parser';
import { HyperLogLog } from './hll';
import { MAX_COLUMNS, MAX_FULL_COLUMNS, MAX_NAME_BYTES } from './limits';
import { delimitedPartial, finishTabular, jsonLinesPartial, type StopSignal, type TabularPartial, type TabularResult } from './profiler';
import { mergeColumnPartials, mergeLightPartials, type ColumnPartial, type LightColumnPartial } from './column';
import { detectFormat, drain, HEAD_BYTES, openSource } from './source';
import type { Profile, ProfileErrors, ProfileFormat, ProfileOptions, Truncation } from './types';

export { HEAD_BYTES };

/**
 * Where a range worker reads bytes: [start, end) of the object as stored. It may stop iterating early.
 * A splittable plan's range keeps no chunk once it asks for the next (what it keeps, it copies), so
 * a source may read every chunk into the same buffer: a thread's file source does, and its memory
 * stays flat instead of piling up dead read buffers until V8 collects them. An unsplittable plan's
 * one range (gzip through zlib) may keep chunks: give it fresh ones.
 */
export interface ByteRangeSource {
  read(start: number, end: number): AsyncIterable<Uint8Array>;
}

export interface Range {
  index: number;
  start: number;
  end: number;
  /** Set on a re-run: the first record's offset, known from the previous range (no speculation). */
  knownStart?: number;
}

export interface RangePlan {
  version: 1;
  size: number;
  /** The format as sniffed from the head; null for gzip, whose one range sniffs the content. */
  format: ProfileFormat | null;
  delimiter: string | null;
  compression: 'gzip' | null;
  contentType: string | null;
  key: string;
  /** False: one range, read as the single pass reads the object (gzip, not tabular, a header past the head). */
  splittable: boolean;
  /** Delimited: the header as the first range reads it (names cut, at most the named columns) and its field count. */
  header: { cells: string[]; count: number } | null;
  /** Delimited: where the first record after the header starts; no range but the first starts before it. */
  dataStart: number;
  ranges: Range[];
  /** The options every range and the merge use. */
  options: ProfileOptions;
}

export interface PlanInput {
  /** The object's size in bytes, as stored. */
  size: number;
  /** Its first min(size, HEAD_BYTES) bytes (the format is sniffed from them as the single pass does). */
  head: Uint8Array;
  key: string;
  contentType?: string;
  /** Ranges wanted (default 1), or the bytes per range (the larger count of the two wins). */
  workers?: number;
  rangeBytes?: number;
  options?: ProfileOptions;
}

/** What one range worker returns: small boundaries, and the statistics to merge. JSON-safe. */
export interface RangePartial {
  index: number;
  start: number;
  end: number;
  /** Offset of the first record this range owns (or, owning none, of the first one past its end). */
  firstRecordStart: number;
  /** Offset of the first record it left to the next range: the object's size for the last. */
  nextRecordStart: number;
  /** How the first record was found: the object's start, a known boundary, a newline (JSON Lines), or a quote reading. */
  guess: 'file-start' | 'known' | 'newline' | 'outside-quotes' | 'inside-quotes';
  tabular: TabularPartial | null;
  /**
   * Set when the plan's deadline passed while the range was read: its statistics are those of the
   * records that ended before `bytesRead` (an offset in the object), and the merge ends with it.
   */
  truncated?: Truncation;
  /** Only for an unsplittable plan's one range: what the single pass knows of the object. */
  whole?: {
    format: ProfileFormat;
    delimiter: string | null;
    compression: 'gzip' | null;
    bytes: number;
    sha256: string | null;
    truncated: Truncation | null;
  };
}

export type MergeResult = { profile: Profile } | { rerun: Range[] };

const LF = 10;
const CR = 13;
const QUOTE = 34;
/** Bytes a speculating range reads before choosing, and at least this much past its candidates. */
const SPECULATION_BYTES = 64 * 1024;
/** Records checked against the header's field count after each candidate. */
const CHECK_RECORDS = 16;

/**
 * The header record as the profiler reads it (cells cut to MAX_NAME_BYTES, the first `maxNamed`
 * kept, all counted) and where the first record after it starts; null when the head does not hold
 * the header and the start of the next record (unless the head is the whole object).
 */
function readHeader(head: Buffer, delimiter: string, size: number, maxNamed: number): { cells: string[]; count: number; dataStart: number } | null {
  // As the profiler does: the byte order mark is stripped before parsing, blank lines skipped.
  const bom = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  let s = bom;
  while (s < head.length && (head[s] === LF || head[s] === CR)) s++;
  const cells: string[] = [];
  let count = 0;
  let records = 0;
  const sink: RecordSink = {
    field(buf, fs, fe) {
      if (count++ < maxNamed) cells.push(buf.toString('utf8', fs, cutUtf8(buf, fs, fe, MAX_NAME_BYTES)));
    },
    endRecord() {
      records++;
      return false;
    },
  };
  const parser = new CsvRecordParser(delimiter.charCodeAt(0), sink, { stopAt: s - bom + 1 });
  parser.push(head.subarray(bom));
  if (parser.stoppedAt >= 0) return { cells, count, dataStart: parser.stoppedAt + bom };
  if (head.length < size) return null;
  parser.finish();
  return records > 0 ? { cells, count, dataStart: size } : null;
}

/** Cuts [0, size) into `n` ranges of about equal size. */
function cut(size: number, n: number): Range[] {
  const ranges: Range[] = [];
  const step = Math.ceil(size / n);
  for (let i = 0, start = 0; start < size || i === 0; i++, start += step) {
    ranges.push({ index: i, start, end: Math.min(size, start + step) });
  }
  return ranges;
}

/** Below this many bytes per range a thread costs more than it saves (`s3files profile`, the processor). */
export const MIN_RANGE_BYTES = 8 * 1024 * 1024;

/** How many ranges to cut `size` bytes into for `threads` threads: at least MIN_RANGE_BYTES (or `minRangeBytes`) each, at least one. */
export function rangeWorkers(size: number, threads: number, minRangeBytes = MIN_RANGE_BYTES): number {
  return Math.max(1, Math.min(threads, Math.floor(size / minRangeBytes)));
}

/** Plans the ranges of an object from its size and first bytes. */
export function planRanges(input: PlanInput): RangePlan {
  const head = asBuffer(input.head);
  const options = input.options ?? {};
  const base = {
    version: 1 as const,
    size: input.size,
    contentType: input.contentType ?? null,
    key: input.key,
    options,
  };
  const one: Range[] = [{ index: 0, start: 0, end: input.size }];
  const gzip = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  if (gzip) return { ...base, format: null, delimiter: null, compression: 'gzip', splittable: false, header: null, dataStart: 0, ranges: one };
  const { format, delimiter } = detectFormat(input.key, input.contentType, head.subarray(0, HEAD_BYTES));
  const n = Math.max(1, input.workers ?? 1, input.rangeBytes ? Math.ceil(input.size / input.rangeBytes) : 1);
  const plain = { ...base, format, delimiter, compression: null };
  if (format === 'jsonl') return { ...plain, splittable: true, header: null, dataStart: 0, ranges: cut(input.size, n) };
  if (delimiter === null) return { ...plain, splittable: false, header: null, dataStart: 0, ranges: one };
  const maxNamed = Math.max(options.maxFullColumns ?? MAX_FULL_COLUMNS, options.maxColumns ?? MAX_COLUMNS);
  const header = readHeader(head, delimiter, input.size, maxNamed);
  if (header === null) return { ...plain, splittable: false, header: null, dataStart: 0, ranges: one };
  return { ...plain, splittable: true, header: { cells: header.cells, count: header.count }, dataStart: header.dataStart, ranges: cut(input.size, n) };
}

/** Pulls chunks from an iterator into a growing window (of copies: the source may reuse its buffer). */
class Window {
  chunks: Buffer[] = [];
  length = 0;
  done = false;
  constructor(private readonly it: AsyncIterator<Uint8Array>) {}
  async fill(min: number): Promise<Buffer> {
    while (this.length < min && !this.done) {
      const next = await this.it.next();
      if (next.done) this.done = true;
      else {
        const b = Buffer.from(asBuffer(next.value));
        this.chunks.push(b);
        this.length += b.length;
      }
    }
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }
}

/** The window from `from` on, then the rest of the iterator; closes the iterator when abandoned. */
async function* rest(window: Buffer, from: number, it: AsyncIterator<Uint8Array>, done: boolean): AsyncGenerator<Buffer> {
  try {
    if (from < window.length) yield window.subarray(from);
    if (done) return;
    for (;;) {
      const next = await it.next();
      if (next.done) return;
      yield asBuffer(next.value);
    }
  } finally {
    await it.return?.();
  }
}

/**
 * Under a reading of the state before buf[0] (inside quotes or not), the index of the first record
 * start: after a line break outside quotes, past blank lines; -1 when the window holds none.
 */
function candidate(buf: Buffer, quoted: boolean): number {
  let q = quoted;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (c === QUOTE) q = !q;
    else if (!q && (c === LF || c === CR)) {
      let j = i + 1;
      while (j < buf.length && (buf[j] === LF || buf[j] === CR)) j++;
      return j < buf.length ? j : -1;
    }
  }
  return -1;
}

/** How many of the records after buf[p] (at most CHECK_RECORDS, whole ones only) have `width` fields. */
function fit(buf: Buffer, p: number, delimiter: string, width: number, atEnd: boolean): number {
  let fields = 0;
  let good = 0;
  let records = 0;
  const parser = new CsvRecordParser(delimiter.charCodeAt(0), {
    field() {
      fields++;
    },
    endRecord() {
      records++;
      if (fields === width) good++;
      fields = 0;
      return records >= CHECK_RECORDS;
    },
  });
  parser.push(buf.subarray(p));
  if (atEnd) parser.finish();
  return good;
}

const EMPTY: AsyncIterable<Buffer> = { async *[Symbol.asyncIterator]() {} };

/**
 * The source with its reads ended at the first chunk after the deadline, as the single pass's
 * source ends (lambda/core/profile/source.ts): `reach` is the furthest offset read before it.
 */
function deadlineGuard(source: ByteRangeSource, deadline: number): { source: ByteRangeSource; stop: StopSignal; truncation: (from: number) => Truncation | undefined } {
  let stopped = false;
  let reach = 0;
  return {
    source: {
      read: async function* (start, end) {
        let at = start;
        for await (const chunk of source.read(start, end)) {
          if (Date.now() >= deadline) {
            stopped = true;
            return;
          }
          at += chunk.length;
          reach = Math.max(reach, at);
          yield chunk;
        }
      },
    },
    stop: { stopped: () => stopped },
    // The content before the range's first record was read by the ranges before it.
    truncation: (from) => (stopped ? { reason: 'deadline', bytesRead: Math.max(reach, from), contentBytes: Math.max(reach, from) } : undefined),
  };
}

/** Profiles one range of a plan; past `plan.options.deadline` it stops reading and says so in `truncated`. */
export async function profileRange(source: ByteRangeSource, plan: RangePlan, range: Range): Promise<RangePartial> {
  if (!plan.splittable) return profileWhole(source, plan, range);
  if (plan.options.deadline === undefined) return splitRange(source, plan, range);
  const guard = deadlineGuard(source, plan.options.deadline);
  const partial = await splitRange(guard.source, plan, range, guard.stop);
  const truncated = guard.truncation(partial.firstRecordStart);
  return truncated ? { ...partial, truncated } : partial;
}

async function splitRange(source: ByteRangeSource, plan: RangePlan, range: Range, stop?: StopSignal): Promise<RangePartial> {
  const options = plan.options;
  const out = { index: range.index, start: range.start, end: range.end };
  if (plan.format === 'jsonl') return jsonLinesRange(source, plan, range, stop);
  const delimiter = plan.delimiter!;
  const header = plan.header!;
  const end = Math.max(range.end, plan.dataStart);
  if (range.index === 0) {
    const { partial, stoppedAt } = await delimitedPartial(toBuffers(source.read(0, plan.size)), delimiter, options, stop, {
      atFileStart: true,
      stopAt: end,
    });
    return { ...out, firstRecordStart: 0, nextRecordStart: stoppedAt < 0 ? plan.size : stoppedAt, guess: 'file-start', tabular: partial };
  }
  let first: number;
  let guess: RangePartial['guess'];
  let content: AsyncIterable<Buffer>;
  if (range.knownStart !== undefined) {
    first = range.knownStart;
    guess = 'known';
    content = first < end ? toBuffers(source.read(first, plan.size)) : EMPTY;
  } else {
    // Read from the byte before the start: a record starts at `start` when that byte ends a line.
    const from = Math.max(range.start, plan.dataStart) - 1;
    const it = source.read(from, plan.size)[Symbol.asyncIterator]();
    const window = new Window(it);
    let buf = await window.fill(SPECULATION_BYTES);
    let outside = candidate(buf, false);
    while (outside < 0 && !window.done) {
      buf = await window.fill(window.length * 2);
      outside = candidate(buf, false);
    }
    let inside = candidate(buf, true);
    const far = Math.max(outside, inside);
    if (far >= 0 && buf.length - far < SPECULATION_BYTES && !window.done) buf = await window.fill(far + SPECULATION_BYTES);
    if (outside < 0) outside = buf.length; // no record starts after this one
    if (inside < 0) inside = buf.length;
    let at = outside;
    guess = 'outside-quotes';
    if (inside !== outside && inside < buf.length) {
      const width = header.count;
      if (fit(buf, inside, delimiter, width, window.done) > fit(buf, outside, delimiter, width, window.done)) {
        at = inside;
        guess = 'inside-quotes';
      }
    }
    first = from + at;
    content = first < end ? rest(buf, at, it, window.done) : EMPTY;
    if (first >= end) await it.return?.();
  }
  const { partial, stoppedAt } = await delimitedPartial(content, delimiter, options, stop, {
    atFileStart: false,
    header,
    stopAt: end - first,
  });
  const next = first >= end ? first : stoppedAt < 0 ? plan.size : first + stoppedAt;
  return { ...out, firstRecordStart: first, nextRecordStart: next, guess, tabular: partial };
}

async function* toBuffers(body: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  for await (const chunk of body) yield asBuffer(chunk);
}

/** The content up to and including the first newline at or after offset `lastByte` (counted from the content's start). */
async function* throughLine(content: AsyncIterable<Buffer>, lastByte: number, seen: { end: number }): AsyncGenerator<Buffer> {
  let at = 0;
  for await (const chunk of content) {
    const from = Math.max(0, lastByte - at);
    const nl = from < chunk.length ? chunk.indexOf(LF, from) : -1;
    if (nl >= 0) {
      yield chunk.subarray(0, nl + 1);
      seen.end = at + nl + 1;
      return;
    }
    yield chunk;
    at += chunk.length;
  }
  seen.end = at;
}

async function jsonLinesRange(source: ByteRangeSource, plan: RangePlan, range: Range, stop?: StopSignal): Promise<RangePartial> {
  const out = { index: range.index, start: range.start, end: range.end };
  let first = 0;
  let guess: RangePartial['guess'] = 'file-start';
  let content: AsyncIterable<Buffer>;
  let it: AsyncIterator<Uint8Array> | null = null;
  if (range.knownStart !== undefined) {
    first = range.knownStart;
    guess = 'known';
    content = toBuffers(source.read(first, plan.size));
  } else if (range.index === 0 || range.start === 0) {
    content = toBuffers(source.read(0, plan.size));
  } else {
    // A line starts at `start` when the byte before it is a newline; else after the next newline.
    guess = 'newline';
    it = source.read(range.start - 1, plan.size)[Symbol.asyncIterator]();
    const window = new Window(it);
    let buf = await window.fill(SPECULATION_BYTES);
    let nl = buf.indexOf(LF);
    while (nl < 0 && !window.done) {
      buf = await window.fill(window.length * 2);
      nl = buf.indexOf(LF);
    }
    const at = nl < 0 ? buf.length : nl + 1;
    first = range.start - 1 + at;
    content = rest(buf, at, it, window.done);
  }
  if (first >= range.end) {
    await it?.return?.();
    const tabular = await jsonLinesPartial(EMPTY, plan.options, stop, { atFileStart: false });
    return { ...out, firstRecordStart: first, nextRecordStart: first, guess, tabular };
  }
  const seen = { end: 0 };
  const tabular = await jsonLinesPartial(throughLine(content, range.end - 1 - first, seen), plan.options, stop, { atFileStart: first === 0 });
  return { ...out, firstRecordStart: first, nextRecordStart: first + seen.end, guess, tabular };
}

/** An unsplittable plan's one range: read as the single pass reads the object (gunzipped, hashed, sniffed). */
async function profileWhole(source: ByteRangeSource, plan: RangePlan, range: Range): Promise<RangePartial> {
  const options = plan.options;
  const opened = await openSource(source.read(0, plan.size), {
    ...(options.deadline !== undefined ? { deadline: options.deadline } : {}),
    ...(options.gzipRatioFromBytes !== undefined ? { gzipRatioFromBytes: options.gzipRatioFromBytes } : {}),
  });
  const { format, delimiter } = detectFormat(plan.key, plan.contentType ?? undefined, opened.head);
  const stop = { stopped: () => opened.stopped() !== null };
  let tabular: TabularPartial | null = null;
  if (format === 'jsonl') tabular = await jsonLinesPartial(opened.content, options, stop);
  else if (delimiter !== null) tabular = (await delimitedPartial(opened.content, delimiter, options, stop)).partial;
  else await drain(opened.content);
  const truncated = opened.stopped();
  return {
    index: range.index,
    start: range.start,
    end: range.end,
    firstRecordStart: 0,
    nextRecordStart: plan.size,
    guess: 'file-start',
    tabular,
    whole: {
      format,
      delimiter,
      compression: opened.compression,
      bytes: opened.bytes(),
      sha256: truncated ? null : opened.sha256(),
      truncated,
    },
  };
}

function shiftErrors(a: ProfileErrors, b: ProfileErrors, offset: number): ProfileErrors {
  const invalidRows = (a.invalidRows ?? 0) + (b.invalidRows ?? 0);
  return {
    raggedRows: a.raggedRows + b.raggedRows,
    raggedLines: [...a.raggedLines, ...b.raggedLines.map((l) => l + offset)].slice(0, 10),
    invalidUtf8: a.invalidUtf8 + b.invalidUtf8,
    oversizedFields: a.oversizedFields + b.oversizedFields,
    ...(invalidRows > 0 ? { invalidRows } : {}),
    samples: [...a.samples, ...b.samples.map((s) => ({ ...s, line: s.line + offset }))].slice(0, 10),
  };
}

function toLight(c: ColumnPartial): LightColumnPartial {
  return { name: c.name, count: c.count, nulls: c.nulls, invalidUtf8: c.invalidUtf8, kinds: c.kinds };
}

/**
 * Two consecutive parts' statistics as the whole's; the second's line numbers are shifted by the
 * first's line breaks. CSV columns line up by position (one header). JSON Lines columns line up by
 * name, in the order first seen; a column full in one part and light in another (only past
 * MAX_FULL_COLUMNS keys) is light in the merge.
 */
export function mergeTabularPartials(a: TabularPartial, b: TabularPartial, options: ProfileOptions = {}): TabularPartial {
  const exactLimit = options.distinctExactLimit ?? 10_000;
  const sampleRows = options.sampleRows ?? 5;
  const base = {
    kind: a.kind,
    rows: a.rows + b.rows,
    lineBreaks: a.lineBreaks + b.lineBreaks,
    errors: shiftErrors(a.errors, b.errors, a.lineBreaks),
    memory: { limit: a.memory.limit, peak: Math.max(a.memory.peak, b.memory.peak), samplesDropped: Math.max(a.memory.samplesDropped, b.memory.samplesDropped) },
  };
  if (a.kind === 'delimited') {
    return {
      ...base,
      columns: a.columns.map((c, i) => (b.columns[i] ? mergeColumnPartials(c, b.columns[i]!, exactLimit) : c)),
      light: a.light.map((c, i) => (b.light[i] ? mergeLightPartials(c, b.light[i]!) : c)),
      omitted: a.omitted,
      sample: [...a.sample, ...b.sample].slice(0, sampleRows),
    };
  }
  const maxFull = options.maxFullColumns ?? MAX_FULL_COLUMNS;
  type Entry = { full: ColumnPartial | null; light: LightColumnPartial | null; seen: number };
  const byName = new Map<string, Entry>();
  const add = (p: TabularPartial): void => {
    p.columns.forEach((c, i) => {
      const e = byName.get(c.name);
      const seen = p.seen?.[i] ?? 0;
      if (!e) byName.set(c.name, { full: c, light: null, seen });
      else {
        e.seen += seen;
        if (e.full) e.full = mergeColumnPartials(e.full, c, exactLimit);
        else e.light = mergeLightPartials(e.light!, toLight(c));
      }
    });
    p.light.forEach((c, i) => {
      const e = byName.get(c.name);
      const seen = p.seen?.[p.columns.length + i] ?? 0;
      if (!e) byName.set(c.name, { full: null, light: c, seen });
      else {
        e.seen += seen;
        if (e.full) {
          e.light = mergeLightPartials(toLight(e.full), c);
          e.full = null;
        } else e.light = mergeLightPartials(e.light!, c);
      }
    });
  };
  add(a);
  add(b);
  const entries = [...byName.entries()];
  const fullNames = entries.filter(([, e]) => e.full).map(([n]) => n);
  for (const name of fullNames.slice(maxFull)) {
    const e = byName.get(name)!;
    e.light = toLight(e.full!);
    e.full = null;
  }
  const full = entries.filter(([, e]) => e.full);
  const light = entries.filter(([, e]) => e.light);
  const position = new Map(full.map(([n], i) => [n, i]));
  const remap = (p: TabularPartial) =>
    p.sample.map((row) => {
      const out = new Array<unknown>(full.length).fill(null);
      p.columns.forEach((c, i) => {
        const at = position.get(c.name);
        if (at !== undefined && i < row.length) out[at] = row[i];
      });
      return out;
    });
  let omittedKeys: string | undefined;
  if (a.omittedKeys !== undefined || b.omittedKeys !== undefined) {
    const hll = a.omittedKeys ? HyperLogLog.fromBase64(a.omittedKeys) : new HyperLogLog();
    if (b.omittedKeys) hll.merge(HyperLogLog.fromBase64(b.omittedKeys));
    omittedKeys = hll.toBase64();
  }
  return {
    ...base,
    columns: full.map(([, e]) => e.full!),
    light: light.map(([, e]) => e.light!),
    seen: [...full.map(([, e]) => e.seen), ...light.map(([, e]) => e.seen)],
    omitted: a.omitted + b.omitted,
    ...(omittedKeys !== undefined ? { omittedKeys } : {}),
    sample: [...remap(a), ...remap(b)].slice(0, sampleRows),
  };
}

/**
 * What the object-level fields of a profile are, beside its tabular part: the Profile's own
 * fields, with the delimiter always said and `truncated` null when the read was whole.
 */
export type ObjectFacts = Pick<Profile, 'format' | 'compression' | 'contentType' | 'bytes' | 'etag' | 'sha256'> & {
  delimiter: string | null;
  truncated?: Truncation | null;
};

/** A profile from the object's facts and its tabular part: the one shape, split or not. */
export function assembleProfile(facts: ObjectFacts, tabular: TabularResult | null): Profile {
  const truncated = facts.truncated ?? null;
  const profile: Profile = {
    version: 1,
    format: facts.format,
    compression: facts.compression,
    contentType: facts.contentType,
    bytes: facts.bytes,
    etag: facts.etag,
    sha256: facts.sha256,
  };
  if (!tabular) return { ...profile, delimiter: null, rows: null, columnCount: null, columns: null, ...(truncated ? { truncated } : {}) };
  return {
    ...profile,
    delimiter: facts.delimiter,
    rows: tabular.rows,
    columnCount: tabular.columnCount,
    columns: tabular.columns,
    ...(tabular.otherColumns.length ? { otherColumns: tabular.otherColumns } : {}),
    errors: tabular.errors,
    sample: tabular.sample,
    ...(tabular.budget ? { budget: tabular.budget } : {}),
    ...(truncated ? { truncated } : {}),
  };
}

/**
 * Checks the boundaries and merges the ranges' partials into the profile; or, when a range's first
 * record is not where the previous range's reading ended, asks for that range again from there
 * (`rerun`; merge again with its new partial in its place). `meta.sha256` is the whole object's
 * hash when the caller computed it beside the ranges (an unsplit range computes its own).
 */
export function mergeRanges(plan: RangePlan, partials: RangePartial[], meta: { etag?: string | null; sha256?: string | null } = {}): MergeResult {
  const sorted = [...partials].sort((x, y) => x.index - y.index);
  if (sorted.length !== plan.ranges.length || sorted.some((p, i) => p.index !== i)) {
    throw new Error(`mergeRanges: expected partials for ranges 0..${plan.ranges.length - 1}, got ${sorted.map((p) => p.index).join(',')}`);
  }
  // A range stopped by the deadline ends the profile, as the deadline ends the single pass: the
  // statistics are those of the content before it, and the ranges after it are left out.
  const cut = sorted.findIndex((p) => p.truncated);
  const used = cut < 0 ? sorted : sorted.slice(0, cut + 1);
  const truncated = cut < 0 ? undefined : sorted[cut]!.truncated;
  let known = used[0]!.nextRecordStart;
  for (let i = 1; i < used.length; i++) {
    const p = used[i]!;
    if (p.firstRecordStart !== known) return { rerun: [{ ...plan.ranges[i]!, knownStart: known }] };
    known = p.nextRecordStart;
  }
  if (!truncated && known !== plan.size && plan.splittable) throw new Error(`mergeRanges: the last range ended at ${known}, not at the size ${plan.size}`);
  const whole = used[0]!.whole;
  let tabular: TabularPartial | null = used[0]!.tabular;
  for (const p of used.slice(1)) tabular = mergeTabularPartials(tabular!, p.tabular!, plan.options);
  const facts: ObjectFacts = whole
    ? { ...whole, contentType: plan.contentType, etag: meta.etag ?? null, sha256: whole.sha256 }
    : {
        format: plan.format!,
        compression: plan.compression,
        contentType: plan.contentType,
        bytes: truncated ? truncated.bytesRead : plan.size,
        etag: meta.etag ?? null,
        // Of the whole object only: a truncated profile has not seen it all.
        sha256: truncated ? null : (meta.sha256 ?? null),
        delimiter: plan.delimiter,
        ...(truncated ? { truncated } : {}),
      };
  return { profile: assembleProfile(facts, tabular ? finishTabular(tabular, plan.options) : null) };
}

/** Runs a plan's ranges with `run` (in turn or in parallel, as it likes) and merges, re-running wrong guesses. */
export async function profileRanges(
  plan: RangePlan,
  run: (range: Range) => Promise<RangePartial>,
  meta: { etag?: string | null; sha256?: string | null } = {},
): Promise<Profile> {
  const partials = await Promise.all(plan.ranges.map(run));
  for (;;) {
    const merged = mergeRanges(plan, partials, meta);
    if ('profile' in merged) return merged.profile;
    for (const range of merged.rerun) partials[range.index] = await run(range);
  }
}
