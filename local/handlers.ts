import type { BuildHandlers } from './service';
import { createListHandler } from '../lambda/handlers/list';
import { createReadHandler } from '../lambda/handlers/read';
import { createUploadHandler } from '../lambda/handlers/upload';
import { createProcessHandler, type ProcessDeps } from '../lambda/handlers/process';
import { readRows } from '../lambda/core/profile';
import { rangeEngine, type FanOutEngine } from '../lambda/core/fan-out';
import { profileStoredObject } from '../lambda/core/ranged-profile';
import type { S3Client } from '@aws-sdk/client-s3';

/** The engine the fan-out steps use, as lambda/functions/fan-out-*.ts build it. */
export const buildFanOutEngine = (): FanOutEngine => rangeEngine();

/**
 * The process function's dependencies as lambda/functions/process.ts builds them: one pass by the
 * ranged profiler on the service's range threads. `s3` signs the processor's own calls (the tests
 * that inject S3 faults pass a client of theirs); the range threads keep their own clients.
 */
export function processDeps(deps: Parameters<BuildHandlers>[0], s3: S3Client = deps.clients.process): ProcessDeps {
  return {
    config: deps.config,
    s3,
    profileStored: (input, options) => profileStoredObject({ s3, ...deps.processRanges }, input, options),
    log: deps.log,
    fanOut: deps.fanOut,
  };
}

/** The deployed handlers, each with the local service's config, its own function's S3 client and signing keys; nothing local-specific. */
export const buildHandlers: BuildHandlers = (deps) => {
  const { config, clients, keys, log } = deps;
  return {
    list: createListHandler({ config, s3: clients.list, keys: keys.list }, log),
    read: createReadHandler({ config, s3: clients.read, readRows }, log),
    upload: createUploadHandler({ config, s3: clients.upload, keys: keys.upload }, log),
    process: createProcessHandler(processDeps(deps)),
  };
};
