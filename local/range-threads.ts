/**
 * Local mode's range threads: the processor's ranged profiler and the fan-out's range step on
 * worker_threads (local/range-worker.ts through tsx), so both use every core as the deployed
 * functions do. Each thread signs with its function's own key: the embedded S3 holds it to that
 * function's grants, as IAM does.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { S3Client } from '@aws-sdk/client-s3';
import type { FanOutJob, RangeReport, RangeSpec } from '../lambda/core/fan-out';
import { inlineRangeRunner, threadRangeRunner, type RangeRunner } from '../lambda/core/ranged-profile';
import type { Config } from '../lambda/shared/config';
import { ThreadPool, type ThreadReply } from '../lambda/shared/thread-pool';
import type { Credentials } from './function-keys';

const SCRIPT = join(__dirname, 'range-worker.cjs');

export interface RangeWorkerData {
  role: 'process' | 'fanOutRange';
  config: Config;
  credentials: Credentials;
}

export type FanOutRangeRequest = { job: FanOutJob; range: RangeSpec };
export type FanOutRangeReply = ThreadReply<RangeReport, { name: string; message: string }>;

const worker = (data: RangeWorkerData) => () => new Worker(SCRIPT, { workerData: data });

/** The processor's range runner: `threads` worker threads (default: the cores); one means this thread. */
export function processRangeRunner(config: Config, s3: S3Client, credentials: Credentials, threads = availableParallelism()): RangeRunner {
  return threads > 1 ? threadRangeRunner(threads, worker({ role: 'process', config, credentials }), s3) : inlineRangeRunner(s3);
}

/** Runs the fan-out's range step on a thread. */
export interface FanOutRangeThreads {
  threads: number;
  run(input: { job: FanOutJob; range: RangeSpec }): Promise<RangeReport>;
  close(): Promise<void>;
}

/** The fan-out's range step on `threads` worker threads, started on the first range. */
export function fanOutRangeThreads(config: Config, credentials: Credentials, threads = availableParallelism()): FanOutRangeThreads {
  const pool = new ThreadPool<FanOutRangeRequest, FanOutRangeReply>(threads, worker({ role: 'fanOutRange', config, credentials }));
  return {
    threads,
    run: async (input) => {
      const reply = await pool.run(input);
      if (reply.error) throw Object.assign(new Error(reply.error.message), { name: reply.error.name });
      return reply.result!;
    },
    close: () => pool.close(),
  };
}
