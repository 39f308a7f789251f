import type { Histogram } from './types';

const BINS = 64;
const MIN_EXP = -30;

/**
 * A fixed-width histogram whose width is the smallest power of two (at least 2^-30) that puts the
 * values seen so far into 64 aligned bins. A value outside the range doubles the width as often as
 * needed; every old bin then falls inside one new bin, so the counts stay exact and the final bins
 * are the same whatever the order of the values: two parts' histograms merge exactly.
 */
export class StreamingHistogram {
  private exp = MIN_EXP;
  private scale = 2 ** -MIN_EXP;
  private lo = 0;
  private counts = new Float64Array(BINS);
  private min = Infinity;
  private max = -Infinity;

  add(x: number): void {
    if (!Number.isFinite(x)) return;
    let idx = Math.floor(x * this.scale) - this.lo;
    if (idx < 0 || idx >= BINS || this.min > this.max) {
      this.extend(x);
      idx = Math.floor(x * this.scale) - this.lo;
    } else if (x < this.min) {
      this.min = x;
    } else if (x > this.max) {
      this.max = x;
    }
    this.counts[idx]!++;
  }

  /** The bins at their own width and the finite values' extremes, for a merge; null when empty. */
  state(): HistogramState | null {
    if (this.min > this.max) return null;
    return { bins: this.toJSON()!, min: this.min, max: this.max };
  }

  /** The bins; `minWidth` (a power of two, 1 for integers) coarsens finer bins, still exactly. */
  toJSON(minWidth = 0): Histogram | undefined {
    if (this.min > this.max) return undefined;
    const width = 2 ** this.exp;
    const last = Math.floor(this.max / width) - this.lo;
    const h = { min: this.lo * width, max: (this.lo + last + 1) * width, width, bins: Array.from(this.counts.subarray(0, last + 1)) };
    return width >= minWidth ? h : mergeHistograms(h, undefined, this.min, this.max, minWidth);
  }

  private extend(x: number): void {
    const min = Math.min(this.min, x);
    const max = Math.max(this.max, x);
    // Start no finer than 2^-40 of the first value's magnitude, so bin indices stay exact integers.
    let exp = this.min <= this.max ? this.exp : Math.max(MIN_EXP, Math.ceil(Math.log2(Math.abs(x) || 1)) - 40);
    while (Math.floor(max * 2 ** -exp) - Math.floor(min * 2 ** -exp) >= BINS) exp++;
    if (this.min <= this.max) {
      const shift = 2 ** (this.exp - exp);
      const lo = Math.floor(min * 2 ** -exp);
      const counts = new Float64Array(BINS);
      for (let i = 0; i < BINS; i++) {
        if (this.counts[i]) counts[Math.floor((this.lo + i) * shift) - lo]! += this.counts[i]!;
      }
      this.counts = counts;
      this.lo = lo;
    } else {
      this.lo = Math.floor(min * 2 ** -exp);
    }
    this.exp = exp;
    this.scale = 2 ** -exp;
    this.min = min;
    this.max = max;
  }
}

/** A part's histogram before the final coarsening, with its finite values' extremes. */
export interface HistogramState {
  bins: Histogram;
  min: number;
  max: number;
}

/** The histograms of two consecutive parts as the one of the whole (before `finishHistogram`). */
export function mergeHistogramStates(a: HistogramState | null, b: HistogramState | null): HistogramState | null {
  if (!a || !b) return a ?? b;
  const min = Math.min(a.min, b.min);
  const max = Math.max(a.max, b.max);
  return { bins: mergeHistograms(a.bins, b.bins, min, max)!, min, max };
}

/** What `StreamingHistogram.toJSON(minWidth)` gives, from a (merged) state. */
export function finishHistogram(state: HistogramState | null, minWidth = 0): Histogram | undefined {
  if (!state) return undefined;
  return state.bins.width >= minWidth ? state.bins : mergeHistograms(state.bins, undefined, state.min, state.max, minWidth);
}

/** Merges two histograms of parts whose values lie in [min, max] overall: exact, as in the whole. */
export function mergeHistograms(
  a: Histogram | undefined,
  b: Histogram | undefined,
  min: number,
  max: number,
  minWidth = 0,
): Histogram | undefined {
  if (!a) return b;
  let exp = Math.max(Math.log2(a.width), b ? Math.log2(b.width) : -Infinity, minWidth ? Math.log2(minWidth) : -Infinity);
  while (Math.floor(max * 2 ** -exp) - Math.floor(min * 2 ** -exp) >= BINS) exp++;
  const width = 2 ** exp;
  const lo = Math.floor(min / width);
  const last = Math.floor(max / width) - lo;
  const bins = new Array<number>(last + 1).fill(0);
  for (const h of b ? [a, b] : [a]) {
    const hlo = Math.round(h.min / h.width);
    const shift = h.width / width;
    h.bins.forEach((count, i) => {
      if (count) bins[Math.floor((hlo + i) * shift) - lo]! += count;
    });
  }
  return { min: lo * width, max: (lo + last + 1) * width, width, bins };
}
