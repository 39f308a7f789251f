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
  /**
   * When distinct and top values are estimates: why (more distinct values than `distinctExactLimit`,
   * or the memory budget ran out first) and the summary's capacity, which sets the top counts' error
   * bound (2 × count / capacity; 2048 unless the budget allowed fewer).
   */
  sketch?: { reason: 'distinct-limit' | 'memory-budget'; capacity: number };
  histogram?: Histogram;
  /** Only with `mergeable: true`: what `mergeProfiles` needs to union distinct counts. */
  state?: ColumnState;
}

/** A column past the ones profiled in full (`MAX_FULL_COLUMNS`): named, typed and counted only. */
export interface LightColumnProfile {
  name: string;
  type: ColumnType;
  count: number;
  nulls: number;
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
  /** JSON Lines: lines skipped for not being a JSON object (not JSON, not an object, nested too deep). */
  invalidRows?: number;
  samples: { line: number; message: string }[];
}

/**
 * Why the profile covers only the start of the object: gzip content past the expansion ratio
 * (`limit` is the ratio) or past the absolute cap (`limit` in bytes), or the caller's deadline.
 * `bytesRead` stored bytes were read, expanding to `contentBytes` of content; rows, columns and
 * statistics are those of that content (the last, cut row left out), and `sha256` is null.
 */
export interface Truncation {
  reason: 'gzip-expansion' | 'gzip-size' | 'deadline';
  limit?: number;
  bytesRead: number;
  contentBytes: number;
}

/**
 * What the memory budget and the column caps changed, present when they changed anything: columns
 * past `fullColumns` are light (`otherColumns`), past the named ones only counted; columns whose
 * exact counts became sketches for want of room (see each column's `sketch`); sample rows not kept.
 */
export interface ProfileBudget {
  memoryBytes: number;
  /** The most the budget held at once. */
  peakBytes: number;
  fullColumns: number;
  lightColumns: number;
  omittedColumns: number;
  /** False when `omittedColumns` is an estimate (JSON Lines keys, counted by HyperLogLog). */
  omittedExact: boolean;
  sketchedColumns: number;
  samplesDropped: number;
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
  /** The columns profiled in full, at most `MAX_FULL_COLUMNS`; sample rows have one cell for each. */
  columns?: ColumnProfile[] | null;
  /** The next columns, light (see `budget`). */
  otherColumns?: LightColumnProfile[];
  errors?: ProfileErrors;
  sample?: unknown[][];
  budget?: ProfileBudget;
  truncated?: Truncation;
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
  /** Epoch milliseconds after which the profiler stops reading and returns a `truncated` profile. */
  deadline?: number;
  /** gzip content read before the expansion ratio is checked (default GZIP_RATIO_FROM_BYTES; tests use less). */
  gzipRatioFromBytes?: number;
  /** The memory budget (default MEMORY_BUDGET_BYTES). */
  memoryBudgetBytes?: number;
  /** Columns profiled in full (default MAX_FULL_COLUMNS) and named (default MAX_COLUMNS). */
  maxFullColumns?: number;
  maxColumns?: number;
}
