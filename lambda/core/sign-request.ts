/**
 * Signs the S3 requests `@uppy/aws-s3` (v6) makes in its `signRequest` mode, one at a time, for
 * the caller's own area of the uploads bucket and under the same rules as `POST /uploads`.
 *
 * Uppy talks to S3 itself (it reads the upload id and the ETags from S3's answers), and asks the
 * app's `signRequest(request)` for a presigned URL before each request. The app forwards that
 * request, plus the file's size and type that Uppy leaves out, to `POST /uploads/sign` with its
 * bearer token. What the signature can enforce, it does: the content type of a new object and the
 * content length of a single PUT and of every part are signed, so S3 refuses anything else. What
 * it cannot (which parts a completion assembles), is checked against S3's own part list before a
 * completion is signed.
 *
 * Keys: a new object (PutObject, CreateMultipartUpload) is named by an API key relative to the
 * caller's area, like `POST /uploads`; the answer carries the S3 key (`users/<sub>/<key>`), which
 * Uppy uses from then on ("the backend derives its own key", in Uppy's words). Requests on an
 * existing upload therefore name that S3 key, and it must lie in the caller's area.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { BadRequestError, ConflictError, PayloadTooLargeError } from '../shared/errors';
import { toS3Key } from '../shared/keys';
import { MAX_PART_BYTES, planParts } from './multipart';
import { abortMultipartUpload, listAllParts, nowOf, type MultipartTarget, type UploadDeps } from './upload';

/** The S3 request to sign, validated at the edge (handlers/sign-request.ts). */
export type SignInput =
  | { operation: 'PutObject'; key: string; contentType: string; size: number }
  | { operation: 'CreateMultipartUpload'; key: string; contentType: string; size: number }
  | { operation: 'UploadPart'; s3Key: string; uploadId: string; partNumber: number; size: number }
  | { operation: 'ListParts'; s3Key: string; uploadId: string }
  | { operation: 'CompleteMultipartUpload'; s3Key: string; uploadId: string; size: number }
  | { operation: 'AbortMultipartUpload'; s3Key: string; uploadId: string };

export type SignOperation = SignInput['operation'];

/** Uppy's `PresignedResponse`: the URL, the S3 key it was signed for, headers to send with it. */
export interface SignedS3Request {
  url: string;
  /** The S3 key (`users/<sub>/<key>`); Uppy uses it for the rest of the upload. */
  key: string;
  /** Signed headers the request must carry (the browser adds Content-Length itself). */
  headers?: Record<string, string>;
  expiresAt: string;
}

/** The byte count part `partNumber` of an upload of `size` bytes has, by the server's part plan. */
export function partLength(size: number, partNumber: number): number {
  const { partSize, partCount } = planParts(size);
  if (partNumber < 1 || partNumber > partCount) {
    throw new BadRequestError('InvalidPartNumber', `partNumber must be from 1 to ${partCount} for an upload of ${size} bytes (parts of ${partSize})`);
  }
  return partNumber < partCount ? partSize : size - (partCount - 1) * partSize;
}

export async function signS3Request(deps: UploadDeps, userId: string, input: SignInput): Promise<SignedS3Request> {
  const { config, s3 } = deps;
  const Bucket = config.uploadsBucket;
  const expiresIn = config.presignExpiresSeconds;
  const expiresAt = new Date(nowOf(deps).getTime() + expiresIn * 1000).toISOString();
  // Headers named here are signed, so S3 refuses a request that sends other values.
  const signing = (...signed: string[]) => ({ expiresIn, ...(signed.length ? { signableHeaders: new Set(signed) } : {}) });

  switch (input.operation) {
    case 'PutObject': {
      if (input.size > MAX_PART_BYTES) {
        throw new PayloadTooLargeError('EntityTooLarge', `A single PUT carries at most ${MAX_PART_BYTES} bytes; upload ${input.size} bytes in parts`);
      }
      const Key = toS3Key(userId, input.key);
      const url = await getSignedUrl(
        s3,
        new PutObjectCommand({ Bucket, Key, ContentType: input.contentType, ContentLength: input.size }),
        signing('content-type', 'content-length'),
      );
      return { url, key: Key, headers: { 'content-type': input.contentType }, expiresAt };
    }
    case 'CreateMultipartUpload': {
      const Key = toS3Key(userId, input.key);
      const url = await getSignedUrl(s3, new CreateMultipartUploadCommand({ Bucket, Key, ContentType: input.contentType }), signing('content-type'));
      return { url, key: Key, headers: { 'content-type': input.contentType }, expiresAt };
    }
    case 'UploadPart': {
      const length = partLength(input.size, input.partNumber);
      const url = await getSignedUrl(
        s3,
        new UploadPartCommand({ Bucket, Key: input.s3Key, UploadId: input.uploadId, PartNumber: input.partNumber, ContentLength: length }),
        signing('content-length'),
      );
      return { url, key: input.s3Key, expiresAt };
    }
    case 'ListParts': {
      const url = await getSignedUrl(s3, new ListPartsCommand({ Bucket, Key: input.s3Key, UploadId: input.uploadId }), signing());
      return { url, key: input.s3Key, expiresAt };
    }
    case 'CompleteMultipartUpload': {
      await checkBeforeCompleting(deps, { s3Key: input.s3Key, uploadId: input.uploadId }, input.size);
      const url = await getSignedUrl(s3, new CompleteMultipartUploadCommand({ Bucket, Key: input.s3Key, UploadId: input.uploadId }), signing());
      return { url, key: input.s3Key, expiresAt };
    }
    case 'AbortMultipartUpload': {
      const url = await getSignedUrl(s3, new AbortMultipartUploadCommand({ Bucket, Key: input.s3Key, UploadId: input.uploadId }), signing());
      return { url, key: input.s3Key, expiresAt };
    }
  }
}

/**
 * What S3 holds for the upload, against the rules `POST /uploads/{id}/complete` applies: parts
 * 1..n without gaps, every one but the last of the planned part size (each part's length was
 * signed, so this holds unless the declared size changed between requests), the total equal to
 * the declared size (409) and within the ceiling (413, and the upload is aborted). 404
 * NoSuchUpload when S3 has no such upload under that key.
 */
async function checkBeforeCompleting(deps: UploadDeps, target: MultipartTarget, size: number): Promise<void> {
  const parts = await listAllParts(deps, target);
  const total = parts.reduce((sum, p) => sum + p.size, 0);
  if (total > deps.config.maxUploadBytes) {
    await abortMultipartUpload(deps, target).catch(() => undefined); // best effort: the lifecycle rule cleans up the rest
    throw new PayloadTooLargeError('EntityTooLarge', `The parts add up to ${total} bytes, over the ${deps.config.maxUploadBytes}-byte limit; the upload was aborted`);
  }
  if (parts.length === 0) throw new BadRequestError('InvalidPart', 'No part has been uploaded yet');
  const { partSize } = planParts(size);
  parts.forEach((part, i) => {
    if (part.partNumber !== i + 1) throw new BadRequestError('InvalidPart', `Part ${i + 1} is missing`);
    if (i < parts.length - 1 && part.size !== partSize) {
      throw new BadRequestError('InvalidPart', `Part ${part.partNumber} has ${part.size} bytes; every part but the last must have ${partSize}`);
    }
  });
  if (total !== size) throw new ConflictError('SizeMismatch', `The parts add up to ${total} bytes; the upload was declared as ${size}`);
}
