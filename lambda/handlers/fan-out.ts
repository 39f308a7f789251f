import { mergeFanOut, planFanOut, profileRangeStep, type FanOutDeps, type FanOutJob, type PlanResult, type RangeReport, type RangeSpec } from '../core/fan-out';
import type { FanOutRequest, Outcome } from '../core/process';
import { lambdaLogger } from '../shared/log';

export type { FanOutDeps } from '../core/fan-out';


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
export function createFanOutRangeHandler(deps: FanOutDeps): (event: { job: FanOutJob; range: RangeSpec }) => Promise<RangeReport> {
  return async (event) => {
    if (!isJob(event?.job) || !isRange(event.range)) throw new FanOutInputError('range', 'job and range');
    return profileRangeStep(deps, { job: event.job, range: event.range });
  };
}

/** Merge: the job and every range -> the profile, written. */
export function createFanOutMergeHandler(deps: FanOutDeps): (event: { job: FanOutJob; ranges: RangeSpec[] }) => Promise<{ outcome: Outcome }> {
  return async (event) => {
    if (!isJob(event?.job) || !Array.isArray(event.ranges) || !event.ranges.every(isRange)) throw new FanOutInputError('merge', 'job and ranges');
    const result = await mergeFanOut(deps, { job: event.job, ranges: event.ranges });
    lambdaLogger({ level: 'info', outcome: result.outcome, key: event.job.target.s3Key, run: event.job.runName });
    return result;
  };
}
