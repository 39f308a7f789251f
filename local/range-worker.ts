/**
 * The body of a local range worker thread (started through range-worker.cjs): signs with the key
 * of the function it works for (workerData), as that function's own S3 client does, and serves
 * either the processor's range jobs or the fan-out's range step.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { profileRangeStep, rangeEngine } from '../lambda/core/fan-out';
import { serveRangeJobs } from '../lambda/core/ranged-profile';
import { createS3Client } from '../lambda/shared/clients';
import { errorName } from '../lambda/shared/errors';
import { serveRequests } from '../lambda/shared/thread-pool';
import type { RangeWorkerData, FanOutRangeRequest } from './range-threads';

const data = workerData as RangeWorkerData;
const s3 = createS3Client(data.config, { credentials: data.credentials });

if (data.role === 'process') serveRangeJobs(parentPort!, s3);
else {
  const deps = { s3, config: data.config, engine: rangeEngine() };
  // The name and message are what the local run's retry and dead letter use.
  serveRequests(parentPort!, (request: FanOutRangeRequest) => profileRangeStep(deps, request), (err) => ({
    name: errorName(err) ?? 'Error',
    message: err instanceof Error ? err.message : String(err),
  }));
}
