/**
 * `POST /uploads/sign`: the edge of core/sign-request.ts. Turns the JSON body (Uppy's
 * `PresignableRequest` plus the file's `size`, and `contentType` for a multipart upload) into a
 * typed, validated `SignInput`; anything that is not one of the six requests Uppy makes is a 400
 * naming what is wrong, a key outside the caller's area a 403.
 */
import type { Config } from '../shared/config';
import { BadRequestError, ForbiddenError } from '../shared/errors';
import { callerId, json, parseJsonBody, type Operation } from '../shared/http';
import { fromS3Key, validateUploadKey } from '../shared/keys';
import { SignS3RequestBody } from '../shared/api-schemas';
import { parseInput } from '../shared/validate';
import { signS3Request, type SignInput } from '../core/sign-request';
import type { UploadDeps } from '../core/upload';
import { MAX_PARTS } from '../core/multipart';
import { CONTENT_TYPE_ERROR, NOT_AN_OBJECT, SIZE_ERROR, withinUploadLimit } from './inputs';

const UNSUPPORTED =
  'method must be PUT (object, or a part with uploadId and partNumber), POST (create, or complete with uploadId), GET with uploadId (list parts) or DELETE with uploadId (abort)';

/** What each field of the body answers when it does not fit the schema. */
const FIELDS = {
  method: { code: 'UnsupportedRequest', message: UNSUPPORTED },
  key: { code: 'InvalidKey', message: 'key is required' },
  uploadId: { code: 'InvalidUploadId', message: 'uploadId must be the upload id S3 returned (1 to 1024 printable ASCII characters)' },
  partNumber: { code: 'InvalidPartNumber', message: `partNumber must be an integer from 1 to ${MAX_PARTS}` },
  size: SIZE_ERROR,
  contentType: CONTENT_TYPE_ERROR,
};

/** The S3 key of an upload in progress: `users/<caller>/<key>`, as the sign answer for its creation returned it. */
function ownS3Key(value: string, userId: string): string {
  if (value === '') throw new BadRequestError('InvalidKey', 'key is required');
  const key = fromS3Key(userId, value);
  if (key === undefined) {
    throw new ForbiddenError('KeyOutsideArea', `key must be the S3 key the upload was created under, in your area (users/${userId}/…)`);
  }
  validateUploadKey(key);
  return value;
}

function sizeOf(value: number | undefined, config: Pick<Config, 'maxUploadBytes'>, multipart: boolean): number {
  if (value === undefined) throw new BadRequestError('InvalidSize', 'size (the whole file\'s size in bytes) is required');
  const size = withinUploadLimit(value, config);
  if (multipart && size === 0) throw new BadRequestError('InvalidSize', 'A multipart upload needs at least one byte; upload an empty file with a single PUT');
  return size;
}

function contentTypeOf(value: string | undefined): string {
  if (value === undefined) throw new BadRequestError(CONTENT_TYPE_ERROR.code, CONTENT_TYPE_ERROR.message!);
  return value;
}

export function parseSignRequest(body: unknown, userId: string, config: Pick<Config, 'maxUploadBytes'>): SignInput {
  const b = parseInput(SignS3RequestBody, body, FIELDS, NOT_AN_OBJECT);
  const { method } = b;
  const hasUploadId = b.uploadId !== undefined;
  if (method === 'PUT' && !hasUploadId) {
    return { operation: 'PutObject', key: validateUploadKey(b.key), contentType: contentTypeOf(b.contentType), size: sizeOf(b.size, config, false) };
  }
  if (method === 'POST' && !hasUploadId) {
    return { operation: 'CreateMultipartUpload', key: validateUploadKey(b.key), contentType: contentTypeOf(b.contentType), size: sizeOf(b.size, config, true) };
  }
  if (hasUploadId && (method === 'PUT' || method === 'GET' || method === 'POST' || method === 'DELETE')) {
    const s3Key = ownS3Key(b.key, userId);
    const uploadId = b.uploadId!;
    switch (method) {
      case 'PUT': {
        const n = b.partNumber;
        if (n === undefined) throw new BadRequestError('InvalidPartNumber', `partNumber must be an integer from 1 to ${MAX_PARTS}`);
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
  throw new BadRequestError('UnsupportedRequest', UNSUPPORTED);
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
