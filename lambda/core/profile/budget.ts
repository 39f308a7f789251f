/**
 * The memory budget the profiler's columns share (see MEMORY_BUDGET_BYTES). It is an account, not an
 * allocator: a structure reserves bytes before it allocates them and releases them when it lets
 * them go, and a refused reservation makes it degrade (an exact set becomes a sketch, a sketch holds
 * fewer counters, a sample row is not kept) instead of allocating. What was refused is counted,
 * so the profile can say what the budget changed.
 */
export class MemoryBudget {
  private used = 0;
  private high = 0;
  /** Columns whose exact set became a sketch because the budget refused it more room. */
  sketchedColumns = 0;
  /** Sample rows not kept for want of room. */
  samplesDropped = 0;

  constructor(readonly limit: number) {}

  /** Reserves `bytes` if they fit; false (and nothing reserved) if not. */
  reserve(bytes: number): boolean {
    const next = this.used + bytes;
    if (next > this.limit) return false;
    this.used = next;
    if (next > this.high) this.high = next;
    return true;
  }

  release(bytes: number): void {
    this.used -= bytes;
  }

  /** The most that was reserved at once. */
  get peak(): number {
    return this.high;
  }
}

/** A budget that never refuses: for a FrequencyTable used on its own (merging, tests). */
export const UNLIMITED = new MemoryBudget(Number.MAX_SAFE_INTEGER);

/** What a typed-array table of `slots` slots costs: key and count (16 bytes), text offset and length (8). */
export const SLOT_BYTES = 24;

/**
 * UTF-8 is cut after at most `max` bytes, backing off to the start of a character so the cut text
 * decodes to whole characters: the end of buf[s, e) to keep.
 */
export function cutUtf8(buf: Uint8Array, s: number, e: number, max: number): number {
  if (e - s <= max) return e;
  let end = s + max;
  while (end > s && (buf[end]! & 0xc0) === 0x80) end--;
  return end;
}
