/** The profile of one object: JSON-serialisable, and mergeable with `mergeProfiles`. */

export type ProfileFormat = 'csv' | 'tsv' | 'delimited' | 'jsonl' | 'binary' | 'text';
export type ColumnType = 'integer' | 'number' | 'boolean' | 'date' | 'timestamp' | 'string' | 'empty';

export interface DistinctCount {
  value: number;
  /** True while the column had at most `distinctExactLimit` values; then a HyperLogLog estimate. */
  exact: boolean;
  /** Relative standard error of the estimate (1.04 / sqrt(registers)), when not exact. */
  error?: number;
}

export interface TopValue {
  value: string;
  count: number;
}

/**
 * Numeric histogram on a power-of-two grid: bin k covers [min + k*width, min + (k+1)*width), where
 * width is a power of two and min a multiple of it. While streaming, the width doubles (merging
 * neighbouring bins) whenever the range no longer fits in 64 bins, so the result does not depend on
 * the order of the values and two histograms merge exactly.
 */
export interface Histogram {
  min: number;
  max: number;
  width: number;
  bins: number[];
}

export interface ColumnProfile {
  name: string;
  type: ColumnType;
  /** Non-null values. */
  count: number;
  nulls: number;
  distinct: DistinctCount;
  /** Numbers for integer/number, ISO text for date/timestamp, booleans for boolean, else lexical (UTF-8 byte order). */
  min: number | string | boolean | null;
  max: number | string | boolean | null;
  /** Numeric mean; for booleans the share of true. */
  mean: number | null;
  /** Sample standard deviation (n - 1), as pandas gives it. */
  stddev: number | null;
  /** Most frequent values, most frequent first (ties by value). */
  top: TopValue[];
  /**
   * 'exact' counts, or 'misra-gries' lower bounds (each under by at most 2 × the column's count /
   * capacity, capacity 2048), or 'misra-gries-sampled' for columns where almost every value is new:
   * a Misra-Gries summary of a 1-in-8 random sample, counts scaled by 8, so each count errs by that
   * bound plus a sampling error of standard deviation at most sqrt(8 × count).
   */
  topMethod: 'exact' | 'misra-gries' | 'misra-gries-sampled';
  histogram?: Histogram;
  /** Only with `mergeable: true`: what `mergeProfiles` needs to union distinct counts. */
  state?: ColumnState;
}

export interface ColumnState {
  /** HyperLogLog registers, base64. */
  hll?: string;
  /** While exact: the 53-bit value hashes, base64 of a Float64Array. */
  keys?: string;
  /** Up to 100 most frequent values with their counts. */
  top: TopValue[];
}

export interface ProfileErrors {
  raggedRows: number;
  raggedLines: number[];
  invalidUtf8: number;
  oversizedFields: number;
  samples: { line: number; message: string }[];
}

export interface Profile {
  version: 1;
  format: ProfileFormat;
  compression: 'gzip' | null;
  contentType: string | null;
  /** Bytes read as stored (compressed bytes for gzip). */
  bytes: number;
  etag: string | null;
  /** SHA-256 of the bytes as stored, hex; null for a merged profile. */
  sha256: string | null;
  delimiter?: string | null;
  rows?: number | null;
  columnCount?: number | null;
  columns?: ColumnProfile[] | null;
  errors?: ProfileErrors;
  sample?: unknown[][];
}

export interface ProfileOptions {
  /** Fields longer than this are truncated and counted (default 1 MiB). */
  maxFieldBytes?: number;
  /** Distinct values counted exactly up to this many per column (default 10,000). */
  distinctExactLimit?: number;
  /** Top values listed per column (default 10). */
  topValues?: number;
  /** Sample rows kept (default 5). */
  sampleRows?: number;
  /** Include per-column `state` so that `mergeProfiles` can union distinct counts (default false). */
  mergeable?: boolean;
  /** Skip the first record's header use: for the second part of a split file, give the header here. */
  header?: string[];
}
