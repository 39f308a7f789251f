import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { profileObject } from '../../../lambda/core/profile';
import { profileFileParallel } from '../../../local/profile-threads';

// Threads start tsx each (profile-worker.cjs): seconds on a loaded machine, hence the timeouts.
describe('profileFileParallel', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'threads-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('profiles a file on three range threads, hashing it beside them, as the single pass does', async () => {
    const lines = ['id,text,n'];
    for (let i = 0; i < 3000; i++) lines.push(`${i},"row ${i % 17}\nsecond line",${(i % 101) * 0.5}`);
    const path = join(dir, 'quoted.csv');
    writeFileSync(path, `${lines.join('\n')}\n`);
    const single = await profileObject({ body: createReadStream(path), key: 'quoted.csv' });

    const parallel = await profileFileParallel(path, {}, { threads: 3, minRangeBytes: 1 });

    const withoutMoments = (p: typeof single) => ({ ...p, columns: p.columns!.map((c) => ({ ...c, mean: null, stddev: null })) });
    expect(withoutMoments(parallel)).toEqual(withoutMoments(single));
    expect(parallel.sha256).toBe(single.sha256);
    parallel.columns!.forEach((c, i) => expect(c.mean ?? 0).toBeCloseTo(single.columns![i]!.mean ?? 0, 9));
  }, 60_000);

  it('re-runs a wrong guess on a thread of its own once the range threads have gone', async () => {
    // Cut at byte 3, the second range's "outside quotes" reading is wrong (see ranges.test.ts): it
    // is run again from the known boundary after the first pass's threads were closed.
    const path = join(dir, 'rerun.csv');
    writeFileSync(path, 'a\nx"y\n"p\nq"\nz\n');
    const single = await profileObject({ body: createReadStream(path), key: 'rerun.csv' });

    expect(await profileFileParallel(path, {}, { threads: 5, minRangeBytes: 1 })).toEqual(single);
  }, 60_000);

  it('rejects with the error of a range thread that fails', async () => {
    const path = join(dir, 'fails.csv');
    writeFileSync(path, `a,b\n${'1,2\n'.repeat(100)}`);
    const script = join(dir, 'broken-worker.js');
    writeFileSync(script, "throw new Error('broken worker');\n");

    await expect(profileFileParallel(path, {}, { threads: 3, minRangeBytes: 1, workerScript: script })).rejects.toThrow('broken worker');
  }, 60_000);

  it('profiles a gzip file as one range on one thread, hashing it as it reads', async () => {
    const { gzipSync } = await import('node:zlib');
    const path = join(dir, 'small.csv.gz');
    writeFileSync(path, gzipSync('a,b\n1,x\n2,y\n'));
    const single = await profileObject({ body: createReadStream(path), key: 'small.csv.gz' });

    expect(await profileFileParallel(path, {}, { threads: 4, minRangeBytes: 1 })).toEqual(single);
  }, 60_000);
});
