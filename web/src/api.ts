/**
 * The service's API, as the console uses it: the bearer token on every call, one refresh and retry
 * on a 401, and the API's `{"error":{"code","message"}}` turned into an ApiError.
 */
import { ApiError, createApiClient, encodeKey, errorFromResponse, type ApiClient, type ObjectPage, type ObjectUrl, type RowsPage } from '../../client/api-client';
import { PROFILE_SUFFIX } from '../../lambda/shared/api-types';
import { refresh, session } from './auth';
import type { ConsoleConfig } from './config';

// One set of client types and errors, shared with the s3files command (client/).
export { ApiError } from '../../client/api-client';
export type { ObjectInfo, ObjectPage, ObjectUrl, RowsPage } from '../../client/api-client';

let config: ConsoleConfig;
let client: ApiClient | undefined;
export function useApi(c: ConsoleConfig): void {
  config = c;
  client = undefined;
}

/** The ID token, refreshed first if it is about to expire (a long upload outlives a token). */
async function bearer(): Promise<string> {
  const current = session.value;
  if (current && current.expiresAt - Date.now() < 30_000) await refresh(config);
  if (!session.value) throw new ApiError(401, 'SignedOut', 'You are signed out. Sign in again.');
  return session.value.idToken;
}

/** The shared API client (client/api-client.ts), which the upload core drives. */
export function apiClient(): ApiClient {
  client ??= createApiClient({ baseUrl: config.apiUrl, token: bearer });
  return client;
}

/** `/buckets/{bucket}/objects/{key}` with each key segment percent-encoded. */
export function objectPath(bucket: string, key: string): string {
  return `/buckets/${encodeURIComponent(bucket)}/objects/${encodeKey(key)}`;
}

export async function call(path: string, init: RequestInit = {}): Promise<Response> {
  const send = () => {
    const headers = new Headers(init.headers);
    if (session.value) headers.set('authorization', `Bearer ${session.value.idToken}`);
    return fetch(`${config.apiUrl}${path}`, { ...init, headers });
  };
  let res = await send();
  if (res.status === 401 && (await refresh(config))) res = await send();
  if (!res.ok && res.status !== 304) throw await errorFromResponse(res);
  return res;
}

const json = async <T,>(path: string, init?: RequestInit): Promise<T> => (await call(path, init)).json() as Promise<T>;

export const listBuckets = () => json<{ buckets: { name: string; writable: boolean }[] }>('/buckets');

export function listObjects(bucket: string, prefix: string, cursor: string | null, limit: number): Promise<ObjectPage> {
  const q = new URLSearchParams({ prefix, delimiter: '/', limit: String(limit) });
  if (cursor) q.set('cursor', cursor);
  return json<ObjectPage>(`/buckets/${encodeURIComponent(bucket)}/objects?${q}`);
}

export interface ObjectMeta {
  size: number;
  contentType: string;
  lastModified: string | null;
}

export async function headObject(bucket: string, key: string): Promise<ObjectMeta> {
  const res = await call(objectPath(bucket, key), { method: 'HEAD' });
  return {
    size: Number(res.headers.get('content-length') ?? 0),
    contentType: res.headers.get('content-type') ?? '',
    lastModified: res.headers.get('last-modified'),
  };
}

/** The presigned GET (with the attachment disposition), never a redirect a browser cannot follow. */
export const downloadUrl = (bucket: string, key: string) => json<ObjectUrl>(`${objectPath(bucket, key)}?download=1`, { headers: { accept: 'application/json' } });

export async function deleteObject(bucket: string, key: string): Promise<void> {
  await call(objectPath(bucket, key), { method: 'DELETE' });
}

export interface Preview {
  text: string | null;
  truncated: boolean;
}

/** The first `bytes` of an object as text (null when it is not UTF-8), inline or from S3. */
export async function preview(bucket: string, key: string, size: number, bytes: number): Promise<Preview> {
  if (size === 0) return { text: '', truncated: false };
  const range = `bytes=0-${Math.min(size, bytes) - 1}`;
  const res = await call(objectPath(bucket, key), { headers: { range, accept: 'application/json' } });
  let data: ArrayBuffer;
  if (res.status === 206) data = await res.arrayBuffer();
  else {
    // 200 here is the URL answer (binary, or too big to be inline): read the range from S3.
    const located = (await res.json()) as ObjectUrl;
    data = await (await fetch(located.url, { headers: { range } })).arrayBuffer();
  }
  const truncated = size > bytes;
  try {
    // A cut may split the last character; `stream: true` keeps it out rather than failing.
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(data, { stream: truncated }), truncated };
  } catch {
    return { text: null, truncated };
  }
}

export function rows(bucket: string, key: string, offset: number, limit: number, columns: readonly string[] | null): Promise<RowsPage> {
  const q = new URLSearchParams({ rows: `${offset}:${limit}` });
  if (columns) q.set('columns', columns.join(','));
  return json<RowsPage>(`${objectPath(bucket, key)}?${q}`);
}

/** The profile the processor wrote, or null while it does not exist yet. */
export async function profileOf(key: string): Promise<unknown> {
  try {
    const res = await call(objectPath('results', `${key}${PROFILE_SUFFIX}`), { headers: { accept: 'application/json' } });
    const body = (await res.json()) as Record<string, unknown>;
    // A profile over the inline limit comes as its URL.
    if (!('version' in body) && typeof body.url === 'string') return (await fetch(body.url)).json();
    return body;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}
