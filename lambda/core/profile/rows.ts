import { CsvRecordParser, DEFAULT_MAX_FIELD_BYTES } from './csv-parser';
import { InvalidRowError, UnknownColumnError, UnsupportedFormatError } from './errors';
import { uniqueNames } from './profiler';
import { detectFormat, openSource } from './source';
import type { ProfileInput, RowsRequest, RowsResult } from './index';

/** Stops the stream by throwing through the parser; caught below. */
class Enough extends Error {}

/** One JSON Lines row; trimmed as the profiler trims it, which also drops a byte order mark. */
function parseJsonRow(line: string, lineNo: number): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(line.trim());
  } catch {
    throw new InvalidRowError(lineNo);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidRowError(lineNo);
  return value as Record<string, unknown>;
}

function selectIndexes(names: string[], wanted: string[] | undefined): number[] {
  if (!wanted) return names.map((_n, i) => i);
  return wanted.map((w) => {
    const i = names.indexOf(w);
    if (i < 0) throw new UnknownColumnError(w);
    return i;
  });
}

/**
 * Rows [offset, offset + limit) of a tabular object, as strings (CSV) or JSON values (JSON Lines).
 * Reads only as far as it needs: one row past the page, to know whether there is a next one; then
 * it closes the body.
 */
export async function readRows(input: ProfileInput, req: RowsRequest): Promise<RowsResult> {
  const source = await openSource(input.body);
  const { format, delimiter } = detectFormat(input.key, input.contentType, source.head);
  const stopAt = req.offset + req.limit; // index of the row that proves there is a next page
  const rows: unknown[][] = [];
  let more = false;
  if (format === 'jsonl') {
    const columns: string[] = req.columns ? [...req.columns] : [];
    const records: Record<string, unknown>[] = [];
    let index = 0;
    let lineNo = 0;
    let carry = '';
    outer: for await (const chunk of source.content) {
      const lines = (carry + chunk.toString('utf8')).split('\n');
      carry = lines.pop()!;
      for (const line of lines) {
        lineNo++;
        if (line.trim() === '') continue;
        if (index === stopAt) {
          more = true;
          break outer;
        }
        if (index++ >= req.offset) records.push(parseJsonRow(line, lineNo));
      }
    }
    if (!more && carry.trim() !== '' && index >= req.offset && index < stopAt) records.push(parseJsonRow(carry, lineNo + 1));
    if (!req.columns) for (const r of records) for (const k of Object.keys(r)) if (!columns.includes(k)) columns.push(k);
    for (const r of records) rows.push(columns.map((c) => r[c] ?? null));
    return { columns, rows, nextOffset: more ? stopAt : null };
  }
  if (!delimiter) {
    for await (const chunk of source.content) void chunk; // nothing to read; close the body
    throw new UnsupportedFormatError(format);
  }
  let names: string[] | null = null;
  let header: string[] = [];
  let cells: string[] = [];
  let indexes: number[] = [];
  let index = 0;
  const parser = new CsvRecordParser(delimiter.charCodeAt(0), {
    field(buf, s, e) {
      if (names === null) header.push(buf.toString('utf8', s, e));
      else if (index >= req.offset) cells.push(buf.toString('utf8', s, e));
    },
    endRecord() {
      if (names === null) {
        names = uniqueNames(header);
        indexes = selectIndexes(names, req.columns);
        header = [];
        return false;
      }
      if (index === stopAt) {
        more = true;
        return true;
      }
      if (index++ >= req.offset) rows.push(indexes.map((i) => cells[i] ?? null));
      cells = [];
      return false;
    },
  }, { maxFieldBytes: DEFAULT_MAX_FIELD_BYTES });
  let first = true;
  try {
    for await (const chunk of source.content) {
      const start = first && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf ? 3 : 0;
      first = false;
      if (!parser.push(start ? chunk.subarray(start) : chunk)) throw new Enough();
    }
    parser.finish();
  } catch (err) {
    if (!(err instanceof Enough)) throw err;
  }
  const finalNames: string[] = names ?? [];
  if (names === null && req.columns?.length) throw new UnknownColumnError(req.columns[0]!);
  return { columns: indexes.map((i) => finalNames[i]!), rows, nextOffset: more ? stopAt : null };
}
