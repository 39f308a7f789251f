/**
 * The streaming profiling engine: turns an object's bytes into what `pandas.read_csv(f).describe()`
 * would say, in one pass and flat memory. Node built-ins only, so it bundles small into a Lambda.
 */
import { profileDelimited, profileJsonLines } from './profiler';
import { detectFormat, drain, openSource } from './source';
import { assembleProfile } from './ranges';
import type { Profile, ProfileOptions, Truncation } from './types';

export type * from './types';
export { mergeProfiles } from './merge';
export { readRows } from './rows';
export * from './errors';
export * from './limits';
export { CsvRecordParser, parseRecords } from './csv-parser';
export {
  HEAD_BYTES,
  MIN_RANGE_BYTES,
  rangeWorkers,
  mergeRanges,
  planRanges,
  profileRange,
  profileRanges,
  type ByteRangeSource,
  type MergeResult,
  type PlanInput,
  type Range,
  type RangePartial,
  type RangePlan,
} from './ranges';

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
  /** The page's budget, as the response will carry it (JSON, escaped again in the proxy response). */
  maxBytes?: number;
  /** Epoch milliseconds: past it the page ends with the rows read so far. */
  deadline?: number;
  /** As ProfileOptions.gzipRatioFromBytes. */
  gzipRatioFromBytes?: number;
}

export interface RowsResult {
  columns: string[];
  rows: unknown[][];
  nextOffset: number | null;
  /** The page ended before `limit` rows: the budget (`response-size`), the deadline or a gzip limit. */
  truncated?: { reason: 'response-size' | Truncation['reason'] };
}

/**
 * Profiles one object, reading its body once, front to back, with back-pressure. Content past a
 * gzip limit or the deadline is not read: the profile then says so in `truncated`, and its
 * statistics are those of the content before it.
 */
export async function profileObject(input: ProfileInput, options: ProfileOptions = {}): Promise<Profile> {
  const source = await openSource(input.body, {
    ...(options.deadline !== undefined ? { deadline: options.deadline } : {}),
    ...(options.gzipRatioFromBytes !== undefined ? { gzipRatioFromBytes: options.gzipRatioFromBytes } : {}),
  });
  const { format, delimiter } = detectFormat(input.key, input.contentType, source.head);
  const stop = { stopped: () => source.stopped() !== null };
  let tabular = null;
  if (format === 'jsonl') tabular = await profileJsonLines(source.content, options, stop);
  else if (delimiter !== null) tabular = await profileDelimited(source.content, delimiter, options, stop);
  else await drain(source.content);
  const truncated = source.stopped();
  return assembleProfile(
    {
      format,
      compression: source.compression,
      contentType: input.contentType ?? null,
      bytes: source.bytes(),
      etag: input.etag ?? null,
      // Of the whole object only: a truncated read has not seen it all.
      sha256: truncated ? null : source.sha256(),
      delimiter,
      truncated,
    },
    tabular,
  );
}
