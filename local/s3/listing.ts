/**
 * S3's listing semantics over a bucket's keys, as pure functions: keys in UTF-8 binary order,
 * `prefix`, `delimiter` (common prefixes count as one entry each and are returned once),
 * `max-keys`, `start-after`, and continuation that resumes after the last entry returned, be it a
 * key or a common prefix. The store keeps the keys sorted; nothing here touches the disk.
 */

/** One key of a bucket, with its UTF-8 bytes (the sort order). */
export interface IndexedKey {
  key: string;
  bytes: Buffer;
}

/** First index whose key is >= `bytes` (or > with `exclusive`), by binary search. */
export function lowerBound(keys: readonly IndexedKey[], bytes: Buffer, exclusive = false): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const cmp = Buffer.compare(keys[mid]!.bytes, bytes);
    if (cmp < 0 || (exclusive && cmp === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The smallest byte string greater than every string that starts with `prefix`, or undefined when
 * there is none (a prefix of only 0xFF bytes, which UTF-8 never produces).
 */
export function prefixEnd(prefix: Buffer): Buffer | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! < 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1));
      end[i]!++;
      return end;
    }
  }
  return undefined;
}

export interface ListRequest {
  prefix: string;
  delimiter: string;
  maxKeys: number;
  /** Return only entries after this key or common prefix (start-after, marker, continuation). */
  after?: string;
}

export type ListEntry = { kind: 'key'; key: string } | { kind: 'prefix'; prefix: string };

export interface ListPage {
  entries: ListEntry[];
  /** True when more entries follow the last one returned. */
  truncated: boolean;
  /** The last entry returned (a key or a common prefix): where the next page starts after. */
  last?: string;
}

/**
 * One page of a listing. A common prefix is reported in place of every key under it; when `after`
 * is itself a common prefix of this listing, the whole group is skipped (S3 never repeats it).
 */
export function listPage(keys: readonly IndexedKey[], request: ListRequest): ListPage {
  const prefixBytes = Buffer.from(request.prefix, 'utf8');
  const end = prefixEnd(prefixBytes);
  const stop = request.prefix === '' || !end ? keys.length : lowerBound(keys, end);
  let i = lowerBound(keys, prefixBytes);
  if (request.after !== undefined && request.after !== '') {
    const afterBytes = Buffer.from(request.after, 'utf8');
    // A common prefix of this listing (the delimiter's first occurrence after the prefix ends it):
    // resume after every key it grouped.
    const isGroup =
      request.delimiter !== '' &&
      request.after.startsWith(request.prefix) &&
      request.after.indexOf(request.delimiter, request.prefix.length) === request.after.length - request.delimiter.length;
    const groupEnd = isGroup ? prefixEnd(afterBytes) : undefined;
    i = Math.max(i, groupEnd ? lowerBound(keys, groupEnd) : lowerBound(keys, afterBytes, true));
  }
  const entries: ListEntry[] = [];
  let last: string | undefined;
  while (i < stop) {
    if (entries.length >= request.maxKeys) return { entries, truncated: true, ...(last !== undefined ? { last } : {}) };
    const { key } = keys[i]!;
    const cut = request.delimiter ? key.indexOf(request.delimiter, request.prefix.length) : -1;
    if (cut >= 0) {
      const common = key.slice(0, cut + request.delimiter.length);
      entries.push({ kind: 'prefix', prefix: common });
      last = common;
      const groupEnd = prefixEnd(Buffer.from(common, 'utf8'));
      i = groupEnd ? lowerBound(keys, groupEnd) : stop;
    } else {
      entries.push({ kind: 'key', key });
      last = key;
      i++;
    }
  }
  return { entries, truncated: false, ...(last !== undefined ? { last } : {}) };
}
