import {
  abortUpload,
  completeUpload,
  createUpload,
  deleteObject,
  listParts,
  parseCompleteUpload,
  parseCreateUpload,
  signParts,
  type UploadDeps,
} from '../core/upload';
import { signRequestOperations } from './sign-request';
import { callerId, createApiHandler, json, MAX_COMPLETE_BODY_BYTES, noContent, parseJsonBody, pathParam, queryParam, type ApiEvent } from '../shared/http';

export type { UploadDeps };

const uploadIdOf = (event: ApiEvent) => pathParam(event, 'uploadId', 'NoSuchUpload');

/** POST /uploads, the multipart routes under /uploads/{uploadId}, POST /uploads/sign (Uppy), and DELETE of an object. */
export function createUploadHandler(deps: UploadDeps) {
  return createApiHandler(
    'upload',
    {
      createUpload: async (event: ApiEvent) => {
        const userId = callerId(event);
        const input = parseCreateUpload(parseJsonBody(event), deps.config);
        return json(201, await createUpload(deps, userId, input));
      },
      signParts: async (event: ApiEvent) => {
        const userId = callerId(event);
        return json(200, await signParts(deps, userId, uploadIdOf(event), parseJsonBody(event)));
      },
      listParts: async (event: ApiEvent) => {
        const userId = callerId(event);
        return json(200, await listParts(deps, userId, uploadIdOf(event), queryParam(event, 'key')));
      },
      completeUpload: async (event: ApiEvent) => {
        const userId = callerId(event);
        const input = parseCompleteUpload(parseJsonBody(event, MAX_COMPLETE_BODY_BYTES));
        return json(200, await completeUpload(deps, userId, uploadIdOf(event), input));
      },
      abortUpload: async (event: ApiEvent) => {
        const userId = callerId(event);
        await abortUpload(deps, userId, uploadIdOf(event), queryParam(event, 'key'));
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
  );
}
