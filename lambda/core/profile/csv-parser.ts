/**
 * A streaming RFC 4180 record parser that works on bytes. It finds delimiters, quotes and line
 * breaks in each chunk and hands every field to a sink as a (buffer, start, end) slice, so no string
 * and no per-row array is made unless the sink wants one. Fields that span chunks are gathered in one
 * reusable buffer, capped at `maxFieldBytes`: a huge field is truncated and counted, never kept whole.
 *
 * Leniencies, chosen to match what pandas and papaparse accept: CR, LF and CRLF all end a record;
 * blank lines are skipped; a quote inside an unquoted field is a literal character; text after a
 * closing quote is kept (and reported); an unterminated quote runs to the end of the input (reported).
 */
import { asBuffer } from './bytes';

const LF = 10;
const CR = 13;
const QUOTE = 34;

const S_FIELD = 0; // at the start of a field
const S_UNQUOTED = 1; // inside an unquoted field that began in an earlier chunk (bytes so far in acc)
const S_QUOTED = 2; // inside a quoted field
const S_QUOTE_PENDING = 3; // a quote inside a quoted field ended the last chunk: escape or closing?

export const DEFAULT_MAX_FIELD_BYTES = 1024 * 1024;

export interface RecordSink {
  /**
   * One field, quotes removed and doubled quotes collapsed. The bytes are only valid during the call:
   * the parser reuses its buffers, so copy or decode what you keep.
   */
  field(buf: Buffer, start: number, end: number): void;
  /** The end of a record that began on physical line `line` (1-based). Return true to stop parsing. */
  endRecord(line: number): boolean;
}

/**
 * A sink that also takes fields with their hash computed during the scan: the parser reads each
 * unquoted field's bytes once, finding its end and hashing it in the same loop. The lanes are
 * `ColumnAccumulator.addField`'s, before finalisation (seeds HASH_SEED1 / HASH_SEED2); `high` is
 * the OR of the field's words, non-zero in 0x80808080 when it has non-ASCII bytes.
 */
export interface HashedRecordSink extends RecordSink {
  hashedField(buf: Buffer, start: number, end: number, h1: number, h2: number, high: number): void;
}

/** The field hash's lane seeds, shared with `ColumnAccumulator.addField`. */
export const HASH_SEED1 = 0x9747b28c | 0;
export const HASH_SEED2 = 0x2f8a1b3c;

export interface ParserOptions {
  maxFieldBytes?: number;
  /** Called for each problem found: an oversized field, an unterminated or malformed quote. */
  onIssue?: (line: number, message: string) => void;
  /** Stop before the first record that starts at or past this offset of the input (see `stoppedAt`). */
  stopAt?: number;
}

export class CsvRecordParser {
  /** Fields longer than the cap, truncated. */
  oversizedFields = 0;
  /** Physical lines seen so far. */
  line = 1;
  private state = S_FIELD;
  private fieldIndex = 0;
  private recordLine = 1;
  private pendingCR = false;
  private prevCR = false;
  private escaped = false;
  private inAcc = false;
  private truncated = false;
  private acc: Buffer = Buffer.allocUnsafe(64 * 1024);
  private accLen = 0;
  private stopped = false;
  /**
   * Range parsing: the first record whose first byte lies at or past this offset (counted from the
   * first byte pushed) is not parsed; `stoppedAt` is then its offset. Blank lines before it are
   * counted in `line` but own no record, so the next range starts at that record's first byte.
   */
  private stopAt = Infinity;
  /** Where the current chunk starts, counted from the first byte pushed. */
  private base = 0;
  /** The offset of the first record not parsed (see `stopAt`), or -1. */
  stoppedAt = -1;
  private readonly maxFieldBytes: number;
  private readonly hashed: HashedRecordSink | null;
  /** The largest byte that ends an unquoted field: most bytes of most data lie above it, one test each. */
  private readonly topStop: number;
  private readonly onIssue: (line: number, message: string) => void;

  constructor(
    private readonly delimiter: number,
    private readonly sink: RecordSink,
    options: ParserOptions = {},
  ) {
    this.maxFieldBytes = options.maxFieldBytes ?? DEFAULT_MAX_FIELD_BYTES;
    this.topStop = Math.max(delimiter, LF, CR);
    this.hashed = 'hashedField' in sink ? (sink as HashedRecordSink) : null;
    this.onIssue = options.onIssue ?? (() => undefined);
    if (options.stopAt !== undefined) this.stopAt = options.stopAt;
  }

  /** Whether the sink asked to stop. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** Parses one chunk. Returns false once the sink has asked to stop. */
  push(chunk: Uint8Array): boolean {
    if (this.stopped) return false;
    const buf = asBuffer(chunk);
    const n = buf.length;
    if (n === 0) return true;
    const delim = this.delimiter;
    let i = 0;
    if (this.pendingCR) {
      this.pendingCR = false;
      if (buf[0] === LF) i = 1;
    }
    while (i < n) {
      switch (this.state) {
        case S_FIELD: {
          if (this.fieldIndex === 0 && this.base + i >= this.stopAt && buf[i] !== LF && buf[i] !== CR) {
            this.stopAtRecord(i);
            return false;
          }
          if (this.hashed !== null) {
            i = this.hashedFields(buf, i, n, this.hashed);
            if (this.stopped) return false;
            if (i >= n) break;
            if (this.fieldIndex === 0 && this.base + i >= this.stopAt && buf[i] !== LF && buf[i] !== CR) {
              this.stopAtRecord(i);
              return false;
            }
          }
          if (buf[i] === QUOTE) {
            this.state = S_QUOTED;
            this.escaped = false;
            this.inAcc = false;
            this.truncated = false;
            this.accLen = 0;
            i++;
            break;
          }
          let j = i;
          while (j < n) {
            const c = buf[j];
            if (c === delim || c === LF || c === CR) break;
            j++;
          }
          if (j === n) {
            this.accLen = 0;
            this.truncated = false;
            this.append(buf, i, n);
            this.state = S_UNQUOTED;
            i = n;
            break;
          }
          if (j === i && this.fieldIndex === 0 && buf[j] !== delim) {
            i = this.skipLineBreak(buf, j, n); // a blank line is no record
            this.recordLine = this.line;
            break;
          }
          this.emitView(buf, i, j, false);
          i = this.terminate(buf, j, n);
          if (this.stopped) return false;
          break;
        }
        case S_UNQUOTED: {
          let j = i;
          while (j < n) {
            const c = buf[j];
            if (c === delim || c === LF || c === CR) break;
            j++;
          }
          this.append(buf, i, j);
          if (j === n) {
            i = n;
            break;
          }
          this.emitAcc(false);
          i = this.terminate(buf, j, n);
          if (this.stopped) return false;
          break;
        }
        case S_QUOTED: {
          const segStart = i;
          let j = i;
          let closed = -1;
          while (j < n) {
            const c = buf[j];
            if (c === QUOTE) {
              if (j + 1 === n) break;
              if (buf[j + 1] === QUOTE) {
                this.escaped = true;
                j += 2;
                continue;
              }
              closed = j;
              break;
            }
            if (c === LF) {
              if (j === 0 ? !this.prevCR : buf[j - 1] !== CR) this.line++;
            } else if (c === CR) {
              this.line++;
            }
            j++;
          }
          if (closed < 0) {
            // The chunk ended inside the field, or on a quote whose meaning the next byte decides.
            this.append(buf, segStart, j);
            this.inAcc = true;
            if (j < n) this.state = S_QUOTE_PENDING;
            i = n;
            break;
          }
          const next = buf[closed + 1];
          if (next === delim || next === LF || next === CR) {
            if (this.inAcc) {
              this.append(buf, segStart, closed);
              this.emitAcc(this.escaped);
            } else {
              this.emitView(buf, segStart, closed, this.escaped);
            }
            i = this.terminate(buf, closed + 1, n);
            if (this.stopped) return false;
          } else {
            this.append(buf, segStart, closed);
            this.textAfterClosingQuote();
            i = closed + 1;
          }
          break;
        }
        default: {
          // S_QUOTE_PENDING: the previous chunk ended on a quote inside a quoted field.
          const c = buf[i];
          if (c === QUOTE) {
            this.escaped = true;
            this.appendByte(QUOTE);
            this.appendByte(QUOTE);
            this.state = S_QUOTED;
            i++;
          } else if (c === delim || c === LF || c === CR) {
            this.emitAcc(this.escaped);
            i = this.terminate(buf, i, n);
            if (this.stopped) return false;
          } else {
            this.textAfterClosingQuote();
          }
        }
      }
    }
    this.prevCR = buf[n - 1] === CR;
    this.base += n;
    return !this.stopped;
  }

  private stopAtRecord(i: number): void {
    this.stopped = true;
    this.stoppedAt = this.base + i;
  }

  /**
   * The fast path for a HashedRecordSink: takes the unquoted fields that end inside this chunk, one
   * after another, scanning and hashing each in one loop (four bytes per step), and quoted ones
   * without doubled quotes or line breaks (`quotedHashed`). Returns where the general path must go
   * on: at another quoted field, a blank line, an oversized field or one the chunk cuts.
   */
  private hashedFields(buf: Buffer, i: number, n: number, sink: HashedRecordSink): number {
    const delim = this.delimiter;
    const top = this.topStop;
    const last = n - 4;
    while (i < n) {
      if (this.fieldIndex === 0 && this.base + i >= this.stopAt) return i; // the general path stops there
      if (buf[i] === QUOTE) {
        const j = this.quotedHashed(buf, i, n, sink);
        if (j < 0) return i;
        if (buf[j] === delim) {
          this.fieldIndex++;
          i = j + 1;
        } else {
          i = this.skipLineBreak(buf, j, n);
          this.endRecord();
          if (this.stopped) return i;
        }
        continue;
      }
      let j = i;
      let h1 = HASH_SEED1;
      let h2 = HASH_SEED2;
      let high = 0;
      let w = 0;
      let found = false;
      while (j <= last) {
        const b0 = buf[j]!;
        if (b0 <= top && (b0 === delim || b0 === LF || b0 === CR)) {
          found = true;
          break;
        }
        const b1 = buf[j + 1]!;
        if (b1 <= top && (b1 === delim || b1 === LF || b1 === CR)) {
          w = b0;
          j += 1;
          found = true;
          break;
        }
        const b2 = buf[j + 2]!;
        if (b2 <= top && (b2 === delim || b2 === LF || b2 === CR)) {
          w = b0 | (b1 << 8);
          j += 2;
          found = true;
          break;
        }
        const b3 = buf[j + 3]!;
        if (b3 <= top && (b3 === delim || b3 === LF || b3 === CR)) {
          w = b0 | (b1 << 8) | (b2 << 16);
          j += 3;
          found = true;
          break;
        }
        const word = b0 | (b1 << 8) | (b2 << 16) | (b3 << 24);
        high |= word;
        h1 = Math.imul(h1 ^ word, 0x9e3779b1);
        h1 = (h1 << 15) | (h1 >>> 17);
        h2 = Math.imul(h2 + word, 0x85ebca77);
        h2 = (h2 << 13) | (h2 >>> 19);
        j += 4;
      }
      if (!found || j - i > this.maxFieldBytes) return i;
      const c = buf[j];
      if (j === i && this.fieldIndex === 0 && c !== delim) return i; // a blank line
      if ((j - i) & 3) {
        high |= w;
        h1 = Math.imul(h1 ^ w, 0x9e3779b1);
        h2 = Math.imul(h2 + w, 0x85ebca77);
      }
      sink.hashedField(buf, i, j, h1, h2, high);
      if (c === delim) {
        this.fieldIndex++;
        i = j + 1;
      } else {
        i = this.skipLineBreak(buf, j, n);
        this.endRecord();
        if (this.stopped) return i;
      }
    }
    return i;
  }

  /**
   * The fast path's quoted field: one with no doubled quote and no line break inside, closed in this
   * chunk and followed by a delimiter or line break, is scanned and hashed in one loop as an unquoted
   * one is. Returns the index of that delimiter or line break, or -1 for the general path.
   */
  private quotedHashed(buf: Buffer, i: number, n: number, sink: HashedRecordSink): number {
    const s = i + 1;
    const last = n - 4;
    let j = s;
    let h1 = HASH_SEED1;
    let h2 = HASH_SEED2;
    let high = 0;
    let w = 0;
    let found = false;
    // QUOTE (34) lies above LF and CR: a byte above it stops nothing.
    while (j <= last) {
      const b0 = buf[j]!;
      if (b0 <= QUOTE && (b0 === QUOTE || b0 === LF || b0 === CR)) {
        found = true;
        break;
      }
      const b1 = buf[j + 1]!;
      if (b1 <= QUOTE && (b1 === QUOTE || b1 === LF || b1 === CR)) {
        w = b0;
        j += 1;
        found = true;
        break;
      }
      const b2 = buf[j + 2]!;
      if (b2 <= QUOTE && (b2 === QUOTE || b2 === LF || b2 === CR)) {
        w = b0 | (b1 << 8);
        j += 2;
        found = true;
        break;
      }
      const b3 = buf[j + 3]!;
      if (b3 <= QUOTE && (b3 === QUOTE || b3 === LF || b3 === CR)) {
        w = b0 | (b1 << 8) | (b2 << 16);
        j += 3;
        found = true;
        break;
      }
      const word = b0 | (b1 << 8) | (b2 << 16) | (b3 << 24);
      high |= word;
      h1 = Math.imul(h1 ^ word, 0x9e3779b1);
      h1 = (h1 << 15) | (h1 >>> 17);
      h2 = Math.imul(h2 + word, 0x85ebca77);
      h2 = (h2 << 13) | (h2 >>> 19);
      j += 4;
    }
    if (!found || buf[j] !== QUOTE || j + 1 >= n || j - s > this.maxFieldBytes) return -1;
    const next = buf[j + 1];
    if (next !== this.delimiter && next !== LF && next !== CR) return -1; // a doubled quote, or text after the closing one
    if ((j - s) & 3) {
      high |= w;
      h1 = Math.imul(h1 ^ w, 0x9e3779b1);
      h2 = Math.imul(h2 + w, 0x85ebca77);
    }
    sink.hashedField(buf, s, j, h1, h2, high);
    return j + 1;
  }

  /** Ends the input: emits the last record when it had no line break after it. */
  finish(): void {
    if (this.stopped) return;
    switch (this.state) {
      case S_FIELD:
        if (this.fieldIndex === 0) return;
        this.emitView(this.acc, 0, 0, false);
        break;
      case S_UNQUOTED:
        this.emitAcc(false);
        break;
      case S_QUOTED:
        this.onIssue(this.recordLine, 'unterminated quoted field runs to the end of the input');
        this.emitAcc(this.escaped);
        break;
      default:
        this.emitAcc(this.escaped);
    }
    this.endRecord();
  }

  private textAfterClosingQuote(): void {
    this.onIssue(this.line, 'text after a closing quote is kept as part of the field');
    if (this.escaped) this.accLen = unescapeQuotes(this.acc, 0, this.accLen, this.acc);
    this.escaped = false;
    this.inAcc = true;
    this.state = S_UNQUOTED;
  }

  private skipLineBreak(buf: Buffer, j: number, n: number): number {
    this.line++;
    if (buf[j] === CR) {
      if (j + 1 < n) {
        if (buf[j + 1] === LF) return j + 2;
      } else {
        this.pendingCR = true;
      }
    }
    return j + 1;
  }

  /** Handles the delimiter or line break at j; returns where parsing goes on. */
  private terminate(buf: Buffer, j: number, n: number): number {
    this.state = S_FIELD;
    if (buf[j] === this.delimiter) {
      this.fieldIndex++;
      return j + 1;
    }
    const after = this.skipLineBreak(buf, j, n);
    this.endRecord();
    return after;
  }

  private endRecord(): void {
    if (this.sink.endRecord(this.recordLine)) this.stopped = true;
    this.fieldIndex = 0;
    this.recordLine = this.line;
    this.state = S_FIELD;
  }

  private emitView(buf: Buffer, s: number, e: number, escaped: boolean): void {
    if (escaped) {
      this.accLen = 0;
      this.truncated = false;
      this.append(buf, s, e);
      this.emitAcc(true);
      return;
    }
    if (e - s > this.maxFieldBytes) {
      this.reportOversized();
      e = s + this.maxFieldBytes;
    }
    this.sink.field(buf, s, e);
  }

  private emitAcc(escaped: boolean): void {
    if (escaped) this.accLen = unescapeQuotes(this.acc, 0, this.accLen, this.acc);
    if (this.truncated) this.reportOversized();
    this.sink.field(this.acc, 0, this.accLen);
    this.accLen = 0;
    this.truncated = false;
    this.inAcc = false;
  }

  private reportOversized(): void {
    this.oversizedFields++;
    this.onIssue(this.recordLine, `field longer than ${this.maxFieldBytes} bytes truncated`);
  }

  private append(buf: Buffer, s: number, e: number): void {
    let len = e - s;
    if (len <= 0) return;
    const room = this.maxFieldBytes - this.accLen;
    if (len > room) {
      this.truncated = true;
      len = room;
      if (len <= 0) return;
    }
    this.reserve(this.accLen + len);
    buf.copy(this.acc, this.accLen, s, s + len);
    this.accLen += len;
  }

  private appendByte(b: number): void {
    if (this.accLen >= this.maxFieldBytes) {
      this.truncated = true;
      return;
    }
    this.reserve(this.accLen + 1);
    this.acc[this.accLen++] = b;
  }

  private reserve(size: number): void {
    if (size <= this.acc.length) return;
    let cap = this.acc.length * 2;
    while (cap < size) cap *= 2;
    const grown = Buffer.allocUnsafe(Math.min(cap, Math.max(size, this.maxFieldBytes)));
    this.acc.copy(grown, 0, 0, this.accLen);
    this.acc = grown;
  }
}

/** Copies [s, e) of src to dst from 0, collapsing each doubled quote; returns the length written. */
function unescapeQuotes(src: Buffer, s: number, e: number, dst: Buffer): number {
  let w = 0;
  for (let r = s; r < e; r++) {
    const c = src[r]!;
    dst[w++] = c;
    if (c === QUOTE && src[r + 1] === QUOTE && r + 1 < e) r++;
  }
  return w;
}

/** Parses a whole buffer into string records: for tests and small inputs, not the hot path. */
export function parseRecords(chunks: Iterable<Uint8Array>, delimiter = 44, options: ParserOptions = {}): string[][] {
  const records: string[][] = [];
  let row: string[] = [];
  const parser = new CsvRecordParser(
    delimiter,
    {
      field(buf, s, e) {
        row.push(buf.toString('utf8', s, e));
      },
      endRecord() {
        records.push(row);
        row = [];
        return false;
      },
    },
    options,
  );
  for (const chunk of chunks) parser.push(chunk);
  parser.finish();
  return records;
}
