import { HLL_ERROR, HyperLogLog } from './hll';
import { mergeHistograms } from './histogram';
import type { ColumnProfile, ColumnState, ColumnType, DistinctCount, Profile, TopValue } from './types';
import { parseDate } from './values';

const DEFAULT_EXACT_LIMIT = 10_000;

function mergeType(a: ColumnType, b: ColumnType): ColumnType {
  if (a === b || b === 'empty') return a;
  if (a === 'empty') return b;
  const pair = new Set([a, b]);
  if (pair.has('integer') && pair.has('number')) return 'number';
  if (pair.has('date') && pair.has('timestamp')) return 'timestamp';
  return 'string';
}

function keysOf(state: ColumnState | undefined): Float64Array | null {
  if (!state?.keys) return null;
  const bytes = Buffer.from(state.keys, 'base64');
  return new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

function hllOf(state: ColumnState | undefined): HyperLogLog | null {
  if (!state) return null;
  if (state.hll) return HyperLogLog.fromBase64(state.hll);
  const keys = keysOf(state);
  if (!keys) return null;
  const hll = new HyperLogLog();
  for (const key of keys) hll.addKey(key);
  return hll;
}

function mergeDistinct(a: ColumnProfile, b: ColumnProfile): { distinct: DistinctCount; state?: Omit<ColumnState, 'top'> } {
  const ka = keysOf(a.state);
  const kb = keysOf(b.state);
  if (ka && kb) {
    const union = new Set<number>(ka);
    for (const k of kb) union.add(k);
    if (union.size <= DEFAULT_EXACT_LIMIT) {
      const keys = Float64Array.from(union);
      return { distinct: { value: union.size, exact: true }, state: { keys: Buffer.from(keys.buffer).toString('base64') } };
    }
  }
  const ha = hllOf(a.state);
  const hb = hllOf(b.state);
  if (ha && hb) {
    ha.merge(hb);
    return { distinct: { value: ha.estimate(), exact: false, error: HLL_ERROR }, state: { hll: ha.toBase64() } };
  }
  // Without sketches only bounds are known: at least the larger part, at most the sum.
  return { distinct: { value: Math.max(a.distinct.value, b.distinct.value), exact: false } };
}

function mergeTop(a: TopValue[], b: TopValue[], limit: number): TopValue[] {
  const counts = new Map<string, number>();
  for (const t of [...a, ...b]) counts.set(t.value, (counts.get(t.value) ?? 0) + t.count);
  return [...counts]
    .map(([value, count]) => ({ value, count }))
    .sort((x, y) => y.count - x.count || (x.value < y.value ? -1 : x.value > y.value ? 1 : 0))
    .slice(0, limit);
}

function pick(a: ColumnProfile['min'], b: ColumnProfile['min'], type: ColumnType, wantMax: boolean): ColumnProfile['min'] {
  if (a === null) return b;
  if (b === null) return a;
  let order: number;
  if (typeof a === 'number' && typeof b === 'number') order = a - b;
  else if (typeof a === 'boolean' && typeof b === 'boolean') order = Number(a) - Number(b);
  else if (type === 'date' || type === 'timestamp') {
    const ta = Buffer.from(String(a));
    const tb = Buffer.from(String(b));
    order = parseDate(ta, 0, ta.length) - parseDate(tb, 0, tb.length);
  } else order = Buffer.compare(Buffer.from(String(a)), Buffer.from(String(b)));
  return (wantMax ? order >= 0 : order <= 0) ? a : b;
}

function numericMoments(c: ColumnProfile): { n: number; mean: number; m2: number } {
  const n = c.type === 'integer' || c.type === 'number' ? c.count : 0;
  const mean = c.mean ?? 0;
  const m2 = c.stddev === null ? 0 : c.stddev * c.stddev * (n - 1);
  return { n, mean, m2 };
}

function mergeColumn(a: ColumnProfile, b: ColumnProfile): ColumnProfile {
  const type = mergeType(a.type, b.type);
  const { distinct, state } = mergeDistinct(a, b);
  const topLimit = Math.max(a.top.length, b.top.length, 10);
  const merged: ColumnProfile = {
    name: a.name,
    type,
    count: a.count + b.count,
    nulls: a.nulls + b.nulls,
    distinct,
    min: pick(a.min, b.min, type, false),
    max: pick(a.max, b.max, type, true),
    mean: null,
    stddev: null,
    top: mergeTop(a.state?.top ?? a.top, b.state?.top ?? b.top, topLimit),
    topMethod:
      a.topMethod === 'exact' && b.topMethod === 'exact' && distinct.exact
        ? 'exact'
        : a.topMethod === 'misra-gries-sampled' || b.topMethod === 'misra-gries-sampled'
          ? 'misra-gries-sampled'
          : 'misra-gries',
  };
  if (type === 'integer' || type === 'number') {
    // Chan et al.'s parallel combination of Welford moments.
    const x = numericMoments(a);
    const y = numericMoments(b);
    const n = x.n + y.n;
    if (n > 0) {
      const delta = y.mean - x.mean;
      merged.mean = x.mean + (delta * y.n) / n;
      const m2 = x.m2 + y.m2 + (delta * delta * x.n * y.n) / n;
      merged.stddev = n > 1 ? Math.sqrt(m2 / (n - 1)) : null;
    }
    const histogram = mergeHistograms(a.histogram, b.histogram, merged.min as number, merged.max as number);
    if (histogram) merged.histogram = histogram;
  } else if (type === 'boolean') {
    merged.mean = merged.count ? ((a.mean ?? 0) * a.count + (b.mean ?? 0) * b.count) / merged.count : null;
  }
  if (a.state && b.state) merged.state = { ...state, top: mergeTop(a.state.top, b.state.top, 100) };
  if (merged.topMethod === 'exact') merged.top = merged.top.slice(0, topLimit);
  return merged;
}

/**
 * The profile of a whole from the profiles of two consecutive parts (the second profiled with the
 * first's header). Counts, nulls, extremes, mean, stddev and histograms combine exactly; distinct
 * counts union exactly or by HyperLogLog when both parts were profiled with `mergeable: true` (else
 * only a lower bound is known); top values combine approximately. Line numbers in the second part's
 * errors stay relative to that part; sha256 and etag no longer apply and become null.
 */
export function mergeProfiles(a: Profile, b: Profile): Profile {
  const merged: Profile = {
    ...a,
    bytes: a.bytes + b.bytes,
    etag: null,
    sha256: null,
  };
  if (!a.columns || !b.columns) return merged;
  const byName = new Map(b.columns.map((c) => [c.name, c]));
  const columns = a.columns.map((c) => {
    const other = byName.get(c.name);
    return other ? mergeColumn(c, other) : c;
  });
  const names = new Set(a.columns.map((c) => c.name));
  for (const c of b.columns) if (!names.has(c.name)) columns.push(c);
  const ea = a.errors!;
  const eb = b.errors!;
  merged.rows = (a.rows ?? 0) + (b.rows ?? 0);
  merged.columns = columns;
  merged.columnCount = columns.length;
  merged.errors = {
    raggedRows: ea.raggedRows + eb.raggedRows,
    raggedLines: [...ea.raggedLines, ...eb.raggedLines].slice(0, 10),
    invalidUtf8: ea.invalidUtf8 + eb.invalidUtf8,
    oversizedFields: ea.oversizedFields + eb.oversizedFields,
    samples: [...ea.samples, ...eb.samples].slice(0, 10),
  };
  merged.sample = [...(a.sample ?? []), ...(b.sample ?? [])].slice(0, Math.max(a.sample?.length ?? 0, 5));
  return merged;
}
