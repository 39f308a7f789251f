import { HyperLogLog } from './hll';

/** A 53-bit key for a value from its two 32-bit hashes: collisions among 10,000 values ~ 1e-8. */
export function valueKey(h1: number, h2: number): number {
  const key = (h1 >>> 0) * 2097152 + (h2 >>> 11);
  return key === 0 ? 1 : key;
}

const EMPTY = 0;
const NO_TEXT = -1;
const SMALL = 64;

/** One generation of the table: typed arrays and a byte arena that holds the counted values' text. */
class Slots {
  readonly keys: Float64Array;
  /** Each slot's probe hash, kept so that rebuilding needs no re-hashing. */
  readonly probes: Int32Array;
  readonly counts: Float64Array;
  /** Where the slot's text starts in `arena`, or NO_TEXT. */
  readonly textAt: Int32Array;
  readonly textLen: Int32Array;
  arena: Buffer;
  arenaLen = 0;

  constructor(readonly length: number) {
    this.keys = new Float64Array(length);
    this.probes = new Int32Array(length);
    this.counts = new Float64Array(length);
    this.textAt = new Int32Array(length).fill(NO_TEXT);
    this.textLen = new Int32Array(length);
    this.arena = Buffer.allocUnsafe(Math.max(1024, length * 8));
  }

  setText(slot: number, src: Buffer, s: number, e: number): void {
    const n = e - s;
    const need = this.arenaLen + n;
    if (need > this.arena.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.arena.length * 2));
      this.arena.copy(grown, 0, 0, this.arenaLen);
      this.arena = grown;
    }
    src.copy(this.arena, this.arenaLen, s, e);
    this.textAt[slot] = this.arenaLen;
    this.textLen[slot] = n;
    this.arenaLen = need;
  }

  text(slot: number): string | undefined {
    const at = this.textAt[slot]!;
    return at === NO_TEXT ? undefined : this.arena.toString('utf8', at, at + this.textLen[slot]!);
  }
}

/**
 * Counts values by hash key in an open-addressing table of typed arrays (no object per value).
 * Exact while there are at most `exactLimit` distinct values; past that it becomes a Misra-Gries
 * summary of at most `capacity` counters plus a HyperLogLog for the distinct count. When the
 * summary is full, every counter (the new value's included) loses the median count, so at least
 * half of them go and the next purge is `capacity / 2` new values away; each count is then under
 * by at most 2n / capacity. Text is kept as bytes in an arena and decoded only when asked for:
 * while exact, for every distinct value; in the summary, for values seen twice (as before, a column
 * of unique ids keeps no text per row). Rebuilds swap between two generations, allocating nothing.
 */
export class FrequencyTable {
  private cur: Slots;
  private spare: Slots | null = null;
  private mask: number;
  private size = 0;
  private hll: HyperLogLog | null = null;
  private scratch: Float64Array | null = null;
  private readonly tally = new Int32Array(SMALL);

  constructor(
    readonly exactLimit = 10_000,
    readonly capacity = 2048,
  ) {
    this.cur = new Slots(1024);
    this.mask = 1023;
  }

  get exact(): boolean {
    return this.hll === null;
  }

  /** Adds one occurrence of the value whose key is `key` and probe hash `hash`, text in buf[s, e). */
  add(key: number, hash: number, buf: Buffer, s: number, e: number): void {
    const hll = this.hll;
    if (hll !== null) hll.addKey(key);
    const t = this.cur;
    const keys = t.keys;
    const mask = this.mask;
    let slot = hash & mask;
    for (;;) {
      const k = keys[slot]!;
      if (k === key) {
        const c = t.counts[slot]!;
        t.counts[slot] = c + 1;
        if (hll !== null && c < SMALL) {
          this.tally[c]!--;
          if (c + 1 < SMALL) this.tally[c + 1]!++;
        }
        if (t.textAt[slot] === NO_TEXT) t.setText(slot, buf, s, e);
        return;
      }
      if (k === EMPTY) break;
      slot = (slot + 1) & mask;
    }
    if (hll === null) {
      if (this.size >= this.exactLimit) {
        this.toSketch();
        this.add(key, hash, buf, s, e);
        return;
      }
      keys[slot] = key;
      t.probes[slot] = hash;
      t.counts[slot] = 1;
      t.setText(slot, buf, s, e);
      if (++this.size * 2 > keys.length) this.rebuild(new Slots(keys.length * 2), 0);
      return;
    }
    if (this.size < this.capacity) {
      keys[slot] = key;
      t.probes[slot] = hash;
      t.counts[slot] = 1;
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
      if (t.keys[i] === EMPTY) continue;
      const value = t.text(i);
      if (value !== undefined) out.push({ value, count: t.counts[i]! });
    }
    out.sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
    return out.slice(0, limit);
  }

  hyperLogLog(): HyperLogLog {
    if (this.hll) return this.hll;
    const hll = new HyperLogLog();
    for (const key of this.cur.keys) if (key !== EMPTY) hll.addKey(key);
    return hll;
  }

  /** The exact value keys, while exact. */
  exactKeys(): Float64Array | null {
    if (this.hll) return null;
    return this.cur.keys.filter((k) => k !== EMPTY);
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
    const t = this.cur;
    const scratch = this.scratch && this.scratch.length >= n ? this.scratch : (this.scratch = new Float64Array(Math.max(n, this.capacity)));
    let m = 0;
    for (let i = 0; i < t.length; i++) if (t.keys[i] !== EMPTY) scratch[m++] = t.counts[i]!;
    return scratch.subarray(0, m).sort()[want - 1]!;
  }

  private toSketch(): void {
    const hll = this.hyperLogLog();
    // Keep the `capacity` largest counts less the next one: the Misra-Gries merge rule.
    const t = this.cur;
    this.tally.fill(0);
    for (let i = 0; i < t.length; i++) {
      const c = t.counts[i]!;
      if (t.keys[i] !== EMPTY && c < SMALL) this.tally[c]!++;
    }
    const cut = this.countAtRank(this.capacity);
    this.hll = hll;
    this.rebuild(new Slots(this.capacity * 2), cut);
    this.spare = new Slots(this.capacity * 2);
  }

  private purge(): void {
    const median = Math.max(1, this.countAtRank(this.capacity >> 1));
    const spare = this.spare!;
    this.spare = this.cur;
    this.rebuild(spare, median);
  }

  /**
   * Re-inserts entries into `into` (empty), less `minus` each, dropping those that reach zero; the
   * old generation is left empty, ready to be the next spare.
   */
  private rebuild(into: Slots, minus: number): void {
    const old = this.cur;
    this.cur = into;
    this.mask = into.length - 1;
    this.size = 0;
    const mask = this.mask;
    const keys = into.keys;
    const tally = this.tally;
    tally.fill(0);
    for (let i = 0; i < old.length; i++) {
      const key = old.keys[i]!;
      if (key === EMPTY) continue;
      old.keys[i] = EMPTY;
      const at = old.textAt[i]!;
      old.textAt[i] = NO_TEXT;
      const count = old.counts[i]! - minus;
      if (count <= 0) continue;
      const probe = old.probes[i]!;
      let slot = probe & mask;
      while (keys[slot] !== EMPTY) slot = (slot + 1) & mask;
      keys[slot] = key;
      into.probes[slot] = probe;
      into.counts[slot] = count;
      if (count < SMALL) tally[count]!++;
      if (at !== NO_TEXT) into.setText(slot, old.arena, at, at + old.textLen[i]!);
      this.size++;
    }
    old.arenaLen = 0;
  }
}
