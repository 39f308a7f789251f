/**
 * A small client for the S3 File Service HTTP API (contract v1), shared by the s3files command and
 * the web console. Everything it needs is passed in (fetch, base URL, token), so tests can hand in
 * a fake fetch and the CLI and the browser their real one. No Node import: the console bundles it.
 */
import type {
  BucketInfo,
  CompletedUpload,
  ObjectInfo,
  ObjectPage,
  RowsPage,
  SignedPart,
  StoredChecksum,
  UploadedPart,
  UploadSessionResponse as UploadSession,
} from '../lambda/shared/api-types';
import type { UploadChecksumAlgorithm } from '../lambda/shared/upload-checksums';
export { MAX_PARTS_PER_SIGN_REQUEST, MIN_MULTIPART_THRESHOLD_BYTES } from '../lambda/shared/api-types';
import { partsDigestText } from '../lambda/shared/parts-digest-text';

export type FetchFn = typeof fetch;

export interface ApiClientOptions {
  baseUrl: string;
  /** The bearer token, or a function giving it before each request (a stored login, refreshed as it nears expiry). */
  token: string | (() => Promise<string>);
  fetch?: FetchFn;
}

// The response bodies are the server's own types (contract v1), so the two cannot drift.
export type {
  BucketInfo,
  CompletedUpload,
  MultipartSession,
  SignedPart,
  StoredChecksum,
  ObjectInfo,
  ObjectPage,
  ObjectUrl,
  RowsPage,
  SinglePutSession,
  UploadedPart,
  UploadSessionResponse as UploadSession,
} from '../lambda/shared/api-types';

/** An error response from the API (or a response that is not the API's JSON at all). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Encodes an object key for the path: each segment with encodeURIComponent, `/` kept. */
export function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

export async function errorFromResponse(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (body.error && typeof body.error.code === 'string') {
      return new ApiError(res.status, body.error.code, String(body.error.message ?? ''));
    }
  } catch {
    // not JSON: fall through
  }
  // S3 (behind a presigned URL) answers in XML: <Error><Code>…</Code><Message>…</Message></Error>
  const s3Code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
  if (s3Code) return new ApiError(res.status, s3Code, /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? s3Code);
  const snippet = text.trim().slice(0, 200);
  return new ApiError(res.status, `Http${res.status}`, snippet || res.statusText || `HTTP ${res.status}`);
}

export interface ApiClient {
  readonly baseUrl: string;
  listBuckets(): Promise<BucketInfo[]>;
  listObjects(bucket: string, options?: { prefix?: string; delimiter?: string; limit?: number; cursor?: string }): Promise<ObjectPage>;
  /** Every page of a listing, following `nextCursor`. */
  listAllObjects(bucket: string, options?: { prefix?: string; delimiter?: string }): Promise<{ objects: ObjectInfo[]; prefixes: string[] }>;
  /**
   * Opens an object's body. Follows the API's 307 to the presigned URL itself (without the bearer
   * token, which S3 would refuse next to a signature). `download` asks for a redirect always.
   */
  openObject(bucket: string, key: string, options?: { download?: boolean; signal?: AbortSignal }): Promise<Response>;
  readJson<T>(bucket: string, key: string): Promise<T>;
  /** Size, ETag and stored checksum of an object, or undefined when there is none. */
  headObject(bucket: string, key: string): Promise<{ size: number; etag: string; checksum?: StoredChecksum } | undefined>;
  deleteObject(key: string): Promise<void>;
  readRows(bucket: string, key: string, options: { offset: number; limit: number; columns?: string[] }): Promise<RowsPage>;
  createUpload(input: { key: string; contentType: string; size: number; checksum?: { algorithm: UploadChecksumAlgorithm; value?: string } }): Promise<UploadSession>;
  /** `checksums` (base64 by part number) when the session has an algorithm: each URL then signs its part's. */
  signParts(uploadId: string, key: string, partNumbers: number[], checksums?: ReadonlyMap<number, string>): Promise<SignedPart[]>;
  listParts(uploadId: string, key: string): Promise<UploadedPart[]>;
  /**
   * Completes from the parts the server lists, pinned to `parts` by their `partsSha256`: a request
   * of a hundred bytes whether the upload has 2 parts or 10,000 (their list would be 700 KB).
   */
  completeUpload(uploadId: string, key: string, parts: { partNumber: number; etag: string }[], checksum?: string): Promise<CompletedUpload & { etag: string }>;
  abortUpload(uploadId: string, key: string): Promise<void>;
}

/** The server's `partsSha256` (lambda/shared/parts-digest.ts), with WebCrypto, which Node and browsers both have. */
export async function partsSha256(parts: readonly { partNumber: number; etag: string }[]): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(partsDigestText(parts)));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

const STORED_ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;

/** The checksum S3 stored, from the `x-amz-checksum-*` headers the API's HEAD passes on. */
export function storedChecksumOf(headers: Headers): StoredChecksum | undefined {
  for (const algorithm of STORED_ALGORITHMS) {
    const value = headers.get(`x-amz-checksum-${algorithm.toLowerCase()}`);
    if (value) {
      const type = headers.get('x-amz-checksum-type') === 'COMPOSITE' || /-\d+$/.test(value) ? 'COMPOSITE' : 'FULL_OBJECT';
      return { algorithm, type, value };
    }
  }
  return undefined;
}

export function createApiClient(options: ApiClientOptions): ApiClient {
  const doFetch = options.fetch ?? fetch;
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const token = options.token;
  const bearer = typeof token === 'string' ? async () => token : token;

  async function call(method: string, path: string, body?: unknown, init: RequestInit & { accept?: string } = {}): Promise<Response> {
    const { accept = 'application/json', ...rest } = init;
    const headers: Record<string, string> = { authorization: `Bearer ${await bearer()}`, accept };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await doFetch(baseUrl + path, {
      ...rest,
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return res;
  }

  async function callJson<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await call(method, path, body);
    if (!res.ok) throw await errorFromResponse(res);
    return (await res.json()) as T;
  }

  async function callEmpty(method: string, path: string): Promise<void> {
    const res = await call(method, path);
    if (!res.ok) throw await errorFromResponse(res);
    await res.body?.cancel();
  }

  const objectPath = (bucket: string, key: string) => `/buckets/${encodeURIComponent(bucket)}/objects/${encodeKey(key)}`;
  const uploadPath = (uploadId: string) => `/uploads/${encodeURIComponent(uploadId)}`;

  const client: ApiClient = {
    baseUrl,
    async listBuckets() {
      return (await callJson<{ buckets: BucketInfo[] }>('GET', '/buckets')).buckets;
    },
    async listObjects(bucket, opts = {}) {
      const query = new URLSearchParams();
      if (opts.prefix) query.set('prefix', opts.prefix);
      if (opts.delimiter) query.set('delimiter', opts.delimiter);
      if (opts.limit) query.set('limit', String(opts.limit));
      if (opts.cursor) query.set('cursor', opts.cursor);
      const qs = query.toString();
      return callJson<ObjectPage>('GET', `/buckets/${encodeURIComponent(bucket)}/objects${qs ? `?${qs}` : ''}`);
    },
    async listAllObjects(bucket, opts = {}) {
      const objects: ObjectInfo[] = [];
      const prefixes: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listObjects(bucket, { ...opts, limit: 1000, ...(cursor ? { cursor } : {}) });
        objects.push(...page.objects);
        prefixes.push(...page.prefixes);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return { objects, prefixes };
    },
    async openObject(bucket, key, opts = {}) {
      const path = objectPath(bucket, key) + (opts.download ? '?download=1' : '');
      // The object itself: with Accept: application/json the API answers its URL as JSON where it
      // would redirect, and that JSON would be taken for the object's bytes.
      const res = await call('GET', path, undefined, { accept: '*/*', redirect: 'manual', ...(opts.signal ? { signal: opts.signal } : {}) });
      if (res.status >= 300 && res.status < 400) {
        const location = res.headers.get('location');
        await res.body?.cancel();
        if (!location) throw new ApiError(res.status, 'MissingLocation', 'The API redirected without a Location header');
        const target = await doFetch(new URL(location, baseUrl + '/').toString(), opts.signal ? { signal: opts.signal } : {});
        if (!target.ok) throw await errorFromResponse(target);
        return target;
      }
      if (!res.ok) throw await errorFromResponse(res);
      return res;
    },
    async readJson<T>(bucket: string, key: string) {
      const res = await client.openObject(bucket, key);
      return JSON.parse(await res.text()) as T;
    },
    async headObject(bucket, key) {
      const res = await call('HEAD', objectPath(bucket, key));
      if (res.status === 404) return undefined;
      if (!res.ok) throw new ApiError(res.status, `Http${res.status}`, `HEAD ${key} failed with ${res.status}`);
      const checksum = storedChecksumOf(res.headers);
      return { size: Number(res.headers.get('content-length') ?? -1), etag: res.headers.get('etag') ?? '', ...(checksum ? { checksum } : {}) };
    },
    async deleteObject(key) {
      await callEmpty('DELETE', objectPath('uploads', key));
    },
    async readRows(bucket, key, opts) {
      const query = new URLSearchParams({ rows: `${opts.offset}:${opts.limit}` });
      if (opts.columns?.length) query.set('columns', opts.columns.join(','));
      return callJson<RowsPage>('GET', `${objectPath(bucket, key)}?${query}`);
    },
    async createUpload(input) {
      return callJson<UploadSession>('POST', '/uploads', input);
    },
    async signParts(uploadId, key, partNumbers, checksums) {
      const body = { key, partNumbers, ...(checksums ? { checksums: Object.fromEntries(partNumbers.map((n) => [String(n), checksums.get(n)])) } : {}) };
      return (await callJson<{ parts: SignedPart[] }>('POST', `${uploadPath(uploadId)}/parts`, body)).parts;
    },
    async listParts(uploadId, key) {
      return (await callJson<{ parts: UploadedPart[] }>('GET', `${uploadPath(uploadId)}?${new URLSearchParams({ key })}`)).parts;
    },
    async completeUpload(uploadId, key, parts, checksum) {
      return callJson('POST', `${uploadPath(uploadId)}/complete`, { key, partsSha256: await partsSha256(parts), ...(checksum !== undefined ? { checksum } : {}) });
    },
    async abortUpload(uploadId, key) {
      await callEmpty('DELETE', `${uploadPath(uploadId)}?${new URLSearchParams({ key })}`);
    },
  };
  return client;
}
