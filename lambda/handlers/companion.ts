import { abortMultipart, completeMultipart, createGrant, createMultipart, listParts, parseCompanionParts, signPart, verifyGrant } from '../core/companion';
import type { UploadDeps } from '../core/upload';
import { callerId, json, MAX_COMPLETE_BODY_BYTES, parseJsonBody, pathParam, queryParam, type ApiEvent, type Operation } from '../shared/http';

/**
 * The Uppy (Companion S3) routes, served by the upload function. `POST /uppy/grants` is behind the
 * usual bearer auth; the `/uppy/{grant}/s3/...` routes carry the grant in the path instead,
 * because Uppy's Companion mode sends no Authorization header (see core/companion.ts).
 */
export function companionOperations(deps: UploadDeps): Record<string, Operation> {
  const grantee = (event: ApiEvent) => verifyGrant(deps, pathParam(event, 'grant', 'Unauthorized'));
  const uploadIdOf = (event: ApiEvent) => pathParam(event, 'uploadId', 'NoSuchUpload');
  return {
    createUppyGrant: async (event) => json(201, createGrant(deps, callerId(event))),
    uppyCreateMultipart: async (event) => {
      const userId = grantee(event);
      return json(200, await createMultipart(deps, userId, parseJsonBody(event)));
    },
    uppySignPart: async (event) => {
      const userId = grantee(event);
      return json(200, await signPart(deps, userId, uploadIdOf(event), pathParam(event, 'partNumber', 'InvalidPartNumber'), queryParam(event, 'key')));
    },
    uppyListParts: async (event) => {
      const userId = grantee(event);
      return json(200, await listParts(deps, userId, uploadIdOf(event), queryParam(event, 'key')));
    },
    uppyCompleteMultipart: async (event) => {
      const userId = grantee(event);
      const parts = parseCompanionParts(parseJsonBody(event, MAX_COMPLETE_BODY_BYTES));
      return json(200, await completeMultipart(deps, userId, uploadIdOf(event), queryParam(event, 'key'), parts));
    },
    uppyAbortMultipart: async (event) => {
      const userId = grantee(event);
      await abortMultipart(deps, userId, uploadIdOf(event), queryParam(event, 'key'));
      return json(200, {});
    },
  };
}
