/**
 * The object's bytes as the engine reads them: counted and hashed as stored, gunzipped when they are
 * gzip (within the expansion limits), stopped at a deadline; and the sniffing that decides the format.
 */
import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { asBuffer } from './bytes';
import { CorruptGzipError } from './errors';
import { GZIP_MAX_BYTES, GZIP_MAX_RATIO, GZIP_RATIO_FROM_BYTES } from './limits';
import type { ProfileFormat, Truncation } from './types';

/** The first bytes the format is sniffed from (and a range plan needs). */
export const HEAD_BYTES = 64 * 1024;

/** The object's bytes as read: counted and hashed as stored, decompressed when gzip. */
export interface OpenedSource {
  compression: 'gzip' | null;
  /** The first bytes of the content (decompressed), for sniffing; also the start of `content`. */
  head: Buffer;
  /** All of the content, head included, up to a limit. Breaking out of a `for await` over it closes the body. */
  content: AsyncIterable<Buffer>;
  bytes(): number;
  sha256(): string;
  /** Why the content ended before the object did (a gzip limit, the deadline), or null. */
  stopped(): Truncation | null;
  /** Stops reading (and decompressing) without reading the rest: for a caller that will not iterate. */
  close(): Promise<void>;
}

export interface SourceLimits {
  /** Epoch milliseconds: the content ends at the first chunk read after it. */
  deadline?: number;
  /** Content before the expansion ratio is checked (default GZIP_RATIO_FROM_BYTES; tests use less). */
  gzipRatioFromBytes?: number;
}

/** What the content generators share: bytes read as stored and as content, and why they stopped. */
interface Progress {
  stored: number;
  content: number;
  stop: Truncation | null;
}

async function* tap(body: AsyncIterable<Uint8Array>, hash: Hash, progress: Progress): AsyncGenerator<Buffer> {
  for await (const chunk of body) {
    const buf = asBuffer(chunk);
    progress.stored += buf.length;
    hash.update(buf);
    yield buf;
  }
}

async function* prepend(head: Buffer[], rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  try {
    for (const chunk of head) yield chunk;
    for (;;) {
      const next = await rest.next();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await rest.return?.();
  }
}

/**
 * zlib's own errors carry a Z_ code (Z_DATA_ERROR, Z_BUF_ERROR); the body's errors keep theirs.
 * Not `instanceof Error`: zlib makes its errors in Node's own realm, which a VM context (jest) is not.
 */
function isZlibError(err: unknown): err is Error {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof err === 'object' && err !== null && typeof code === 'string' && code.startsWith('Z_');
}

/**
 * Gunzips, within the limits: past GZIP_RATIO_FROM_BYTES of content, no more than GZIP_MAX_RATIO
 * times the stored bytes read so far (a bomb stops within a chunk of the line, not after it has
 * filled the disk or the deadline), and never past GZIP_MAX_BYTES. A zlib error (corrupt data, a
 * stream cut short) becomes CorruptGzipError: the content's fault, not a reason to retry.
 */
async function* gunzip(source: AsyncIterable<Buffer>, progress: Progress, ratioFrom: number): AsyncGenerator<Buffer> {
  const input = Readable.from(source);
  const inflater = createGunzip({ chunkSize: 64 * 1024 });
  input.on('error', (err) => inflater.destroy(err));
  input.pipe(inflater);
  let out = 0;
  try {
    for await (const chunk of inflater as AsyncIterable<Buffer>) {
      if (out + chunk.length > GZIP_MAX_BYTES) {
        const room = GZIP_MAX_BYTES - out;
        if (room > 0) yield chunk.subarray(0, room);
        progress.stop = { reason: 'gzip-size', limit: GZIP_MAX_BYTES, bytesRead: progress.stored, contentBytes: out + Math.max(0, room) };
        return;
      }
      if (out + chunk.length > ratioFrom && out + chunk.length > GZIP_MAX_RATIO * progress.stored) {
        progress.stop = { reason: 'gzip-expansion', limit: GZIP_MAX_RATIO, bytesRead: progress.stored, contentBytes: out };
        return;
      }
      out += chunk.length;
      yield chunk;
    }
  } catch (err) {
    if (isZlibError(err)) throw new CorruptGzipError(err.message);
    throw err;
  } finally {
    input.destroy();
    inflater.destroy();
  }
}

/** Counts the content, and ends it at the first chunk after the deadline. */
async function* guard(content: AsyncIterable<Buffer>, progress: Progress, deadline: number | undefined): AsyncGenerator<Buffer> {
  for await (const chunk of content) {
    if (deadline !== undefined && Date.now() >= deadline) {
      progress.stop = { reason: 'deadline', bytesRead: progress.stored, contentBytes: progress.content };
      return;
    }
    progress.content += chunk.length;
    yield chunk;
  }
}

/** Reads chunks until at least `min` bytes (or the end); returns them and the iterator to go on with. */
async function peek(iterable: AsyncIterable<Buffer>, min: number): Promise<{ chunks: Buffer[]; rest: AsyncIterator<Buffer> }> {
  const rest = iterable[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let total = 0;
  while (total < min) {
    const next = await rest.next();
    if (next.done) break;
    chunks.push(next.value);
    total += next.value.length;
  }
  return { chunks, rest };
}

export async function openSource(body: AsyncIterable<Uint8Array>, limits: SourceLimits = {}): Promise<OpenedSource> {
  const hash = createHash('sha256');
  const progress: Progress = { stored: 0, content: 0, stop: null };
  const raw = await peek(tap(body, hash, progress), 2);
  const first = raw.chunks.length === 1 ? raw.chunks[0]! : Buffer.concat(raw.chunks);
  const gzip = first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b;
  const stored = prepend(raw.chunks, raw.rest);
  const decoded = await peek(guard(gzip ? gunzip(stored, progress, limits.gzipRatioFromBytes ?? GZIP_RATIO_FROM_BYTES) : stored, progress, limits.deadline), HEAD_BYTES);
  return {
    compression: gzip ? 'gzip' : null,
    head: Buffer.concat(decoded.chunks),
    content: prepend(decoded.chunks, decoded.rest),
    bytes: () => progress.stored,
    sha256: () => hash.copy().digest('hex'),
    stopped: () => progress.stop,
    close: async () => {
      await decoded.rest.return?.();
    },
  };
}

/** Drains what is left of the content, so that bytes and sha256 cover the whole object. */
export async function drain(content: AsyncIterable<Buffer>): Promise<void> {
  for await (const chunk of content) void chunk;
}

export interface DetectedFormat {
  format: ProfileFormat;
  /** The field delimiter, for delimited formats. */
  delimiter: string | null;
}

const CANDIDATES = [',', '\t', ';', '|'];

/**
 * The delimiter whose count per line (outside quotes) is most often the same and non-zero, with its
 * score: the share of lines that have the first line's count (plus a tie-break by that count).
 */
function sniffDelimiter(head: Buffer): { delimiter: string; score: number } | null {
  const counts = CANDIDATES.map(() => [] as number[]);
  let current = CANDIDATES.map(() => 0);
  let quoted = false;
  const codes = CANDIDATES.map((c) => c.charCodeAt(0));
  let lines = 0;
  for (let i = 0; i < head.length && lines < 100; i++) {
    const c = head[i];
    if (c === 34) quoted = !quoted;
    else if (!quoted && (c === 10 || c === 13)) {
      if (c === 13 && head[i + 1] === 10) i++;
      current.forEach((n, k) => counts[k]!.push(n));
      current = CANDIDATES.map(() => 0);
      lines++;
    } else if (!quoted) {
      const k = codes.indexOf(c!);
      if (k >= 0) current[k]!++;
    }
  }
  if (lines === 0 || current.some((n) => n > 0)) current.forEach((n, k) => counts[k]!.push(n)); // a last line without a break
  let best: { delimiter: string; score: number } | null = null;
  counts.forEach((perLine, k) => {
    const first = perLine[0] ?? 0;
    if (first === 0) return;
    const score = perLine.filter((n) => n === first).length / perLine.length + first / 1e6;
    if (score > (best?.score ?? 0)) best = { delimiter: CANDIDATES[k]!, score };
  });
  return best;
}

function looksBinary(head: Buffer): boolean {
  let control = 0;
  const n = Math.min(head.length, 8192);
  for (let i = 0; i < n; i++) {
    const c = head[i]!;
    if (c === 0) return true;
    if (c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12 && c !== 27) control++;
  }
  return control > n / 100;
}

function looksLikeJsonLines(head: Buffer): boolean {
  const text = head.toString('utf8').replace(/^\uFEFF/, '').trimStart();
  if (!text.startsWith('{')) return false;
  const line = text.split('\n', 1)[0]!;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

function labelFor(delimiter: string): ProfileFormat {
  return delimiter === ',' ? 'csv' : delimiter === '\t' ? 'tsv' : 'delimited';
}

/** The format, from the key's extension (after `.gz`), the content type, then the first bytes. */
export function detectFormat(key: string, contentType: string | undefined, head: Buffer): DetectedFormat {
  if (head.length > 0 && looksBinary(head)) return { format: 'binary', delimiter: null };
  const name = key.toLowerCase().replace(/\.gz$/, '');
  const ext = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : '';
  const type = (contentType ?? '').toLowerCase().split(';')[0]!.trim();
  if (ext === 'jsonl' || ext === 'ndjson' || type === 'application/x-ndjson' || type === 'application/jsonl' || type === 'application/x-jsonlines') {
    return { format: 'jsonl', delimiter: null };
  }
  if (ext === 'tsv' || ext === 'tab' || type === 'text/tab-separated-values') return { format: 'tsv', delimiter: '\t' };
  const sniffed = sniffDelimiter(head);
  if (ext === 'csv' || type === 'text/csv') {
    const delimiter = sniffed?.delimiter ?? ',';
    return { format: labelFor(delimiter), delimiter };
  }
  if (looksLikeJsonLines(head)) return { format: 'jsonl', delimiter: null };
  // Without a name or type that says delimited, ask for the same count on at least 90% of lines.
  if (sniffed && sniffed.score >= 0.9 && /[\r\n]/.test(head.toString('latin1', 0, Math.min(head.length, HEAD_BYTES)).trimEnd())) {
    return { format: labelFor(sniffed.delimiter), delimiter: sniffed.delimiter };
  }
  return { format: 'text', delimiter: null };
}
