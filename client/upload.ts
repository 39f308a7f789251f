/**
 * The upload core the s3files command and the web console share: one presigned PUT for small
 * sources, otherwise a multipart upload whose parts go straight to S3 through presigned URLs,
 * several at a time. The server picks the part size; this side schedules parts, signs their URLs
 * in batches (again when one expires), retries, and records the upload in a resume store so that a
 * later run continues from the parts S3 already has.
 *
 * What differs between Node and the browser is passed in: where the bytes come from (`ByteSource`:
 * a file handle, or `File.slice()`), and where the resume records live (`ResumeStore`: state files,
 * or localStorage). No Node import here.
 *
 * Checksums (issue #16), when a CRC32 function is passed in: each part's CRC32 is computed from the
 * bytes read to send it (no second pass) and signed into its URL, so S3 refuses other bytes; the
 * whole object's CRC32 is combined from the parts' and checked by S3 at completion; a resumed upload
 * re-reads the parts S3 already has and compares their CRC32s before skipping them, so a source
 * changed in place (same size and mtime) cannot end up as a mixed object.
 */
import {
  ApiError,
  errorFromResponse,
  MAX_PARTS_PER_SIGN_REQUEST,
  MIN_MULTIPART_THRESHOLD_BYTES,
  type ApiClient,
  type FetchFn,
  type MultipartSession,
  type SignedPart,
} from './api-client';
import { combinedCrc32, crc32Base64, type Crc32Fn } from './crc';
import { runPool } from './pool';
import { DEFAULT_RETRY, isRetryableError, withRetry, type RetryOptions } from './retry';

/** The bytes to upload. */
export interface ByteSource {
  /** What the warnings call it (a path, a file name). */
  readonly name: string;
  readonly size: number;
  /** Last modification, in ms since the epoch: a resume record for another version is not used. */
  readonly modifiedMs: number;
  /** Exactly `length` bytes from `offset`; throws if the source ends early. */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Whether the source changed since it was opened (checked before completing), where that can be known. */
  changed?(): Promise<boolean>;
}

/**
 * One interrupted multipart upload, as recorded before its first part is sent. The field names are
 * the ones the s3files state files have always had (`path` is the source's name).
 */
export interface ResumeRecord {
  version: 1;
  apiUrl: string;
  path: string;
  key: string;
  size: number;
  mtimeMs: number;
  uploadId: string;
  partSize: number;
  partCount: number;
  /** The session's checksum algorithm (records written before checksums have none). */
  checksumAlgorithm?: 'CRC32';
}

/** Where resume records live, by an id the caller gives (one per source and key). */
export interface ResumeStore {
  get(id: string): Promise<ResumeRecord | undefined>;
  set(id: string, record: ResumeRecord): Promise<void>;
  delete(id: string): Promise<void>;
}

/** Named apart from lambda/core/upload's `UploadDeps` (the server's side of the same API). */
export interface ClientUploadDeps {
  api: ApiClient;
  /** Used for the presigned PUTs (never carries the bearer token). */
  fetch?: FetchFn;
  retry?: RetryOptions;
  resumeStore: ResumeStore;
  /**
   * CRC32 (zlib's signature) to checksum every upload with; without it, none is sent. Node passes
   * `zlib.crc32` (native); a browser passes client/crc.ts's `crc32` (JavaScript).
   */
  crc32?: Crc32Fn;
  /**
   * Up to this size an upload is surely a single PUT, whose checksum is computed before asking for
   * it (default: the lowest multipart threshold the API allows). Tests of a fake service with a
   * smaller threshold set theirs.
   */
  singlePutBytes?: number;
}

export interface UploadRequest {
  source: ByteSource;
  key: string;
  contentType: string;
  /** The source's resume record id in the store. */
  resumeId: string;
  /** Continue the upload recorded under `resumeId`, if it is still valid. */
  resume?: boolean;
  concurrency?: number;
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
  /** Whether an earlier upload of this source was continued. */
  resumed: boolean;
  /** Part numbers sent by this run, and the ones an earlier run had already stored. */
  partsUploaded: number[];
  partsSkipped: number[];
  /** Parts an earlier run had stored whose bytes no longer match the source, sent again (in partsUploaded too). */
  partsChanged: number[];
  /** The whole object's CRC32 (base64) S3 checked, when the upload was checksummed. */
  checksum?: { algorithm: 'CRC32'; value: string };
}

/** A part's byte range. Named apart from lambda/core/multipart's `PartPlan` (the server's choice of part size). */
export interface PartRange {
  partNumber: number;
  offset: number;
  length: number;
}

/** The byte range of each part, from the size and the part size the server chose. */
export function partRanges(size: number, partSize: number, partCount: number): PartRange[] {
  if (!Number.isSafeInteger(partSize) || partSize <= 0) throw new Error(`Invalid part size ${partSize}`);
  const expected = Math.max(1, Math.ceil(size / partSize));
  if (expected !== partCount) {
    throw new Error(`The server's plan does not add up: ${size} bytes in parts of ${partSize} is ${expected} parts, not ${partCount}`);
  }
  const parts: PartRange[] = [];
  for (let i = 0; i < partCount; i++) {
    const offset = i * partSize;
    parts.push({ partNumber: i + 1, offset, length: Math.min(partSize, size - offset) });
  }
  return parts;
}

/**
 * Presigned part URLs, signed on demand in batches of up to 100 part numbers (in the order parts
 * will be sent), so a 10,000-part upload costs 100 signing calls and no URL sits unused for long.
 */
export class PartUrlSigner {
  private readonly urls = new Map<number, Promise<SignedPart>>();
  private readonly order: number[];
  /** Each part's checksum, once its bytes are read; a checksummed upload signs only those parts. */
  private readonly checksums: Map<number, string> | undefined;

  constructor(
    private readonly sign: (partNumbers: number[], checksums?: ReadonlyMap<number, string>) => Promise<SignedPart[]>,
    partNumbersInOrder: readonly number[],
    private readonly batchSize = MAX_PARTS_PER_SIGN_REQUEST,
    checksummed = false,
  ) {
    this.order = [...partNumbersInOrder];
    this.checksums = checksummed ? new Map() : undefined;
  }

  /**
   * A part's URL (and the headers it signed). A checksummed upload gives the part's checksum, and
   * the batch holds the parts whose checksums are known by then (those being read at the same time).
   */
  url(partNumber: number, checksum?: string): Promise<SignedPart> {
    if (this.checksums) {
      if (checksum === undefined) throw new Error(`Part ${partNumber} needs its checksum to be signed`);
      if (this.checksums.get(partNumber) !== checksum) this.urls.delete(partNumber);
      this.checksums.set(partNumber, checksum);
    }
    const known = this.urls.get(partNumber);
    if (known) return known;
    const start = Math.max(0, this.order.indexOf(partNumber));
    const ready = (n: number) => !this.urls.has(n) && (!this.checksums || this.checksums.has(n));
    const batch = [partNumber, ...this.order.slice(start + 1).filter(ready)].slice(0, this.batchSize);
    const signed = (this.checksums ? this.sign(batch, new Map(batch.map((n) => [n, this.checksums!.get(n)!]))) : this.sign(batch)).then(
      (parts) => new Map(parts.map((p) => [p.partNumber, p])),
    );
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

/** S3 returns the ETag quoted; the API's complete call takes it as S3 gave it. */
function etagOf(res: Response): string {
  const etag = res.headers.get('etag');
  if (!etag) throw new ApiError(502, 'MissingETag', 'S3 did not return an ETag for the part (is ETag exposed by CORS?)');
  return etag;
}

export async function uploadSource(deps: ClientUploadDeps, input: UploadRequest): Promise<UploadResult> {
  const doFetch = deps.fetch ?? fetch;
  const retry = deps.retry ?? DEFAULT_RETRY;
  const { source, resumeId } = input;
  const size = source.size;
  const store = deps.resumeStore;
  const warn = input.onWarning ?? (() => undefined);
  const crc32 = deps.crc32;

  const put = async (url: string, body: Uint8Array, headers: Record<string, string> = {}): Promise<Response> => {
    const res = await doFetch(url, { method: 'PUT', body: body as Uint8Array<ArrayBuffer>, headers, ...(input.signal ? { signal: input.signal } : {}) });
    if (!res.ok) throw await errorFromResponse(res);
    await res.body?.cancel();
    return res;
  };

  // An earlier run of the same source and key, if asked to and the source is unchanged.
  let session: (MultipartSession & { checksumAlgorithm?: 'CRC32' }) | undefined;
  let existing = new Map<number, string>();
  /** Each part's CRC32, as read from the source (checksummed uploads). */
  const crcs = new Map<number, number>();
  const changedParts: number[] = [];
  let resumed = false;
  const previous = await store.get(resumeId);
  if (input.resume && previous) {
    if (previous.size !== size || previous.mtimeMs !== source.modifiedMs) {
      warn(`${source.name} changed since the interrupted upload; starting again`);
      await deps.api.abortUpload(previous.uploadId, previous.key).catch(() => undefined);
    } else if (previous.checksumAlgorithm && !crc32) {
      // Its parts can only be signed with their checksums, which this run was asked not to compute.
      warn(`The interrupted upload of ${source.name} was checksummed and this one is not; starting again`);
      await deps.api.abortUpload(previous.uploadId, previous.key).catch(() => undefined);
    } else {
      try {
        const parts = await withRetry(() => deps.api.listParts(previous.uploadId, previous.key), retry);
        const ranges = partRanges(size, previous.partSize, previous.partCount);
        const kept = parts.filter((part) => ranges[part.partNumber - 1]?.length === part.size); // another size: sent again
        if (previous.checksumAlgorithm === 'CRC32' && crc32) {
          // Size and mtime say nothing of a change in place: compare each part's bytes, read again.
          await runPool(kept, input.concurrency ?? 4, async (part) => {
            const range = ranges[part.partNumber - 1]!;
            const crc = crc32(await source.read(range.offset, range.length));
            if (part.checksum === crc32Base64(crc)) {
              existing.set(part.partNumber, part.etag);
              crcs.set(part.partNumber, crc);
            } else {
              changedParts.push(part.partNumber);
            }
          });
          changedParts.sort((a, b) => a - b);
          if (changedParts.length) warn(`${source.name}: part${changedParts.length > 1 ? 's' : ''} ${changedParts.join(', ')} changed since the interrupted upload sent ${changedParts.length > 1 ? 'them' : 'it'}; sending again`);
        } else {
          for (const part of kept) existing.set(part.partNumber, part.etag);
        }
        session = {
          uploadId: previous.uploadId,
          key: previous.key,
          partSize: previous.partSize,
          partCount: previous.partCount,
          expiresAt: '',
          ...(previous.checksumAlgorithm && crc32 ? { checksumAlgorithm: previous.checksumAlgorithm } : {}),
        };
        resumed = true;
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 404) throw err;
        warn('The interrupted upload no longer exists on the server; starting again');
        existing = new Map();
        crcs.clear();
        changedParts.length = 0;
      }
    }
  } else if (input.resume) {
    warn(`No interrupted upload of ${source.name} to ${input.key} was found; starting a new one`);
  }

  if (!session) {
    const request = { key: input.key, contentType: input.contentType, size };
    // A single PUT signs the value, so its bytes are read first: at once when the size is surely a
    // single PUT, else after the server says so (400 ChecksumValueRequired, nothing created).
    let body: Uint8Array | undefined;
    const withValue = async () => {
      body = await source.read(0, size);
      return withRetry(() => deps.api.createUpload({ ...request, checksum: { algorithm: 'CRC32', value: crc32Base64(crc32!(body!)) } }), retry);
    };
    let created;
    if (!crc32) created = await withRetry(() => deps.api.createUpload(request), retry);
    else if (size <= (deps.singlePutBytes ?? MIN_MULTIPART_THRESHOLD_BYTES)) created = await withValue();
    else {
      try {
        created = await withRetry(() => deps.api.createUpload({ ...request, checksum: { algorithm: 'CRC32' } }), retry);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 'ChecksumValueRequired')) throw err;
        created = await withValue();
      }
    }
    if (created.uploadId === null) {
      body ??= await source.read(0, size);
      input.onProgress?.(0, size);
      const res = await withRetry(() => put(created.url, body!, created.headers), retry);
      input.onProgress?.(size, size);
      const value = created.headers['x-amz-checksum-crc32'];
      return {
        key: created.key,
        etag: res.headers.get('etag') ?? '',
        size,
        multipart: false,
        uploadId: null,
        resumed: false,
        partsUploaded: [],
        partsSkipped: [],
        partsChanged: [],
        ...(value ? { checksum: { algorithm: 'CRC32' as const, value } } : {}),
      };
    }
    if (crc32 && created.checksumAlgorithm !== 'CRC32') throw new Error(`The server did not start a CRC32 upload (checksumAlgorithm ${created.checksumAlgorithm ?? 'none'})`);
    session = created as MultipartSession & { checksumAlgorithm?: 'CRC32' };
    await store.set(resumeId, {
      version: 1,
      apiUrl: deps.api.baseUrl,
      path: source.name,
      key: created.key,
      size,
      mtimeMs: source.modifiedMs,
      uploadId: created.uploadId,
      partSize: created.partSize,
      partCount: created.partCount,
      ...(session.checksumAlgorithm ? { checksumAlgorithm: session.checksumAlgorithm } : {}),
    });
  }

  const { uploadId, key } = session;
  const checksummed = session.checksumAlgorithm === 'CRC32' && crc32 !== undefined;
  const ranges = partRanges(size, session.partSize, session.partCount);
  const missing = ranges.filter((p) => !existing.has(p.partNumber));
  const etags = new Map(existing);
  let bytesDone = ranges.filter((p) => existing.has(p.partNumber)).reduce((sum, p) => sum + p.length, 0);
  input.onProgress?.(bytesDone, size);

  const signer = new PartUrlSigner(
    (numbers, checksums) => withRetry(() => deps.api.signParts(uploadId, key, numbers, checksums), retry),
    missing.map((p) => p.partNumber),
    MAX_PARTS_PER_SIGN_REQUEST,
    checksummed,
  );
  await runPool(missing, input.concurrency ?? 4, async (part) => {
    input.signal?.throwIfAborted();
    const body = await source.read(part.offset, part.length);
    let checksum: string | undefined;
    if (checksummed) {
      const crc = crc32!(body);
      crcs.set(part.partNumber, crc);
      checksum = crc32Base64(crc);
    }
    const res = await withRetry(
      async () => {
        const signed = await signer.url(part.partNumber, checksum);
        try {
          return await put(signed.url, body, signed.headers);
        } catch (err) {
          // A 403 from S3 is most often an expired signature: sign again, and try once more.
          if (err instanceof ApiError && err.status === 403) {
            signer.forget(part.partNumber);
            const again = await signer.url(part.partNumber, checksum);
            return put(again.url, body, again.headers);
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

  if (await source.changed?.()) {
    throw new Error(`${source.name} changed during the upload; run again to upload the new contents`);
  }
  const parts = ranges.map((p) => ({ partNumber: p.partNumber, etag: etags.get(p.partNumber)! }));
  // The whole object's CRC32 from the parts' (each read once), for S3 to check against what it holds.
  const checksum = checksummed ? crc32Base64(combinedCrc32(ranges.map((p) => ({ crc32: crcs.get(p.partNumber)!, length: p.length })))) : undefined;
  let tries = 0;
  const done = await withRetry(
    async () => {
      try {
        return await deps.api.completeUpload(uploadId, key, parts, checksum);
      } catch (err) {
        // Completed already: by an earlier attempt whose answer was lost (or an earlier run), which
        // the server says with 409 UploadAlreadyCompleted, or, once it no longer knows, with 404 on
        // a retry. The object is there if it has our size (and our checksum, when there is one).
        const completed = err instanceof ApiError && (err.code === 'UploadAlreadyCompleted' || (tries > 0 && err.status === 404));
        tries++;
        if (completed) {
          const head = await deps.api.headObject('uploads', key);
          if (head?.size === size && (checksum === undefined || head.checksum?.value === checksum)) return { key, etag: head.etag, size };
        }
        throw err;
      }
    },
    // Another request is completing it (409 UploadCompleting): ask again to learn how that ended.
    { ...retry, isRetryable: (err) => (retry.isRetryable ?? isRetryableError)(err) || (err instanceof ApiError && err.code === 'UploadCompleting') },
  );
  await store.delete(resumeId);
  return {
    key: done.key,
    etag: done.etag,
    size: done.size,
    multipart: true,
    uploadId,
    resumed,
    partsUploaded: missing.map((p) => p.partNumber),
    partsSkipped: [...existing.keys()].sort((a, b) => a - b),
    partsChanged: changedParts,
    ...(checksum !== undefined ? { checksum: { algorithm: 'CRC32' as const, value: checksum } } : {}),
  };
}
