import { runLoad, type LoadReport } from '../../bench/load/run';

/**
 * The short version of `npm run bench:load`: 50 uploads at once (one in ten multipart) while 5
 * clients list and read. It asserts the ledger (nothing acknowledged is lost), never timings.
 */
jest.setTimeout(150_000);

const MiB = 1024 * 1024;
let report: LoadReport;

beforeAll(async () => {
  report = await runLoad({ uploads: 50, readers: 5, maxBytes: 12 * MiB, multipartEvery: 10, timeLimitMs: 120_000 });
});

describe('load with a ledger (short)', () => {
  it('acknowledges every upload, multipart ones included', () => {
    expect(report.rejected).toEqual([]);
    expect(report.ledger).toHaveLength(50);
    expect(report.ledger.filter((e) => e.multipart)).toHaveLength(5);
  });

  it('lists every acknowledged object with its size', () => {
    expect(report.notListed).toEqual([]);
  });

  it('reads every acknowledged object back with the same SHA-256', () => {
    expect(report.wrongContent).toEqual([]);
  });

  it('has a profile for every acknowledged object', () => {
    expect(report.noProfile).toEqual([]);
  });

  it('uploads a distinct content for every body of 6 bytes or more', () => {
    expect(report.bodies.checked).toBeGreaterThan(0);
    expect(report.bodies.distinct).toBe(report.bodies.checked);
  });

  it('stops the service process with SIGTERM and exit code 0', () => {
    expect(report.serviceExit).toEqual({ code: 0, signal: null, clean: true });
  });

  it('answers the concurrent readers without a 5xx', () => {
    expect(report.serverErrors).toBe(0);
    expect(report.latencies['GET /buckets/{bucket}/objects']?.length).toBeGreaterThan(0);
  });
});
