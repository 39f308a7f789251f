/** Display helpers: sizes, dates, numbers, the kind of a file from its name. */
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function bytes(n: number): string {
  let i = 0;
  let v = n;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${UNITS[i]}`;
}

export const date = (iso: string | null): string => (iso ? new Date(iso).toLocaleString() : '');

export function num(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString() : v.toPrecision(6).replace(/\.?0+$/, '');
  if (v === null || v === undefined) return '–';
  return String(v);
}

const KINDS: Record<string, string> = { csv: 'CSV', tsv: 'TSV', jsonl: 'JSON Lines', ndjson: 'JSON Lines', json: 'JSON', txt: 'Text', gz: 'Gzip', parquet: 'Parquet', pdf: 'PDF', png: 'Image', jpg: 'Image', jpeg: 'Image' };

export function kindOf(key: string): string {
  const ext = /\.([A-Za-z0-9]+)$/.exec(key)?.[1]?.toLowerCase() ?? '';
  return KINDS[ext] ?? (ext ? ext.toUpperCase() : 'File');
}

/** CSV, TSV and JSON Lines (gzipped too): what `?rows=` reads. */
export const isTabular = (key: string): boolean => /\.(csv|tsv|tab|jsonl|ndjson)(\.gz)?$/i.test(key);
