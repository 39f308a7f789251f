/**
 * Column names from a header row, shared by the profiler and the rows reader (which would
 * otherwise pull the whole profiler, and its frequency tables, into the read function's bundle).
 */

/**
 * Column names as pandas makes them: `Unnamed: i` for blanks, `.1`, `.2` suffixes for repeats, and
 * a suffixed name that is taken is suffixed again (pandas' `_dedup_names`: `a.1,a,a` gives
 * `a.1, a, a.1.1`). Linear: each step takes a count that only grows.
 */
export function uniqueNames(raw: string[]): string[] {
  const counts = new Map<string, number>();
  return raw.map((name, i) => {
    let col = name.trim() === '' ? `Unnamed: ${i}` : name;
    let count = counts.get(col) ?? 0;
    while (count > 0) {
      counts.set(col, count + 1);
      col = `${col}.${count}`;
      count = counts.get(col) ?? 0;
    }
    counts.set(col, count + 1);
    return col;
  });
}
