import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError, type ApiClient, type UploadSession } from '../../../cli/api-client';
import { PartUrlSigner, planParts, runPool, stateFileFor, uploadFile } from '../../../cli/uploader';
import type { RetryOptions } from '../../../cli/retry';

const NO_WAIT: RetryOptions = { retries: 3, baseDelayMs: 1, maxDelayMs: 1, sleep: async () => undefined };
const API_URL = 'http://api.test';

/** An in-memory stand-in for the API's upload routes and for S3 behind the presigned URLs. */
function fakeService(options: {
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

describe('planParts', () => {
  it('splits a file into parts of the server-chosen size with a shorter last part', () => {
    expect(planParts(25, 10, 3)).toEqual([
      { partNumber: 1, offset: 0, length: 10 },
      { partNumber: 2, offset: 10, length: 10 },
      { partNumber: 3, offset: 20, length: 5 },
    ]);
  });

  it('refuses a plan whose part count does not match the size and part size', () => {
    expect(() => planParts(25, 10, 4)).toThrow('does not add up');
  });
});

describe('runPool', () => {
  it('never runs more than the given number of workers at once', async () => {
    let running = 0;
    let peak = 0;
    await runPool([1, 2, 3, 4, 5, 6, 7], 3, async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setImmediate(r));
      running--;
    });
    expect(peak).toBe(3);
  });

  it('stops starting new items after one fails and rejects with that failure', async () => {
    const started: number[] = [];
    const run = runPool([1, 2, 3, 4, 5], 1, async (n) => {
      started.push(n);
      if (n === 2) throw new Error('boom');
    });
    await expect(run).rejects.toThrow('boom');
    expect(started).toEqual([1, 2]);
  });
});

describe('PartUrlSigner', () => {
  it('signs part URLs in batches of at most the batch size, in sending order', async () => {
    const calls: number[][] = [];
    const signer = new PartUrlSigner(async (ns) => {
      calls.push(ns);
      return ns.map((n) => ({ partNumber: n, url: `u${n}` }));
    }, [1, 2, 3, 4, 5], 2);
    const urls = await Promise.all([1, 2, 3, 4, 5].map((n) => signer.url(n)));
    expect(urls).toEqual(['u1', 'u2', 'u3', 'u4', 'u5']);
    expect(calls).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('signs a part again after its URL is forgotten', async () => {
    let round = 0;
    const signer = new PartUrlSigner(async (ns) => {
      round++;
      return ns.map((n) => ({ partNumber: n, url: `u${n}-${round}` }));
    }, [1]);
    await signer.url(1);
    signer.forget(1);
    expect(await signer.url(1)).toBe('u1-2');
  });
});

describe('uploadFile', () => {
  let dir: string;
  let file: string;
  const content = Buffer.from(Array.from({ length: 105 }, (_, i) => i));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 's3files-unit-'));
    file = join(dir, 'data.bin');
    writeFileSync(file, content);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('sends a small file as one PUT with the headers the server signed', async () => {
    const svc = fakeService({ partSize: 10, threshold: 1000 });
    const result = await uploadFile({ api: svc.api, fetch: svc.fetchFn, stateDir: dir, retry: NO_WAIT }, { path: file, key: 'a.bin', contentType: 'application/x-test' });
    expect(result).toMatchObject({ multipart: false, uploadId: null, size: 105 });
    expect(svc.single?.body.equals(content)).toBe(true);
    expect(svc.single?.headers).toEqual({ 'content-type': 'application/x-test' });
  });

  it('sends every part of a big file and completes with the ETags in part order', async () => {
    const svc = fakeService({ partSize: 10, threshold: 50 });
    const result = await uploadFile({ api: svc.api, fetch: svc.fetchFn, stateDir: dir, retry: NO_WAIT }, { path: file, key: 'a.bin', contentType: 'x/y', concurrency: 3 });
    expect(result).toMatchObject({ multipart: true, size: 105, partsUploaded: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], partsSkipped: [] });
    expect(svc.completed).toEqual(Array.from({ length: 11 }, (_, i) => ({ partNumber: i + 1, etag: `"e${i + 1}"` })));
    expect(Buffer.concat([...svc.stored.entries()].sort((a, b) => a[0] - b[0]).map(([, b]) => b)).equals(content)).toBe(true);
  });

  it('keeps at most `concurrency` part uploads in flight', async () => {
    const svc = fakeService({ partSize: 10, threshold: 50, holdUntilInFlight: 2 });
    await uploadFile({ api: svc.api, fetch: svc.fetchFn, stateDir: dir, retry: NO_WAIT }, { path: file, key: 'a.bin', contentType: 'x/y', concurrency: 2 });
    expect(svc.maxInFlight).toBe(2);
  });

  it('retries a part that failed with a 5xx and succeeds', async () => {
    const svc = fakeService({ partSize: 10, threshold: 50, failPut: (n, attempt) => (n === 3 && attempt < 3 ? 503 : undefined) });
    const result = await uploadFile({ api: svc.api, fetch: svc.fetchFn, stateDir: dir, retry: NO_WAIT }, { path: file, key: 'a.bin', contentType: 'x/y' });
    expect(result.size).toBe(105);
  });

  it('gives up on a part refused with a 4xx other than 403 and keeps the resume state', async () => {
    const svc = fakeService({ partSize: 10, threshold: 50, failPut: (n) => (n === 2 ? 400 : undefined) });
    const run = uploadFile({ api: svc.api, fetch: svc.fetchFn, stateDir: dir, retry: NO_WAIT }, { path: file, key: 'a.bin', contentType: 'x/y', concurrency: 1 });
    await expect(run).rejects.toMatchObject({ status: 400, code: 'Err400' });
    expect(existsSync(stateFileFor(dir, API_URL, file, 'a.bin'))).toBe(true);
  });

  it('signs a part URL again when S3 answers 403 (an expired signature)', async () => {
    const svc = fakeService({ partSize: 10, threshold: 50, failPut: (n, attempt) => (n === 1 && attempt === 1 ? 403 : undefined) });
    await uploadFile({ api: svc.api, fetch: svc.fetchFn, stateDir: dir, retry: NO_WAIT }, { path: file, key: 'a.bin', contentType: 'x/y' });
    expect(svc.signCalls.filter((c) => c.includes(1))).toHaveLength(2);
  });

  it('with resume, sends only the parts an interrupted run did not store', async () => {
    const svc = fakeService({ partSize: 10, threshold: 50, failPut: (n, attempt) => (n === 6 && attempt === 1 ? 400 : undefined) });
    const deps = { api: svc.api, fetch: svc.fetchFn, stateDir: dir, retry: NO_WAIT };
    await expect(uploadFile(deps, { path: file, key: 'a.bin', contentType: 'x/y', concurrency: 1 })).rejects.toBeInstanceOf(ApiError);
    svc.puts.length = 0;
    const result = await uploadFile(deps, { path: file, key: 'a.bin', contentType: 'x/y', concurrency: 1, resume: true });
    expect(result).toMatchObject({ resumed: true, uploadId: 'up1', partsSkipped: [1, 2, 3, 4, 5], partsUploaded: [6, 7, 8, 9, 10, 11] });
    expect(svc.puts).toEqual([6, 7, 8, 9, 10, 11]);
  });

  it('with resume, starts a new upload and aborts the old one when the file changed', async () => {
    const svc = fakeService({ partSize: 10, threshold: 50, failPut: (n, attempt) => (n === 6 && attempt === 1 ? 400 : undefined) });
    const deps = { api: svc.api, fetch: svc.fetchFn, stateDir: dir, retry: NO_WAIT };
    await expect(uploadFile(deps, { path: file, key: 'a.bin', contentType: 'x/y', concurrency: 1 })).rejects.toBeInstanceOf(ApiError);
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const warnings: string[] = [];
    const result = await uploadFile(deps, { path: file, key: 'a.bin', contentType: 'x/y', resume: true, onWarning: (m) => warnings.push(m) });
    expect(result).toMatchObject({ resumed: false, uploadId: 'up2' });
    expect(svc.aborted).toEqual(['up1']);
    expect(warnings[0]).toContain('changed');
  });

  it('treats a retried completion answered 409 UploadAlreadyCompleted as done when the object has the right size', async () => {
    const svc = fakeService({ partSize: 10, threshold: 50, loseFirstCompletion: true });
    const result = await uploadFile({ api: svc.api, fetch: svc.fetchFn, stateDir: dir, retry: NO_WAIT }, { path: file, key: 'a.bin', contentType: 'x/y' });
    expect(result).toMatchObject({ key: 'a.bin', size: 105, etag: '"done-2"' });
  });

  it('asks again while another request is completing the upload (409 UploadCompleting)', async () => {
    const svc = fakeService({ partSize: 10, threshold: 50, completingFirst: 2 });
    const result = await uploadFile({ api: svc.api, fetch: svc.fetchFn, stateDir: dir, retry: NO_WAIT }, { path: file, key: 'a.bin', contentType: 'x/y' });
    expect(result).toMatchObject({ key: 'a.bin', size: 105, etag: '"done-2"' });
    expect(svc.completed).toHaveLength(11);
  });

  it('removes the resume state once the upload is complete', async () => {
    const svc = fakeService({ partSize: 10, threshold: 50 });
    await uploadFile({ api: svc.api, fetch: svc.fetchFn, stateDir: dir, retry: NO_WAIT }, { path: file, key: 'a.bin', contentType: 'x/y' });
    expect(existsSync(stateFileFor(dir, API_URL, file, 'a.bin'))).toBe(false);
  });

  it('records the upload id, size and modification time in the resume state before sending parts', async () => {
    const svc = fakeService({ partSize: 10, threshold: 50, failPut: () => 400 });
    await expect(uploadFile({ api: svc.api, fetch: svc.fetchFn, stateDir: dir, retry: NO_WAIT }, { path: file, key: 'a.bin', contentType: 'x/y' })).rejects.toBeInstanceOf(ApiError);
    const state = JSON.parse(readFileSync(stateFileFor(dir, API_URL, file, 'a.bin'), 'utf8'));
    expect(state).toMatchObject({ uploadId: 'up1', key: 'a.bin', size: 105, partSize: 10, partCount: 11 });
    expect(typeof state.mtimeMs).toBe('number');
  });
});
