import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { processSqsEvent, type ProcessDeps } from '../core/process';

export type { ProcessDeps, ProfileStoredFn } from '../core/process';

/** SQS (S3 notifications) -> profiles in the results bucket; failed records are reported for retry. */
export function createProcessHandler(deps: ProcessDeps): (event: SQSEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<SQSBatchResponse> {
  // The time budget is the invocation's own (the context's remaining time), not the configured timeout.
  return (event, context) => processSqsEvent(deps, event, context);
}
