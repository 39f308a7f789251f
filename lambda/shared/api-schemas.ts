/**
 * The API's contract as data (contract v1): the request schemas of every route in routes.ts
 * (responses: api-responses.ts), written with valibot. One source for three things: the handlers validate requests
 * with them (lambda/handlers/inputs.ts), the OpenAPI document is generated from them
 * (lib/openapi.ts, `npm run openapi`), and the client types in api-types.ts are inferred from them.
 *
 * Why valibot: its schemas are plain function calls that esbuild tree-shakes per function, so a
 * Lambda bundle carries only the validators it uses (a few KB; see README, bundle benchmark);
 * `@valibot/to-json-schema` turns the same schemas into JSON Schema 2020-12 for OpenAPI 3.1 at
 * build time only (a dev dependency, never in a bundle). TypeBox builds JSON Schema objects at
 * run time and needs a compiler or its value checker to validate; zod is several times larger.
 *
 * The response schemas are in api-responses.ts, which no function imports, so no bundle carries
 * them. Request fields carry their structural rules here (type, range, pattern); rules that need the
 * caller or the configuration (the key rules of keys.ts, the upload size limit, whether a part
 * number is within this upload) stay in the functions that know them, and the document says so.
 */
import * as v from 'valibot';
import { MULTIPART_CHECKSUM_ALGORITHMS, SINGLE_PUT_CHECKSUM_ALGORITHMS } from './upload-checksums';
import { MAX_PARTS_PER_SIGN_REQUEST } from './api-types';

/** S3's most parts per upload (core/multipart.ts MAX_PARTS; repeated to keep this module free of core). */
export const MAX_PARTS_PER_UPLOAD = 10_000;
export const MAX_CONTENT_TYPE_CHARS = 255;
export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;
/** Rows one `?rows=` request may ask for. */
export const MAX_ROWS_PER_REQUEST = 1000;

// RFC 9110 media type: token "/" token *( OWS ";" OWS token "=" ( token / quoted-string ) )
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const QUOTED = '"(?:[^"\\\\\\u0000-\\u001f\\u007f]|\\\\[\\u0020-\\u007e])*"';
export const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}(?:[ \\t]*;[ \\t]*${TOKEN}=(?:${TOKEN}|${QUOTED}))*$`);
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

// ---------------------------------------------------------------------------------------------
// Fields

const keyField = v.pipe(
  v.string(),
  v.minLength(1),
  v.description('Object key relative to your area (users/<sub>/ is added by the server); the key rules are in the README'),
);
const contentTypeField = v.pipe(
  v.string(),
  v.maxLength(MAX_CONTENT_TYPE_CHARS),
  v.regex(MEDIA_TYPE),
  v.description('A media type such as "text/csv"'),
);
export const byteCount = v.pipe(v.number(), v.safeInteger(), v.minValue(0));
const sizeField = v.pipe(byteCount, v.description('Bytes; at most the configured upload limit (413 EntityTooLarge over it)'));
export const partNumberField = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(MAX_PARTS_PER_UPLOAD));
const base64Field = v.pipe(v.string(), v.regex(BASE64), v.description('Base64'));
export const isoTime = v.pipe(v.string(), v.description('ISO 8601 time (UTC)'));

export const checksumAlgorithm = v.picklist(SINGLE_PUT_CHECKSUM_ALGORITHMS);
export const multipartChecksumAlgorithm = v.picklist(MULTIPART_CHECKSUM_ALGORITHMS);

// ---------------------------------------------------------------------------------------------
// Requests: bodies

export const CreateUploadBody = v.object({
  key: keyField,
  contentType: contentTypeField,
  size: sizeField,
  checksum: v.optional(
    v.object({
      algorithm: checksumAlgorithm,
      value: v.optional(v.pipe(base64Field, v.description('The whole object\'s checksum: required for a single PUT, absent for multipart'))),
    }),
  ),
});

export const SignPartsBody = v.object({
  key: v.pipe(v.string(), v.description('The key the upload was created for')),
  partNumbers: v.pipe(
    v.array(partNumberField),
    v.minLength(1),
    v.maxLength(MAX_PARTS_PER_SIGN_REQUEST),
    v.description('Distinct part numbers from 1 to the session\'s partCount'),
  ),
  checksums: v.optional(
    v.pipe(v.record(v.pipe(v.string(), v.regex(/^[1-9][0-9]{0,4}$/)), base64Field), v.description('Each part\'s checksum by part number, in the session\'s checksumAlgorithm')),
  ),
});

const chosenPart = v.object({ partNumber: partNumberField, etag: v.pipe(v.string(), v.minLength(1)) });

export const CompleteUploadBody = v.object({
  key: v.pipe(v.string(), v.description('The key the upload was created for')),
  parts: v.optional(
    v.pipe(
      v.array(chosenPart),
      v.minLength(1),
      v.maxLength(MAX_PARTS_PER_UPLOAD),
      v.description('Complete with exactly these parts, in ascending partNumber order (not with partsSha256)'),
    ),
  ),
  partsSha256: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[0-9a-fA-F]{64}$/),
      v.description('SHA-256, in hex, of the lines "<partNumber>:<etag>" of every part, joined by "\\n" (not with parts)'),
    ),
  ),
  checksum: v.optional(v.pipe(base64Field, v.description('The whole object\'s checksum, in the session\'s checksumAlgorithm'))),
});

export const SIGN_METHODS = ['PUT', 'POST', 'GET', 'DELETE'] as const;
export const SignS3RequestBody = v.object({
  method: v.pipe(
    v.picklist(SIGN_METHODS),
    v.description('PUT (object, or a part with uploadId and partNumber), POST (create, or complete with uploadId), GET with uploadId (list parts), DELETE with uploadId (abort)'),
  ),
  key: v.pipe(v.string(), v.description('Object key to create, or with uploadId the S3 key a create returned (users/<sub>/…)')),
  uploadId: v.optional(v.pipe(v.string(), v.regex(/^[\x21-\x7e]{1,1024}$/), v.description('S3\'s upload id'))),
  partNumber: v.optional(partNumberField),
  size: v.optional(v.pipe(byteCount, v.description('The whole file\'s size; required except for GET and DELETE'))),
  contentType: v.optional(contentTypeField),
});

// ---------------------------------------------------------------------------------------------
// Requests: query strings (values as the query string gives them: strings)

export const ListObjectsQuery = v.object({
  prefix: v.optional(v.pipe(v.string(), v.description('Only keys that start with this (a folder ends with "/")'))),
  delimiter: v.optional(v.pipe(v.picklist(['', '/']), v.description('"/" lists one folder level (prefixes); empty lists flat'))),
  limit: v.optional(v.pipe(v.string(), v.regex(/^[0-9]{1,7}$/), v.description(`An integer from 1 to ${MAX_LIST_LIMIT}; ${DEFAULT_LIST_LIMIT} when absent`))),
  cursor: v.optional(v.pipe(v.string(), v.description('nextCursor of the previous page'))),
});

export const ReadObjectQuery = v.object({
  download: v.optional(v.pipe(v.string(), v.description('"1" or "true": always a 307 to a presigned GET with an attachment disposition'))),
  rows: v.optional(
    v.pipe(v.string(), v.regex(/^\d{1,15}:\d{1,4}$/), v.description(`OFFSET:LIMIT: parsed rows, LIMIT from 1 to ${MAX_ROWS_PER_REQUEST}`)),
  ),
  columns: v.optional(v.pipe(v.string(), v.description('With rows: a comma-separated list of columns to return'))),
});

export const UploadKeyQuery = v.object({
  key: v.optional(v.pipe(v.string(), v.description('The key the upload was created for (required)'))),
});
