import type { BuildHandlers } from './service';
import { createListHandler } from '../lambda/handlers/list';
import { createReadHandler } from '../lambda/handlers/read';
import { createUploadHandler } from '../lambda/handlers/upload';
import { createProcessHandler } from '../lambda/handlers/process';
import { profileObject, readRows } from '../lambda/core/profile';

/** The deployed handlers, built with the local service's config and S3 client; nothing local-specific. */
export const buildHandlers: BuildHandlers = ({ config, s3 }) => ({
  list: createListHandler({ config, s3 }),
  read: createReadHandler({ config, s3, readRows }),
  upload: createUploadHandler({ config, s3 }),
  process: createProcessHandler({ config, s3, profileObject }),
});
