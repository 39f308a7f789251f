/**
 * Errors that reach a caller. Each carries its HTTP status and a stable, machine-readable code;
 * `toErrorResponse` (http.ts) is the one place they become HTTP responses.
 */
export abstract class HttpError extends Error {
  abstract readonly statusCode: number;
  constructor(
    readonly code: string,
    message: string,
    /** Response headers the error calls for, such as `Content-Range: bytes *\/size` on a 416. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** 400: the request is malformed or names something invalid. */
export class BadRequestError extends HttpError {
  readonly statusCode = 400;
}
/** 401: no credentials, or credentials that do not verify. */
export class UnauthorizedError extends HttpError {
  readonly statusCode = 401;
  constructor(message = 'Missing or invalid bearer token') {
    super('Unauthorized', message);
  }
}
/** 403: the caller is known but may not do this (for example write to a read-only bucket). */
export class ForbiddenError extends HttpError {
  readonly statusCode = 403;
}
/** 404: no such object, upload or route. */
export class NotFoundError extends HttpError {
  readonly statusCode = 404;
}
/** 405: the route exists, the method does not. */
export class MethodNotAllowedError extends HttpError {
  readonly statusCode = 405;
}
/** 409: the request conflicts with the current state (for example parts that do not add up). */
export class ConflictError extends HttpError {
  readonly statusCode = 409;
}
/** 412: a precondition (If-Match and friends) failed. */
export class PreconditionFailedError extends HttpError {
  readonly statusCode = 412;
}
/** 413: a declared or sent size is over the configured limit. */
export class PayloadTooLargeError extends HttpError {
  readonly statusCode = 413;
}
/** 416: a Range header that cannot be satisfied for this object. */
export class RangeNotSatisfiableError extends HttpError {
  readonly statusCode = 416;
}

/** The SDK's error name for a missing object or upload, as S3 and S3-compatible servers spell it. */
const NOT_FOUND_NAMES = new Set(['NoSuchKey', 'NotFound', 'NoSuchUpload', 'NoSuchBucket']);

export function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return !!e && (NOT_FOUND_NAMES.has(e.name ?? '') || e.$metadata?.httpStatusCode === 404);
}

export function errorName(err: unknown): string | undefined {
  return (err as { name?: string } | undefined)?.name;
}

/**
 * S3's errors that a caller's request can cause (S3 answers them 4xx, `$fault: 'client'`), by the
 * SDK's error name, with the answer the API gives. A core function maps what it can say better
 * (NoSuchUpload for an upload id, NoSuchKey for a read); these are what is left, so that none of
 * them reaches a caller as a 500. Not listed, and so still 500: errors of our own making, such as
 * AccessDenied (a grant missing), NoSuchBucket, InvalidAccessKeyId, SignatureDoesNotMatch, or
 * MalformedXML and InvalidArgument (a request the code built wrong).
 */
const CALLER_S3_ERRORS: Readonly<Record<string, { status: 400 | 404 | 409 | 412 | 413 | 416; code?: string; message?: string }>> = {
  KeyTooLongError: { status: 400, code: 'InvalidKey', message: `The key is longer than S3 allows (1,024 bytes with users/<id>/)` },
  InvalidPart: { status: 400 },
  InvalidPartOrder: { status: 400 },
  EntityTooSmall: { status: 400 },
  // A completion's full-object checksum that is not the one S3 computes from the parts.
  BadDigest: { status: 400, message: 'checksum does not match the object the uploaded parts make; nothing was completed' },
  OperationAborted: { status: 409 },
  ConditionalRequestConflict: { status: 409 },
  NoSuchKey: { status: 404 },
  NotFound: { status: 404, code: 'NoSuchKey', message: 'No object with that key' },
  NoSuchUpload: { status: 404, message: 'No such upload (it may have been completed, aborted or expired)' },
  PreconditionFailed: { status: 412 },
  EntityTooLarge: { status: 413 },
  InvalidRange: { status: 416 },
};

class CallerS3Error extends HttpError {
  constructor(
    readonly statusCode: number,
    code: string,
    message: string,
  ) {
    super(code, message);
  }
}

/** The HttpError for an S3 error the caller caused, or undefined for any other error. */
export function fromCallerS3Error(err: unknown): HttpError | undefined {
  const e = err as { name?: string; message?: string; $fault?: string } | undefined;
  if (!e || e.$fault !== 'client' || !e.name || !Object.hasOwn(CALLER_S3_ERRORS, e.name)) return undefined;
  const known = CALLER_S3_ERRORS[e.name]!;
  return new CallerS3Error(known.status, known.code ?? e.name, known.message ?? (e.message || e.name));
}
