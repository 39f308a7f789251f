/**
 * The streaming profiling engine: turns an object's bytes into what `pandas.read_csv(f).describe()`
 * would say, in one pass and flat memory. Node built-ins only, so it bundles small into a Lambda.
 */
import { profileDelimited, profileJsonLines } from './profiler';
import { detectFormat, drain, openSource } from './source';
import type { Profile, ProfileOptions } from './types';

export type * from './types';
export { mergeProfiles } from './merge';
export { readRows } from './rows';
export { UnknownColumnError, UnsupportedFormatError } from './errors';
export { CsvRecordParser, parseRecords } from './csv-parser';

export interface ProfileInput {
  /** A Node Readable or the S3 GetObject Body: both are async iterables of bytes. */
  body: AsyncIterable<Uint8Array>;
  /** Object key or file name: its extension (before any `.gz`) hints the format. */
  key: string;
  contentType?: string;
  size?: number;
  etag?: string;
}

export interface RowsRequest {
  offset: number;
  limit: number;
  columns?: string[];
}

export interface RowsResult {
  columns: string[];
  rows: unknown[][];
  nextOffset: number | null;
}

/** Profiles one object, reading its body once, front to back, with back-pressure. */
export async function profileObject(input: ProfileInput, options: ProfileOptions = {}): Promise<Profile> {
  const source = await openSource(input.body);
  const { format, delimiter } = detectFormat(input.key, input.contentType, source.head);
  let tabular = null;
  if (format === 'jsonl') tabular = await profileJsonLines(source.content, options);
  else if (delimiter !== null) tabular = await profileDelimited(source.content, delimiter, options);
  else await drain(source.content);
  const profile: Profile = {
    version: 1,
    format,
    compression: source.compression,
    contentType: input.contentType ?? null,
    bytes: source.bytes(),
    etag: input.etag ?? null,
    sha256: source.sha256(),
  };
  if (!tabular) return { ...profile, delimiter: null, rows: null, columnCount: null, columns: null };
  return {
    ...profile,
    delimiter,
    rows: tabular.rows,
    columnCount: tabular.columns.length,
    columns: tabular.columns,
    errors: tabular.errors,
    sample: tabular.sample,
  };
}
