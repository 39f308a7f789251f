import {
  abortUpload,
  completeUpload,
  createUpload,
  deleteObject,
  listParts,
  signParts,
  type UploadDeps,
} from '../core/upload';
import { signRequestOperations } from './sign-request';
import { callerId, createApiHandler, json, noContent, pathParam, type ApiEvent } from '../shared/http';
import { parseCompleteUpload, parseCreateUpload, parseSignParts, parseUploadKeyQuery } from './inputs';
import type { Logger } from '../shared/log';

export type { UploadDeps };

const uploadIdOf = (event: ApiEvent) => pathParam(event, 'uploadId', 'NoSuchUpload');

/** POST /uploads, the multipart routes under /uploads/{uploadId}, POST /uploads/sign (Uppy), and DELETE of an object. Request lines go to `log` (Lambda's console by default). */
export function createUploadHandler(deps: UploadDeps, log?: Logger) {
  return createApiHandler(
    'upload',
    {
      createUpload: async (event: ApiEvent) => {
        const userId = callerId(event);
        const input = parseCreateUpload(event, deps.config);
        return json(201, await createUpload(deps, userId, input));
      },
      signParts: async (event: ApiEvent) => {
        const userId = callerId(event);
        return json(200, await signParts(deps, userId, uploadIdOf(event), parseSignParts(event)));
      },
      listParts: async (event: ApiEvent) => {
        const userId = callerId(event);
        return json(200, await listParts(deps, userId, uploadIdOf(event), parseUploadKeyQuery(event)));
      },
      completeUpload: async (event: ApiEvent) => {
        const userId = callerId(event);
        const input = parseCompleteUpload(event);
        return json(200, await completeUpload(deps, userId, uploadIdOf(event), input));
      },
      abortUpload: async (event: ApiEvent) => {
        const userId = callerId(event);
        await abortUpload(deps, userId, uploadIdOf(event), parseUploadKeyQuery(event));
        return noContent();
      },
      deleteObject: async (event: ApiEvent) => {
        const userId = callerId(event);
        await deleteObject(deps, userId, pathParam(event, 'bucket', 'NoSuchBucket'), pathParam(event, 'key'));
        return noContent();
      },
      ...signRequestOperations(deps),
    },
    deps.config.allowedOrigins,
    deps.keys,
    log,
  );
}
