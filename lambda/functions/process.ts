import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { createAwsJsonClient } from '../shared/aws-json';
import { createS3Client } from '../shared/clients';
import { loadConfig } from '../shared/config';
import { STEP_FUNCTIONS_API, stepFunctionsStarter } from '../core/fan-out-start';
import { inlineRangeRunner, lambdaRangeThreads, profileStoredObject, serveRangeJobs, threadRangeRunner } from '../core/ranged-profile';
import { createProcessHandler } from '../handlers/process';

const config = loadConfig();
const s3 = createS3Client(config);

// This bundle is also its own range worker: a thread started from it serves range jobs (with an S3
// client of its own, from the same environment). The handler below is built there too (cheap: the
// runner starts no thread until a split plan) but never called, and there is no fan-out client.
if (!isMainThread) serveRangeJobs(parentPort!, s3);

// With more than one vCPU (the function's memory decides: lambda/shared/grants.ts), ranges run on
// one thread per vCPU; with one, in this thread: the ranged profiler's one code path either way.
const threads = lambdaRangeThreads(availableParallelism(), Number(process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE));
const ranges = threads > 1 ? threadRangeRunner(threads, () => new Worker(__filename), s3) : inlineRangeRunner(s3);
const fanOut =
  isMainThread && config.fanOutStateMachineArn
    ? stepFunctionsStarter(createAwsJsonClient({ ...STEP_FUNCTIONS_API, region: config.region }), config, config.fanOutStateMachineArn)
    : undefined;
export const handler = createProcessHandler({
  config,
  s3,
  profileStored: (input, options) => profileStoredObject({ s3, runner: ranges }, input, options),
  ...(fanOut ? { fanOut } : {}),
});
