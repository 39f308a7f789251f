/**
 * The fan-out state machine, locally: the same plan, range and merge steps (lambda/core/fan-out.ts)
 * the Lambda functions run in AWS, called in-process in the state machine's order, each with its
 * own function's S3 client (so the embedded S3 holds each step to its grants, as IAM does).
 *
 * As in AWS: a run is started once per name (key + sequencer + attempt; a duplicate start is
 * `already-started`), the start returns at once and the run goes on in the background, each step
 * is tried up to three times, and a run that still fails puts `{ Records: [record], fanOutAttempt }`
 * into the processing dead-letter queue, whose replay starts a new run. Ranges run a few at a time
 * (the Distributed Map's MaxConcurrency, locally the machine's cores), on worker threads when the
 * service gives range threads (it does unless told to use one). Run names are remembered for
 * the service's lifetime only (Step Functions keeps them 90 days).
 */
import { availableParallelism } from 'node:os';
import type { S3Client } from '@aws-sdk/client-s3';
import { mergeFanOut, planFanOut, profileRangeStep, runNameOf, type FanOutDeps, type FanOutEngine, type FanOutJob, type RangeSpec } from '../lambda/core/fan-out';
import type { FanOutRangeThreads } from './range-threads';
import type { FanOutStarter } from '../lambda/core/process';
import type { Config } from '../lambda/shared/config';
import { errorName } from '../lambda/shared/errors';

/** The state machine's retry: three attempts in all for each step. */
const MAX_ATTEMPTS = 3;

export interface LocalFanOutOptions {
  config: Config;
  engine: FanOutEngine;
  /** Each step's own S3 client (its function's key). */
  clients: { plan: S3Client; range: S3Client; merge: S3Client };
  /** Where a failed run's record goes: the processing dead-letter queue (set once the queue exists). */
  sendDeadLetter: (body: string) => Promise<void>;
  /** Bytes per range at least (default FAN_OUT.minRangeBytes); tests lower it to split small files. */
  minRangeBytes?: number;
  /** Ranges profiled at once. Default: the range threads', else the machine's cores. */
  concurrency?: number;
  /**
   * Runs the range step on worker threads (local/range-threads.ts, with the range function's key),
   * so CPU-bound ranges use every core; without it they run in this thread, one CPU in all.
   */
  rangeThreads?: Pick<FanOutRangeThreads, 'threads' | 'run'>;
  log: (line: string) => void;
}

export interface LocalFanOut extends FanOutStarter {
  /** Resolves when every run started before the call has ended (profiled or dead-lettered). */
  idle(): Promise<void>;
  /** Names of the runs started so far, oldest first (tests check that a duplicate started none). */
  runs(): string[];
}

export function createLocalFanOut(options: LocalFanOutOptions): LocalFanOut {
  const { config, engine, log } = options;
  const step = (s3: S3Client): FanOutDeps => ({ s3, config, engine, ...(options.minRangeBytes !== undefined ? { minRangeBytes: options.minRangeBytes } : {}) });
  const plan = step(options.clients.plan);
  const range = step(options.clients.range);
  const merge = step(options.clients.merge);
  const concurrency = Math.max(1, options.concurrency ?? options.rangeThreads?.threads ?? availableParallelism());
  const rangeStep = options.rangeThreads ?? { run: (input: { job: FanOutJob; range: RangeSpec }) => profileRangeStep(range, input) };
  const started: string[] = [];
  const running = new Set<Promise<void>>();

  const retried = async <T>(fn: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  };

  const execute = async (runName: string, request: Parameters<FanOutStarter['start']>[0]): Promise<void> => {
    try {
      const planned = await retried(() => planFanOut(plan, { ...request, runName }));
      if ('done' in planned) {
        log(`fan-out ${runName}: ${planned.done}`);
        return;
      }
      const queue = [...planned.ranges];
      const worker = async () => {
        for (let next = queue.shift(); next; next = queue.shift()) {
          const item = next;
          await retried(() => rangeStep.run({ job: planned.job, range: item }));
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
      const { outcome } = await retried(() => mergeFanOut(merge, { job: planned.job, ranges: planned.ranges }));
      log(`fan-out ${runName}: ${outcome} ${planned.job.target.s3Key} in ${planned.ranges.length} range(s)`);
    } catch (err) {
      log(`fan-out ${runName} failed: ${errorName(err) ?? 'Error'}: ${(err as Error)?.message}`);
      await options.sendDeadLetter(
        JSON.stringify({
          Records: [request.record],
          fanOutAttempt: request.attempt + 1,
          fanOutRun: runName,
          error: { Error: errorName(err) ?? 'Error', Cause: String((err as Error)?.message ?? err) },
        }),
      );
    }
  };

  return {
    start: async (request) => {
      const runName = runNameOf(config, request);
      if (runName === undefined) throw new Error('A fan-out was asked for a record with nothing to profile');
      if (started.includes(runName)) return 'already-started';
      started.push(runName);
      const run = execute(runName, request).catch((err: unknown) => log(`fan-out ${runName}: could not dead-letter: ${String(err)}`));
      running.add(run);
      void run.finally(() => running.delete(run));
      return 'started';
    },
    idle: async () => {
      while (running.size) await Promise.all([...running]);
    },
    runs: () => [...started],
  };
}
