/**
 * One-time upgrade of a data folder written by s3rver, the embedded server local mode used before
 * its own: s3rver kept `<dir>/<bucket>/<key path>._S3rver_object` with `._S3rver_metadata.json` and
 * `._S3rver_object.md5` beside it. Each such object is copied into the store with its ETag, type and
 * user metadata (no events: its profile was made when it was uploaded), then the old bucket folder
 * is moved to `<dir>/s3rver-imported/`, so nothing a user uploaded is lost by upgrading.
 */
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { STORED_HEADERS, type ObjectStore } from './store';

const OBJECT_SUFFIX = '._S3rver_object';
/** Folders of the current store: never an s3rver bucket. */
const STORE_FOLDERS = new Set(['buckets', 'tmp', 's3rver-imported']);

async function* objectFiles(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== '._S3rver_uploads') yield* objectFiles(path);
    } else if (entry.name.endsWith(OBJECT_SUFFIX)) yield path;
  }
}

async function readOptional(path: string): Promise<string | undefined> {
  return readFile(path, 'utf8').catch(() => undefined);
}

/** Imports every s3rver bucket folder under `dir`; returns how many objects were imported. */
export async function importS3rverData(dir: string, store: ObjectStore, log: (line: string) => void): Promise<number> {
  const folders = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory() && !STORE_FOLDERS.has(e.name));
  let imported = 0;
  for (const folder of folders) {
    const bucketDir = join(dir, folder.name);
    if (!store.hasBucket(folder.name)) await store.createBucket(folder.name);
    for await (const file of objectFiles(bucketDir)) {
      const key = relative(bucketDir, file).slice(0, -OBJECT_SUFFIX.length).split(sep).join('/');
      const base = file.slice(0, -OBJECT_SUFFIX.length);
      const stored = JSON.parse((await readOptional(`${base}._S3rver_metadata.json`)) ?? '{}') as Record<string, string>;
      const headers: Record<string, string> = {};
      const metadata: Record<string, string> = {};
      for (const [name, value] of Object.entries(stored)) {
        if ((STORED_HEADERS as readonly string[]).includes(name)) headers[name] = value;
        else if (name.startsWith('x-amz-meta-')) metadata[name.slice('x-amz-meta-'.length)] = value;
      }
      const blob = await store.writeBlob(createReadStream(file));
      const etag = (await readOptional(`${file}.md5`))?.trim() || blob.md5.toString('hex');
      await store.commit(folder.name, key, blob, { etag, headers, metadata });
      imported++;
    }
    await mkdir(join(dir, 's3rver-imported'), { recursive: true });
    await rename(bucketDir, join(dir, 's3rver-imported', folder.name));
  }
  if (imported) log(`imported ${imported} objects from s3rver's data folder (the old files are in ${join(dir, 's3rver-imported')})`);
  return imported;
}
