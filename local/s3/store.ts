/**
 * The embedded S3's storage on local disk, independent of file-name limits: an object's metadata
 * lives in `objects/<xx>/<sha256 of its key>.json` (the key itself is inside), its bytes in a blob
 * with a random name, so any key S3 accepts (1,024 bytes of UTF-8, any segment length, any
 * character) is stored. Writes stream to a temporary file and become visible by an atomic rename
 * of the metadata, so readers see the old object or the new one, never a part. Each bucket keeps
 * its keys in memory in UTF-8 binary order (S3's listing order), rebuilt from the metadata files
 * at start.
 *
 * ```
 * <dir>/tmp/                                 writes in progress (emptied at start)
 * <dir>/buckets/<bucket>/bucket.json         creation date, CORS rules
 * <dir>/buckets/<bucket>/objects/<xx>/<h>.json
 * <dir>/buckets/<bucket>/blobs/<uuid>        object bytes (a multipart object's parts are its blobs)
 * <dir>/buckets/<bucket>/uploads/<id>/upload.json, <part>.json, <part>.bin
 * ```
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CorsRule } from './cors';
import type { ChecksumAlgorithm, ChecksumType } from './checksums';
import { lowerBound, type IndexedKey } from './listing';
import { S3Error } from './xml';
import { readJsonFile } from '../json-file';

/** Response headers stored with an object and returned on GET/HEAD. */
export const STORED_HEADERS = ['content-type', 'content-encoding', 'content-disposition', 'content-language', 'cache-control', 'expires'] as const;

export interface ObjectMeta {
  key: string;
  size: number;
  /** Bare ETag (no quotes): the MD5 of the bytes, or `<md5 of part MD5s>-<parts>` for multipart. */
  etag: string;
  /** ISO 8601. */
  lastModified: string;
  /** `content-type` and the other STORED_HEADERS that were given. */
  headers: Record<string, string>;
  /** User metadata (`x-amz-meta-<name>`), names lower-case without the prefix. */
  metadata: Record<string, string>;
  /** The checksum the object was written with, if any (a composite value ends in `-<parts>`). */
  checksum?: StoredChecksum;
  /**
   * The blobs holding the bytes, in order: one for a PUT or a copy, one per part for a completed
   * multipart upload (its parts become the object without being copied, as in S3).
   */
  blobs: BlobRef[];
  /** The multipart upload that made this object, if one did: a repeated completion of it is answered with this object. */
  uploadId?: string;
}

export interface StoredChecksum {
  algorithm: ChecksumAlgorithm;
  type: ChecksumType;
  /** Base64, as S3 returns it. */
  value: string;
}

export interface BlobRef {
  name: string;
  size: number;
}

/** An object opened for reading: its metadata, and its blobs open in order. */
export interface OpenedObject {
  meta: ObjectMeta;
  files: FileHandle[];
}

export interface UploadMeta {
  uploadId: string;
  key: string;
  initiated: string;
  headers: Record<string, string>;
  metadata: Record<string, string>;
  /** `x-amz-checksum-algorithm` and `x-amz-checksum-type` of the CreateMultipartUpload, if given. */
  checksum?: { algorithm: ChecksumAlgorithm; type: ChecksumType };
}

export interface PartMeta {
  partNumber: number;
  etag: string;
  size: number;
  lastModified: string;
  /** The part's checksum (base64), when it was sent with one. */
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
}

/** What a streamed write produced: a blob in tmp/, not yet part of any object. */
export interface WrittenBlob {
  path: string;
  size: number;
  md5: Buffer;
}

interface Bucket {
  name: string;
  created: string;
  cors: CorsRule[];
  keys: IndexedKey[];
  objects: Map<string, ObjectMeta>;
}

const noSuchBucket = (name: string) => new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: name });
const noSuchUpload = (id: string) =>
  new S3Error(404, 'NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { UploadId: id });

/** Sequential execution per name: check-then-write on one key is atomic, as S3 makes it. */
class Locks {
  private readonly tails = new Map<string, Promise<unknown>>();
  async run<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(name) ?? Promise.resolve();
    const current = previous.then(fn, fn);
    this.tails.set(name, current);
    try {
      return await current;
    } finally {
      if (this.tails.get(name) === current) this.tails.delete(name);
    }
  }
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

async function writeJsonAtomically(path: string, tmpDir: string, value: unknown): Promise<void> {
  const tmp = join(tmpDir, `${randomUUID()}.json`);
  await writeFile(tmp, JSON.stringify(value));
  await rename(tmp, path);
}


export class ObjectStore {
  private readonly buckets = new Map<string, Bucket>();
  private readonly locks = new Locks();
  private readonly tmp: string;

  private constructor(private readonly dir: string) {
    this.tmp = join(dir, 'tmp');
  }

  /** Opens (or creates) a store, rebuilds every bucket's key index and drops unfinished writes. */
  static async open(dir: string): Promise<ObjectStore> {
    const store = new ObjectStore(dir);
    await rm(store.tmp, { recursive: true, force: true });
    await mkdir(store.tmp, { recursive: true });
    await mkdir(join(dir, 'buckets'), { recursive: true });
    for (const name of await readdir(join(dir, 'buckets'))) await store.load(name);
    return store;
  }

  private bucketDir(name: string): string {
    return join(this.dir, 'buckets', name);
  }

  private async load(name: string): Promise<void> {
    const dir = this.bucketDir(name);
    const config = await readJsonFile<{ created: string; cors?: CorsRule[] }>(join(dir, 'bucket.json'));
    if (!config) return;
    const bucket: Bucket = { name, created: config.created, cors: config.cors ?? [], keys: [], objects: new Map() };
    const referenced = new Set<string>();
    for (const shard of await readdir(join(dir, 'objects')).catch(() => [] as string[])) {
      for (const file of await readdir(join(dir, 'objects', shard))) {
        const meta = await readJsonFile<ObjectMeta & { blob?: string }>(join(dir, 'objects', shard, file));
        if (!meta) continue;
        // The first version of this store kept one blob per object.
        if (!meta.blobs && meta.blob) meta.blobs = [{ name: meta.blob, size: meta.size }];
        delete meta.blob;
        bucket.objects.set(meta.key, meta);
        bucket.keys.push({ key: meta.key, bytes: Buffer.from(meta.key, 'utf8') });
        for (const b of meta.blobs) referenced.add(b.name);
      }
    }
    bucket.keys.sort((a, b) => Buffer.compare(a.bytes, b.bytes));
    // Blobs whose object was replaced or deleted while the server stopped half-way.
    for (const blob of await readdir(join(dir, 'blobs')).catch(() => [] as string[])) {
      if (!referenced.has(blob)) await rm(join(dir, 'blobs', blob), { force: true });
    }
    this.buckets.set(name, bucket);
  }

  // ---------------------------------------------------------------------------------------------
  // Buckets

  listBuckets(): { name: string; created: string }[] {
    return [...this.buckets.values()].map(({ name, created }) => ({ name, created })).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  hasBucket(name: string): boolean {
    return this.buckets.has(name);
  }

  private bucket(name: string): Bucket {
    const bucket = this.buckets.get(name);
    if (!bucket) throw noSuchBucket(name);
    return bucket;
  }

  async createBucket(name: string): Promise<void> {
    if (this.buckets.has(name)) {
      throw new S3Error(409, 'BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', { BucketName: name });
    }
    const dir = this.bucketDir(name);
    for (const sub of ['objects', 'blobs', 'uploads']) await mkdir(join(dir, sub), { recursive: true });
    const created = new Date().toISOString();
    await writeJsonAtomically(join(dir, 'bucket.json'), this.tmp, { created, cors: [] });
    this.buckets.set(name, { name, created, cors: [], keys: [], objects: new Map() });
  }

  async deleteBucket(name: string): Promise<void> {
    const bucket = this.bucket(name);
    const uploads = await readdir(join(this.bucketDir(name), 'uploads'));
    if (bucket.keys.length > 0 || uploads.length > 0) {
      throw new S3Error(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty', { BucketName: name });
    }
    this.buckets.delete(name);
    await rm(this.bucketDir(name), { recursive: true, force: true });
  }

  cors(name: string): CorsRule[] {
    return this.bucket(name).cors;
  }

  async setCors(name: string, rules: CorsRule[]): Promise<void> {
    const bucket = this.bucket(name);
    await writeJsonAtomically(join(this.bucketDir(name), 'bucket.json'), this.tmp, { created: bucket.created, cors: rules });
    bucket.cors = rules;
  }

  /** The bucket's keys in UTF-8 binary order (do not modify). */
  keys(name: string): readonly IndexedKey[] {
    return this.bucket(name).keys;
  }

  // ---------------------------------------------------------------------------------------------
  // Objects

  head(bucket: string, key: string): ObjectMeta | undefined {
    return this.bucket(bucket).objects.get(key);
  }

  /**
   * The object's current metadata with its blobs already open, so a concurrent overwrite or delete
   * cannot pull the bytes away between the two (an open file outlives an unlink). Close it with
   * `closeObject`, or read it to the end with `readObject`.
   */
  async openObject(bucket: string, key: string): Promise<OpenedObject | undefined> {
    for (;;) {
      const meta = this.head(bucket, key);
      if (!meta) return undefined;
      const files: FileHandle[] = [];
      try {
        for (const b of meta.blobs) files.push(await open(join(this.bucketDir(bucket), 'blobs', b.name), 'r'));
        return { meta, files };
      } catch (err) {
        await Promise.all(files.map((f) => f.close()));
        // Replaced between the two steps: read the new version.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || this.head(bucket, key) === meta) throw err;
      }
    }
  }

  async closeObject(opened: OpenedObject): Promise<void> {
    await Promise.all(opened.files.map((f) => f.close()));
  }

  /** Bytes `start`..`end` (inclusive) of an opened object, across its blobs; closes it when done. */
  readObject(opened: OpenedObject, start = 0, end = opened.meta.size - 1): Readable {
    const { meta, files } = opened;
    async function* bytes(): AsyncGenerator<Buffer> {
      try {
        let offset = 0;
        for (const [i, blob] of meta.blobs.entries()) {
          const [from, to] = [Math.max(start, offset), Math.min(end, offset + blob.size - 1)];
          if (from <= to) {
            for await (const chunk of files[i]!.createReadStream({ start: from - offset, end: to - offset, autoClose: false })) yield chunk as Buffer;
          }
          offset += blob.size;
        }
      } finally {
        await Promise.all(files.map((f) => f.close()));
      }
    }
    return Readable.from(bytes(), { objectMode: false });
  }

  /**
   * Streams a body into a new blob in tmp/, hashing it (MD5, the ETag) on the way; memory stays flat
   * whatever the size. `through` are transforms the bytes pass first (payload verification).
   */
  async writeBlob(source: Readable, through: readonly Transform[] = []): Promise<WrittenBlob> {
    const path = join(this.tmp, randomUUID());
    const md5 = createHash('md5');
    let size = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        md5.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline([source, ...through, tap, createWriteStream(path)]);
    } catch (err) {
      await rm(path, { force: true });
      throw err;
    }
    return { path, size, md5: md5.digest() };
  }

  async discard(blob: WrittenBlob): Promise<void> {
    await rm(blob.path, { force: true });
  }

  /**
   * Makes a written blob the object `key`: under the key's lock, `check` sees the current object
   * (and may throw, e.g. a failed If-Match), then the metadata is renamed into place and the old
   * bytes are released. The blob is discarded when anything fails.
   */
  async commit(
    bucket: string,
    key: string,
    blob: WrittenBlob,
    fields: Pick<ObjectMeta, 'etag' | 'headers' | 'metadata' | 'checksum'>,
    check: (existing: ObjectMeta | undefined) => void = () => undefined,
  ): Promise<ObjectMeta> {
    try {
      return await this.commitFiles(bucket, key, [blob], fields, check);
    } finally {
      await rm(blob.path, { force: true });
    }
  }

  /** `commit` for files already on this disk, moved (renamed, never copied) into the object in order. */
  private async commitFiles(
    bucket: string,
    key: string,
    sources: readonly { path: string; size: number }[],
    fields: Pick<ObjectMeta, 'etag' | 'headers' | 'metadata' | 'checksum' | 'uploadId'>,
    check: (existing: ObjectMeta | undefined) => void,
  ): Promise<ObjectMeta> {
    const b = this.bucket(bucket);
    return this.locks.run(`${bucket}\n${key}`, async () => {
      if (!this.buckets.has(bucket)) throw noSuchBucket(bucket);
      const existing = b.objects.get(key);
      check(existing);
      const blobs: BlobRef[] = [];
      for (const source of sources) {
        const name = randomUUID();
        await rename(source.path, join(this.bucketDir(bucket), 'blobs', name));
        blobs.push({ name, size: source.size });
      }
      const size = blobs.reduce((n, x) => n + x.size, 0);
      const meta: ObjectMeta = {
        key,
        size,
        etag: fields.etag,
        lastModified: new Date().toISOString(),
        headers: fields.headers,
        metadata: fields.metadata,
        ...(fields.checksum ? { checksum: fields.checksum } : {}),
        blobs,
        ...(fields.uploadId !== undefined ? { uploadId: fields.uploadId } : {}),
      };
      const metaPath = this.metaPath(bucket, key);
      await mkdir(join(metaPath, '..'), { recursive: true });
      await writeJsonAtomically(metaPath, this.tmp, meta);
      this.index(b, meta);
      if (existing) await this.removeBlobs(bucket, existing);
      return meta;
    });
  }

  private async removeBlobs(bucket: string, meta: ObjectMeta): Promise<void> {
    for (const b of meta.blobs) await rm(join(this.bucketDir(bucket), 'blobs', b.name), { force: true });
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    const b = this.bucket(bucket);
    await this.locks.run(`${bucket}\n${key}`, async () => {
      const existing = b.objects.get(key);
      if (!existing) return;
      await rm(this.metaPath(bucket, key), { force: true });
      b.objects.delete(key);
      const bytes = Buffer.from(key, 'utf8');
      const i = lowerBound(b.keys, bytes);
      if (b.keys[i]?.key === key) b.keys.splice(i, 1);
      await this.removeBlobs(bucket, existing);
    });
  }

  private metaPath(bucket: string, key: string): string {
    const h = sha256(key);
    return join(this.bucketDir(bucket), 'objects', h.slice(0, 2), `${h}.json`);
  }

  private index(b: Bucket, meta: ObjectMeta): void {
    if (!b.objects.has(meta.key)) {
      const bytes = Buffer.from(meta.key, 'utf8');
      b.keys.splice(lowerBound(b.keys, bytes), 0, { key: meta.key, bytes });
    }
    b.objects.set(meta.key, meta);
  }

  // ---------------------------------------------------------------------------------------------
  // Multipart uploads

  private uploadDir(bucket: string, uploadId: string): string {
    return join(this.bucketDir(bucket), 'uploads', uploadId);
  }

  async createUpload(bucket: string, key: string, fields: Pick<UploadMeta, 'headers' | 'metadata' | 'checksum'>): Promise<UploadMeta> {
    this.bucket(bucket);
    const upload: UploadMeta = { uploadId: randomBytes(24).toString('base64url'), key, initiated: new Date().toISOString(), ...fields };
    await mkdir(this.uploadDir(bucket, upload.uploadId), { recursive: true });
    await writeJsonAtomically(join(this.uploadDir(bucket, upload.uploadId), 'upload.json'), this.tmp, upload);
    return upload;
  }

  /** The upload, if it exists for that key (an id of another key is as unknown as a made-up one). */
  async upload(bucket: string, uploadId: string, key: string): Promise<UploadMeta> {
    this.bucket(bucket);
    const upload = /^[A-Za-z0-9_-]{16,64}$/.test(uploadId) ? await readJsonFile<UploadMeta>(join(this.uploadDir(bucket, uploadId), 'upload.json')) : undefined;
    if (!upload || upload.key !== key) throw noSuchUpload(uploadId);
    return upload;
  }

  async listUploads(bucket: string): Promise<UploadMeta[]> {
    const uploads: UploadMeta[] = [];
    for (const id of await readdir(join(this.bucketDir(bucket), 'uploads'))) {
      const upload = await readJsonFile<UploadMeta>(join(this.uploadDir(bucket, id), 'upload.json'));
      if (upload) uploads.push(upload);
    }
    return uploads;
  }

  /** Stores a part (replacing one with the same number); refused when the upload was aborted or completed meanwhile. */
  async putPart(bucket: string, uploadId: string, key: string, partNumber: number, blob: WrittenBlob, checksum?: PartMeta['checksum']): Promise<PartMeta> {
    try {
      return await this.locks.run(`upload\n${bucket}\n${uploadId}`, async () => {
        await this.upload(bucket, uploadId, key);
        const dir = this.uploadDir(bucket, uploadId);
        const part: PartMeta = { partNumber, etag: blob.md5.toString('hex'), size: blob.size, lastModified: new Date().toISOString(), ...(checksum ? { checksum } : {}) };
        await rename(blob.path, join(dir, `${partNumber}.bin`));
        await writeJsonAtomically(join(dir, `${partNumber}.json`), this.tmp, part);
        return part;
      });
    } finally {
      await rm(blob.path, { force: true });
    }
  }

  async listParts(bucket: string, uploadId: string, key: string): Promise<PartMeta[]> {
    await this.upload(bucket, uploadId, key);
    return this.readParts(bucket, uploadId);
  }

  private async readParts(bucket: string, uploadId: string): Promise<PartMeta[]> {
    const dir = this.uploadDir(bucket, uploadId);
    const parts: PartMeta[] = [];
    for (const file of await readdir(dir)) {
      if (!/^\d+\.json$/.test(file)) continue;
      const part = await readJsonFile<PartMeta>(join(dir, file));
      if (part) parts.push(part);
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  /**
   * The object `key` if the upload `uploadId` made it and it has not been replaced since: S3 answers
   * a repeated CompleteMultipartUpload of such an upload with that object (moto does the same), where
   * an upload that was aborted, or whose object was overwritten, is NoSuchUpload.
   */
  completedBy(bucket: string, key: string, uploadId: string): ObjectMeta | undefined {
    const current = this.head(bucket, key);
    return current?.uploadId === uploadId ? current : undefined;
  }

  /**
   * Makes the chosen parts the object and ends the upload, under the upload's lock so no part can
   * change meanwhile. The part files become the object's blobs by rename: completing costs the same
   * for 5 MiB as for 5 TiB, as in S3. `check` as for `commit`. A completion that finds the upload
   * already completed into the current object answers that object (`replayed`), writing nothing.
   */
  async completeUpload(
    bucket: string,
    uploadId: string,
    key: string,
    /** Picks the parts (and says the ETag and checksum) from those stored; throws to refuse. */
    choose: (stored: PartMeta[], upload: UploadMeta) => { parts: readonly PartMeta[]; etag: string; checksum?: StoredChecksum },
    check: (existing: ObjectMeta | undefined) => void,
  ): Promise<{ meta: ObjectMeta; replayed: boolean }> {
    return this.locks.run(`upload\n${bucket}\n${uploadId}`, async () => {
      let upload: UploadMeta;
      try {
        upload = await this.upload(bucket, uploadId, key);
      } catch (err) {
        const done = this.completedBy(bucket, key, uploadId);
        if (done) return { meta: done, replayed: true };
        throw err;
      }
      const { parts, etag, checksum } = choose(await this.readParts(bucket, uploadId), upload);
      const dir = this.uploadDir(bucket, uploadId);
      const sources = parts.map((p) => ({ path: join(dir, `${p.partNumber}.bin`), size: p.size }));
      const meta = await this.commitFiles(bucket, key, sources, { etag, headers: upload.headers, metadata: upload.metadata, uploadId, ...(checksum ? { checksum } : {}) }, check);
      await rm(dir, { recursive: true, force: true });
      return { meta, replayed: false };
    });
  }

  async abortUpload(bucket: string, uploadId: string, key: string): Promise<void> {
    await this.locks.run(`upload\n${bucket}\n${uploadId}`, async () => {
      await this.upload(bucket, uploadId, key);
      await rm(this.uploadDir(bucket, uploadId), { recursive: true, force: true });
    });
  }
}
