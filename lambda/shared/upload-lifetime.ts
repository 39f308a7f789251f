/**
 * How long a multipart upload lives, read by both sides that bound it: the upload id the API hands
 * out is valid this long (lambda/core/upload.ts), and the uploads bucket's lifecycle rule aborts an
 * incomplete upload this many days after it began (lib/constructs/storage.ts). S3 rounds that to
 * the next midnight UTC, so an upload is never aborted while its id is valid: the id's clock starts
 * before CreateMultipartUpload is sent.
 *
 * Seven days rather than one: the API accepts uploads of up to 5 TiB, which need about 60 MB/s
 * sustained to finish in a day and 9 MB/s in seven, and a resumed CLI upload keeps its id across
 * days. Abandoned parts are billed for up to a week; that is the price.
 */
export const UPLOAD_LIFETIME_DAYS = 7;
export const UPLOAD_LIFETIME_SECONDS = UPLOAD_LIFETIME_DAYS * 24 * 3600;
