/**
 * An in-memory stand-in for the API's upload routes and for S3 behind the presigned URLs, for the
 * upload core's unit tests (client/upload.ts) and the CLI's adapter on it (cli/uploader.ts).
 */
import { ApiError, type ApiClient, type UploadSession } from '../../../client/api-client';

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
  let completingAnswers = options.completingFirst ?? 0;

  const api: ApiClient = {
    baseUrl: API_URL,
    listBuckets: jest.fn(),
    listObjects: jest.fn(),
    listAllObjects: jest.fn(),
    openObject: jest.fn(),
    readJson: jest.fn(),
    async headObject() {
      return completed ? { size: [...stored.values()].reduce((n, b) => n + b.length, 0), etag: '"done-2"' } : undefined;
    },
    deleteObject: jest.fn(),
    readRows: jest.fn(),
    async createUpload(input): Promise<UploadSession> {
      created++;
      if (input.size <= options.threshold) {
        return { uploadId: null, key: input.key, method: 'PUT', url: 'https://s3.test/single', headers: { 'content-type': input.contentType }, expiresAt: '' };
      }
      partCount = Math.ceil(input.size / options.partSize);
      return { uploadId: `up${created}`, key: input.key, partSize: options.partSize, partCount, expiresAt: '' };
    },
    async signParts(uploadId, _key, partNumbers) {
      signCalls.push(partNumbers);
      return partNumbers.map((n) => ({ partNumber: n, url: `https://s3.test/${uploadId}/${n}` }));
    },
    async listParts() {
      return [...stored.entries()].map(([partNumber, body]) => ({ partNumber, etag: `"e${partNumber}"`, size: body.length }));
    },
    async completeUpload(_uploadId, key, parts) {
      if (completingAnswers-- > 0) throw new ApiError(409, 'UploadCompleting', 'Another request is completing this upload');
      if (completed) throw new ApiError(409, 'UploadAlreadyCompleted', 'This upload was already completed by another request');
      completed = parts;
      if (options.loseFirstCompletion) throw new TypeError('fetch failed');
      const size = parts.reduce((sum, p) => sum + stored.get(p.partNumber)!.length, 0);
      return { key, etag: '"done-2"', size };
    },
    async abortUpload(uploadId) {
      aborted.push(uploadId);
    },
  };

  const fetchFn = (async (url: string, init: RequestInit) => {
    const body = Buffer.from(init.body as Uint8Array);
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
    puts.push(partNumber);
    stored.set(partNumber, body);
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
  };
}
