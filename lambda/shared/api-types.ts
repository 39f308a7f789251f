/**
 * The API's types (contract v1), in one place: inferred from the schemas in api-schemas.ts (requests) and api-responses.ts, which
 * the handlers validate with and the OpenAPI document is generated from; the core functions
 * return them and the s3files client and the web console read them, so a change to the contract
 * fails the type-check on every side. Contract limits the client must respect live here too. No
 * runtime imports (type imports are erased): the CLI and the console load this without valibot.
 */
import type { InferOutput } from 'valibot';
import type * as S from './api-schemas';
import type * as R from './api-responses';

/**
 * The lowest multipart threshold a deployment may configure (MULTIPART_THRESHOLD_BYTES, S3's
 * minimum part size): an upload of at most this many bytes is always a single PUT.
 */
export const MIN_MULTIPART_THRESHOLD_BYTES = 5 * 1024 * 1024;

/**
 * The profile of `<key>` in the uploads bucket is `<key>.profile.json` in the results bucket.
 * Here, with no runtime import, so the console and the CLI take it without lambda/shared/keys.ts
 * (which needs Node's Buffer).
 */
export const PROFILE_SUFFIX = '.profile.json';

/** At most this many part numbers per `POST /uploads/{uploadId}/parts`. */
export const MAX_PARTS_PER_SIGN_REQUEST = 100;

export type BucketInfo = InferOutput<typeof R.BucketInfo>;
export type ObjectInfo = InferOutput<typeof R.ObjectInfo>;
export type ObjectPage = InferOutput<typeof R.ObjectPage>;
/** `POST /uploads` at or under the multipart threshold: one presigned PUT. */
export type SinglePutSession = InferOutput<typeof R.SinglePutSession>;
/** `POST /uploads` above the threshold: a multipart session with a server-chosen part size. */
export type MultipartSession = InferOutput<typeof R.MultipartSession>;
export type UploadSessionResponse = SinglePutSession | MultipartSession;
export type SignedParts = InferOutput<typeof R.SignedParts>;
/** One part URL; `headers` (the part's `x-amz-checksum-*`) must be sent exactly, when present. */
export type SignedPart = SignedParts['parts'][number];
/** A checksum as S3 stores it with an object (full-object or composite). */
export type StoredChecksum = InferOutput<typeof R.StoredChecksum>;
/** `checksum` of `POST /uploads` for a single PUT. */
export type SinglePutChecksum = { algorithm: NonNullable<CreateUploadRequest['checksum']>['algorithm']; value: string };
export type UploadedPart = InferOutput<typeof R.UploadedPart>;
export type CompletedUpload = InferOutput<typeof R.CompletedUpload>;
/** `POST /uploads/sign`: one S3 request signed for Uppy. */
export type SignedS3Request = InferOutput<typeof R.SignedS3Request>;
/**
 * A page of parsed rows. `truncated` is present when the page ends before the rows asked for, with
 * `nextOffset` at the first row not returned: `response-size` (the next row would take the
 * response past Lambda's 6 MB), `deadline` (the read function's time ran out), or a gzip limit.
 */
export type RowsPage = InferOutput<typeof R.RowsPage>;
/**
 * `GET /buckets/{bucket}/objects/{key+}` with `Accept: application/json`, wherever the route would
 * otherwise answer `307` to a presigned GET: the same URL as JSON, for clients that cannot follow
 * that redirect (a cross-origin `fetch()`, or a client that would send its bearer token on to S3).
 */
export type ObjectUrl = InferOutput<typeof R.ObjectUrl>;
/** Every error's body. */
export type ErrorBody = InferOutput<typeof R.ErrorBody>;

/** Request bodies, as a client sends them. */
export type CreateUploadRequest = InferOutput<typeof S.CreateUploadBody>;
export type SignPartsRequest = InferOutput<typeof S.SignPartsBody>;
export type CompleteUploadRequest = InferOutput<typeof S.CompleteUploadBody>;
export type SignS3RequestBody = InferOutput<typeof S.SignS3RequestBody>;
