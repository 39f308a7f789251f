/**
 * One column's statistics, fed a value at a time: in full (ColumnAccumulator) or light
 * (LightColumn: type, count and nulls, for the columns past MAX_FULL_COLUMNS).
 */
import { cutUtf8, type MemoryBudget } from './budget';
import { HASH_SEED1, HASH_SEED2 } from './csv-parser';
import * as frequency from './frequency';
import { HLL_ERROR } from './hll';
import { finishHistogram, mergeHistogramStates, StreamingHistogram, type HistogramState } from './histogram';
import { MAX_VALUE_TEXT_BYTES } from './limits';
import type { ColumnProfile, ColumnType, LightColumnProfile } from './types';
import { distinctOf, entriesOf, mergeFrequencyStates, sketchOf, type FrequencyState } from './frequency';
import * as values from './values';

// Module-local references: a CommonJS build reads imports through getters, which the hot path
// should not pay for on every field.
const { FrequencyTable } = frequency;
const { compareBytes, copyBytes, isNullToken, parseBoolean, parsed, parsedValue, readDate, readNumber, isValidUtf8 } = values;

const K_INTEGER = 0;
const K_NUMBER = 1;
const K_BOOLEAN = 2;
const K_DATE = 3;
const K_TIMESTAMP = 4;
const K_STRING = 5;

export interface ColumnOptions {
  distinctExactLimit: number;
  topValues: number;
  mergeable: boolean;
  /** The budget the columns share; each full column has reserved FULL_COLUMN_FLOOR_BYTES of it. */
  budget: MemoryBudget;
}

/**
 * What a full column reserves from the budget when it is made: its frequency table's floor (its
 * first exact table, and the smallest summary it may degrade to) and its own fixed state (the
 * lexical extremes at their cap, the histogram, the object itself).
 */
export const FULL_COLUMN_FLOOR_BYTES = frequency.TABLE_FLOOR_BYTES + 2 * MAX_VALUE_TEXT_BYTES + 2048;

/** What a light column costs, its name aside. */
export const LIGHT_COLUMN_BYTES = 256;

/**
 * A growable byte slot for the lexical minimum or maximum, reused so a new extreme allocates
 * nothing; it keeps at most MAX_VALUE_TEXT_BYTES, so extremes are compared and reported on their
 * first 1 KiB (cutting is monotone: the extreme of the cut values is the cut of the extreme).
 */
class ByteSlot {
  buf = Buffer.allocUnsafe(64);
  len = -1;
  set(src: Buffer, s: number, e: number): void {
    const n = e - s;
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(Math.min(MAX_VALUE_TEXT_BYTES, Math.max(n, this.buf.length * 2)));
    copyBytes(src, s, e, this.buf, 0);
    this.len = n;
  }
  text(): string | null {
    return this.len < 0 ? null : this.buf.toString('utf8', 0, this.len);
  }
}

/**
 * The first four bytes as a big-endian unsigned number, zero-padded: when a value's word is strictly
 * greater (smaller) than another's, so is the value in byte order.
 */
function prefixWord(buf: Buffer, s: number, e: number): number {
  const len = e - s;
  if (len >= 4) return ((buf[s]! << 24) | (buf[s + 1]! << 16) | (buf[s + 2]! << 8) | buf[s + 3]!) >>> 0;
  let w = 0;
  for (let i = 0; i < 4; i++) w = w * 256 + (i < len ? buf[s + i]! : 0);
  return w;
}

const scratch = { buf: Buffer.allocUnsafe(4096) };

/** Scratch for `hashLanes`: h1, h2 and the OR of all words (whether any byte is non-ASCII). */
const LANES = new Int32Array(3);

/**
 * The field hash of buf[s, e) into LANES: two 32-bit lanes, four bytes per step, each step one
 * multiply and a rotation (the finalisers in `addHashed` mix thoroughly); one lane xors the word
 * in, the other adds it. `CsvRecordParser` computes the same lanes while it scans a field (see
 * `HashedRecordSink`); this is the path for fields it could not hash on the way.
 */
function hashLanes(buf: Buffer, s: number, e: number): void {
  let h1 = HASH_SEED1;
  let h2 = HASH_SEED2;
  let high = 0;
  let i = s;
  for (const end4 = s + ((e - s) & ~3); i < end4; i += 4) {
    const w = buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
    high |= w;
    h1 = Math.imul(h1 ^ w, 0x9e3779b1);
    h1 = (h1 << 15) | (h1 >>> 17);
    h2 = Math.imul(h2 + w, 0x85ebca77);
    h2 = (h2 << 13) | (h2 >>> 19);
  }
  if (i < e) {
    let w = buf[i]!;
    if (i + 1 < e) w |= buf[i + 1]! << 8;
    if (i + 2 < e) w |= buf[i + 2]! << 16;
    high |= w;
    h1 = Math.imul(h1 ^ w, 0x9e3779b1);
    h2 = Math.imul(h2 + w, 0x85ebca77);
  }
  LANES[0] = h1;
  LANES[1] = h2;
  LANES[2] = high;
}

/**
 * Streaming statistics of one column, fed one value at a time in flat memory: type votes, count and
 * nulls, shifted-sum mean and variance, numeric / chronological / lexical extremes, exact-then-sketched
 * distinct and top values, and a power-of-two histogram.
 */
export class ColumnAccumulator {
  count = 0;
  nulls = 0;
  invalidUtf8 = 0;
  private kinds = [0, 0, 0, 0, 0, 0];
  private trues = 0;
  private n = 0;
  /**
   * Sums of (x - shift) and its square, shift being the first value: no division per value. Each
   * block of 4096 values is summed apart and then added, which keeps the rounding error near a
   * two-pass computation's.
   */
  private shift = 0;
  private s1 = 0;
  private s2 = 0;
  private b1 = 0;
  private b2 = 0;
  private min = Infinity;
  private max = -Infinity;
  private dateMin = Infinity;
  private dateMax = -Infinity;
  private dateMinText = '';
  private dateMaxText = '';
  private readonly lexMin = new ByteSlot();
  private readonly lexMax = new ByteSlot();
  /** `prefixWord` of the lexical extremes (above and below any while there are none). */
  private lexMinWord = 2 ** 32;
  private lexMaxWord = -1;
  private readonly freq: frequency.FrequencyTable;
  private readonly histogram = new StreamingHistogram();

  constructor(
    readonly name: string,
    private readonly options: ColumnOptions,
  ) {
    this.freq = new FrequencyTable(options.distinctExactLimit, options.budget, frequency.TABLE_FLOOR_BYTES);
  }

  addNull(): void {
    this.nulls++;
  }

  /** Adds a CSV field; returns false when its bytes are not valid UTF-8. */
  addField(buf: Buffer, s: number, e: number): boolean {
    hashLanes(buf, s, e);
    return this.addHashed(buf, s, e, LANES[0]!, LANES[1]!, LANES[2]!);
  }

  /**
   * `addField` for a field whose hash lanes (before finalisation) and OR of its words are already
   * known: the parser computes them while it scans the bytes.
   */
  addHashed(buf: Buffer, s: number, e: number, h1: number, h2: number, high: number): boolean {
    if (e - s <= 4 && isNullToken(buf, s, e)) {
      this.nulls++;
      return true;
    }
    const c0 = buf[s]!;
    if ((c0 >= 48 && c0 <= 57) || c0 === 45 || c0 === 43 || c0 === 46) {
      if (e - s >= 10 && buf[s + 4] === 45) {
        if (readDate(buf, s, e)) {
          this.addDate(buf, s, e);
          return this.record(K_DATE, buf, s, e, h1, h2, high);
        }
      } else if (readNumber(buf, s, e)) {
        this.addNumber();
        return this.record(parsed.integer ? K_INTEGER : K_NUMBER, buf, s, e, h1, h2, high);
      }
    } else if ((c0 | 32) === 116 || (c0 | 32) === 102) {
      const b = parseBoolean(buf, s, e);
      if (b >= 0) {
        this.trues += b;
        return this.record(K_BOOLEAN, buf, s, e, h1, h2, high);
      }
    }
    return this.record(K_STRING, buf, s, e, h1, h2, high);
  }

  /** Adds a JSON value: numbers and booleans keep their JSON type; strings are strings unless ISO dates. */
  addJson(value: unknown): void {
    if (value === null || value === undefined || value === '') {
      this.nulls++;
      return;
    }
    let text: string;
    let kind = K_STRING;
    if (typeof value === 'number') {
      text = String(value);
      kind = Number.isInteger(value) ? K_INTEGER : K_NUMBER;
      parsedValue[0] = value;
      this.addNumber();
    } else if (typeof value === 'boolean') {
      text = String(value);
      kind = K_BOOLEAN;
      if (value) this.trues++;
    } else {
      text = typeof value === 'string' ? value : JSON.stringify(value);
    }
    const needed = Buffer.byteLength(text);
    if (needed > scratch.buf.length) scratch.buf = Buffer.allocUnsafe(needed * 2);
    const len = scratch.buf.write(text, 0);
    if (kind === K_STRING && len >= 10) {
      if (readDate(scratch.buf, 0, len)) {
        this.addDate(scratch.buf, 0, len);
        kind = K_DATE;
      }
    }
    this.addTyped(kind, scratch.buf, 0, len);
  }

  /** Adds the number in parsedValue[0] (passed there, not as an argument, so that it is never boxed). */
  private addNumber(): void {
    const v = parsedValue[0]!;
    if (this.n === 0 && Number.isFinite(v)) this.shift = v;
    const d = v - this.shift;
    this.b1 += d;
    this.b2 += d * d;
    if ((++this.n & 4095) === 0) {
      this.s1 += this.b1;
      this.s2 += this.b2;
      this.b1 = this.b2 = 0;
    }
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    this.histogram.add(v);
  }

  /** Adds the date in parsedValue[0] and parsed.hadTime. */
  private addDate(buf: Buffer, s: number, e: number): void {
    const t = parsedValue[0]!;
    if (parsed.hadTime) this.kinds[K_TIMESTAMP]!++;
    if (t < this.dateMin) {
      this.dateMin = t;
      this.dateMinText = buf.toString('utf8', s, e);
    }
    if (t > this.dateMax) {
      this.dateMax = t;
      this.dateMaxText = buf.toString('utf8', s, e);
    }
  }

  /** Records a value of a known kind: hashes it, then as `record`. */
  private addTyped(kind: number, buf: Buffer, s: number, e: number): void {
    hashLanes(buf, s, e);
    this.record(kind, buf, s, e, LANES[0]!, LANES[1]!, LANES[2]!);
  }

  /**
   * What every non-null value costs: the type vote, frequencies and lexical extremes. h1 and h2 are
   * the value's hash lanes before finalisation, `high` the OR of its words (for the UTF-8 check).
   */
  private record(kind: number, buf: Buffer, s: number, e: number, h1: number, h2: number, high: number): boolean {
    this.count++;
    this.kinds[kind]!++;
    const len = e - s;
    h1 ^= len;
    h1 ^= h1 >>> 16;
    h1 = Math.imul(h1, 0x85ebca6b);
    h1 ^= h1 >>> 13;
    h1 = Math.imul(h1, 0xc2b2ae35);
    h1 ^= h1 >>> 16;
    h2 ^= len;
    h2 ^= h2 >>> 15;
    h2 = Math.imul(h2, 0x2c1b3c6d);
    h2 ^= h2 >>> 12;
    h2 = Math.imul(h2, 0x297a2d39);
    h2 ^= h2 >>> 15;
    // The key is valueKey(h1, h2): the table builds it from h1 and its low bits (never both zero).
    let low = h2 >>> 11;
    if ((h1 | low) === 0) low = 1;
    this.freq.add(h1, low, buf, s, e);
    // Lexical extremes: most values' first four bytes lie strictly between the extremes' ones.
    const p = prefixWord(buf, s, e);
    if (p <= this.lexMinWord) this.lexicalMin(buf, s, e);
    if (p >= this.lexMaxWord) this.lexicalMax(buf, s, e);
    if (high & 0x80808080 && !isValidUtf8(buf, s, e)) {
      this.invalidUtf8++;
      return false;
    }
    return true;
  }

  /** Called when the value's prefix word is not above the minimum's (so it may be below it). */
  private lexicalMin(buf: Buffer, s: number, e: number): void {
    e = cutUtf8(buf, s, e, MAX_VALUE_TEXT_BYTES);
    const lexMin = this.lexMin;
    if (lexMin.len < 0 || compareBytes(buf, s, e, lexMin.buf, 0, lexMin.len) < 0) {
      lexMin.set(buf, s, e);
      this.lexMinWord = prefixWord(lexMin.buf, 0, lexMin.len);
    }
  }

  /** Called when the value's prefix word is not below the maximum's. */
  private lexicalMax(buf: Buffer, s: number, e: number): void {
    e = cutUtf8(buf, s, e, MAX_VALUE_TEXT_BYTES);
    const lexMax = this.lexMax;
    if (lexMax.len < 0 || compareBytes(buf, s, e, lexMax.buf, 0, lexMax.len) > 0) {
      lexMax.set(buf, s, e);
      this.lexMaxWord = prefixWord(lexMax.buf, 0, lexMax.len);
    }
  }

  type(): ColumnType {
    return typeOf(this.kinds, this.count);
  }

  /** Everything the profile is made from, as plain data: one part of a split file (see `mergeColumnPartials`). */
  partial(): ColumnPartial {
    const n = this.n;
    const s1 = this.s1 + this.b1;
    const s2 = this.s2 + this.b2;
    return {
      name: this.name,
      count: this.count,
      nulls: this.nulls,
      invalidUtf8: this.invalidUtf8,
      kinds: [...this.kinds],
      trues: this.trues,
      n,
      mean: n > 0 ? this.shift + s1 / n : 0,
      m2: n > 0 ? Math.max(0, s2 - (s1 * s1) / n) : 0,
      min: this.min <= this.max ? this.min : null,
      max: this.min <= this.max ? this.max : null,
      dateMin: this.dateMin <= this.dateMax ? { t: this.dateMin, text: this.dateMinText } : null,
      dateMax: this.dateMin <= this.dateMax ? { t: this.dateMax, text: this.dateMaxText } : null,
      lexMin: this.lexMin.len < 0 ? null : this.lexMin.buf.toString('base64', 0, this.lexMin.len),
      lexMax: this.lexMax.len < 0 ? null : this.lexMax.buf.toString('base64', 0, this.lexMax.len),
      histogram: this.histogram.state(),
      freq: this.freq.state(),
    };
  }

  toProfile(): ColumnProfile {
    return columnProfile(this.partial(), this.options);
  }
}

/**
 * A full column's statistics as plain data (JSON-safe): what a range worker returns for each column,
 * and what `mergeColumnPartials` combines. The profile is made from it, split or not.
 */
export interface ColumnPartial {
  name: string;
  count: number;
  nulls: number;
  invalidUtf8: number;
  /** Type votes: integer, number, boolean, date, timestamp, string. */
  kinds: number[];
  trues: number;
  /** Numeric values, their mean and sum of squared deviations. */
  n: number;
  mean: number;
  m2: number;
  min: number | null;
  max: number | null;
  dateMin: { t: number; text: string } | null;
  dateMax: { t: number; text: string } | null;
  /** Lexical extremes' bytes (cut to MAX_VALUE_TEXT_BYTES), base64. */
  lexMin: string | null;
  lexMax: string | null;
  histogram: HistogramState | null;
  freq: FrequencyState;
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'base64'), Buffer.from(b, 'base64'));
}

/**
 * Two consecutive parts' statistics as the whole's. Ties keep the first part's extreme, as a single
 * pass keeps the first one seen. Moments combine by Chan et al.'s rule (exact but for rounding).
 */
export function mergeColumnPartials(a: ColumnPartial, b: ColumnPartial, exactLimit: number): ColumnPartial {
  const n = a.n + b.n;
  let mean = a.mean;
  let m2 = a.m2;
  if (a.n === 0) {
    mean = b.mean;
    m2 = b.m2;
  } else if (b.n > 0) {
    const delta = b.mean - a.mean;
    mean = a.mean + (delta * b.n) / n;
    m2 = a.m2 + b.m2 + (delta * delta * a.n * b.n) / n;
  }
  const lower = <T>(x: T | null, y: T | null, less: (x: T, y: T) => boolean): T | null => (x === null ? y : y === null ? x : less(y, x) ? y : x);
  return {
    name: a.name,
    count: a.count + b.count,
    nulls: a.nulls + b.nulls,
    invalidUtf8: a.invalidUtf8 + b.invalidUtf8,
    kinds: a.kinds.map((k, i) => k + b.kinds[i]!),
    trues: a.trues + b.trues,
    n,
    mean,
    m2,
    min: lower(a.min, b.min, (y, x) => y < x),
    max: lower(a.max, b.max, (y, x) => y > x),
    dateMin: lower(a.dateMin, b.dateMin, (y, x) => y.t < x.t),
    dateMax: lower(a.dateMax, b.dateMax, (y, x) => y.t > x.t),
    lexMin: lower(a.lexMin, b.lexMin, (y, x) => byteOrder(y, x) < 0),
    lexMax: lower(a.lexMax, b.lexMax, (y, x) => byteOrder(y, x) > 0),
    histogram: mergeHistogramStates(a.histogram, b.histogram),
    freq: mergeFrequencyStates(a.freq, b.freq, exactLimit),
  };
}

/** The column's profile from its statistics. */
export function columnProfile(p: ColumnPartial, options: Pick<ColumnOptions, 'topValues' | 'mergeable'>): ColumnProfile {
  const type = typeOf(p.kinds, p.count);
  const exact = p.freq.exact;
  const distinctValue = distinctOf(p.freq);
  const profile: ColumnProfile = {
    name: p.name,
    type,
    count: p.count,
    nulls: p.nulls,
    distinct: exact ? { value: distinctValue, exact } : { value: distinctValue, exact, error: HLL_ERROR },
    min: null,
    max: null,
    mean: null,
    stddev: null,
    top: entriesOf(p.freq, options.topValues),
    topMethod: exact ? 'exact' : p.freq.sampled ? 'misra-gries-sampled' : 'misra-gries',
    ...(exact ? {} : { sketch: { reason: p.freq.reason!, capacity: p.freq.capacity! } }),
  };
  if (type === 'integer' || type === 'number') {
    profile.min = p.min;
    profile.max = p.max;
    profile.mean = p.mean;
    profile.stddev = p.n > 1 ? Math.sqrt(p.m2 / (p.n - 1)) : null;
    profile.histogram = finishHistogram(p.histogram, type === 'integer' ? 1 : 0);
  } else if (type === 'date' || type === 'timestamp') {
    profile.min = p.dateMin?.text ?? '';
    profile.max = p.dateMax?.text ?? '';
  } else if (type === 'boolean') {
    profile.min = p.trues < p.count ? false : true;
    profile.max = p.trues > 0;
    profile.mean = p.trues / p.count;
  } else if (type === 'string') {
    profile.min = p.lexMin === null ? null : Buffer.from(p.lexMin, 'base64').toString('utf8');
    profile.max = p.lexMax === null ? null : Buffer.from(p.lexMax, 'base64').toString('utf8');
  }
  if (options.mergeable) profile.state = { ...sketchOf(p.freq), top: entriesOf(p.freq, 100) };
  return profile;
}

/** The column type from its votes: one kind for every value, else string (integers widen to numbers, dates to timestamps). */
function typeOf(kinds: ArrayLike<number>, count: number): ColumnType {
  if (count === 0) return 'empty';
  if (kinds[K_STRING]! > 0) return 'string';
  const ints = kinds[K_INTEGER]!;
  if (ints === count) return 'integer';
  if (ints + kinds[K_NUMBER]! === count) return 'number';
  if (kinds[K_BOOLEAN] === count) return 'boolean';
  // Timestamps are counted among dates too (K_DATE), and once more in K_TIMESTAMP.
  if (kinds[K_DATE] === count) return kinds[K_TIMESTAMP]! > 0 ? 'timestamp' : 'date';
  return 'string';
}

/**
 * A column past the ones profiled in full: the same type votes as ColumnAccumulator's (so a
 * column gets the same type either way), its count and nulls, and nothing that grows.
 */
export class LightColumn {
  count = 0;
  nulls = 0;
  invalidUtf8 = 0;
  private readonly kinds = [0, 0, 0, 0, 0, 0];

  constructor(readonly name: string) {}

  addNull(): void {
    this.nulls++;
  }

  /** Adds a CSV field; returns false when its bytes are not valid UTF-8. */
  addField(buf: Buffer, s: number, e: number): boolean {
    if (e - s <= 4 && isNullToken(buf, s, e)) {
      this.nulls++;
      return true;
    }
    this.count++;
    this.kinds[kindOfField(buf, s, e)]!++;
    if (parsed.hadTime) this.kinds[K_TIMESTAMP]!++;
    for (let i = s; i < e; i++) {
      if (buf[i]! >= 0x80) {
        if (isValidUtf8(buf, i, e)) break;
        this.invalidUtf8++;
        return false;
      }
    }
    return true;
  }

  /** Adds a JSON value, typed as ColumnAccumulator.addJson types it. */
  addJson(value: unknown): void {
    if (value === null || value === undefined || value === '') {
      this.nulls++;
      return;
    }
    this.count++;
    if (typeof value === 'number') this.kinds[Number.isInteger(value) ? K_INTEGER : K_NUMBER]!++;
    else if (typeof value === 'boolean') this.kinds[K_BOOLEAN]!++;
    else if (typeof value === 'string' && value.length >= 10 && value.length <= 64) {
      const len = scratch.buf.write(value, 0);
      if (readDate(scratch.buf, 0, len)) {
        this.kinds[K_DATE]!++;
        if (parsed.hadTime) this.kinds[K_TIMESTAMP]!++;
      } else this.kinds[K_STRING]!++;
    } else this.kinds[K_STRING]!++;
  }

  partial(): LightColumnPartial {
    return { name: this.name, count: this.count, nulls: this.nulls, invalidUtf8: this.invalidUtf8, kinds: [...this.kinds] };
  }

  toProfile(): LightColumnProfile {
    return lightColumnProfile(this.partial());
  }
}

/** A light column's counts as plain data. */
export interface LightColumnPartial {
  name: string;
  count: number;
  nulls: number;
  invalidUtf8: number;
  kinds: number[];
}

export function mergeLightPartials(a: LightColumnPartial, b: LightColumnPartial): LightColumnPartial {
  return { name: a.name, count: a.count + b.count, nulls: a.nulls + b.nulls, invalidUtf8: a.invalidUtf8 + b.invalidUtf8, kinds: a.kinds.map((k, i) => k + b.kinds[i]!) };
}

export function lightColumnProfile(p: LightColumnPartial): LightColumnProfile {
  return { name: p.name, type: typeOf(p.kinds, p.count), count: p.count, nulls: p.nulls };
}

/**
 * The kind of a non-null CSV field, as ColumnAccumulator.addHashed decides it; `parsed.hadTime` is
 * true only for a timestamp.
 */
function kindOfField(buf: Buffer, s: number, e: number): number {
  parsed.hadTime = false;
  const c0 = buf[s]!;
  if ((c0 >= 48 && c0 <= 57) || c0 === 45 || c0 === 43 || c0 === 46) {
    if (e - s >= 10 && buf[s + 4] === 45) {
      if (readDate(buf, s, e)) return K_DATE;
      parsed.hadTime = false;
    } else if (readNumber(buf, s, e)) {
      return parsed.integer ? K_INTEGER : K_NUMBER;
    }
  } else if ((c0 | 32) === 116 || (c0 | 32) === 102) {
    if (parseBoolean(buf, s, e) >= 0) return K_BOOLEAN;
  }
  return K_STRING;
}
