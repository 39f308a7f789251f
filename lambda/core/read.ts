import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { StoredChecksum } from '../shared/api-types';
import { storedChecksumOf } from '../shared/upload-checksums';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Config } from '../shared/config';
import {
  BadRequestError,
  ConflictError,
  errorName,
  isNotFound,
  NotFoundError,
  PayloadTooLargeError,
  RangeNotSatisfiableError,
} from '../shared/errors';
import { resolveBucket, toS3Key, validateKey } from '../shared/keys';
import type { RowsPage } from '../shared/api-types';
import { etagListMatches } from '../shared/etag';
import { fitsLambdaResponse, json, LAMBDA_MAX_RESPONSE_BYTES, proxyResponseBytes, RESPONSE_HEADROOM_BYTES, type ApiResult } from '../shared/http';
import { ContentError, EngineError, RowTooLargeError, UnknownColumnError } from './profile/errors';
import { ROWS_DEADLINE_MS, ROWS_MAX_RESPONSE_BYTES } from './read-limits';

/** The engine's row reader (lambda/core/profile), injected so tests can use a fake. */
export type ReadRowsFn = (
  input: { body: AsyncIterable<Uint8Array>; key: string; contentType?: string; size?: number; etag?: string },
  req: { offset: number; limit: number; columns?: string[]; maxBytes?: number; deadline?: number },
) => Promise<RowsPage>;

export interface ReadDeps {
  s3: S3Client;
  config: Config;
  readRows: ReadRowsFn;
}


export interface ObjectMeta {
  size: number;
  contentType: string;
  etag: string;
  lastModified: string;
  /** What S3 stored, if the object was written with a checksum (issue #16). */
  checksum: StoredChecksum | null;
}

export interface ReadInput {
  userId: string;
  bucket: string;
  key: string;
  download?: boolean;
  /** The Range header as sent; parsed here, against the object's size. */
  range?: string;
  ifNoneMatch?: string;
  rows?: { offset: number; limit: number };
  columns?: string[];
}

/** The query of a read, validated (handlers/inputs.ts). */
export type ReadQuery = Pick<ReadInput, 'rows' | 'columns'> & { download: boolean };

/** A presigned GET the caller is sent to, and what it will get there. */
export interface PresignedGet {
  url: string;
  expiresAt: string;
  object: ObjectMeta;
}

export type ReadResult =
  /**
   * Inline text or a rows page: the proxy response itself, built here because its size as Lambda
   * measures it (serialized, the body escaped again) decides whether it can be sent at all.
   */
  | { kind: 'response'; response: ApiResult }
  | { kind: 'redirect'; target: PresignedGet }
  | { kind: 'notModified'; headers: Record<string, string> };

/** 416 with the `Content-Range: bytes *\/size` that RFC 9110 asks for. */
export class UnsatisfiableRangeError extends RangeNotSatisfiableError {
  constructor(size: number) {
    super('InvalidRange', `The range is outside the object (${size} bytes)`, { 'content-range': `bytes */${size}` });
  }
}

const noSuchKey = () => new NotFoundError('NoSuchKey', 'No object with that key');

function locate(deps: Pick<ReadDeps, 'config'>, input: Pick<ReadInput, 'userId' | 'bucket' | 'key'>) {
  const bucket = resolveBucket(deps.config, input.bucket);
  return { Bucket: bucket.physical, Key: toS3Key(input.userId, validateKey(input.key)) };
}

export async function headObject(deps: Pick<ReadDeps, 's3' | 'config'>, input: Pick<ReadInput, 'userId' | 'bucket' | 'key'>): Promise<ObjectMeta> {
  try {
    // ChecksumMode: S3 returns the stored checksum only when asked (same s3:GetObject grant).
    const out = await deps.s3.send(new HeadObjectCommand({ ...locate(deps, input), ChecksumMode: 'ENABLED' }));
    return {
      size: out.ContentLength ?? 0,
      contentType: out.ContentType ?? 'application/octet-stream',
      etag: out.ETag ?? '',
      lastModified: (out.LastModified ?? new Date(0)).toUTCString(),
      checksum: storedChecksumOf(out),
    };
  } catch (err) {
    if (isNotFound(err)) throw noSuchKey();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// What may be returned inline

const TEXT_APPLICATION_TYPES = new Set([
  'application/json',
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/json-seq',
  'application/csv',
  'application/xml',
  'application/yaml',
  'application/x-yaml',
  'application/toml',
  'application/javascript',
  'application/sql',
]);
const GENERIC_TYPES = new Set(['', 'application/octet-stream', 'binary/octet-stream', 'application/x-www-form-urlencoded']);
const TYPE_BY_EXTENSION: Record<string, string> = {
  csv: 'text/csv',
  tsv: 'text/tab-separated-values',
  json: 'application/json',
  jsonl: 'application/x-ndjson',
  ndjson: 'application/x-ndjson',
  txt: 'text/plain',
  md: 'text/markdown',
};

function mediaTypeOf(contentType: string): { essence: string; charset?: string } {
  const [essence = '', ...params] = contentType.split(';');
  const charset = params
    .map((p) => p.trim().split('='))
    .find(([name]) => name?.trim().toLowerCase() === 'charset')?.[1]
    ?.trim()
    .replace(/^"|"$/g, '')
    .toLowerCase();
  return { essence: essence.trim().toLowerCase(), ...(charset ? { charset } : {}) };
}

/** The content type to serve the object inline with, or undefined when it is not text. */
export function inlineContentType(contentType: string, key: string): string | undefined {
  const { essence, charset } = mediaTypeOf(contentType);
  if (charset && charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') return undefined;
  let type: string | undefined;
  if (essence.startsWith('text/') || TEXT_APPLICATION_TYPES.has(essence) || /^application\/[\w.+-]+\+(json|xml)$/.test(essence)) {
    type = contentType;
  } else if (GENERIC_TYPES.has(essence)) {
    const ext = /\.([A-Za-z0-9]+)$/.exec(key)?.[1]?.toLowerCase();
    type = ext ? TYPE_BY_EXTENSION[ext] : undefined;
  }
  if (!type) return undefined;
  return charset ? type : `${type}; charset=utf-8`;
}

/**
 * Types a browser renders or runs (HTML, SVG and other XML, JavaScript). Served from the API's
 * origin as they are, an uploaded page would run there with the caller's origin: it is served as
 * plain text, not to be sniffed, as an attachment; sent to S3, the presigned URL asks S3 for
 * application/octet-stream and an attachment, so the browser downloads it.
 */
const ACTIVE_TYPES = new Set([
  'text/html',
  'application/xhtml+xml',
  'image/svg+xml',
  'text/xml',
  'application/xml',
  'text/xsl',
  'text/javascript',
  'application/javascript',
  'application/x-javascript',
  'application/ecmascript',
  'text/ecmascript',
]);
/** Extensions a browser may sniff into active content when the stored type says nothing. */
const ACTIVE_EXTENSIONS = new Set(['html', 'htm', 'xhtml', 'xht', 'svg', 'svgz', 'xml', 'xsl', 'xslt', 'js', 'mjs']);

export function isActiveContent(contentType: string, key: string): boolean {
  const { essence } = mediaTypeOf(contentType);
  if (ACTIVE_TYPES.has(essence) || essence.endsWith('+xml')) return true;
  if (!GENERIC_TYPES.has(essence)) return false;
  const ext = /\.([A-Za-z0-9]+)$/.exec(key)?.[1]?.toLowerCase();
  return ext !== undefined && ACTIVE_EXTENSIONS.has(ext);
}

// ---------------------------------------------------------------------------------------------
// Range, rows, conditionals

export interface ByteRange {
  start: number;
  end: number;
}

/** One `bytes=` range, resolved against the object size. Multiple ranges are not supported. */
export function parseRange(header: string, size: number): ByteRange {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) {
    throw new BadRequestError('InvalidRange', 'Range must be a single "bytes=start-end", "bytes=start-" or "bytes=-suffix"');
  }
  const [first, last] = [m[1]!, m[2]!];
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) throw new UnsatisfiableRangeError(size);
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== '' && Number(last) < start) throw new BadRequestError('InvalidRange', 'The range ends before it starts');
  if (start >= size) throw new UnsatisfiableRangeError(size);
  return { start, end };
}



export function contentDisposition(key: string): string {
  const base = key.slice(key.lastIndexOf('/') + 1);
  const encoded = encodeURIComponent(base).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename*=UTF-8''${encoded}`;
}

// ---------------------------------------------------------------------------------------------

async function presignGet(
  deps: Pick<ReadDeps, 's3' | 'config'>,
  where: { Bucket: string; Key: string },
  object: ObjectMeta,
  download: boolean,
  key: string,
): Promise<ReadResult> {
  // Whole seconds, as X-Amz-Date has them, so expiresAt is exactly when S3 stops honouring the URL.
  const signingDate = new Date(Math.floor(Date.now() / 1000) * 1000);
  const expiresIn = deps.config.presignExpiresSeconds;
  const active = isActiveContent(object.contentType, key);
  const url = await getSignedUrl(
    deps.s3,
    new GetObjectCommand({
      ...where,
      ...(download || active ? { ResponseContentDisposition: contentDisposition(key) } : {}),
      ...(active ? { ResponseContentType: 'application/octet-stream' } : {}),
    }),
    { expiresIn, signingDate },
  );
  return { kind: 'redirect', target: { url, expiresAt: new Date(signingDate.getTime() + expiresIn * 1000).toISOString(), object } };
}

/** 413 for a rows page Lambda could not return, saying what to ask for instead. */
function rowsTooLarge(response: ApiResult, req: { offset: number; limit: number }, returned: number): PayloadTooLargeError {
  const bytes = proxyResponseBytes(response);
  // As many rows as would fit if they were all of this page's average size.
  const fewer = Math.max(1, Math.floor((returned * (LAMBDA_MAX_RESPONSE_BYTES - RESPONSE_HEADROOM_BYTES)) / bytes));
  return new PayloadTooLargeError(
    'ResponseTooLarge',
    `These ${returned} rows make a ${bytes}-byte response, over Lambda's limit of ${LAMBDA_MAX_RESPONSE_BYTES} bytes (6 MiB) ` +
      `once JSON-encoded; ask for fewer rows (rows=${req.offset}:${Math.min(fewer, req.limit)}) or fewer columns (columns=a,b)`,
  );
}

/**
 * The engine's errors as HTTP: what the object's content does not allow (a line past the cap, a
 * corrupt gzip stream, rows past the decompression limit) is a 400 naming the limit, a row too big
 * for any page a 413; anything else is not the caller's doing and stays a 500.
 */
function engineErrorToHttp(err: unknown): unknown {
  if (!(err instanceof EngineError)) return err;
  if (err instanceof RowTooLargeError) return new PayloadTooLargeError(err.code, err.message);
  if (err instanceof ContentError || err instanceof UnknownColumnError) return new BadRequestError(err.code, err.message);
  return err;
}

async function readRowsOf(deps: ReadDeps, where: { Bucket: string; Key: string }, input: ReadInput, req: { offset: number; limit: number }): Promise<ApiResult> {
  // Counted from the request's start: the reader answers with what it has before the function times out.
  const deadline = Date.now() + ROWS_DEADLINE_MS;
  const columns = input.columns;
  let out;
  try {
    out = await deps.s3.send(new GetObjectCommand(where));
  } catch (err) {
    if (isNotFound(err)) throw noSuchKey();
    throw err;
  }
  const body = out.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
  if (!body) throw noSuchKey();
  try {
    const rows = await deps.readRows(
      {
        body,
        key: input.key,
        ...(out.ContentType ? { contentType: out.ContentType } : {}),
        ...(out.ContentLength !== undefined ? { size: out.ContentLength } : {}),
        ...(out.ETag ? { etag: out.ETag } : {}),
      },
      { ...req, ...(columns ? { columns } : {}), maxBytes: ROWS_MAX_RESPONSE_BYTES, deadline },
    );
    // Sized as Lambda sizes it: a page of 4.9 MiB of JSON can come to twice that once the proxy
    // response escapes it again, which Lambda refuses and API Gateway turns into a bare 502. The
    // engine keeps within ROWS_MAX_RESPONSE_BYTES by its own count; this is the check of record.
    const response = json(200, rows);
    if (!fitsLambdaResponse(response)) throw rowsTooLarge(response, req, rows.rows.length);
    return response;
  } catch (err) {
    throw engineErrorToHttp(err);
  } finally {
    // The reader may stop after the rows it needs: release the rest of the stream and its socket.
    body.destroy?.();
  }
}

export async function readObject(deps: ReadDeps, input: ReadInput): Promise<ReadResult> {
  const where = locate(deps, input);
  if (input.rows !== undefined) return { kind: 'response', response: await readRowsOf(deps, where, input, input.rows) };

  const meta = await headObject(deps, input);
  if (input.ifNoneMatch && meta.etag && etagListMatches(input.ifNoneMatch, meta.etag)) {
    return { kind: 'notModified', headers: { etag: meta.etag, 'last-modified': meta.lastModified } };
  }
  const range = input.range ? parseRange(input.range, meta.size) : undefined;
  const type = inlineContentType(meta.contentType, input.key);
  if (input.download || !type || meta.size > deps.config.inlineMaxBytes) {
    return presignGet(deps, where, meta, !!input.download, input.key);
  }

  let out;
  try {
    // If-Match: the bytes served are the version HEAD described (size, type, ETag).
    out = await deps.s3.send(
      new GetObjectCommand({ ...where, IfMatch: meta.etag, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }),
    );
  } catch (err) {
    if (isNotFound(err)) throw noSuchKey();
    if (errorName(err) === 'PreconditionFailed') throw new ConflictError('ObjectChanged', 'The object changed while it was read; retry');
    throw err;
  }
  const bytes = out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
  let body: string;
  try {
    body = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    // Not UTF-8 (or a range that cuts a character): let S3 serve the bytes.
    return presignGet(deps, where, meta, false, input.key);
  }
  const active = isActiveContent(meta.contentType, input.key);
  const headers: Record<string, string> = {
    'content-type': active ? 'text/plain; charset=utf-8' : type,
    // Text from a user's object is never to be sniffed into something a browser renders or runs.
    'x-content-type-options': 'nosniff',
    ...(active ? { 'content-disposition': contentDisposition(input.key) } : {}),
    'content-length': String(bytes.byteLength),
    etag: meta.etag,
    'last-modified': meta.lastModified,
    'accept-ranges': 'bytes',
  };
  if (range) headers['content-range'] = `bytes ${range.start}-${range.start + bytes.byteLength - 1}/${meta.size}`;
  const response: ApiResult = { statusCode: range ? 206 : 200, headers, body };
  // Text that JSON escaping blows past Lambda's limit (quotes, backslashes, control characters:
  // up to six bytes each) goes the way big files go, a redirect to S3, so the caller still gets its
  // bytes rather than an error; the handler answers the URL as JSON instead when that was asked.
  if (!fitsLambdaResponse(response)) return presignGet(deps, where, meta, false, input.key);
  return { kind: 'response', response };
}
