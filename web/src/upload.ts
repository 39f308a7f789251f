/**
 * Uploads from the console, on the upload core the s3files command uses (client/upload.ts): a
 * browser `File` is the byte source, localStorage the resume store. A file dropped (or picked)
 * again after a reload continues from the parts S3 already has. The queue lives at module scope,
 * so uploads go on while the user browses elsewhere in the console.
 */
import { signal } from '@preact/signals';
import { ApiError } from '../../client/api-client';
import { crc32 } from '../../client/crc';
import { uploadSource, type ByteSource, type ResumeRecord, type ResumeStore } from '../../client/upload';
import { apiClient } from './api';

export type UploadState = 'queued' | 'uploading' | 'done' | 'failed' | 'cancelled';

export interface UploadItem {
  readonly id: number;
  readonly file: File;
  readonly key: string;
  state: UploadState;
  bytesDone: number;
  /** Bytes already in S3 when this run started (a resumed upload): not counted in the speed. */
  bytesAtStart: number;
  startedAt: number;
  /** Bytes per second, once something was sent. */
  speed: number | null;
  /** What went wrong, or what the core warned about. */
  note: string | null;
  resumed: boolean;
  controller: AbortController | null;
}

/** Every upload of this page, newest last; a new array on each change (the signal's value). */
export const uploads = signal<readonly UploadItem[]>([]);
/** Files uploaded at once; each sends up to PART_CONCURRENCY parts at a time. */
const FILE_CONCURRENCY = 2;
const PART_CONCURRENCY = 4;
const STORE_PREFIX = 's3fs.upload:';

const listeners = new Set<(item: UploadItem) => void>();
/** Told of each finished upload (the listing reloads). */
export function onUploaded(fn: (item: UploadItem) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function update(item: UploadItem, change: Partial<UploadItem>): void {
  Object.assign(item, change);
  uploads.value = [...uploads.value];
}

/** A `File` read a part at a time (`slice` reads nothing until asked). */
export function fileSource(file: File, name: string): ByteSource {
  return {
    name,
    size: file.size,
    modifiedMs: file.lastModified,
    async read(offset, length) {
      const bytes = new Uint8Array(await file.slice(offset, offset + length).arrayBuffer());
      if (bytes.length !== length) throw new Error(`${name} ended early at byte ${offset + bytes.length}`);
      return bytes;
    },
  };
}

/** Resume records in localStorage: they outlive a reload, and the tab. */
export const localResumeStore: ResumeStore = {
  async get(id) {
    try {
      const record = JSON.parse(localStorage.getItem(STORE_PREFIX + id) ?? 'null') as ResumeRecord | null;
      return record?.version === 1 ? record : undefined;
    } catch {
      return undefined;
    }
  },
  async set(id, record) {
    localStorage.setItem(STORE_PREFIX + id, JSON.stringify(record));
  },
  async delete(id) {
    localStorage.removeItem(STORE_PREFIX + id);
  },
};

/** The same file (name, size, last modified) to the same key through the same API: one record. */
const resumeIdOf = (item: UploadItem): string => JSON.stringify([apiClient().baseUrl, item.file.name, item.file.size, item.file.lastModified, item.key]);

let nextId = 1;

/** Queues files; `path` is where each goes under `prefix` (a folder drop keeps its folders). */
export function enqueue(prefix: string, files: readonly { file: File; path: string }[]): void {
  const added = files.map(
    ({ file, path }): UploadItem => ({
      id: nextId++,
      file,
      // NFC: the API refuses other forms, and macOS may give file names in NFD.
      key: (prefix + path).normalize('NFC'),
      state: 'queued',
      bytesDone: 0,
      bytesAtStart: 0,
      startedAt: 0,
      speed: null,
      note: null,
      resumed: false,
      controller: null,
    }),
  );
  uploads.value = [...uploads.value, ...added];
  pump();
}

function pump(): void {
  const all = uploads.value;
  let running = all.filter((u) => u.state === 'uploading').length;
  for (const item of all) {
    if (running >= FILE_CONCURRENCY) break;
    if (item.state !== 'queued') continue;
    running++;
    void run(item);
  }
}

async function run(item: UploadItem): Promise<void> {
  const controller = new AbortController();
  const resumeId = resumeIdOf(item);
  update(item, { state: 'uploading', controller, note: null, speed: null, startedAt: 0 });
  try {
    const result = await uploadSource(
      { api: apiClient(), resumeStore: localResumeStore, crc32 },
      {
        source: fileSource(item.file, item.key),
        key: item.key,
        contentType: item.file.type || 'application/octet-stream',
        resumeId,
        resume: (await localResumeStore.get(resumeId)) !== undefined,
        concurrency: PART_CONCURRENCY,
        signal: controller.signal,
        onWarning: (message) => update(item, { note: message }),
        onProgress: (done) => {
          const now = performance.now();
          if (!item.startedAt) return update(item, { bytesDone: done, bytesAtStart: done, startedAt: now });
          const seconds = (now - item.startedAt) / 1000;
          update(item, { bytesDone: done, speed: seconds > 0 ? (done - item.bytesAtStart) / seconds : null });
        },
      },
    );
    update(item, { state: 'done', bytesDone: item.file.size, resumed: result.resumed, controller: null });
    for (const fn of listeners) fn(item);
  } catch (err) {
    if (controller.signal.aborted) {
      update(item, { state: 'cancelled', controller: null });
      // Cancelled for good: the parts already in S3 are dropped, and the record with them.
      const record = await localResumeStore.get(resumeId);
      if (record) {
        await apiClient().abortUpload(record.uploadId, record.key).catch(() => undefined);
        await localResumeStore.delete(resumeId);
      }
    } else {
      const message = err instanceof ApiError ? `${err.message} (${err.code})` : err instanceof Error ? err.message : String(err);
      update(item, { state: 'failed', note: message, controller: null });
    }
  } finally {
    pump();
  }
}

export function cancel(item: UploadItem): void {
  if (item.state === 'queued') update(item, { state: 'cancelled' });
  else item.controller?.abort();
}

/** Again, from the parts S3 already has: only the failed ones are sent. */
export function retry(item: UploadItem): void {
  update(item, { state: 'queued', note: null });
  pump();
}

/** Seconds left at the current speed, or null when it cannot be told yet. */
export function secondsLeft(item: UploadItem): number | null {
  return item.speed ? (item.file.size - item.bytesDone) / item.speed : null;
}

/**
 * The files of a drop, folders walked: each with its path inside the drop (`reports/2024/a.csv`).
 * The items must be taken during the drop event (the list is emptied after it), so this reads
 * them synchronously before its first await.
 */
export function filesOfDrop(data: DataTransfer): Promise<{ file: File; path: string }[]> {
  const entries: (FileSystemEntry | File)[] = [];
  for (const item of Array.from(data.items)) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.() ?? item.getAsFile();
    if (entry) entries.push(entry);
  }
  return (async () => {
    const out: { file: File; path: string }[] = [];
    for (const entry of entries) await walk(entry, out);
    return out;
  })();
}

async function walk(entry: FileSystemEntry | File, out: { file: File; path: string }[]): Promise<void> {
  if (entry instanceof File) {
    out.push({ file: entry, path: entry.name });
  } else if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ file, path: entry.fullPath.replace(/^\/+/, '') });
  } else if (entry.isDirectory) {
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    // readEntries gives a folder's entries a batch at a time, then an empty batch.
    for (;;) {
      const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
      if (batch.length === 0) break;
      for (const child of batch) await walk(child, out);
    }
  }
}
