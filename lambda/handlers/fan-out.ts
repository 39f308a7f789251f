import type { Context } from 'aws-lambda';
import { mergeFanOut, planFanOut, profileRangeStep, type FanOutDeps, type FanOutJob, type PlanResult, type RangeReport, type RangeSpec } from '../core/fan-out';
import type { FanOutRequest, Outcome } from '../core/process';

export type { FanOutDeps } from '../core/fan-out';

/** Time kept, before the function's timeout, to store what was read (the profile says `truncated`). */
const STORE_MARGIN_MS = 15_000;

type TimeLeft = Pick<Context, 'getRemainingTimeInMillis'>;
const deadlineOf = (context?: TimeLeft) => (context ? Date.now() + context.getRemainingTimeInMillis() - STORE_MARGIN_MS : undefined);

/** The state machine builds these inputs; a wrong one is a bug in the definition, said loudly. */
class FanOutInputError extends Error {
  constructor(step: string, what: string) {
    super(`The fan-out ${step} step was given no ${what}`);
    this.name = 'FanOutInputError';
  }
}

function isRange(value: unknown): value is RangeSpec {
  const r = value as RangeSpec | undefined;
  return !!r && Number.isSafeInteger(r.index) && Number.isSafeInteger(r.start) && Number.isSafeInteger(r.end);
}

function isJob(value: unknown): value is FanOutJob {
  const j = value as FanOutJob | undefined;
  return !!j && typeof j.runName === 'string' && typeof j.target?.s3Key === 'string' && Number.isSafeInteger(j.size);
}

/** Plan: the execution's input (the S3 record, the attempt) and its name -> the job and its ranges. */
export function createFanOutPlanHandler(deps: FanOutDeps): (event: FanOutRequest & { runName: string }) => Promise<PlanResult> {
  return async (event) => {
    if (!event?.record || typeof event.runName !== 'string') throw new FanOutInputError('plan', 'record and run name');
    return planFanOut(deps, { record: event.record, attempt: Number(event.attempt) || 0, runName: event.runName });
  };
}

/** Range: one item of the Distributed Map -> its boundaries (the partial profile goes to S3). */
export function createFanOutRangeHandler(deps: FanOutDeps): (event: { job: FanOutJob; range: RangeSpec }, context?: TimeLeft) => Promise<RangeReport> {
  return async (event, context) => {
    if (!isJob(event?.job) || !isRange(event.range)) throw new FanOutInputError('range', 'job and range');
    return profileRangeStep(deps, { job: event.job, range: event.range }, deadlineOf(context));
  };
}

/** Merge: the job and every range -> the profile, written. */
export function createFanOutMergeHandler(deps: FanOutDeps): (event: { job: FanOutJob; ranges: RangeSpec[] }, context?: TimeLeft) => Promise<{ outcome: Outcome }> {
  return async (event, context) => {
    if (!isJob(event?.job) || !Array.isArray(event.ranges) || !event.ranges.every(isRange)) throw new FanOutInputError('merge', 'job and ranges');
    const result = await mergeFanOut(deps, { job: event.job, ranges: event.ranges }, deadlineOf(context));
    console.log(JSON.stringify({ level: 'info', outcome: result.outcome, key: event.job.target.s3Key, run: event.job.runName }));
    return result;
  };
}
