import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { processSqsEvent, type ProcessDeps } from '../core/process';

export type { ProcessDeps, ProfileObjectFn } from '../core/process';

/** SQS (S3 notifications) -> profiles in the results bucket; failed records are reported for retry. */
export function createProcessHandler(deps: ProcessDeps): (event: SQSEvent) => Promise<SQSBatchResponse> {
  return (event) => processSqsEvent(deps, event);
}
