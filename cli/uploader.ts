import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ApiError, errorFromResponse, MAX_PARTS_PER_SIGN_REQUEST, type ApiClient, type FetchFn, type MultipartSession } from './api-client';
import { DEFAULT_RETRY, isRetryableError, withRetry, type RetryOptions } from './retry';

/**
 * Uploads a local file through the API: one presigned PUT for small files, otherwise a multipart
 * upload whose parts go straight to S3 through presigned URLs, several at a time. The server picks
 * the part size; this side schedules parts, signs their URLs in batches, retries, and keeps a small
 * state file so that a killed upload can continue (`resume`).
 */
export interface UploadDeps {
  api: ApiClient;
  /** Used for the presigned PUTs (never carries the bearer token). */
  fetch?: FetchFn;
  retry?: RetryOptions;
  /** Where resume state files live. */
  stateDir: string;
}

export interface UploadInput {
  path: string;
  key: string;
  contentType: string;
  concurrency?: number;
  /** Continue the upload recorded in the state file for this file and key, if it is still valid. */
  resume?: boolean;
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
  onWarning?: (message: string) => void;
  /** Called after each part is stored (tests use it to stop a process part-way). */
  onPartUploaded?: (partNumber: number) => void;
  signal?: AbortSignal;
}

export interface UploadResult {
  key: string;
  etag: string;
  size: number;
  multipart: boolean;
  uploadId: string | null;
  /** Whether an earlier upload of this file was continued. */
  resumed: boolean;
  /** Part numbers sent by this run, and the ones an earlier run had already stored. */
  partsUploaded: number[];
  partsSkipped: number[];
}

export interface PartPlan {
  partNumber: number;
  offset: number;
  length: number;
}

/** The byte range of each part, from the size and the part size the server chose. */
export function planParts(size: number, partSize: number, partCount: number): PartPlan[] {
  if (!Number.isSafeInteger(partSize) || partSize <= 0) throw new Error(`Invalid part size ${partSize}`);
  const expected = Math.max(1, Math.ceil(size / partSize));
  if (expected !== partCount) {
    throw new Error(`The server's plan does not add up: ${size} bytes in parts of ${partSize} is ${expected} parts, not ${partCount}`);
  }
  const parts: PartPlan[] = [];
  for (let i = 0; i < partCount; i++) {
    const offset = i * partSize;
    parts.push({ partNumber: i + 1, offset, length: Math.min(partSize, size - offset) });
  }
  return parts;
}

/** Runs `worker` over `items` with at most `concurrency` at a time; the first failure stops the rest. */
export async function runPool<T>(items: readonly T[], concurrency: number, worker: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        await worker(item);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const lanes = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane);
  const results = await Promise.allSettled(lanes);
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}

/**
 * Presigned part URLs, signed on demand in batches of up to 100 part numbers (in the order parts
 * will be sent), so a 10,000-part upload costs 100 signing calls and no URL sits unused for long.
 */
export class PartUrlSigner {
  private readonly urls = new Map<number, Promise<string>>();
  private readonly order: number[];

  constructor(
    private readonly sign: (partNumbers: number[]) => Promise<{ partNumber: number; url: string }[]>,
    partNumbersInOrder: readonly number[],
    private readonly batchSize = MAX_PARTS_PER_SIGN_REQUEST,
  ) {
    this.order = [...partNumbersInOrder];
  }

  url(partNumber: number): Promise<string> {
    const known = this.urls.get(partNumber);
    if (known) return known;
    const start = Math.max(0, this.order.indexOf(partNumber));
    const batch = [partNumber, ...this.order.slice(start + 1).filter((n) => !this.urls.has(n))].slice(0, this.batchSize);
    const signed = this.sign(batch).then((parts) => new Map(parts.map((p) => [p.partNumber, p.url])));
    for (const n of batch) {
      const url = signed.then((m) => {
        const u = m.get(n);
        if (!u) throw new Error(`The server did not sign part ${n}`);
        return u;
      });
      // A failed batch must not poison later calls: forget it so the next call signs again.
      url.catch(() => this.urls.delete(n));
      this.urls.set(n, url);
    }
    return this.urls.get(partNumber)!;
  }

  /** Drops a URL (expired or refused) so the next call signs it again. */
  forget(partNumber: number): void {
    this.urls.delete(partNumber);
  }
}

export interface ResumeState {
  version: 1;
  apiUrl: string;
  path: string;
  key: string;
  size: number;
  mtimeMs: number;
  uploadId: string;
  partSize: number;
  partCount: number;
}

export function stateFileFor(stateDir: string, apiUrl: string, path: string, key: string): string {
  const id = createHash('sha256').update(JSON.stringify([apiUrl, resolve(path), key])).digest('hex').slice(0, 32);
  return join(stateDir, `${id}.json`);
}

async function readState(file: string): Promise<ResumeState | undefined> {
  try {
    const state = JSON.parse(await readFile(file, 'utf8')) as ResumeState;
    return state.version === 1 ? state : undefined;
  } catch {
    return undefined;
  }
}

async function writeState(file: string, state: ResumeState): Promise<void> {
  await mkdir(join(file, '..'), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(state, null, 2));
  await rename(tmp, file);
}

/** S3 returns the ETag quoted; the API's complete call takes it as S3 gave it. */
function etagOf(res: Response): string {
  const etag = res.headers.get('etag');
  if (!etag) throw new ApiError(502, 'MissingETag', 'S3 did not return an ETag for the part (is ETag exposed by CORS?)');
  return etag;
}

async function readRange(handle: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, offset + done);
    if (bytesRead === 0) throw new Error(`The file ended early at byte ${offset + done} (was it changed during the upload?)`);
    done += bytesRead;
  }
  return buffer;
}

export async function uploadFile(deps: UploadDeps, input: UploadInput): Promise<UploadResult> {
  const doFetch = deps.fetch ?? fetch;
  const retry = deps.retry ?? DEFAULT_RETRY;
  const info = await stat(input.path);
  if (!info.isFile()) throw new Error(`${input.path} is not a file`);
  const size = info.size;
  const stateFile = stateFileFor(deps.stateDir, deps.api.baseUrl, input.path, input.key);
  const warn = input.onWarning ?? (() => undefined);

  const put = async (url: string, body: Buffer, headers: Record<string, string> = {}): Promise<Response> => {
    const res = await doFetch(url, { method: 'PUT', body: body as Uint8Array<ArrayBuffer>, headers, ...(input.signal ? { signal: input.signal } : {}) });
    if (!res.ok) throw await errorFromResponse(res);
    await res.body?.cancel();
    return res;
  };

  // An earlier run of the same file and key, if asked to and the file is unchanged.
  let session: MultipartSession | undefined;
  let existing: Map<number, string> = new Map();
  let resumed = false;
  const previous = await readState(stateFile);
  if (input.resume && previous) {
    if (previous.size !== size || previous.mtimeMs !== info.mtimeMs) {
      warn(`${input.path} changed since the interrupted upload; starting again`);
      await deps.api.abortUpload(previous.uploadId, previous.key).catch(() => undefined);
    } else {
      try {
        const parts = await withRetry(() => deps.api.listParts(previous.uploadId, previous.key), retry);
        const plan = planParts(size, previous.partSize, previous.partCount);
        for (const part of parts) {
          // A part of the wrong size (a different plan, a torn write) is sent again.
          if (plan[part.partNumber - 1]?.length === part.size) existing.set(part.partNumber, part.etag);
        }
        session = { uploadId: previous.uploadId, key: previous.key, partSize: previous.partSize, partCount: previous.partCount, expiresAt: '' };
        resumed = true;
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 404) throw err;
        warn('The interrupted upload no longer exists on the server; starting again');
        existing = new Map();
      }
    }
  } else if (input.resume) {
    warn(`No interrupted upload of ${input.path} to ${input.key} was found; starting a new one`);
  }

  if (!session) {
    const created = await withRetry(() => deps.api.createUpload({ key: input.key, contentType: input.contentType, size }), retry);
    if (created.uploadId === null) {
      const body = await readFile(input.path);
      input.onProgress?.(0, size);
      const res = await withRetry(() => put(created.url, body, created.headers), retry);
      input.onProgress?.(size, size);
      return { key: created.key, etag: res.headers.get('etag') ?? '', size, multipart: false, uploadId: null, resumed: false, partsUploaded: [], partsSkipped: [] };
    }
    session = created;
    await writeState(stateFile, {
      version: 1,
      apiUrl: deps.api.baseUrl,
      path: resolve(input.path),
      key: created.key,
      size,
      mtimeMs: info.mtimeMs,
      uploadId: created.uploadId,
      partSize: created.partSize,
      partCount: created.partCount,
    });
  }

  const { uploadId, key } = session;
  const plan = planParts(size, session.partSize, session.partCount);
  const missing = plan.filter((p) => !existing.has(p.partNumber));
  const etags = new Map(existing);
  let bytesDone = plan.filter((p) => existing.has(p.partNumber)).reduce((sum, p) => sum + p.length, 0);
  input.onProgress?.(bytesDone, size);

  const signer = new PartUrlSigner((numbers) => withRetry(() => deps.api.signParts(uploadId, key, numbers), retry), missing.map((p) => p.partNumber));
  const handle = await open(input.path, 'r');
  try {
    await runPool(missing, input.concurrency ?? 4, async (part) => {
      const body = await readRange(handle, part.offset, part.length);
      const res = await withRetry(
        async () => {
          const url = await signer.url(part.partNumber);
          try {
            return await put(url, body);
          } catch (err) {
            // A 403 from S3 is most often an expired signature: sign again, and try once more.
            if (err instanceof ApiError && err.status === 403) {
              signer.forget(part.partNumber);
              return put(await signer.url(part.partNumber), body);
            }
            throw err;
          }
        },
        retry,
      );
      etags.set(part.partNumber, etagOf(res));
      bytesDone += part.length;
      input.onProgress?.(bytesDone, size);
      input.onPartUploaded?.(part.partNumber);
    });
  } finally {
    await handle.close();
  }

  const now = await stat(input.path);
  if (now.size !== size || now.mtimeMs !== info.mtimeMs) {
    throw new Error(`${input.path} changed during the upload; run again to upload the new contents`);
  }
  const parts = plan.map((p) => ({ partNumber: p.partNumber, etag: etags.get(p.partNumber)! }));
  let tries = 0;
  const done = await withRetry(
    async () => {
      try {
        return await deps.api.completeUpload(uploadId, key, parts);
      } catch (err) {
        // Completed already: by an earlier attempt whose answer was lost (or an earlier run), which
        // the server says with 409 UploadAlreadyCompleted, or, once it no longer knows, with 404 on
        // a retry. The object is there if it has our size.
        const completed = err instanceof ApiError && (err.code === 'UploadAlreadyCompleted' || (tries > 0 && err.status === 404));
        tries++;
        if (completed) {
          const head = await deps.api.headObject('uploads', key);
          if (head?.size === size) return { key, etag: head.etag, size };
        }
        throw err;
      }
    },
    // Another request is completing it (409 UploadCompleting): ask again to learn how that ended.
    { ...retry, isRetryable: (err) => (retry.isRetryable ?? isRetryableError)(err) || (err instanceof ApiError && err.code === 'UploadCompleting') },
  );
  await rm(stateFile, { force: true });
  return {
    key: done.key,
    etag: done.etag,
    size: done.size,
    multipart: true,
    uploadId,
    resumed,
    partsUploaded: missing.map((p) => p.partNumber),
    partsSkipped: [...existing.keys()].sort((a, b) => a - b),
  };
}
