import type { BuildHandlers } from './service';
import { createListHandler } from '../lambda/handlers/list';
import { createReadHandler } from '../lambda/handlers/read';
import { createUploadHandler } from '../lambda/handlers/upload';
import { createProcessHandler } from '../lambda/handlers/process';
import { profileObject, readRows } from '../lambda/core/profile';
import { rangeEngine, type FanOutEngine } from '../lambda/core/fan-out';
import { profileStoredObject } from '../lambda/core/ranged-profile';

/** The engine the fan-out steps use, as lambda/functions/fan-out-*.ts build it. */
export const buildFanOutEngine = (): FanOutEngine => rangeEngine();

/** The deployed handlers, each with the local service's config, its own function's S3 client and signing keys; nothing local-specific. */
export const buildHandlers: BuildHandlers = ({ config, clients, keys, log, fanOut, processRanges }) => ({
  list: createListHandler({ config, s3: clients.list, keys: keys.list }, log),
  read: createReadHandler({ config, s3: clients.read, readRows }, log),
  upload: createUploadHandler({ config, s3: clients.upload, keys: keys.upload }, log),
  process: createProcessHandler({
    config,
    s3: clients.process,
    profileObject,
    profileStored: (input, options) => profileStoredObject({ s3: clients.process, ...processRanges }, input, options),
    log,
    fanOut,
  }),
});
