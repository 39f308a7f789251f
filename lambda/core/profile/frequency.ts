import { HyperLogLog } from './hll';

/** A 53-bit key for a value from its two 32-bit hashes: collisions among 10,000 values ~ 1e-8. */
export function valueKey(h1: number, h2: number): number {
  const key = (h1 >>> 0) * 2097152 + (h2 >>> 11);
  return key === 0 ? 1 : key;
}

const EMPTY = 0;

/**
 * Counts values by hash key in an open-addressing table of typed arrays (no object per value).
 * Exact while there are at most `exactLimit` distinct values; past that it becomes a Misra-Gries
 * summary of `capacity` counters plus a HyperLogLog for the distinct count. Text is decoded once per
 * distinct value while exact, and in the sketch only for values seen twice, so a column of unique ids
 * costs no string per row.
 */
export class FrequencyTable {
  private keys: Float64Array;
  /** Each slot's probe hash, kept so that rebuilding needs no re-hashing. */
  private slots: Int32Array;
  private counts: Float64Array;
  private values: (string | undefined)[];
  private mask: number;
  private size = 0;
  private hll: HyperLogLog | null = null;

  constructor(
    readonly exactLimit = 10_000,
    readonly capacity = 1024,
  ) {
    this.keys = new Float64Array(1024);
    this.slots = new Int32Array(1024);
    this.counts = new Float64Array(1024);
    this.values = new Array<string | undefined>(1024);
    this.mask = 1023;
  }

  get exact(): boolean {
    return this.hll === null;
  }

  /** Adds one occurrence of the value whose key is `key` and probe hash `hash`, text in buf[s, e). */
  add(key: number, hash: number, buf: Buffer, s: number, e: number): void {
    const hll = this.hll;
    if (hll !== null) hll.addKey(key);
    const keys = this.keys;
    const mask = this.mask;
    let slot = hash & mask;
    for (;;) {
      const k = keys[slot]!;
      if (k === key) {
        this.counts[slot]!++;
        if (this.values[slot] === undefined) this.values[slot] = buf.toString('utf8', s, e);
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
      this.slots[slot] = hash;
      this.counts[slot] = 1;
      this.values[slot] = buf.toString('utf8', s, e);
      if (++this.size * 2 > keys.length) this.rebuild(keys.length * 2, 0);
      return;
    }
    if (this.size < this.capacity) {
      keys[slot] = key;
      this.slots[slot] = hash;
      this.counts[slot] = 1;
      this.values[slot] = undefined;
      this.size++;
      return;
    }
    // Full: the Misra-Gries step takes one from every counter (the new value's included).
    this.rebuild(keys.length, 1);
  }

  distinct(): number {
    return this.hll === null ? this.size : this.hll.estimate();
  }

  /** The counted values with text, most frequent first, ties by value. */
  entries(limit: number): { value: string; count: number }[] {
    const out: { value: string; count: number }[] = [];
    for (let i = 0; i < this.keys.length; i++) {
      const value = this.values[i];
      if (this.keys[i] !== EMPTY && value !== undefined) out.push({ value, count: this.counts[i]! });
    }
    out.sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
    return out.slice(0, limit);
  }

  hyperLogLog(): HyperLogLog {
    if (this.hll) return this.hll;
    const hll = new HyperLogLog();
    for (const key of this.keys) if (key !== EMPTY) hll.addKey(key);
    return hll;
  }

  /** The exact value keys, while exact. */
  exactKeys(): Float64Array | null {
    if (this.hll) return null;
    return this.keys.filter((k) => k !== EMPTY);
  }

  private toSketch(): void {
    const hll = this.hyperLogLog();
    // Keep the `capacity` largest counts less the next one: the Misra-Gries merge rule.
    const sorted = Array.from(this.counts.filter((_c, i) => this.keys[i] !== EMPTY)).sort((a, b) => b - a);
    const cut = sorted[this.capacity] ?? 0;
    this.hll = hll;
    this.rebuild(this.capacity * 2, cut);
  }

  /** Re-inserts entries into a table of `slots`, less `minus` each, dropping those that reach zero. */
  private rebuild(slots: number, minus: number): void {
    const oldKeys = this.keys;
    const oldSlots = this.slots;
    const oldCounts = this.counts;
    const oldValues = this.values;
    this.keys = new Float64Array(slots);
    this.slots = new Int32Array(slots);
    this.counts = new Float64Array(slots);
    this.values = new Array<string | undefined>(slots);
    this.mask = slots - 1;
    this.size = 0;
    for (let i = 0; i < oldKeys.length; i++) {
      const key = oldKeys[i]!;
      const count = oldCounts[i]! - minus;
      if (key === EMPTY || count <= 0) continue;
      let slot = oldSlots[i]! & this.mask;
      while (this.keys[slot] !== EMPTY) slot = (slot + 1) & this.mask;
      this.keys[slot] = key;
      this.slots[slot] = oldSlots[i]!;
      this.counts[slot] = count;
      this.values[slot] = oldValues[i];
      this.size++;
    }
  }
}
