/**
 * Every limit of the engine, in one place: what bounds its memory and its time whatever the input's
 * shape (wide, long, deep, compressed). The profiler and the rows reader share them, so a file the
 * profiler can read whole, `?rows` can read too, and both say which limit an input went past.
 */

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/**
 * A JSON Lines line longer than this is skipped by the profiler (and counted) and refused by `?rows`.
 * 8 MiB, not the 16 it was: the costliest line to parse (empty arrays) takes about 30 bytes of heap
 * per input byte, and `?rows` must parse a line within the read function's 512 MB.
 */
export const MAX_LINE_BYTES = 8 * MiB;

/** A delimited field longer than this is truncated by the profiler (and counted) and refused by `?rows`. */
export const MAX_FIELD_BYTES = 1 * MiB;

/**
 * JSON nested deeper than this is refused before it is parsed: serde_json's default recursion limit,
 * far past real data (GeoJSON is 5 deep), and far below what JSON.stringify's recursion survives.
 */
export const MAX_JSON_DEPTH = 128;

/**
 * Text the profile keeps of one value, for its top values, lexical min and max and sample rows:
 * longer values are cut (on a character boundary). Distinct counts and top-value counts still see
 * whole values (by their hash).
 */
export const MAX_VALUE_TEXT_BYTES = 1 * KiB;

/** Column names are cut to this many bytes. */
export const MAX_NAME_BYTES = 1 * KiB;

/**
 * Columns profiled in full (distinct, top values, extremes, moments, histogram), in header or
 * first-seen order. The next ones are light: named, typed and counted (count, nulls) only.
 */
export const MAX_FULL_COLUMNS = 1_000;

/** Columns named at all (full and light); past them columns are only counted. */
export const MAX_COLUMNS = 50_000;

/**
 * The memory budget the profiler's variable-size state shares across columns: exact distinct sets
 * and their text, top-value counters, HyperLogLog sketches, sample rows, light columns. Past it a
 * column's exact set degrades to its sketch, a sketch holds fewer counters, fewer samples are kept
 * and later columns are light or only counted; the profile says which (`budget`, `sketch`).
 */
export const MEMORY_BUDGET_BYTES = 128 * MiB;

/**
 * gzip: past GZIP_RATIO_FROM_BYTES of content, content more than GZIP_MAX_RATIO times the
 * compressed bytes read is a bomb (deflate's own ceiling is about 1,032:1; text data compresses
 * 3-20x); and no gzip object is expanded past GZIP_MAX_BYTES. The profiler then stops with a
 * `truncated` profile, `?rows` with DecompressionLimitError.
 */
export const GZIP_MAX_RATIO = 200;
// 256 MiB, not less: synthetic but ordinary files reach 400:1 (the hostile corpus's 10,000-column
// CSV of small integers: 169 MB from 0.43 MB), and they should be profiled whole.
export const GZIP_RATIO_FROM_BYTES = 256 * MiB;
export const GZIP_MAX_BYTES = 4 * GiB;

/**
 * Peak RSS bounds, measured by `npm run bench:hostile` on every hostile file: the profiler's must
 * stay well under the process function's 1,024 MB, a rows request's under the read function's 512.
 * What makes them (MB): Node and the bundle ~50; the budget 128; one line at the cap: its bytes,
 * its string and its parsed value (at most ~16 bytes per input byte, for a line of empty arrays:
 * ~250); gzip, parser and hashing buffers ~10.
 */
export const PROFILE_RSS_BOUND_MB = 512;
export const ROWS_RSS_BOUND_MB = 400;
