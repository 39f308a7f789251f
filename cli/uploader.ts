/**
 * The s3files command's side of the shared upload core (client/upload.ts): a local file as the byte
 * source, and resume records as small state files in a directory, so that `s3files put --resume`
 * continues a killed upload.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { crc32 } from 'node:zlib';
import type { ApiClient, FetchFn } from '../client/api-client';
import type { RetryOptions } from '../client/retry';
import { uploadSource, type ByteSource, type ResumeRecord, type ResumeStore, type UploadRequest, type UploadResult } from '../client/upload';

export type { UploadResult } from '../client/upload';

/** Named apart from lambda/core/upload's `UploadDeps` (the server's side) and the core's `ClientUploadDeps`. */
export interface FileUploadDeps {
  api: ApiClient;
  /** Used for the presigned PUTs (never carries the bearer token). */
  fetch?: FetchFn;
  retry?: RetryOptions;
  /** Where resume state files live. */
  stateDir: string;
  /** CRC32 every part and the whole object, for S3 to check (default true; zlib's native CRC32). */
  checksums?: boolean;
  singlePutBytes?: number;
}

export interface FileUploadInput extends Omit<UploadRequest, 'source' | 'resumeId'> {
  path: string;
}

/** One resume record per API, file and key. */
function resumeIdFor(apiUrl: string, path: string, key: string): string {
  return createHash('sha256').update(JSON.stringify([apiUrl, resolve(path), key])).digest('hex').slice(0, 32);
}

export function stateFileFor(stateDir: string, apiUrl: string, path: string, key: string): string {
  return join(stateDir, `${resumeIdFor(apiUrl, path, key)}.json`);
}

/** Resume records as `<stateDir>/<id>.json`, written whole (temp file, then rename). */
export function fileResumeStore(stateDir: string): ResumeStore {
  const fileOf = (id: string) => join(stateDir, `${id}.json`);
  return {
    async get(id) {
      try {
        const record = JSON.parse(await readFile(fileOf(id), 'utf8')) as ResumeRecord;
        return record.version === 1 ? record : undefined;
      } catch {
        return undefined;
      }
    },
    async set(id, record) {
      await mkdir(stateDir, { recursive: true });
      const tmp = `${fileOf(id)}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(record, null, 2));
      await rename(tmp, fileOf(id));
    },
    async delete(id) {
      await rm(fileOf(id), { force: true });
    },
  };
}

/** A file as a byte source, read through one handle; `close` when done. */
export async function fileByteSource(path: string): Promise<ByteSource & { close(): Promise<void> }> {
  const info = await stat(path);
  if (!info.isFile()) throw new Error(`${path} is not a file`);
  const handle = await open(path, 'r');
  return {
    name: path,
    size: info.size,
    modifiedMs: info.mtimeMs,
    async read(offset, length) {
      const buffer = Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(buffer, done, length - done, offset + done);
        if (bytesRead === 0) throw new Error(`The file ended early at byte ${offset + done} (was it changed during the upload?)`);
        done += bytesRead;
      }
      return buffer;
    },
    async changed() {
      const now = await stat(path);
      return now.size !== info.size || now.mtimeMs !== info.mtimeMs;
    },
    close: () => handle.close(),
  };
}

/** Uploads a local file through the API with the shared core; resume state lives in `deps.stateDir`. */
export async function uploadFile(deps: FileUploadDeps, input: FileUploadInput): Promise<UploadResult> {
  const { path, ...request } = input;
  const source = await fileByteSource(path);
  const resumeId = resumeIdFor(deps.api.baseUrl, path, input.key);
  try {
    return await uploadSource(
      {
        api: deps.api,
        resumeStore: fileResumeStore(deps.stateDir),
        ...(deps.checksums !== false ? { crc32 } : {}),
        ...(deps.singlePutBytes !== undefined ? { singlePutBytes: deps.singlePutBytes } : {}),
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
        ...(deps.retry ? { retry: deps.retry } : {}),
      },
      { ...request, source, resumeId },
    );
  } finally {
    await source.close();
  }
}
