/**
 * Value frequencies of one column: exact counts while they fit, then a Misra-Gries summary and a
 * HyperLogLog sketch, in typed arrays (no object per value), within the memory budget the columns
 * share (budget.ts).
 */
import { cutUtf8, SLOT_BYTES, UNLIMITED, type MemoryBudget } from './budget';
import { HLL_BYTES, HyperLogLog } from './hll';
import { MAX_VALUE_TEXT_BYTES } from './limits';
import { copyBytes } from './values';

/** A 53-bit key for a value from its two 32-bit hashes: collisions among 10,000 values ~ 1e-8. */
export function valueKey(h1: number, h2: number): number {
  const key = (h1 >>> 0) * 2097152 + (h2 >>> 11);
  return key === 0 ? 1 : key;
}

/** The low 21 bits of a key (h2 >>> 11, or 1 for the key 0 made 1): where its probe starts. */
const KEY_LOW = 2097152;

const EMPTY = 0;
const SMALL = 64;
/** Sampling keeps each value with probability 1 / SAMPLE_EVERY once the summary only churns. */
const SAMPLE_EVERY = 8;
/** Consecutive purges that removed every count-1 counter (median 1) before sampling starts. */
const CHURN_PURGES = 8;
/** The summary's counters when the budget allows (the error bound 2n / capacity is stated for it). */
const MAX_CAPACITY = 2048;
/** The fewest counters a summary keeps, whatever the budget: the floor each full column reserves. */
export const MIN_CAPACITY = 64;
/** Slots of a new exact table: small, since most columns of a wide file hold few values. */
const FIRST_SLOTS = 64;

/** What a generation of `length` slots costs when allocated: its typed arrays and its first arena. */
function slotsBytes(length: number): number {
  return length * SLOT_BYTES + Math.max(1024, length * 8);
}

/** What a summary of `capacity` counters costs: two generations, the sketch, `heavy` and the median scratch. */
function sketchBytes(capacity: number): number {
  return 2 * slotsBytes(capacity * 2) + HLL_BYTES + capacity * 12;
}

/**
 * The credit a full column reserves from the budget when it is made: enough for its first exact
 * table and for the smallest summary, so that degrading to a sketch always succeeds.
 */
export const TABLE_FLOOR_BYTES = sketchBytes(MIN_CAPACITY);

/** Why a column's counts are a sketch: it had more distinct values than the exact limit, or the budget ran out first. */
export type SketchReason = 'distinct-limit' | 'memory-budget';

/**
 * 4096 geometric skips (mean SAMPLE_EVERY - 1) from a fixed-seed xorshift32, drawn once and read
 * in turn: a logarithm per sampled value showed up in the profile.
 */
const SKIPS = (() => {
  const skips = new Int32Array(4096);
  const logKeep = Math.log(1 - 1 / SAMPLE_EVERY);
  let x = 0x2545f491;
  for (let i = 0; i < skips.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    skips[i] = Math.floor(Math.log(((x >>> 0) + 1) / 4294967296) / logKeep); // u in (0, 1]
  }
  return skips;
})();

/**
 * One generation of the table. `cells` interleaves each slot's key and count, so that a probe
 * touches one cache line; a negative count means the slot has no text yet. Text is kept as bytes
 * in `arena`, at most MAX_VALUE_TEXT_BYTES of each value; the arena grows only as far as the
 * table's account allows (`grow`).
 */
class Slots {
  readonly cells: Float64Array;
  /** Where the slot's text starts in `arena` (when its count is positive). */
  readonly textAt: Int32Array;
  readonly textLen: Int32Array;
  arena: Buffer;
  arenaLen = 0;

  constructor(
    readonly length: number,
    private readonly grow: (bytes: number) => boolean,
    arenaBytes = slotsBytes(length) - length * SLOT_BYTES,
  ) {
    this.cells = new Float64Array(length * 2);
    this.textAt = new Int32Array(length);
    this.textLen = new Int32Array(length);
    this.arena = Buffer.allocUnsafe(arenaBytes);
  }

  get bytes(): number {
    return this.length * SLOT_BYTES + this.arena.length;
  }

  /** Keeps the slot's text; false when the arena would have to grow past what the budget allows. */
  setText(slot: number, src: Buffer, s: number, e: number): boolean {
    e = cutUtf8(src, s, e, MAX_VALUE_TEXT_BYTES);
    const n = e - s;
    const need = this.arenaLen + n;
    if (need > this.arena.length) {
      const size = Math.max(need, this.arena.length * 2);
      if (!this.grow(size - this.arena.length)) return false;
      const grown = Buffer.allocUnsafe(size);
      this.arena.copy(grown, 0, 0, this.arenaLen);
      this.arena = grown;
    }
    copyBytes(src, s, e, this.arena, this.arenaLen);
    this.textAt[slot] = this.arenaLen;
    this.textLen[slot] = n;
    this.arenaLen = need;
    return true;
  }

  text(slot: number): string | undefined {
    if (this.cells[2 * slot + 1]! < 0) return undefined;
    const at = this.textAt[slot]!;
    return this.arena.toString('utf8', at, at + this.textLen[slot]!);
  }
}

/**
/**
 * Counts values by hash key in an open-addressing table of typed arrays (no object per value).
 * Exact while there are at most `exactLimit` distinct values and the budget gives the table room;
 * past either it becomes a Misra-Gries summary of at most `capacity` counters plus a HyperLogLog
 * for the distinct count (`sketchReason` says which). The capacity is MAX_CAPACITY when the budget
 * allows, else the largest power of two down to MIN_CAPACITY it allows (the column's floor, reserved
 * when it was made, always covers that one). When the summary is full, every counter (the new
 * value's included) loses the median count, so at least half of them go and the next purge is
 * `capacity / 2` new values away; each count is then under by at most 2n / capacity. Text is kept
 * as bytes in an arena and decoded only when asked for: while exact, for every distinct value; in
 * the summary, for values seen twice (so a column of unique ids copies no text per row), and only
 * while the budget allows (a counter without text is counted but never listed). Purges swap
 * between two generations, allocating nothing.
 *
 * Sampling: when CHURN_PURGES purges in a row had a median count of 1 (almost every value in the
 * column is new: ids, prices, free text), probing the summary for each value buys nothing but time.
 * From then on each value enters the summary independently with probability 1 / SAMPLE_EVERY
 * (geometric skips from a fixed-seed generator, so a profile is reproducible), its counts
 * are multiplied by SAMPLE_EVERY when read, and the counts already held are divided by it (floored).
 * A reported count c then errs by the Misra-Gries bound (2n / capacity) plus the sampling error,
 * whose standard deviation is at most sqrt(c × SAMPLE_EVERY): for a value a tenth of a
 * million-row column, about 0.3%. The HyperLogLog still sees every value, so distinct counts are
 * unaffected. Text is still kept only for values counted twice (in the sample), so a column of unique
 * ids lists no invented repeats.
 *
 * Accounting: `held` is what the table's arrays take; the budget is charged for what exceeds the
 * `credit` the column reserved for it.
 */
export class FrequencyTable {
  private cur: Slots;
  private spare: Slots | null = null;
  private mask: number;
  private size = 0;
  private hll: HyperLogLog | null = null;
  private scratch: Float64Array | null = null;
  /** While sketching: how many counters hold each count below SMALL, to find the median fast. */
  private readonly tally = new Int32Array(SMALL);
  /** While sketching: the slots whose count has reached 2, the only survivors of a purge by 1. */
  private heavy: Int32Array = new Int32Array(0);
  private heavyLen = 0;
  /** Purges in a row whose median count was 1. */
  private churn = 0;
  /** 1 until sampling starts, then SAMPLE_EVERY: the weight of each counted occurrence. */
  private scale = 1;
  /** Values to skip before the next sampled one. */
  private skip = 0;
  private nextSkipAt = 0;
  /** The summary's counters, once sketching. */
  capacity = MAX_CAPACITY;
  sketchReason: SketchReason | null = null;
  private held = 0;
  private readonly grow = (bytes: number): boolean => this.account(bytes);

  constructor(
    readonly exactLimit = 10_000,
    private readonly budget: MemoryBudget = UNLIMITED,
    /** Bytes the owner reserved from the budget for this table (TABLE_FLOOR_BYTES for a full column). */
    private readonly credit = 0,
    /** The most counters a summary may have (tests use fewer). */
    private readonly maxCapacity = MAX_CAPACITY,
  ) {
    this.account(slotsBytes(FIRST_SLOTS));
    this.cur = new Slots(FIRST_SLOTS, this.grow);
    this.mask = FIRST_SLOTS - 1;
  }

  get exact(): boolean {
    return this.hll === null;
  }

  /** Whether the summary counts a sample of the values (see the class comment). */
  get sampled(): boolean {
    return this.scale !== 1;
  }

  /**
   * Charges `bytes` more (or, negative, fewer) of the table's arrays to the budget, beyond the
   * credit; false, and nothing charged, when the budget refuses.
   */
  private account(bytes: number): boolean {
    const before = Math.max(0, this.held - this.credit);
    const after = Math.max(0, this.held + bytes - this.credit);
    if (after > before && !this.budget.reserve(after - before)) return false;
    if (after < before) this.budget.release(before - after);
    this.held += bytes;
    return true;
  }

  /**
   * Adds one occurrence of the value whose key (see `valueKey`) is (h1 >>> 0) * KEY_LOW + low, text
   * in buf[s, e). The key is made here from two int32s so that no double crosses a call.
   */
  add(h1: number, low: number, buf: Buffer, s: number, e: number): void {
    const hll = this.hll;
    if (hll !== null) {
      hll.add(h1, low);
      if (this.skip > 0) {
        this.skip--;
        return;
      }
      if (this.scale !== 1) this.skip = this.nextSkip();
    }
    const key = (h1 >>> 0) * KEY_LOW + low; // after the sampling skip: most values of a sampled column need no key
    const t = this.cur;
    const cells = t.cells;
    const mask = this.mask;
    let slot = low & mask;
    for (;;) {
      const k = cells[2 * slot]!;
      if (k === key) {
        const c = cells[2 * slot + 1]!;
        if (c > 0) {
          cells[2 * slot + 1] = c + 1;
          if (hll !== null && c < SMALL) this.moveTally(c);
          if (c === 1 && hll !== null) this.heavy[this.heavyLen++] = slot;
        } else {
          // Seen twice: worth its text, if the budget has room for it; counted either way.
          cells[2 * slot + 1] = t.setText(slot, buf, s, e) ? 1 - c : c - 1;
          if (-c < SMALL) this.moveTally(-c);
          if (c === -1) this.heavy[this.heavyLen++] = slot;
        }
        return;
      }
      if (k === EMPTY) break;
      slot = (slot + 1) & mask;
    }
    if (hll === null) {
      if (this.size >= this.exactLimit || !t.setText(slot, buf, s, e)) {
        this.toSketch(this.size >= this.exactLimit ? 'distinct-limit' : 'memory-budget');
        this.add(h1, low, buf, s, e);
        return;
      }
      cells[2 * slot] = key;
      cells[2 * slot + 1] = 1;
      if (++this.size * 2 > t.length) {
        // The new table's arena takes all the text at once, so moving it never needs more room.
        const length = t.length * 2;
        const arena = Math.max(slotsBytes(length) - length * SLOT_BYTES, t.arenaLen);
        if (this.account(length * SLOT_BYTES + arena)) {
          this.rebuild(new Slots(length, this.grow, arena), 0);
          this.account(-t.bytes);
        } else {
          this.toSketch('memory-budget');
        }
      }
      return;
    }
    if (this.size < this.capacity) {
      cells[2 * slot] = key;
      cells[2 * slot + 1] = -1;
      this.tally[1]!++;
      this.size++;
      return;
    }
    // Full: the purge takes the median count from every counter, the new value's (1) included.
    this.purge();
  }

  distinct(): number {
    return this.hll === null ? this.size : this.hll.estimate();
  }

  /** The counted values with text, most frequent first, ties by value. */
  entries(limit: number): { value: string; count: number }[] {
    const out: { value: string; count: number }[] = [];
    const t = this.cur;
    for (let i = 0; i < t.length; i++) {
      if (t.cells[2 * i] === EMPTY) continue;
      const value = t.text(i);
      if (value !== undefined) out.push({ value, count: t.cells[2 * i + 1]! * this.scale });
    }
    out.sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
    return out.slice(0, limit);
  }

  hyperLogLog(): HyperLogLog {
    if (this.hll) return this.hll;
    const hll = new HyperLogLog();
    const cells = this.cur.cells;
    for (let i = 0; i < cells.length; i += 2) if (cells[i] !== EMPTY) hll.addKey(cells[i]!);
    return hll;
  }

  /** Every counter with its text, and the sketch: what a range worker hands to the merge. */
  state(): FrequencyState {
    const t = this.cur;
    let n = 0;
    let textBytes = 0;
    for (let i = 0; i < t.length; i++) {
      if (t.cells[2 * i] === EMPTY) continue;
      n++;
      if (t.cells[2 * i + 1]! > 0) textBytes += t.textLen[i]!;
    }
    const out = new CounterWriter(n, textBytes);
    for (let i = 0; i < t.length; i++) {
      const key = t.cells[2 * i]!;
      if (key === EMPTY) continue;
      const signed = t.cells[2 * i + 1]!;
      const count = Math.abs(signed) * this.scale;
      if (signed > 0) out.add(key, count, t.arena, t.textAt[i]!, t.textLen[i]!);
      else out.add(key, count, null, 0, 0);
    }
    const counters = out.encode();
    if (this.hll === null) return { exact: true, ...counters };
    return { exact: false, ...counters, hll: this.hll.toBase64(), reason: this.sketchReason!, capacity: this.capacity, sampled: this.sampled };
  }

  /** The exact value keys, while exact. */
  exactKeys(): Float64Array | null {
    if (this.hll) return null;
    return this.cur.cells.filter((k, i) => i % 2 === 0 && k !== EMPTY);
  }

  private moveTally(c: number): void {
    this.tally[c]!--;
    if (c + 1 < SMALL) this.tally[c + 1]!++;
  }

  /** The count at rank `rank` (0 = largest) among the counters. */
  private countAtRank(rank: number): number {
    const n = this.size;
    if (rank >= n) return 0;
    const want = n - rank; // the answer is the want-th smallest (1-based)
    // Counts are mostly small: `tally` counts those below SMALL; sort only when the answer is larger.
    const tally = this.tally;
    let below = 0;
    for (let c = 1; c < SMALL; c++) {
      below += tally[c]!;
      if (below >= want) return c;
    }
    const cells = this.cur.cells;
    // The exact table's scratch (at toSketch) is transient and may be bigger than the summary's.
    const scratch = this.scratch && this.scratch.length >= n ? this.scratch : new Float64Array(Math.max(n, this.capacity));
    if (n <= this.capacity) this.scratch = scratch;
    let m = 0;
    for (let i = 0; i < cells.length; i += 2) if (cells[i] !== EMPTY) scratch[m++] = Math.abs(cells[i + 1]!);
    return scratch.subarray(0, m).sort()[want - 1]!;
  }

  /**
   * From exact counts to the summary: the largest capacity the budget allows once the exact table
   * is let go (MIN_CAPACITY always fits in the column's credit), the HyperLogLog of every key.
   */
  private toSketch(reason: SketchReason): void {
    if (reason === 'memory-budget') this.budget.sketchedColumns++;
    this.sketchReason = reason;
    const hll = this.hyperLogLog();
    const exactBytes = this.cur.bytes;
    this.account(-exactBytes);
    let capacity = this.maxCapacity;
    while (capacity > MIN_CAPACITY && !this.account(sketchBytes(capacity))) capacity >>= 1;
    if (capacity === MIN_CAPACITY) this.account(sketchBytes(MIN_CAPACITY)); // within the credit: never refused
    this.capacity = capacity;
    // Keep the `capacity` largest counts less the next one: the Misra-Gries merge rule.
    const cells = this.cur.cells;
    this.tally.fill(0);
    for (let i = 0; i < cells.length; i += 2) {
      const c = cells[i + 1]!;
      if (cells[i] !== EMPTY && c < SMALL) this.tally[c]!++;
    }
    const cut = this.countAtRank(capacity);
    this.hll = hll;
    this.heavy = new Int32Array(capacity);
    // Charged as sketchBytes(capacity) above; the arenas' growth is charged as it happens.
    this.rebuild(new Slots(capacity * 2, this.grow), cut);
    this.spare = new Slots(capacity * 2, this.grow);
  }

  private purge(): void {
    const median = Math.max(1, this.countAtRank(this.capacity >> 1));
    const spare = this.spare!;
    this.spare = this.cur;
    if (median === 1) this.rebuildHeavy(spare);
    else this.rebuild(spare, median);
    this.churn = median === 1 ? this.churn + 1 : 0;
    if (this.churn >= CHURN_PURGES && this.scale === 1) this.startSampling();
  }

  /** Switches to sampling: held counts become counts of the sample, floored (see the class comment). */
  private startSampling(): void {
    this.scale = SAMPLE_EVERY;
    const spare = this.spare!;
    this.spare = this.cur;
    this.rebuild(spare, 0, SAMPLE_EVERY);
    this.skip = this.nextSkip();
  }

  /** How many values to pass over before the next one kept: geometric, mean SAMPLE_EVERY - 1. */
  private nextSkip(): number {
    const skip = SKIPS[this.nextSkipAt]!;
    this.nextSkipAt = (this.nextSkipAt + 1) & (SKIPS.length - 1);
    return skip;
  }

  /** `rebuild(into, 1)` that visits only the slots in `heavy`: most of a high-cardinality column's purges. */
  private rebuildHeavy(into: Slots): void {
    const old = this.cur;
    const from = old.cells;
    const heavy = this.heavy;
    const n = this.heavyLen;
    this.cur = into;
    this.size = 0;
    this.heavyLen = 0;
    this.tally.fill(0);
    for (let h = 0; h < n; h++) {
      const i = heavy[h]!;
      const signed = from[2 * i + 1]!;
      this.reinsert(old, i, Math.abs(signed) - 1, signed > 0);
    }
    from.fill(0);
    old.arenaLen = 0;
  }

  /** Puts old slot i's key, with `count` (> 0), into the current table; its text too if there is room. */
  private reinsert(old: Slots, i: number, count: number, hasText: boolean): void {
    const into = this.cur;
    const cells = into.cells;
    const mask = this.mask;
    const key = old.cells[2 * i]!;
    let slot = (key % KEY_LOW) & mask;
    while (cells[2 * slot] !== EMPTY) slot = (slot + 1) & mask;
    cells[2 * slot] = key;
    if (count < SMALL) this.tally[count]!++;
    if (count >= 2 && this.hll !== null) this.heavy[this.heavyLen++] = slot;
    const at = old.textAt[i]!;
    cells[2 * slot + 1] = hasText && into.setText(slot, old.arena, at, at + old.textLen[i]!) ? count : -count;
    this.size++;
  }

  /**
   * Re-inserts entries into `into` (empty), less `minus` each, dropping those that reach zero; the
   * old generation is left empty, ready to be the next spare.
   */
  private rebuild(into: Slots, minus: number, divide = 1): void {
    const old = this.cur;
    const from = old.cells;
    this.cur = into;
    this.mask = into.length - 1;
    this.size = 0;
    this.tally.fill(0);
    this.heavyLen = 0;
    // An empty slot's count cell is 0, so one test per slot finds the survivors.
    for (let i = 0; i < old.length; i++) {
      const signed = from[2 * i + 1]!;
      const count = Math.floor(Math.abs(signed) / divide) - minus;
      if (count > 0) this.reinsert(old, i, count, signed > 0);
    }
    from.fill(0);
    old.arenaLen = 0;
  }
}

/**
 * A table's counts as plain data, for a range worker to hand to the merge: every counter (exact
 * ones, or the summary's) with its key, its count (already scaled when sampled) and its text when
 * it has one. JSON-safe: typed arrays travel as base64.
 */
export interface FrequencyState {
  exact: boolean;
  /** Float64 value keys (see `valueKey`), base64. */
  keys: string;
  /** Float64 counts, base64. */
  counts: string;
  /** Int32 text lengths (-1: no text), base64; the texts follow one another in `texts`. */
  textLens: string;
  texts: string;
  /** While sketching: the HyperLogLog registers, base64, and what the summary was. */
  hll?: string;
  reason?: SketchReason;
  capacity?: number;
  sampled?: boolean;
}

/**
 * A FrequencyState decoded: one entry per counter, its text (length -1: none) at `starts[i]` in
 * `text`. Typed arrays and one buffer, not an object per value: the merge of a wide file's
 * partials decodes a few hundred thousand counters on the main thread.
 */
interface Counters {
  keys: Float64Array;
  counts: Float64Array;
  lens: Int32Array;
  starts: Int32Array;
  text: Buffer;
}

const f64 = (a: Float64Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
function f64From(text: string): Float64Array {
  const b = Buffer.from(text, 'base64');
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
function i32From(text: string): Int32Array {
  const b = Buffer.from(text, 'base64');
  return new Int32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Counters written one after another into typed arrays and one text buffer, then encoded. */
class CounterWriter {
  private readonly keys: Float64Array;
  private readonly counts: Float64Array;
  private readonly lens: Int32Array;
  private readonly text: Buffer;
  private n = 0;
  private textLen = 0;

  constructor(capacity: number, textBytes: number) {
    this.keys = new Float64Array(capacity);
    this.counts = new Float64Array(capacity);
    this.lens = new Int32Array(capacity);
    this.text = Buffer.allocUnsafe(textBytes);
  }

  /** One counter; its text is src[start, start + len), or none when src is null. */
  add(key: number, count: number, src: Uint8Array | null, start: number, len: number): void {
    const i = this.n++;
    this.keys[i] = key;
    this.counts[i] = count;
    if (src === null) {
      this.lens[i] = -1;
      return;
    }
    this.lens[i] = len;
    const text = this.text;
    for (let j = 0, at = this.textLen; j < len; j++) text[at + j] = src[start + j]!;
    this.textLen += len;
  }

  encode(): Pick<FrequencyState, 'keys' | 'counts' | 'textLens' | 'texts'> {
    const n = this.n;
    const lens = this.lens.subarray(0, n);
    return {
      keys: f64(this.keys.subarray(0, n)),
      counts: f64(this.counts.subarray(0, n)),
      textLens: Buffer.from(lens.buffer, lens.byteOffset, lens.byteLength).toString('base64'),
      texts: this.text.toString('base64', 0, this.textLen),
    };
  }
}

function decodeCounters(state: FrequencyState): Counters {
  const keys = f64From(state.keys);
  const counts = f64From(state.counts);
  const lens = i32From(state.textLens);
  const starts = new Int32Array(lens.length);
  for (let i = 0, at = 0; i < lens.length; i++) {
    starts[i] = at;
    if (lens[i]! > 0) at += lens[i]!;
  }
  return { keys, counts, lens, starts, text: Buffer.from(state.texts, 'base64') };
}

/** The table's counters and sketch as a FrequencyState. */
export function frequencyState(table: FrequencyTable): FrequencyState {
  return table.state();
}

function hllOfKeys(keys: Float64Array): HyperLogLog {
  const hll = new HyperLogLog();
  for (const key of keys) hll.addKey(key);
  return hll;
}

/**
 * The counts of two consecutive parts together. Two exact tables whose union has at most
 * `exactLimit` values give the exact table of the whole, and the HyperLogLog of a union is the one
 * of the whole in every case (registers merge by maximum). Past the limit the counters merge as
 * Misra-Gries summaries do (Agarwal et al., "Mergeable summaries"): counts added, then less the
 * count ranked `capacity + 1`, the non-positive dropped; those counts are lower bounds, as the
 * single pass's are, but not necessarily the same ones.
 */
export function mergeFrequencyStates(a: FrequencyState, b: FrequencyState, exactLimit: number): FrequencyState {
  const sources = [decodeCounters(a), decodeCounters(b)] as const;
  const [ca, cb] = sources;
  const total = ca.keys.length + cb.keys.length;
  const index = new Map<number, number>();
  const keys = new Float64Array(total);
  const counts = new Float64Array(total);
  // Where each merged counter's text is: which part (-1: none) and which of its counters.
  const textPart = new Int8Array(total).fill(-1);
  const textOf = new Int32Array(total);
  let n = 0;
  for (let part = 0; part < 2; part++) {
    const c = sources[part]!;
    for (let i = 0; i < c.keys.length; i++) {
      const key = c.keys[i]!;
      const at = index.get(key);
      const hasText = c.lens[i]! >= 0;
      if (at === undefined) {
        index.set(key, n);
        keys[n] = key;
        counts[n] = c.counts[i]!;
        if (hasText) {
          textPart[n] = part;
          textOf[n] = i;
        }
        n++;
      } else {
        counts[at]! += c.counts[i]!;
        if (textPart[at] === -1 && hasText) {
          textPart[at] = part;
          textOf[at] = i;
        }
      }
    }
  }
  const write = (order: ArrayLike<number>, count: (i: number) => number) => {
    let textBytes = 0;
    for (let k = 0; k < order.length; k++) {
      const i = order[k]!;
      if (textPart[i] !== -1) textBytes += sources[textPart[i]!]!.lens[textOf[i]!]!;
    }
    const out = new CounterWriter(order.length, textBytes);
    for (let k = 0; k < order.length; k++) {
      const i = order[k]!;
      const part = textPart[i]!;
      if (part === -1) out.add(keys[i]!, count(i), null, 0, 0);
      else {
        const c = sources[part]!;
        out.add(keys[i]!, count(i), c.text, c.starts[textOf[i]!]!, c.lens[textOf[i]!]!);
      }
    }
    return out.encode();
  };
  if (a.exact && b.exact && n <= exactLimit) {
    return { exact: true, ...write(Array.from({ length: n }, (_, i) => i), (i) => counts[i]!) };
  }
  const hll = a.hll ? HyperLogLog.fromBase64(a.hll) : hllOfKeys(ca.keys);
  hll.merge(b.hll ? HyperLogLog.fromBase64(b.hll) : hllOfKeys(cb.keys));
  const capacity = Math.min(a.capacity ?? MAX_CAPACITY, b.capacity ?? MAX_CAPACITY);
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => counts[y]! - counts[x]!);
  const cut = order.length > capacity ? counts[order[capacity]!]! : 0;
  const kept = order.slice(0, capacity).filter((i) => counts[i]! - cut > 0);
  const reason = a.reason === 'memory-budget' || b.reason === 'memory-budget' ? 'memory-budget' : 'distinct-limit';
  return {
    exact: false,
    ...write(kept, (i) => counts[i]! - cut),
    hll: hll.toBase64(),
    reason,
    capacity,
    sampled: Boolean(a.sampled || b.sampled),
  };
}

/** The distinct count a state reports: exact while exact, else its HyperLogLog's estimate. */
export function distinctOf(state: FrequencyState): number {
  if (state.exact) return Buffer.from(state.keys, 'base64').length / 8;
  return HyperLogLog.fromBase64(state.hll!).estimate();
}

/** The counted values with text, most frequent first, ties by value: as `FrequencyTable.entries`. */
export function entriesOf(state: FrequencyState, limit: number): { value: string; count: number }[] {
  if (limit <= 0) return [];
  const c = decodeCounters(state);
  // Only counters that can rank among the first `limit` become strings: a count below the
  // limit-th largest has at least `limit` counters before it whatever the ties.
  const withText: number[] = [];
  for (let i = 0; i < c.lens.length; i++) if (c.lens[i]! >= 0) withText.push(i);
  let least = -Infinity;
  if (withText.length > limit) {
    const sorted = Float64Array.from(withText, (i) => c.counts[i]!).sort();
    least = sorted[sorted.length - limit]!;
  }
  const out: { value: string; count: number }[] = [];
  for (const i of withText) {
    const count = c.counts[i]!;
    if (count >= least) out.push({ value: c.text.toString('utf8', c.starts[i]!, c.starts[i]! + c.lens[i]!), count });
  }
  out.sort((x, y) => y.count - x.count || (x.value < y.value ? -1 : x.value > y.value ? 1 : 0));
  return out.slice(0, limit);
}

/** The exact keys (while exact) or the HyperLogLog registers, as `ColumnProfile.state` carries them. */
export function sketchOf(state: FrequencyState): { keys: string } | { hll: string } {
  return state.exact ? { keys: state.keys } : { hll: state.hll! };
}
