import { Worker } from 'node:worker_threads';
import { ThreadPool } from '../../../lambda/shared/thread-pool';

/** A thread that answers `{ id, n: n * 2 }`, and exits with code 3 when asked for n = -1. */
const DOUBLER = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ id, n }) => {
  if (n === -1) process.exit(3);
  parentPort.postMessage({ id, n: n * 2 });
});`;

type Job = { n: number };
type Reply = { id: number; n: number };

describe('ThreadPool', () => {
  it('answers each request from a thread, in any order of completion', async () => {
    const pool = new ThreadPool<Job, Reply>(2, () => new Worker(DOUBLER, { eval: true }));
    try {
      const replies = await Promise.all([1, 2, 3].map((n) => pool.run({ n })));
      expect(replies.map((r) => r.n)).toEqual([2, 4, 6]);
    } finally {
      await pool.close();
    }
  });

  it('starts no thread before the first request, and refuses requests once closed', async () => {
    let started = 0;
    const pool = new ThreadPool<Job, Reply>(2, () => (started++, new Worker(DOUBLER, { eval: true })));
    expect(started).toBe(0);
    try {
      expect((await pool.run({ n: 4 })).n).toBe(8);
      expect(started).toBe(2);
    } finally {
      await pool.close();
    }
    await expect(pool.run({ n: 1 })).rejects.toThrow('The thread pool is closed');
    expect(started).toBe(2);
  });

  it('fails the request of a thread that exits, and answers the next from its replacement', async () => {
    const pool = new ThreadPool<Job, Reply>(1, () => new Worker(DOUBLER, { eval: true }));
    try {
      expect((await pool.run({ n: 5 })).n).toBe(10);
      await expect(pool.run({ n: -1 })).rejects.toThrow('A worker thread exited (code 3)');
      expect((await pool.run({ n: 7 })).n).toBe(14);
    } finally {
      await pool.close();
    }
  });

  it('fails queued requests rather than restarting a thread that cannot start', async () => {
    const pool = new ThreadPool<Job, Reply>(1, () => new Worker('throw new Error("no config")', { eval: true }));
    try {
      await expect(pool.run({ n: 1 })).rejects.toThrow();
      // Queued before the thread's exit or asked after it: failed with the exit either way.
      await expect(pool.run({ n: 2 })).rejects.toThrow('A worker thread exited (code 1)');
    } finally {
      await pool.close();
    }
  });
});
