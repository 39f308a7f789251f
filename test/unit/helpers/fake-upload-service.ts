/**
 * An in-memory stand-in for the API's upload routes and for S3 behind the presigned URLs, for the
 * upload core's unit tests (client/upload.ts) and the CLI's adapter on it (cli/uploader.ts). With
 * checksums it does what the API and S3 do: a single PUT's checksum needs its value, a part's signed
 * x-amz-checksum-crc32 must match its bytes (400 BadDigest), and a completion's must match the
 * CRC32 of the parts (400 BadDigest).
 */
import { crc32 } from 'node:zlib';
import { ApiError, type ApiClient, type UploadSession } from '../../../client/api-client';
import { crc32Base64 } from '../../../client/crc';

const badDigest = () => new Response('<Error><Code>BadDigest</Code><Message>The CRC32 you specified did not match the calculated checksum.</Message></Error>', { status: 400 });

export const API_URL = 'http://api.test';

export function fakeService(options: {
  partSize: number;
  threshold: number;
  failPut?: (partNumber: number, attempt: number) => number | undefined;
  loseFirstCompletion?: boolean;
  /** Answers this many completions with 409 UploadCompleting first, as while another request completes it. */
  completingFirst?: number;
  /** Holds each part PUT until this many are in flight (or no more can come): concurrency shown whatever the machine's speed. */
  holdUntilInFlight?: number;
}) {
  const stored = new Map<number, Buffer>();
  const puts: number[] = [];
  const signCalls: number[][] = [];
  const attempts = new Map<number, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  let created = 0;
  let partCount = 0;
  const aborted: string[] = [];
  let single: { body: Buffer; headers: Record<string, string> } | undefined;
  let completed: { partNumber: number; etag: string }[] | undefined;
  let completedChecksum: string | undefined;
  let sessionAlgorithm: 'CRC32' | undefined;
  /** Each stored part's checksum, when it was sent with one. */
  const partChecksums = new Map<number, string>();
  let completingAnswers = options.completingFirst ?? 0;

  const api: ApiClient = {
    baseUrl: API_URL,
    listBuckets: jest.fn(),
    listObjects: jest.fn(),
    listAllObjects: jest.fn(),
    openObject: jest.fn(),
    readJson: jest.fn(),
    async headObject() {
      if (!completed) return undefined;
      const checksum = completedChecksum ? { checksum: { algorithm: 'CRC32' as const, type: 'FULL_OBJECT' as const, value: completedChecksum } } : {};
      return { size: [...stored.values()].reduce((n, b) => n + b.length, 0), etag: '"done-2"', ...checksum };
    },
    deleteObject: jest.fn(),
    readRows: jest.fn(),
    async createUpload(input): Promise<UploadSession> {
      if (input.size <= options.threshold) {
        if (input.checksum && input.checksum.value === undefined) throw new ApiError(400, 'ChecksumValueRequired', 'checksum.value is required');
        created++;
        const checksum: Record<string, string> = input.checksum?.value !== undefined ? { 'x-amz-checksum-crc32': input.checksum.value } : {};
        return { uploadId: null, key: input.key, method: 'PUT', url: 'https://s3.test/single', headers: { 'content-type': input.contentType, ...checksum }, expiresAt: '' };
      }
      if (input.checksum?.value !== undefined) throw new ApiError(400, 'InvalidChecksum', 'checksum.value is not taken for a multipart upload');
      created++;
      partCount = Math.ceil(input.size / options.partSize);
      sessionAlgorithm = input.checksum ? 'CRC32' : undefined;
      return { uploadId: `up${created}`, key: input.key, partSize: options.partSize, partCount, expiresAt: '', ...(sessionAlgorithm ? { checksumAlgorithm: sessionAlgorithm } : {}) };
    },
    async signParts(uploadId, _key, partNumbers, checksums) {
      signCalls.push(partNumbers);
      if (sessionAlgorithm && partNumbers.some((n) => checksums?.get(n) === undefined)) throw new ApiError(400, 'InvalidChecksum', 'checksums has no CRC32 for a part');
      return partNumbers.map((n) => ({
        partNumber: n,
        url: `https://s3.test/${uploadId}/${n}`,
        ...(sessionAlgorithm ? { headers: { 'x-amz-checksum-crc32': checksums!.get(n)! } } : {}),
      }));
    },
    async listParts() {
      return [...stored.entries()].map(([partNumber, body]) => ({
        partNumber,
        etag: `"e${partNumber}"`,
        size: body.length,
        ...(partChecksums.has(partNumber) ? { checksum: partChecksums.get(partNumber)! } : {}),
      }));
    },
    async completeUpload(_uploadId, key, parts, checksum) {
      if (completingAnswers-- > 0) throw new ApiError(409, 'UploadCompleting', 'Another request is completing this upload');
      if (completed) throw new ApiError(409, 'UploadAlreadyCompleted', 'This upload was already completed by another request');
      if (sessionAlgorithm) {
        const whole = crc32Base64(crc32(Buffer.concat(parts.map((p) => stored.get(p.partNumber)!))));
        if (checksum !== whole) throw new ApiError(400, 'BadDigest', 'checksum does not match the object the uploaded parts make; nothing was completed');
        completedChecksum = checksum;
      }
      completed = parts;
      if (options.loseFirstCompletion) throw new TypeError('fetch failed');
      const size = parts.reduce((sum, p) => sum + stored.get(p.partNumber)!.length, 0);
      return { key, etag: '"done-2"', size, ...(completedChecksum ? { checksum: { algorithm: 'CRC32' as const, value: completedChecksum } } : {}) };
    },
    async abortUpload(uploadId) {
      aborted.push(uploadId);
    },
  };

  const fetchFn = (async (url: string, init: RequestInit) => {
    const body = Buffer.from(init.body as Uint8Array);
    const declared = (init.headers as Record<string, string> | undefined)?.['x-amz-checksum-crc32'];
    if (declared !== undefined && declared !== crc32Base64(crc32(body))) return badDigest();
    if (url === 'https://s3.test/single') {
      single = { body, headers: init.headers as Record<string, string> };
      return new Response(null, { status: 200, headers: { etag: '"single"' } });
    }
    const partNumber = Number(url.split('/').pop());
    const attempt = (attempts.get(partNumber) ?? 0) + 1;
    attempts.set(partNumber, attempt);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setImmediate(r));
    while (options.holdUntilInFlight && inFlight < options.holdUntilInFlight && puts.length + inFlight < partCount) {
      await new Promise((r) => setImmediate(r));
      maxInFlight = Math.max(maxInFlight, inFlight);
    }
    inFlight--;
    const status = options.failPut?.(partNumber, attempt);
    if (status) return new Response(`<Error><Code>Err${status}</Code><Message>failed</Message></Error>`, { status });
    if (sessionAlgorithm && declared === undefined) return new Response('<Error><Code>AccessDenied</Code><Message>signed header missing</Message></Error>', { status: 403 });
    puts.push(partNumber);
    stored.set(partNumber, body);
    if (declared !== undefined) partChecksums.set(partNumber, declared);
    return new Response(null, { status: 200, headers: { etag: `"e${partNumber}"` } });
  }) as unknown as typeof fetch;

  return {
    api,
    fetchFn,
    stored,
    puts,
    signCalls,
    aborted,
    get maxInFlight() {
      return maxInFlight;
    },
    get single() {
      return single;
    },
    get completed() {
      return completed;
    },
    get completedChecksum() {
      return completedChecksum;
    },
  };
}
