import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { startLocalService, type BuildHandlers, type LocalService, type LocalServiceOptions } from '../../local/service';
import { buildHandlers, processDeps } from '../../local/handlers';
import { createProcessHandler } from '../../lambda/handlers/process';
import type { CompletedUpload, MultipartSession, UploadedPart, UploadSessionResponse } from '../../lambda/shared/api-types';
import { MiB } from '../../lambda/shared/config';
import { encodeKey } from '../../client/api-client';

export type { MultipartSession };
/** `a b/c é` -> `a%20b/c%20%C3%A9`: each segment encoded, slashes kept (the CLI's own encoder). */
export { encodeKey };

/**
 * Shared by the trust suites: the local service on free loopback ports in a temp folder, raw
 * HTTP (node:http, so paths go out byte for byte: fetch would resolve `..` and `%2e%2e` itself),
 * a snapshot of the raw buckets, and an uploader that goes through the API as a client does.
 */
export const LOOPBACK = '127.0.0.1';

export interface Started {
  service: LocalService;
  dir: string;
  stop(): Promise<void>;
}

/** The real handlers, with the processor's per-record log lines kept out of the test output. */
export const quietHandlers: BuildHandlers = (deps) => ({
  ...buildHandlers(deps),
  process: createProcessHandler({ ...processDeps(deps), log: () => undefined }),
});

export async function startService(options: Partial<LocalServiceOptions> = {}): Promise<Started> {
  const dir = await mkdtemp(join(tmpdir(), 's3fs-trust-'));
  const service = await startLocalService({
    dataDir: dir,
    port: 0,
    s3Port: 0,
    host: LOOPBACK,
    retryAfterSeconds: 0,
    pollIntervalMs: 50,
    buildHandlers: quietHandlers,
    ...options,
    env: { MULTIPART_THRESHOLD_BYTES: String(5 * MiB), ...options.env },
  });
  return {
    service,
    dir,
    stop: async () => {
      await service.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The parsed body when it is JSON, else undefined. */
  json: unknown;
  /** `error.code` of a JSON error body. */
  code: string | undefined;
}

export interface CallOptions {
  token?: string;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string or Buffer as is. */
  body?: unknown;
}

/** One HTTP request with the path sent exactly as given. */
export function call(baseUrl: string, method: string, path: string, options: CallOptions = {}): Promise<Reply> {
  const url = new URL(baseUrl);
  if (url.hostname !== LOOPBACK && url.hostname !== 'localhost') throw new Error(`refusing a non-loopback address: ${baseUrl}`);
  const body =
    options.body === undefined
      ? undefined
      : typeof options.body === 'string' || Buffer.isBuffer(options.body)
        ? Buffer.from(options.body as string | Buffer)
        : Buffer.from(JSON.stringify(options.body));
  const headers: Record<string, string> = {
    ...(body !== undefined && typeof options.body === 'object' && !Buffer.isBuffer(options.body) ? { 'content-type': 'application/json' } : {}),
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...(body !== undefined ? { 'content-length': String(body.length) } : {}),
    ...options.headers,
  };
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text ? (JSON.parse(text) as unknown) : undefined;
        } catch {
          json = undefined;
        }
        const code = (json as { error?: { code?: unknown } } | undefined)?.error?.code;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json, code: typeof code === 'string' ? code : undefined });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Every object in a raw bucket as `key etag size`, sorted: what "unchanged" is compared on. */
export async function rawListing(s3: S3Client, bucket: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  for (let page = 0; page < 1000; page++) {
    const res = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ...(token ? { ContinuationToken: token } : {}) }));
    for (const o of res.Contents ?? []) out.push(`${o.Key} ${o.ETag} ${o.Size}`);
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
    if (!token) break;
  }
  return out.sort();
}

export async function snapshot(service: LocalService): Promise<string[]> {
  const [uploads, results] = await Promise.all([rawListing(service.s3, service.buckets.uploads), rawListing(service.s3, service.buckets.results)]);
  return [...uploads.map((l) => `uploads ${l}`), ...results.map((l) => `results ${l}`)];
}

export const sha256 = (data: Buffer | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** The API as a client uses it, for one user. Every method throws on an unexpected status. */
export class ApiUser {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
  ) {}

  async expect(method: string, path: string, status: number, body?: unknown): Promise<Reply> {
    const res = await call(this.baseUrl, method, path, { token: this.token, ...(body !== undefined ? { body } : {}) });
    if (res.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${res.status} ${res.text.slice(0, 300)}`);
    return res;
  }

  async createUpload(key: string, size: number, contentType: string): Promise<UploadSessionResponse> {
    return (await this.expect('POST', '/uploads', 201, { key, size, contentType })).json as UploadSessionResponse;
  }

  /** Creates an upload that must be a multipart session (size over the threshold). */
  async createMultipart(key: string, size: number, contentType: string): Promise<MultipartSession> {
    const created = await this.createUpload(key, size, contentType);
    if (created.uploadId === null) throw new Error(`POST /uploads ${key} (${size} bytes): expected a multipart session, got a single PUT`);
    return created;
  }

  async signParts(session: MultipartSession, partNumbers: number[]): Promise<Map<number, string>> {
    const res = await this.expect('POST', `/uploads/${session.uploadId}/parts`, 200, { key: session.key, partNumbers });
    return new Map((res.json as { parts: { partNumber: number; url: string }[] }).parts.map((p) => [p.partNumber, p.url]));
  }

  async listParts(session: Pick<MultipartSession, 'uploadId' | 'key'>): Promise<UploadedPart[]> {
    const res = await this.expect('GET', `/uploads/${session.uploadId}?key=${encodeURIComponent(session.key)}`, 200);
    return (res.json as { parts: UploadedPart[] }).parts;
  }

  async complete(session: Pick<MultipartSession, 'uploadId' | 'key'>, parts: { partNumber: number; etag: string }[]): Promise<CompletedUpload> {
    return (await this.expect('POST', `/uploads/${session.uploadId}/complete`, 200, { key: session.key, parts })).json as CompletedUpload;
  }

  /** Uploads `data` through the API (presigned PUT, or multipart over the threshold). */
  async upload(key: string, data: Buffer, contentType = 'application/octet-stream'): Promise<{ multipart: boolean }> {
    const created = await this.createUpload(key, data.length, contentType);
    if (created.uploadId === null) {
      await putPresigned(created.url, data, created.headers ?? {});
      return { multipart: false };
    }
    const session = created;
    const numbers = Array.from({ length: session.partCount }, (_, i) => i + 1);
    const urls = await this.signParts(session, numbers);
    const parts = await Promise.all(
      numbers.map(async (n) => ({
        partNumber: n,
        etag: await putPresigned(urls.get(n)!, data.subarray((n - 1) * session.partSize, n * session.partSize), {}),
      })),
    );
    await this.complete(session, parts);
    return { multipart: true };
  }
}

/** PUT to a presigned S3 URL; returns the ETag. Loopback only. */
export function putPresigned(url: string, data: Buffer, headers: Record<string, string>): Promise<string> {
  const u = new URL(url);
  if (u.hostname !== LOOPBACK && u.hostname !== 'localhost') throw new Error(`refusing a non-loopback address: ${url}`);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, method: 'PUT', path: u.pathname + u.search, headers: { ...headers, 'content-length': String(data.length) }, timeout: 120_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status < 200 || status >= 300) reject(new Error(`PUT ${u.pathname}: ${status} ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`));
          else resolve(String(res.headers.etag ?? ''));
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`PUT ${u.pathname}: timed out`)));
    req.on('error', reject);
    req.end(data);
  });
}

/** Runs `fn` until it returns true, at most `tries` times `intervalMs` apart. */
export async function eventually(fn: () => Promise<boolean>, tries = 100, intervalMs = 50): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await fn()) return true;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return false;
}
