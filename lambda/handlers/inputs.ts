/**
 * The edge: each route's event turned into the typed, validated input its core function takes,
 * with the schemas of shared/api-schemas.ts (the ones the OpenAPI document is made of). Core never
 * sees a raw body or query value. Rules that need the configuration (the upload size limit) are
 * applied here too; rules that need the upload itself (its part count, its key) stay in core,
 * after the upload id is verified, so another user's id is a 404 whatever else is wrong.
 */
import type { Config } from '../shared/config';
import { BadRequestError, PayloadTooLargeError } from '../shared/errors';
import type { CompleteUploadInput, CreateUploadInput, SignPartsInput } from '../core/upload';
import type { ListQuery } from '../core/list';
import type { ReadQuery } from '../core/read';
import {
  CompleteUploadBody,
  CreateUploadBody,
  DEFAULT_LIST_LIMIT,
  ListObjectsQuery,
  MAX_LIST_LIMIT,
  MAX_PARTS_PER_UPLOAD,
  MAX_ROWS_PER_REQUEST,
  ReadObjectQuery,
  SignPartsBody,
  UploadKeyQuery,
} from '../shared/api-schemas';
import { MAX_PARTS_PER_SIGN_REQUEST, type CreateUploadRequest } from '../shared/api-types';
import {
  checksumShape,
  isMultipartChecksumAlgorithm,
  isSinglePutChecksumAlgorithm,
  isWellFormedChecksum,
  MULTIPART_CHECKSUM_ALGORITHMS,
  SINGLE_PUT_CHECKSUM_ALGORITHMS,
} from '../shared/upload-checksums';
import { MAX_COMPLETE_BODY_BYTES, parseJsonBody, type ApiEvent } from '../shared/http';
import { validatePrefix, validateUploadKey } from '../shared/keys';
import { parseInput, type FieldError } from '../shared/validate';

export const NOT_AN_OBJECT = { code: 'InvalidBody', message: 'The request body must be a JSON object' } as const;
const BAD_QUERY = { code: 'InvalidQuery', message: 'The query string is not valid' } as const;

/** Query parameters as API Gateway gives them (single values; absent is undefined). */
function queryOf(event: Pick<ApiEvent, 'queryStringParameters'>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) if (value !== undefined && value !== null) out[name] = value;
  return out;
}

export const CONTENT_TYPE_ERROR = {
  code: 'InvalidContentType',
  message: 'contentType must be a media type such as "text/csv", at most 255 characters',
};
export const SIZE_ERROR = { code: 'InvalidSize', message: 'size must be a non-negative integer number of bytes' };
const KEY_ERROR: FieldError = { code: 'InvalidKey', message: 'key is required' };
/** `checksum` of POST /uploads: which part of it is wrong, in the words a caller can act on. */
const CREATE_CHECKSUM_ERROR: FieldError = {
  code: 'InvalidChecksum',
  message: (issue) => {
    const given = issue.path?.[0]?.value as { algorithm?: unknown } | undefined;
    switch (issue.path?.[1]?.key) {
      case 'algorithm':
        return `checksum.algorithm must be one of ${SINGLE_PUT_CHECKSUM_ALGORITHMS.join(', ')}`;
      case 'value':
        return isSinglePutChecksumAlgorithm(given?.algorithm) ? `checksum.value must be ${checksumShape(given.algorithm)}` : 'checksum.value must be base64';
      default:
        return 'checksum must be an object {"algorithm", "value"}';
    }
  },
};
const PART_CHECKSUMS_ERROR: FieldError = {
  code: 'InvalidChecksum',
  message: 'checksums must map part numbers ("1", "2", …) to base64 checksums',
  items: { code: 'InvalidChecksum', message: (issue) => `checksums[${JSON.stringify(issue.path?.[1]?.key)}] must be the base64 of the part's checksum in the upload's algorithm` },
};
const COMPLETE_CHECKSUM_ERROR: FieldError = { code: 'InvalidChecksum', message: "checksum must be the base64 of the whole object's checksum in the upload's algorithm" };

/** 413 over the configured upload limit. */
export function withinUploadLimit(size: number, config: Pick<Config, 'maxUploadBytes'>): number {
  if (size > config.maxUploadBytes) throw new PayloadTooLargeError('EntityTooLarge', `size is over the ${config.maxUploadBytes}-byte limit`);
  return size;
}

// ---------------------------------------------------------------------------------------------
// POST /uploads

export function parseCreateUpload(event: ApiEvent, config: Pick<Config, 'maxUploadBytes' | 'multipartThresholdBytes'>): CreateUploadInput {
  const body = parseInput(CreateUploadBody, parseJsonBody(event), { key: KEY_ERROR, contentType: CONTENT_TYPE_ERROR, size: SIZE_ERROR, checksum: CREATE_CHECKSUM_ERROR }, NOT_AN_OBJECT);
  const size = withinUploadLimit(body.size, config);
  const checksum = uploadChecksum(body.checksum, size > config.multipartThresholdBytes);
  return { key: validateUploadKey(body.key), contentType: body.contentType, size, ...(checksum ? { checksum } : {}) };
}

/**
 * `checksum`: `{algorithm, value}` for a single PUT, `{algorithm}` for a multipart session (its
 * value is only known at the end, and is sent to complete). Which one the request is depends on
 * the size, so both shapes are checked against it.
 */
function uploadChecksum(given: CreateUploadRequest['checksum'], multipart: boolean): CreateUploadInput['checksum'] {
  if (given === undefined) return undefined;
  const { algorithm, value } = given;
  if (multipart) {
    if (!isMultipartChecksumAlgorithm(algorithm)) {
      throw new BadRequestError('InvalidChecksum', `checksum.algorithm of a multipart upload must be one of ${MULTIPART_CHECKSUM_ALGORITHMS.join(', ')} (full-object checksums)`);
    }
    if (value !== undefined) {
      throw new BadRequestError('InvalidChecksum', "checksum.value is not taken for a multipart upload: send each part's to /parts and the whole object's to /complete");
    }
    return { algorithm };
  }
  // Its own code: a client that cannot know the threshold asks with {algorithm} alone, and on this
  // answer reads the (single-PUT-sized) file and asks again with the value.
  if (value === undefined) {
    throw new BadRequestError('ChecksumValueRequired', 'checksum.value is required: an upload of this size is a single PUT, whose URL signs the value');
  }
  if (!isWellFormedChecksum(algorithm, value)) throw new BadRequestError('InvalidChecksum', `checksum.value must be ${checksumShape(algorithm)}`);
  return { algorithm, value };
}

// ---------------------------------------------------------------------------------------------
// POST /uploads/{uploadId}/parts

const PART_NUMBERS_ERROR: FieldError = {
  code: 'InvalidBody',
  message: `partNumbers must be an array of 1 to ${MAX_PARTS_PER_SIGN_REQUEST} part numbers`,
  items: { code: 'InvalidPartNumber', message: (issue) => `partNumbers must be distinct integers from 1 to ${MAX_PARTS_PER_UPLOAD}; got ${JSON.stringify(issue.input)}` },
};

export function parseSignParts(event: ApiEvent): SignPartsInput {
  const body = parseInput(SignPartsBody, parseJsonBody(event), { key: KEY_ERROR, partNumbers: PART_NUMBERS_ERROR, checksums: PART_CHECKSUMS_ERROR }, NOT_AN_OBJECT);
  return { key: body.key, partNumbers: body.partNumbers, ...(body.checksums ? { checksums: body.checksums } : {}) };
}

// ---------------------------------------------------------------------------------------------
// POST /uploads/{uploadId}/complete

const PARTS_ERROR: FieldError = {
  code: 'InvalidBody',
  message: `parts must be an array of 1 to ${MAX_PARTS_PER_UPLOAD} parts`,
  items: {
    code: 'InvalidPart',
    message: (issue) => {
      const part = issue.path?.[1]?.value as { partNumber?: unknown } | undefined;
      return issue.path?.[2]?.key === 'etag'
        ? `Part ${String(part?.partNumber)} needs an etag string`
        : `Each part needs an integer partNumber from 1 to ${MAX_PARTS_PER_UPLOAD}`;
    },
  },
};
const PARTS_SHA256_ERROR: FieldError = {
  code: 'InvalidPartsSha256',
  message: 'partsSha256 must be the SHA-256, in hex, of the lines "<partNumber>:<etag>" of every part, joined by "\\n"',
};

/**
 * `{key}` (every part S3 lists), `{key, partsSha256}` (the same, if they are the parts digested)
 * or `{key, parts}` (exactly these, strictly ascending).
 */
export function parseCompleteUpload(event: ApiEvent): CompleteUploadInput {
  const raw = parseJsonBody(event, MAX_COMPLETE_BODY_BYTES);
  const body = parseInput(
    CompleteUploadBody,
    raw,
    { key: { code: 'InvalidKey', message: 'key must be a string' }, parts: PARTS_ERROR, partsSha256: PARTS_SHA256_ERROR, checksum: COMPLETE_CHECKSUM_ERROR },
    NOT_AN_OBJECT,
  );
  if (body.parts !== undefined && body.partsSha256 !== undefined) {
    throw new BadRequestError('InvalidBody', 'Send parts or partsSha256, not both');
  }
  const checksum = body.checksum !== undefined ? { checksum: body.checksum } : {};
  if (body.parts !== undefined) {
    body.parts.forEach((part, i) => {
      if (i > 0 && part.partNumber <= body.parts![i - 1]!.partNumber) {
        throw new BadRequestError('InvalidPartOrder', 'Part numbers must be strictly ascending, without duplicates');
      }
    });
    return { key: body.key, which: { parts: body.parts.map(({ partNumber, etag }) => ({ partNumber, etag })) }, ...checksum };
  }
  if (body.partsSha256 === undefined) return { key: body.key, which: { listed: true }, ...checksum };
  return { key: body.key, which: { listed: true, partsSha256: body.partsSha256.toLowerCase() }, ...checksum };
}

// ---------------------------------------------------------------------------------------------
// GET and DELETE /uploads/{uploadId}?key=

/** The `key` query value; its rules are checked in core, after the upload id. */
export function parseUploadKeyQuery(event: ApiEvent): string | undefined {
  return parseInput(UploadKeyQuery, queryOf(event), { key: KEY_ERROR }, BAD_QUERY).key;
}

// ---------------------------------------------------------------------------------------------
// GET /buckets/{bucket}/objects

export function parseListQuery(event: ApiEvent): ListQuery {
  const q = parseInput(
    ListObjectsQuery,
    queryOf(event),
    {
      prefix: { code: 'InvalidKey', message: 'prefix must be a string' },
      delimiter: { code: 'InvalidDelimiter', message: 'delimiter must be "/" or empty' },
      limit: { code: 'InvalidLimit', message: `limit must be an integer from 1 to ${MAX_LIST_LIMIT}` },
    },
    BAD_QUERY,
  );
  const limit = q.limit === undefined || q.limit === '' ? DEFAULT_LIST_LIMIT : Number(q.limit);
  if (limit < 1 || limit > MAX_LIST_LIMIT) throw new BadRequestError('InvalidLimit', `limit must be an integer from 1 to ${MAX_LIST_LIMIT}`);
  return {
    prefix: validatePrefix(q.prefix),
    delimiter: q.delimiter ?? '',
    limit,
    ...(q.cursor ? { cursor: q.cursor } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// GET /buckets/{bucket}/objects/{key+}

const ROWS_MESSAGE = `rows must be OFFSET:LIMIT with OFFSET >= 0 and LIMIT from 1 to ${MAX_ROWS_PER_REQUEST}`;

export function parseReadQuery(event: ApiEvent): ReadQuery {
  const q = parseInput(ReadObjectQuery, queryOf(event), { rows: { code: 'InvalidRows', message: ROWS_MESSAGE } }, BAD_QUERY);
  const out: ReadQuery = { download: q.download === '1' || q.download === 'true' };
  if (q.rows !== undefined) {
    const [offset, limit] = q.rows.split(':').map(Number) as [number, number];
    if (!Number.isSafeInteger(offset) || limit < 1 || limit > MAX_ROWS_PER_REQUEST) throw new BadRequestError('InvalidRows', ROWS_MESSAGE);
    out.rows = { offset, limit };
  }
  if (q.columns !== undefined && q.columns !== '') out.columns = q.columns.split(',').map((c) => c.trim());
  return out;
}
