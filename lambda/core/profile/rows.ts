/**
 * `?rows=`: a page of rows read from the start of a tabular object, within the same limits as the
 * profiler (limits.ts) and within the request's own: a byte budget for the page as the response
 * will carry it, and a deadline. What it cannot read (a line or field past the cap, nesting past the
 * depth limit, a corrupt gzip stream, rows past the decompression limit, a row too big for any
 * page) is an engine error naming the limit; what it has no time or room for ends the page early,
 * with `nextOffset` to continue from and `truncated` saying why.
 */
import { CsvRecordParser } from './csv-parser';
import {
  DecompressionLimitError,
  FieldTooLongError,
  InvalidRowError,
  LineTooLongError,
  NestingTooDeepError,
  RowTooLargeError,
  TooManyColumnsError,
  UnknownColumnError,
  UnsupportedFormatError,
} from './errors';
import { nestsDeeperThan } from './json-depth';
import { MAX_COLUMNS, MAX_FIELD_BYTES, MAX_JSON_DEPTH, MAX_LINE_BYTES, MAX_NAME_BYTES } from './limits';
import { uniqueNames } from './names';
import { cutUtf8 } from './budget';
import { detectFormat, openSource } from './source';
import type { ProfileInput, RowsRequest, RowsResult } from './index';

/** Stops the stream by throwing through the parser; caught below. */
class Enough extends Error {}

/**
 * What a value adds to the proxy response Lambda sizes: its JSON text in the page, escaped once
 * more when the page becomes the response's `body` string (a quote becomes two bytes, a control
 * character up to seven).
 */
function encodedBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(JSON.stringify(value) ?? 'null')) - 2;
}

/** The response around the rows: status, headers, the page's keys, a cursor. */
const PAGE_OVERHEAD_BYTES = 1024;

/** A `"null",` in a row of the page, doubly encoded: what a JSON Lines key missing from a row costs. */
const NULL_BYTES = 5;

function selectIndexes(names: string[], wanted: string[] | undefined): number[] {
  if (!wanted) return names.map((_n, i) => i);
  return wanted.map((w) => {
    const i = names.indexOf(w);
    if (i < 0) throw new UnknownColumnError(w);
    return i;
  });
}

/** Strips spaces, tabs and CRs around a line (and a byte order mark before the first). */
function trimmed(line: Buffer, first: boolean): [number, number] {
  let s = first && line[0] === 0xef && line[1] === 0xbb && line[2] === 0xbf ? 3 : 0;
  let e = line.length;
  while (s < e && (line[s] === 32 || line[s] === 9 || line[s] === 13)) s++;
  while (e > s && (line[e - 1] === 32 || line[e - 1] === 9 || line[e - 1] === 13)) e--;
  return [s, e];
}

/**
 * Splits content into lines, holding at most `max` bytes of one: a longer line is handed on as
 * null (its bytes dropped as they come), so a line of any length costs `max` bytes at most.
 */
class LineSplitter {
  private carry: Buffer[] = [];
  private carryLen = 0;
  private tooLong = false;

  constructor(
    private readonly max: number,
    private readonly onLine: (line: Buffer | null) => boolean,
    /** Called once a line passes `max`, before its end is read (which may be never: a bomb, the deadline). */
    private readonly onOverflow: () => void = () => undefined,
  ) {}

  /** False once onLine has asked to stop. */
  push(chunk: Buffer): boolean {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      let line: Buffer | null;
      if (this.tooLong || this.carryLen + nl - start > this.max) line = null;
      else if (this.carryLen > 0) {
        this.carry.push(chunk.subarray(start, nl));
        line = Buffer.concat(this.carry);
      } else line = chunk.subarray(start, nl);
      this.carry = [];
      this.carryLen = 0;
      this.tooLong = false;
      start = nl + 1;
      if (!this.onLine(line)) return false;
    }
    if (start < chunk.length && !this.tooLong) {
      this.carryLen += chunk.length - start;
      if (this.carryLen > this.max) {
        this.tooLong = true;
        this.carry = [];
        this.onOverflow();
      } else this.carry.push(Buffer.from(chunk.subarray(start)));
    }
    return true;
  }

  /** The last line, if the content did not end with a line break. */
  finish(): void {
    if (this.tooLong) this.onLine(null);
    else if (this.carryLen > 0) this.onLine(Buffer.concat(this.carry));
  }
}

/**
 * Rows [offset, offset + limit) of a tabular object, as strings (CSV) or JSON values (JSON Lines).
 * Reads only as far as it needs: one row past the page, to know whether there is a next one; then
 * it closes the body. Stops early, with the rows it has and `nextOffset` at the first it has not,
 * when the next row would take the page past `maxBytes` or when the deadline passes.
 */
export async function readRows(input: ProfileInput, req: RowsRequest): Promise<RowsResult> {
  const source = await openSource(input.body, {
    ...(req.deadline !== undefined ? { deadline: req.deadline } : {}),
    ...(req.gzipRatioFromBytes !== undefined ? { gzipRatioFromBytes: req.gzipRatioFromBytes } : {}),
  });
  try {
    return await read(source, input, req);
  } finally {
    await source.close();
  }
}

async function read(source: Awaited<ReturnType<typeof openSource>>, input: ProfileInput, req: RowsRequest): Promise<RowsResult> {
  const { format, delimiter } = detectFormat(input.key, input.contentType, source.head);
  const stopAt = req.offset + req.limit; // index of the row that proves there is a next page
  const maxBytes = req.maxBytes ?? Number.MAX_SAFE_INTEGER;
  let bytes = PAGE_OVERHEAD_BYTES;
  let index = 0;
  let more = false;
  /** Set when the page ends before `stopAt` for want of room. */
  let full = false;

  /** The page's end after the content stopped (a gzip limit, the deadline), or after it ended. */
  const finish = (result: Omit<RowsResult, 'nextOffset'>): RowsResult => {
    const stop = source.stopped();
    if (full) return { ...result, nextOffset: index, truncated: { reason: 'response-size' } };
    if (stop && !more) {
      if (stop.reason !== 'deadline' && result.rows.length === 0) {
        const detail =
          stop.reason === 'gzip-size'
            ? `gzip content is read up to ${stop.limit} bytes`
            : `gzip content is read up to ${stop.limit} times its compressed size (a bomb), here ${stop.contentBytes} bytes`;
        throw new DecompressionLimitError(detail, stop.limit ?? 0);
      }
      // A cursor to continue from: the first row not read (never before the one asked for).
      return { ...result, nextOffset: Math.max(index, req.offset), truncated: { reason: stop.reason } };
    }
    return { ...result, nextOffset: more ? stopAt : null };
  };

  if (format === 'jsonl') {
    const columns: string[] = req.columns ? [...req.columns] : [];
    const known = new Set(columns);
    const records: Record<string, unknown>[] = [];
    let lineNo = 0;
    let valueBytes = 0;
    let keysPresent = 0;
    let namesBytes = 0;
    const splitter = new LineSplitter(MAX_LINE_BYTES, (line) => {
      lineNo++;
      let s = 0;
      let e = 0;
      if (line !== null) {
        [s, e] = trimmed(line, lineNo === 1);
        if (s === e) return true;
      }
      if (index === stopAt) {
        more = true;
        return false;
      }
      if (index < req.offset) {
        index++;
        return true;
      }
      if (line === null) throw new LineTooLongError(lineNo, MAX_LINE_BYTES);
      if (nestsDeeperThan(line, s, e, MAX_JSON_DEPTH)) throw new NestingTooDeepError(lineNo, MAX_JSON_DEPTH);
      let value: unknown;
      try {
        value = JSON.parse(line.toString('utf8', s, e));
      } catch {
        throw new InvalidRowError(lineNo);
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidRowError(lineNo);
      const record = value as Record<string, unknown>;
      // What the row adds: its values, a null for each column it lacks, and the columns it brings.
      let rowBytes = 0;
      let present = 0;
      const added: string[] = [];
      if (req.columns) {
        for (const c of columns) {
          if (!(c in record)) continue;
          rowBytes += encodedBytes(record[c]) + 1;
          present++;
        }
      } else {
        for (const key in record) {
          rowBytes += encodedBytes(record[key]) + 1;
          present++;
          if (!known.has(key)) added.push(key);
        }
      }
      let addedNames = 0;
      for (const key of added) addedNames += encodedBytes(key) + 1;
      const width = columns.length + added.length;
      const after =
        PAGE_OVERHEAD_BYTES +
        namesBytes +
        addedNames +
        valueBytes +
        rowBytes +
        NULL_BYTES * ((records.length + 1) * width - keysPresent - present) +
        3 * (records.length + 1);
      if (after > maxBytes) {
        if (records.length === 0) throw new RowTooLargeError(index, maxBytes);
        full = true;
        return false;
      }
      for (const key of added) {
        known.add(key);
        columns.push(key);
      }
      namesBytes += addedNames;
      valueBytes += rowBytes;
      keysPresent += present;
      bytes = after;
      records.push(record);
      index++;
      return true;
    }, () => {
      // A line past the cap that would be in the page: refused now, not after reading to its end.
      if (index >= req.offset && index < stopAt) throw new LineTooLongError(lineNo + 1, MAX_LINE_BYTES);
    });
    for await (const chunk of source.content) if (!splitter.push(chunk)) break;
    if (!more && !full && !source.stopped()) splitter.finish();
    const rows = records.map((r) => columns.map((c) => r[c] ?? null));
    return finish({ columns, rows });
  }
  if (!delimiter) throw new UnsupportedFormatError(format);

  const rows: unknown[][] = [];
  let names: string[] | null = null;
  let header: string[] = [];
  let headerCount = 0;
  let cells: (string | undefined)[] = [];
  let wanted: boolean[] = [];
  let indexes: number[] = [];
  let rowBytes = 0;
  let oversized = false;
  const parser = new CsvRecordParser(
    delimiter.charCodeAt(0),
    {
      field(buf, s, e) {
        const tooLong = oversized;
        oversized = false;
        if (names === null) {
          if (headerCount++ >= MAX_COLUMNS) throw new TooManyColumnsError(MAX_COLUMNS);
          header.push(buf.toString('utf8', s, cutUtf8(buf, s, e, MAX_NAME_BYTES)));
          return;
        }
        const c = cells.length;
        if (index < req.offset || !wanted[c]) {
          cells.length = c + 1;
          return;
        }
        if (tooLong) throw new FieldTooLongError(parser.line, MAX_FIELD_BYTES);
        const cell = buf.toString('utf8', s, e);
        rowBytes += encodedBytes(cell) + 1;
        if (bytes + rowBytes > maxBytes) {
          if (rows.length === 0) throw new RowTooLargeError(index, maxBytes);
          full = true;
          throw new Enough();
        }
        cells.push(cell);
      },
      endRecord() {
        if (names === null) {
          names = uniqueNames(header);
          indexes = selectIndexes(names, req.columns);
          wanted = new Array<boolean>(names.length).fill(false);
          for (const i of indexes) wanted[i] = true;
          // The page's column names count too (10,000 of them are about 100 KB).
          for (const i of indexes) bytes += encodedBytes(names[i]) + 1;
          header = [];
          return false;
        }
        if (index === stopAt) {
          more = true;
          return true;
        }
        if (index++ >= req.offset) {
          rows.push(indexes.map((i) => cells[i] ?? null));
          bytes += rowBytes + NULL_BYTES * indexes.filter((i) => cells[i] === undefined).length + 3;
        }
        rowBytes = 0;
        cells = [];
        return false;
      },
    },
    {
      maxFieldBytes: MAX_FIELD_BYTES,
      // Called just before the field it is about: in a row asked for, it is refused.
      onIssue: (_line, message) => {
        if (message.startsWith('field longer')) oversized = true;
      },
    },
  );
  let first = true;
  try {
    for await (const chunk of source.content) {
      const start = first && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf ? 3 : 0;
      first = false;
      if (!parser.push(start ? chunk.subarray(start) : chunk)) throw new Enough();
    }
    // Content cut short ends inside a row: that row is left out.
    if (!source.stopped()) parser.finish();
  } catch (err) {
    if (!(err instanceof Enough)) throw err;
  }
  const finalNames: string[] = names ?? [];
  if (names === null && req.columns?.length) throw new UnknownColumnError(req.columns[0]!);
  return finish({ columns: indexes.map((i) => finalNames[i]!), rows });
}
