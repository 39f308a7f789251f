import type { RetryOptions } from '../../../client/retry';
import { PartUrlSigner, partRanges, uploadSource, type ByteSource, type ResumeRecord, type ResumeStore } from '../../../client/upload';
import { fakeService } from '../helpers/fake-upload-service';

const NO_WAIT: RetryOptions = { retries: 3, baseDelayMs: 1, maxDelayMs: 1, sleep: async () => undefined };

describe('partRanges', () => {
  it('splits a file into parts of the server-chosen size with a shorter last part', () => {
    expect(partRanges(25, 10, 3)).toEqual([
      { partNumber: 1, offset: 0, length: 10 },
      { partNumber: 2, offset: 10, length: 10 },
      { partNumber: 3, offset: 20, length: 5 },
    ]);
  });

  it('refuses a plan whose part count does not match the size and part size', () => {
    expect(() => partRanges(25, 10, 4)).toThrow('does not add up');
  });
});

describe('PartUrlSigner', () => {
  it('signs part URLs in batches of at most the batch size, in sending order', async () => {
    const calls: number[][] = [];
    const signer = new PartUrlSigner(async (ns) => {
      calls.push(ns);
      return ns.map((n) => ({ partNumber: n, url: `u${n}` }));
    }, [1, 2, 3, 4, 5], 2);
    const urls = await Promise.all([1, 2, 3, 4, 5].map(async (n) => (await signer.url(n)).url));
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
    expect((await signer.url(1)).url).toBe('u1-2');
  });
});

/** Bytes in memory, as the console's File source gives them: no file system involved. */
function memorySource(bytes: Uint8Array, modifiedMs = 1): ByteSource {
  return { name: 'data.bin', size: bytes.length, modifiedMs, read: async (offset, length) => bytes.slice(offset, offset + length) };
}

function memoryStore(): ResumeStore & { records: Map<string, ResumeRecord> } {
  const records = new Map<string, ResumeRecord>();
  return {
    records,
    get: async (id) => records.get(id),
    set: async (id, record) => void records.set(id, record),
    delete: async (id) => void records.delete(id),
  };
}

describe('uploadSource', () => {
  const content = Uint8Array.from({ length: 105 }, (_, i) => i);

  it('uploads from any byte source and resume store, and forgets the record once complete', async () => {
    const svc = fakeService({ partSize: 10, threshold: 50 });
    const store = memoryStore();
    const result = await uploadSource({ api: svc.api, fetch: svc.fetchFn, retry: NO_WAIT, resumeStore: store }, { source: memorySource(content), key: 'a.bin', contentType: 'x/y', resumeId: 'r1' });
    expect(result).toMatchObject({ multipart: true, size: 105 });
    expect(Buffer.concat([...svc.stored.entries()].sort((a, b) => a[0] - b[0]).map(([, b]) => b)).equals(content)).toBe(true);
    expect(store.records.size).toBe(0);
  });

  it('continues the upload in the store from the parts S3 lists, sending only the others', async () => {
    const svc = fakeService({ partSize: 10, threshold: 50, failPut: (n, attempt) => (n === 4 && attempt === 1 ? 400 : undefined) });
    const store = memoryStore();
    const deps = { api: svc.api, fetch: svc.fetchFn, retry: NO_WAIT, resumeStore: store };
    const request = { source: memorySource(content), key: 'a.bin', contentType: 'x/y', resumeId: 'r1', concurrency: 1 };
    await expect(uploadSource(deps, request)).rejects.toMatchObject({ status: 400 });
    expect(store.records.get('r1')).toMatchObject({ uploadId: 'up1', size: 105, mtimeMs: 1 });
    svc.puts.length = 0;
    const result = await uploadSource(deps, { ...request, resume: true });
    expect(result).toMatchObject({ resumed: true, partsSkipped: [1, 2, 3], partsUploaded: [4, 5, 6, 7, 8, 9, 10, 11] });
    expect(svc.puts).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('refuses to complete when the source says it changed during the upload', async () => {
    const svc = fakeService({ partSize: 10, threshold: 50 });
    const source = { ...memorySource(content), changed: async () => true };
    const run = uploadSource({ api: svc.api, fetch: svc.fetchFn, retry: NO_WAIT, resumeStore: memoryStore() }, { source, key: 'a.bin', contentType: 'x/y', resumeId: 'r1' });
    await expect(run).rejects.toThrow('changed during the upload');
    expect(svc.completed).toBeUndefined();
  });
});
