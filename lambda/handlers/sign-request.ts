/**
 * `POST /uploads/sign`: the edge of core/sign-request.ts. Turns the JSON body (Uppy's
 * `PresignableRequest` plus the file's `size`, and `contentType` for a multipart upload) into a
 * typed, validated `SignInput`; anything that is not one of the six requests Uppy makes is a 400
 * naming what is wrong, a key outside the caller's area a 403.
 */
import type { Config } from '../shared/config';
import { BadRequestError, ForbiddenError } from '../shared/errors';
import { bodyObject, callerId, json, parseJsonBody, type Operation } from '../shared/http';
import { fromS3Key, validateUploadKey } from '../shared/keys';
import { signS3Request, type SignInput } from '../core/sign-request';
import { validateContentType, validateSize, type UploadDeps } from '../core/upload';
import { MAX_PARTS } from '../core/multipart';

/** S3 upload ids are opaque; AWS's are about 100 characters of URL-safe text. */
const UPLOAD_ID = /^[\x21-\x7e]{1,1024}$/;

function uploadIdOf(value: unknown): string {
  if (typeof value !== 'string' || !UPLOAD_ID.test(value)) {
    throw new BadRequestError('InvalidUploadId', 'uploadId must be the upload id S3 returned (1 to 1024 printable ASCII characters)');
  }
  return value;
}

/** The S3 key of an upload in progress: `users/<caller>/<key>`, as the sign answer for its creation returned it. */
function ownS3Key(value: unknown, userId: string): string {
  if (typeof value !== 'string' || value === '') throw new BadRequestError('InvalidKey', 'key is required');
  const key = fromS3Key(userId, value);
  if (key === undefined) {
    throw new ForbiddenError('KeyOutsideArea', `key must be the S3 key the upload was created under, in your area (users/${userId}/…)`);
  }
  validateUploadKey(key);
  return value;
}

function sizeOf(value: unknown, config: Pick<Config, 'maxUploadBytes'>, multipart: boolean): number {
  if (value === undefined) throw new BadRequestError('InvalidSize', 'size (the whole file\'s size in bytes) is required');
  const size = validateSize(value, config);
  if (multipart && size === 0) throw new BadRequestError('InvalidSize', 'A multipart upload needs at least one byte; upload an empty file with a single PUT');
  return size;
}

export function parseSignRequest(body: unknown, userId: string, config: Pick<Config, 'maxUploadBytes'>): SignInput {
  const b = bodyObject(body);
  const { method } = b;
  const hasUploadId = b.uploadId !== undefined;
  if (method === 'PUT' && !hasUploadId) {
    return { operation: 'PutObject', key: validateUploadKey(b.key), contentType: validateContentType(b.contentType), size: sizeOf(b.size, config, false) };
  }
  if (method === 'POST' && !hasUploadId) {
    return { operation: 'CreateMultipartUpload', key: validateUploadKey(b.key), contentType: validateContentType(b.contentType), size: sizeOf(b.size, config, true) };
  }
  if (hasUploadId && (method === 'PUT' || method === 'GET' || method === 'POST' || method === 'DELETE')) {
    const s3Key = ownS3Key(b.key, userId);
    const uploadId = uploadIdOf(b.uploadId);
    switch (method) {
      case 'PUT': {
        const n = b.partNumber;
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_PARTS) {
          throw new BadRequestError('InvalidPartNumber', `partNumber must be an integer from 1 to ${MAX_PARTS}`);
        }
        return { operation: 'UploadPart', s3Key, uploadId, partNumber: n, size: sizeOf(b.size, config, true) };
      }
      case 'GET':
        return { operation: 'ListParts', s3Key, uploadId };
      case 'POST':
        return { operation: 'CompleteMultipartUpload', s3Key, uploadId, size: sizeOf(b.size, config, true) };
      case 'DELETE':
        return { operation: 'AbortMultipartUpload', s3Key, uploadId };
    }
  }
  if (method === 'DELETE') {
    throw new BadRequestError('UnsupportedRequest', 'Objects are deleted with DELETE /buckets/uploads/objects/{key}, not through a signed URL');
  }
  throw new BadRequestError(
    'UnsupportedRequest',
    'method must be PUT (object, or a part with uploadId and partNumber), POST (create, or complete with uploadId), GET with uploadId (list parts) or DELETE with uploadId (abort)',
  );
}

export function signRequestOperations(deps: UploadDeps): Record<string, Operation> {
  return {
    signS3Request: async (event) => {
      const userId = callerId(event);
      const input = parseSignRequest(parseJsonBody(event), userId, deps.config);
      return json(200, await signS3Request(deps, userId, input));
    },
  };
}
