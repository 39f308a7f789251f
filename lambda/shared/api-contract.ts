/**
 * What each route of the route table (routes.ts) takes and answers, keyed by its operation: the
 * schemas of api-schemas.ts plus the statuses, error codes and headers. The OpenAPI document
 * (lib/openapi.ts) is generated from this and routes.ts; the contract test checks the live local
 * service against that document, and fails for a route without a case. Only build tools, local
 * mode and tests import this module, never a Lambda function.
 */
import type { GenericSchema } from 'valibot';
import * as S from './api-schemas';
import * as R from './api-responses';
import { MAX_COMPLETE_BODY_BYTES, MAX_JSON_BODY_BYTES } from './http';

export type Status = 200 | 201 | 204 | 206 | 304 | 307 | 400 | 401 | 403 | 404 | 409 | 413 | 416 | 503;

export interface ResponseContract {
  description: string;
  /** JSON body; a string is a media type whose body is the object's bytes. */
  body?: GenericSchema | { mediaType: string };
  /** Other JSON bodies the same status may have (oneOf). */
  alternatives?: GenericSchema[];
  /** A media range the status may also answer with, the object's bytes (inline text). */
  orBytes?: string;
  /** Response headers always sent with this status: name → description (all strings). */
  headers?: Record<string, string>;
  /** Response headers sent in some cases only. */
  optionalHeaders?: Record<string, string>;
  /** Error codes this status carries on this route (the `error.code` of the body). */
  codes?: string[];
}

export interface OperationContract {
  summary: string;
  description?: string;
  /** Path parameters: name → description. */
  params?: Record<string, string>;
  /** Query parameters, one property each. */
  query?: GenericSchema & { entries: Record<string, GenericSchema> };
  /** Request headers: name → description. */
  requestHeaders?: Record<string, string>;
  body?: { schema: GenericSchema; maxBytes: number };
  responses: Partial<Record<Status, ResponseContract>>;
  /** HEAD: no body on any response, errors included. */
  noBody?: boolean;
}

const UNAUTHORIZED: ResponseContract = {
  description: 'No bearer token, or one that does not verify (deployed, API Gateway\'s authorizer answers it with the code `UNAUTHORIZED`)',
  codes: ['Unauthorized'],
};
const UNAVAILABLE: ResponseContract = {
  description: 'S3 is unavailable or throttling; retry after the given seconds',
  headers: { 'Retry-After': 'Seconds to wait' },
  codes: ['ServiceUnavailable'],
};
const BODY_ERRORS = ['InvalidBody', 'InvalidJson'];
const KEY_PARAMS = { bucket: '`uploads` (writable) or `results` (profiles, read-only)', key: 'Object key, relative to your area' };
const UPLOAD_ID = { uploadId: 'The uploadId of a multipart session (POST /uploads)' };
const ETAG = 'The object\'s ETag, quoted';

export const API_CONTRACT: Readonly<Record<string, OperationContract>> = {
  listBuckets: {
    summary: 'The buckets you can use',
    responses: { 200: { description: 'The buckets', body: R.BucketList }, 401: UNAUTHORIZED },
  },
  listObjects: {
    summary: 'List your objects, a page at a time',
    params: { bucket: KEY_PARAMS.bucket },
    query: S.ListObjectsQuery,
    responses: {
      200: { description: 'A page of objects and, with delimiter=/, folder prefixes', body: R.ObjectPage },
      400: { description: 'A query value is not valid', codes: ['InvalidKey', 'InvalidDelimiter', 'InvalidLimit', 'InvalidCursor'] },
      401: UNAUTHORIZED,
      404: { description: 'No such bucket', codes: ['NoSuchBucket'] },
      503: UNAVAILABLE,
    },
  },
  getObject: {
    summary: 'Read an object: inline text, a byte range, parsed rows, or a redirect to S3',
    description:
      'Text up to the inline limit is answered inline (nosniff); bigger or binary objects, and ?download=1, are a 307 to a presigned GET ' +
      '(with Accept: application/json, 200 with the URL as JSON instead). HTML, SVG, XML and JavaScript are never rendered.',
    params: KEY_PARAMS,
    query: S.ReadObjectQuery,
    requestHeaders: {
      Range: 'bytes=START-END, START- or -SUFFIX (one range)',
      'If-None-Match': 'ETags; 304 when the object has one of them',
      Accept: 'application/json: the presigned URL as JSON instead of a 307',
    },
    responses: {
      200: {
        description: 'The object as text, a page of rows (?rows=), or (Accept: application/json) its presigned URL',
        body: R.RowsPage,
        alternatives: [R.ObjectUrl],
        orBytes: 'text/*',
        optionalHeaders: { ETag: `${ETAG} (inline text)`, 'Content-Disposition': 'attachment, for types a browser would render' },
      },
      206: { description: 'The bytes of the Range', body: { mediaType: 'text/*' }, headers: { 'Content-Range': 'bytes START-END/SIZE', ETag: ETAG } },
      304: { description: 'Not modified (If-None-Match)', headers: { ETag: ETAG } },
      307: { description: 'Redirect to a presigned GET on S3', headers: { Location: 'The presigned URL', 'Cache-Control': 'no-store' } },
      400: { description: 'A query value, key or range is not valid, or content the row reader cannot read', codes: ['InvalidKey', 'InvalidRows', 'InvalidRange', 'InvalidQuery'] },
      401: UNAUTHORIZED,
      404: { description: 'No such object or bucket', codes: ['NoSuchKey', 'NoSuchBucket'] },
      409: { description: 'The object changed while it was read', codes: ['ObjectChanged'] },
      413: { description: 'One row too big for any page', codes: ['ResponseTooLarge'] },
      416: { description: 'The range is outside the object', headers: { 'Content-Range': 'bytes */SIZE' }, codes: ['InvalidRange'] },
      503: UNAVAILABLE,
    },
  },
  headObject: {
    summary: 'An object\'s size, type, ETag and last-modified time',
    params: KEY_PARAMS,
    noBody: true,
    responses: {
      200: {
        description: 'The object\'s metadata',
        headers: { 'Content-Length': 'Size in bytes', 'Content-Type': 'Stored type', ETag: ETAG, 'Last-Modified': 'HTTP date' },
      },
      400: { description: 'The key is not valid' },
      401: { description: UNAUTHORIZED.description },
      404: { description: 'No such object or bucket' },
      503: { description: UNAVAILABLE.description },
    },
  },
  deleteObject: {
    summary: 'Delete an upload and its profile (idempotent)',
    params: KEY_PARAMS,
    responses: {
      204: { description: 'Deleted, or was not there' },
      400: { description: 'The key is not valid', codes: ['InvalidKey'] },
      401: UNAUTHORIZED,
      403: { description: 'The bucket is read-only', codes: ['ReadOnlyBucket'] },
      404: { description: 'No such bucket', codes: ['NoSuchBucket'] },
      503: UNAVAILABLE,
    },
  },
  createUpload: {
    summary: 'Start an upload: a presigned PUT at or under the multipart threshold, a multipart session above it',
    body: { schema: S.CreateUploadBody, maxBytes: MAX_JSON_BODY_BYTES },
    responses: {
      201: { description: 'A presigned PUT (uploadId null) or a multipart session', body: R.SinglePutSession, alternatives: [R.MultipartSession] },
      400: { description: 'The body is not valid', codes: [...BODY_ERRORS, 'InvalidKey', 'InvalidContentType', 'InvalidSize', 'InvalidChecksum'] },
      401: UNAUTHORIZED,
      413: { description: 'The declared size is over the limit, or the body is too large', codes: ['EntityTooLarge', 'BodyTooLarge'] },
      503: UNAVAILABLE,
    },
  },
  signS3Request: {
    summary: 'Sign one S3 request of an upload, for Uppy\'s @uppy/aws-s3 signRequest mode',
    body: { schema: S.SignS3RequestBody, maxBytes: MAX_JSON_BODY_BYTES },
    responses: {
      200: { description: 'The signed request', body: R.SignedS3Request },
      400: {
        description: 'Not one of the requests Uppy makes, or a field is not valid',
        codes: [...BODY_ERRORS, 'UnsupportedRequest', 'InvalidKey', 'InvalidUploadId', 'InvalidPartNumber', 'InvalidSize', 'InvalidContentType', 'InvalidPart'],
      },
      401: UNAUTHORIZED,
      403: { description: 'The key is outside your area', codes: ['KeyOutsideArea'] },
      404: { description: 'No such upload', codes: ['NoSuchUpload'] },
      409: { description: 'The parts do not add up to the declared size', codes: ['SizeMismatch', 'IncompleteUpload'] },
      413: { description: 'Over the upload limit, or the body is too large', codes: ['EntityTooLarge', 'BodyTooLarge'] },
      503: UNAVAILABLE,
    },
  },
  listParts: {
    summary: 'The parts uploaded so far (to resume)',
    params: UPLOAD_ID,
    query: S.UploadKeyQuery,
    responses: {
      200: { description: 'Every part S3 holds', body: R.UploadedParts },
      400: { description: 'The key is missing, not valid, or not this upload\'s', codes: ['InvalidKey', 'KeyMismatch'] },
      401: UNAUTHORIZED,
      404: { description: 'No such upload (completed, aborted, expired, or not yours)', codes: ['NoSuchUpload'] },
      503: UNAVAILABLE,
    },
  },
  abortUpload: {
    summary: 'Abort a multipart upload',
    params: UPLOAD_ID,
    query: S.UploadKeyQuery,
    responses: {
      204: { description: 'Aborted, or already gone' },
      400: { description: 'The key is missing, not valid, or not this upload\'s', codes: ['InvalidKey', 'KeyMismatch'] },
      401: UNAUTHORIZED,
      404: { description: 'No such upload', codes: ['NoSuchUpload'] },
      503: UNAVAILABLE,
    },
  },
  signParts: {
    summary: 'Presigned URLs for parts of a multipart session',
    params: UPLOAD_ID,
    body: { schema: S.SignPartsBody, maxBytes: MAX_JSON_BODY_BYTES },
    responses: {
      200: { description: 'A URL per part number', body: R.SignedParts },
      400: { description: 'The body is not valid', codes: [...BODY_ERRORS, 'InvalidKey', 'KeyMismatch', 'InvalidPartNumber', 'InvalidChecksum'] },
      401: UNAUTHORIZED,
      404: { description: 'No such upload', codes: ['NoSuchUpload'] },
      413: { description: 'The body is too large', codes: ['BodyTooLarge'] },
      503: UNAVAILABLE,
    },
  },
  completeUpload: {
    summary: 'Check the parts and the declared size, then complete',
    description: '{key} completes with every part S3 lists, {key, partsSha256} the same if they are the parts digested, {key, parts} with exactly those.',
    params: UPLOAD_ID,
    body: { schema: S.CompleteUploadBody, maxBytes: MAX_COMPLETE_BODY_BYTES },
    responses: {
      200: { description: 'The completed object', body: R.CompletedUpload },
      400: {
        description: 'The body is not valid, or a part is not as S3 holds it',
        codes: [...BODY_ERRORS, 'InvalidKey', 'KeyMismatch', 'InvalidPart', 'InvalidPartOrder', 'InvalidPartsSha256', 'EntityTooSmall', 'InvalidChecksum'],
      },
      401: UNAUTHORIZED,
      404: { description: 'No such upload', codes: ['NoSuchUpload'] },
      409: {
        description: 'Parts missing or not the ones digested, sizes that do not add up, or another request completing it',
        codes: ['IncompleteUpload', 'PartsMismatch', 'SizeMismatch', 'UploadCompleting', 'UploadAlreadyCompleted'],
      },
      413: { description: 'The parts add up to more than the limit (the upload is aborted), or the body is too large', codes: ['EntityTooLarge', 'BodyTooLarge'] },
      503: UNAVAILABLE,
    },
  },
};
