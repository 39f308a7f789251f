import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ApiError } from '../../../client/api-client';
import { crc32Base64 } from '../../../client/crc';
import { stateFileFor, uploadFile } from '../../../cli/uploader';
import type { RetryOptions } from '../../../client/retry';
import { API_URL, fakeService } from '../helpers/fake-upload-service';

const NO_WAIT: RetryOptions = { retries: 3, baseDelayMs: 1, maxDelayMs: 1, sleep: async () => undefined };

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
    const result = await uploadFile({ api: svc.api, fetch: svc.fetchFn, stateDir: dir, singlePutBytes: 0, retry: NO_WAIT }, { path: file, key: 'a.bin', contentType: 'application/x-test' });
    expect(result).toMatchObject({ multipart: false, uploadId: null, size: 105 });
    expect(svc.single?.body.equals(content)).toBe(true);
    expect(svc.single?.headers).toEqual({ 'content-type': 'application/x-test', 'x-amz-checksum-crc32': crc32Base64(crc32(content)) });
  });

  it('sends every part of a big file and completes with the ETags in part order', async () => {
    const svc = fakeService({ partSize: 10, threshold: 50 });
    const result = await uploadFile({ api: svc.api, fetch: svc.fetchFn, stateDir: dir, singlePutBytes: 0, retry: NO_WAIT }, { path: file, key: 'a.bin', contentType: 'x/y', concurrency: 3 });
    expect(result).toMatchObject({ multipart: true, size: 105, partsUploaded: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], partsSkipped: [] });
    expect(svc.completed).toEqual(Array.from({ length: 11 }, (_, i) => ({ partNumber: i + 1, etag: `"e${i + 1}"` })));
    expect(Buffer.concat([...svc.stored.entries()].sort((a, b) => a[0] - b[0]).map(([, b]) => b)).equals(content)).toBe(true);
  });

  it('keeps at most `concurrency` part uploads in flight', async () => {
    const svc = fakeService({ partSize: 10, threshold: 50, holdUntilInFlight: 2 });
    await uploadFile({ api: svc.api, fetch: svc.fetchFn, stateDir: dir, singlePutBytes: 0, retry: NO_WAIT }, { path: file, key: 'a.bin', contentType: 'x/y', concurrency: 2 });
    expect(svc.maxInFlight).toBe(2);
  });

  it('retries a part that failed with a 5xx and succeeds', async () => {
    const svc = fakeService({ partSize: 10, threshold: 50, failPut: (n, attempt) => (n === 3 && attempt < 3 ? 503 : undefined) });
    const result = await uploadFile({ api: svc.api, fetch: svc.fetchFn, stateDir: dir, singlePutBytes: 0, retry: NO_WAIT }, { path: file, key: 'a.bin', contentType: 'x/y' });
    expect(result.size).toBe(105);
  });

  it('gives up on a part refused with a 4xx other than 403 and keeps the resume state', async () => {
    const svc = fakeService({ partSize: 10, threshold: 50, failPut: (n) => (n === 2 ? 400 : undefined) });
    const run = uploadFile({ api: svc.api, fetch: svc.fetchFn, stateDir: dir, singlePutBytes: 0, retry: NO_WAIT }, { path: file, key: 'a.bin', contentType: 'x/y', concurrency: 1 });
    await expect(run).rejects.toMatchObject({ status: 400, code: 'Err400' });
    expect(existsSync(stateFileFor(dir, API_URL, file, 'a.bin'))).toBe(true);
  });

  it('signs a part URL again when S3 answers 403 (an expired signature)', async () => {
    const svc = fakeService({ partSize: 10, threshold: 50, failPut: (n, attempt) => (n === 1 && attempt === 1 ? 403 : undefined) });
    await uploadFile({ api: svc.api, fetch: svc.fetchFn, stateDir: dir, singlePutBytes: 0, retry: NO_WAIT }, { path: file, key: 'a.bin', contentType: 'x/y' });
    expect(svc.signCalls.filter((c) => c.includes(1))).toHaveLength(2);
  });

  it('with resume, sends only the parts an interrupted run did not store', async () => {
    const svc = fakeService({ partSize: 10, threshold: 50, failPut: (n, attempt) => (n === 6 && attempt === 1 ? 400 : undefined) });
    const deps = { api: svc.api, fetch: svc.fetchFn, stateDir: dir, singlePutBytes: 0, retry: NO_WAIT };
    await expect(uploadFile(deps, { path: file, key: 'a.bin', contentType: 'x/y', concurrency: 1 })).rejects.toBeInstanceOf(ApiError);
    svc.puts.length = 0;
    const result = await uploadFile(deps, { path: file, key: 'a.bin', contentType: 'x/y', concurrency: 1, resume: true });
    expect(result).toMatchObject({ resumed: true, uploadId: 'up1', partsSkipped: [1, 2, 3, 4, 5], partsUploaded: [6, 7, 8, 9, 10, 11] });
    expect(svc.puts).toEqual([6, 7, 8, 9, 10, 11]);
  });

  it('with resume, sends again a stored part whose bytes changed in place under the same size and mtime, and completes with the new bytes', async () => {
    const svc = fakeService({ partSize: 10, threshold: 50, failPut: (n, attempt) => (n === 6 && attempt === 1 ? 400 : undefined) });
    const deps = { api: svc.api, fetch: svc.fetchFn, stateDir: dir, singlePutBytes: 0, retry: NO_WAIT };
    const mtime = 1_700_000_000; // whole seconds, so that setting it again gives the same mtimeMs
    utimesSync(file, mtime, mtime);
    await expect(uploadFile(deps, { path: file, key: 'a.bin', contentType: 'x/y', concurrency: 1 })).rejects.toBeInstanceOf(ApiError);
    const changed = Buffer.from(content);
    changed[23] = changed[23]! ^ 0xff; // in part 3, which the first run stored
    writeFileSync(file, changed);
    utimesSync(file, mtime, mtime);
    svc.puts.length = 0;
    const warnings: string[] = [];

    const result = await uploadFile(deps, { path: file, key: 'a.bin', contentType: 'x/y', concurrency: 1, resume: true, onWarning: (m) => warnings.push(m) });

    expect(result).toMatchObject({ resumed: true, uploadId: 'up1', partsSkipped: [1, 2, 4, 5], partsChanged: [3], partsUploaded: [3, 6, 7, 8, 9, 10, 11] });
    expect(svc.puts).toEqual([3, 6, 7, 8, 9, 10, 11]);
    expect(warnings).toEqual([expect.stringContaining('part 3 changed since the interrupted upload sent it; sending again')]);
    expect(Buffer.concat([...svc.stored.entries()].sort((a, b) => a[0] - b[0]).map(([, b]) => b)).equals(changed)).toBe(true);
    expect(svc.completedChecksum).toBe(crc32Base64(crc32(changed)));
  });

  it('completes with the CRC32 of the whole file, combined from the parts', async () => {
    const svc = fakeService({ partSize: 10, threshold: 50 });

    const result = await uploadFile({ api: svc.api, fetch: svc.fetchFn, stateDir: dir, singlePutBytes: 0, retry: NO_WAIT }, { path: file, key: 'a.bin', contentType: 'x/y' });

    expect(result.checksum).toEqual({ algorithm: 'CRC32', value: crc32Base64(crc32(content)) });
    expect(svc.completedChecksum).toBe(crc32Base64(crc32(content)));
  });

  it('sends no checksum when asked not to', async () => {
    const svc = fakeService({ partSize: 10, threshold: 50 });

    const result = await uploadFile({ api: svc.api, fetch: svc.fetchFn, stateDir: dir, singlePutBytes: 0, retry: NO_WAIT, checksums: false }, { path: file, key: 'a.bin', contentType: 'x/y' });

    expect(result.checksum).toBeUndefined();
    expect(svc.completedChecksum).toBeUndefined();
  });

  it('with resume but without checksums, starts again instead of resuming a checksummed upload whose parts need them', async () => {
    const svc = fakeService({ partSize: 10, threshold: 50, failPut: (n, attempt) => (n === 6 && attempt === 1 ? 400 : undefined) });
    const deps = { api: svc.api, fetch: svc.fetchFn, stateDir: dir, singlePutBytes: 0, retry: NO_WAIT };
    await expect(uploadFile(deps, { path: file, key: 'a.bin', contentType: 'x/y', concurrency: 1 })).rejects.toBeInstanceOf(ApiError);
    const warnings: string[] = [];

    const result = await uploadFile({ ...deps, checksums: false }, { path: file, key: 'a.bin', contentType: 'x/y', resume: true, onWarning: (m) => warnings.push(m) });

    expect(result).toMatchObject({ resumed: false, uploadId: 'up2', size: 105 });
    expect(svc.aborted).toEqual(['up1']);
    expect(warnings).toEqual([expect.stringContaining('was checksummed and this one is not; starting again')]);
  });

  it('with resume, starts a new upload and aborts the old one when the file changed', async () => {
    const svc = fakeService({ partSize: 10, threshold: 50, failPut: (n, attempt) => (n === 6 && attempt === 1 ? 400 : undefined) });
    const deps = { api: svc.api, fetch: svc.fetchFn, stateDir: dir, singlePutBytes: 0, retry: NO_WAIT };
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
    const result = await uploadFile({ api: svc.api, fetch: svc.fetchFn, stateDir: dir, singlePutBytes: 0, retry: NO_WAIT }, { path: file, key: 'a.bin', contentType: 'x/y' });
    expect(result).toMatchObject({ key: 'a.bin', size: 105, etag: '"done-2"' });
  });

  it('asks again while another request is completing the upload (409 UploadCompleting)', async () => {
    const svc = fakeService({ partSize: 10, threshold: 50, completingFirst: 2 });
    const result = await uploadFile({ api: svc.api, fetch: svc.fetchFn, stateDir: dir, singlePutBytes: 0, retry: NO_WAIT }, { path: file, key: 'a.bin', contentType: 'x/y' });
    expect(result).toMatchObject({ key: 'a.bin', size: 105, etag: '"done-2"' });
    expect(svc.completed).toHaveLength(11);
  });

  it('removes the resume state once the upload is complete', async () => {
    const svc = fakeService({ partSize: 10, threshold: 50 });
    await uploadFile({ api: svc.api, fetch: svc.fetchFn, stateDir: dir, singlePutBytes: 0, retry: NO_WAIT }, { path: file, key: 'a.bin', contentType: 'x/y' });
    expect(existsSync(stateFileFor(dir, API_URL, file, 'a.bin'))).toBe(false);
  });

  it('records the upload id, size and modification time in the resume state before sending parts', async () => {
    const svc = fakeService({ partSize: 10, threshold: 50, failPut: () => 400 });
    await expect(uploadFile({ api: svc.api, fetch: svc.fetchFn, stateDir: dir, singlePutBytes: 0, retry: NO_WAIT }, { path: file, key: 'a.bin', contentType: 'x/y' })).rejects.toBeInstanceOf(ApiError);
    const state = JSON.parse(readFileSync(stateFileFor(dir, API_URL, file, 'a.bin'), 'utf8'));
    expect(state).toMatchObject({ uploadId: 'up1', key: 'a.bin', size: 105, partSize: 10, partCount: 11 });
    expect(typeof state.mtimeMs).toBe('number');
  });
});
