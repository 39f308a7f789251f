/**
 * The S3 operations the embedded server implements, each a function of one authenticated and
 * authorized request. They speak S3's wire format (headers, XML) and leave storage to the store.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import type { Readable, Transform } from 'node:stream';
import type { CorsRule } from './cors';
import { checksumElement, checksumHeader, isChecksumAlgorithm, multipartChecksum, supportsFullObject, type ChecksumAlgorithm, type ChecksumType } from './checksums';
import { checkWriteConditions, evaluateReadConditions, selectRange } from './http-semantics';
import { ChecksumTap, declaredChecksum, parseChecksumValue, verifyChecksum } from './integrity';
import { bucketArn, objectArn, type Authorization } from './iam';
import { listPage, type ListEntry } from './listing';
import { parseCopySource, type Operation } from './routing';
import { STORED_HEADERS, type ObjectMeta, type ObjectStore, type PartMeta, type StoredChecksum, type UploadMeta, type WrittenBlob } from './store';
import { children, parseXmlBody, S3_NAMESPACE, S3Error, text, texts, xmlDocument, xmlEscape, type XmlValue } from './xml';

export type CreatedEventName = 'ObjectCreated:Put' | 'ObjectCreated:Post' | 'ObjectCreated:Copy' | 'ObjectCreated:CompleteMultipartUpload';

/** What the server announces after an object is written (S3 event notifications). */
export interface ObjectCreatedEvent {
  eventName: CreatedEventName;
  bucket: string;
  /** The key as stored (not encoded). */
  key: string;
  size: number;
  /** Bare ETag. */
  eTag: string;
  sourceIp?: string;
}

export interface Response {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer | Readable;
}

export interface OperationContext {
  req: IncomingMessage;
  bucket: string;
  key: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  store: ObjectStore;
  region: string;
  /** Whether the caller's policy allows this too (a missing key is 404 only with s3:ListBucket). */
  may(authorization: Authorization): boolean;
  /** Transforms the body passes before it is stored: payload verification and aws-chunked decoding. */
  bodyTransforms(): Transform[];
  /** The length of the body once decoded (aws-chunked bodies announce it separately). */
  decodedLength(): number | undefined;
  /** The aws-chunked body's trailing headers, once it has been read (undefined for other bodies). */
  trailers(): Record<string, string> | undefined;
  created(event: Omit<ObjectCreatedEvent, 'sourceIp'>): void;
}

/** S3's single PUT and single part limit. */
const MAX_PUT_BYTES = 5 * 1024 ** 3;
/** S3's smallest part, except the last one. */
const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_XML_BODY_BYTES = 1024 * 1024;
const OWNER = { ID: '75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a', DisplayName: 'local' };

const quoted = (etag: string) => `"${etag}"`;
const httpDate = (iso: string) => new Date(iso).toUTCString();
const header = (ctx: OperationContext, name: string): string | undefined => {
  const v = ctx.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
};
const xml = (root: string, value: Record<string, XmlValue>, status = 200): Response => ({
  status,
  headers: { 'content-type': 'application/xml' },
  body: xmlDocument(root, value),
});

// -------------------------------------------------------------------------------------------------
// Request bodies

async function readXmlBody(ctx: OperationContext, root: string): Promise<Record<string, unknown>> {
  const declared = Number(header(ctx, 'content-length') ?? 0);
  if (declared > MAX_XML_BODY_BYTES) throw new S3Error(400, 'MaxMessageLengthExceeded', 'Your request was too big.');
  const blob = await ctx.store.writeBlob(ctx.req, ctx.bodyTransforms());
  try {
    if (blob.size > MAX_XML_BODY_BYTES) throw new S3Error(400, 'MaxMessageLengthExceeded', 'Your request was too big.');
    return parseXmlBody(await readFile(blob.path), root);
  } finally {
    await ctx.store.discard(blob);
  }
}

function checkContentMd5(ctx: OperationContext, blob: WrittenBlob): void {
  const md5 = header(ctx, 'content-md5');
  if (md5 === undefined) return;
  const expected = Buffer.from(md5, 'base64');
  if (expected.length !== 16) throw new S3Error(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.');
  if (!expected.equals(blob.md5)) throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
}

/** A received body, and its checksum when the request declared one (and it matched). */
interface ReceivedBody {
  blob: WrittenBlob;
  checksum?: { algorithm: ChecksumAlgorithm; digest: Buffer };
}

/**
 * Streams the request body to a blob, after the checks S3 makes on its declared length, and checks
 * its Content-MD5 and declared checksum.
 */
async function receiveBody(ctx: OperationContext): Promise<ReceivedBody> {
  const length = ctx.decodedLength() ?? (header(ctx, 'content-length') === undefined ? undefined : Number(header(ctx, 'content-length')));
  if (length === undefined || !Number.isSafeInteger(length) || length < 0) throw new S3Error(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.');
  if (length > MAX_PUT_BYTES) throw new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', { ProposedSize: length, MaxSizeAllowed: MAX_PUT_BYTES });
  const declared = declaredChecksum(ctx.headers, ctx.query);
  const tap = declared ? new ChecksumTap(declared.algorithm) : undefined;
  const blob = await ctx.store.writeBlob(ctx.req, [...ctx.bodyTransforms(), ...(tap ? [tap] : [])]);
  try {
    if (blob.size !== length) throw new S3Error(400, 'IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header.');
    checkContentMd5(ctx, blob);
    if (!declared || !tap) return { blob };
    return { blob, checksum: { algorithm: declared.algorithm, digest: verifyChecksum(declared, tap.digest(), ctx.trailers()) } };
  } catch (err) {
    await ctx.store.discard(blob);
    throw err;
  }
}

/** `x-amz-checksum-<alg>` and `x-amz-checksum-type` of a stored checksum, as S3 returns them. */
const checksumHeaders = (checksum: StoredChecksum | undefined): Record<string, string> =>
  checksum ? { [checksumHeader(checksum.algorithm)]: checksum.value, 'x-amz-checksum-type': checksum.type } : {};

/** Content-Type, Content-Disposition… and x-amz-meta-* of a write. */
function objectFields(ctx: OperationContext): { headers: Record<string, string>; metadata: Record<string, string> } {
  const headers: Record<string, string> = { 'content-type': 'binary/octet-stream' };
  for (const name of STORED_HEADERS) {
    const value = header(ctx, name);
    if (value !== undefined) headers[name] = value;
  }
  // aws-chunked is transport framing, not how the object is encoded.
  const encoding = (headers['content-encoding'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s && s.toLowerCase() !== 'aws-chunked');
  if (encoding.length) headers['content-encoding'] = encoding.join(',');
  else delete headers['content-encoding'];
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(ctx.headers)) {
    if (name.startsWith('x-amz-meta-') && value !== undefined) metadata[name.slice('x-amz-meta-'.length)] = String(value);
  }
  // A presigned URL carries the x-amz-meta-* it signed in its query; S3 applies them as headers.
  for (const [name, value] of ctx.query) {
    if (name.toLowerCase().startsWith('x-amz-meta-')) metadata[name.slice('x-amz-meta-'.length).toLowerCase()] = value;
  }
  return { headers, metadata };
}

// -------------------------------------------------------------------------------------------------
// Objects

function objectHeaders(meta: ObjectMeta): Record<string, string> {
  const out: Record<string, string> = {
    ...meta.headers,
    etag: quoted(meta.etag),
    'last-modified': httpDate(meta.lastModified),
    'accept-ranges': 'bytes',
  };
  for (const [name, value] of Object.entries(meta.metadata)) out[`x-amz-meta-${name}`] = value;
  return out;
}

const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};

/** A missing key: 404 for a caller allowed to list the bucket, 403 otherwise (S3 does not reveal it). */
function missingKey(ctx: OperationContext): S3Error {
  if (ctx.may({ action: 's3:ListBucket', resource: bucketArn(ctx.bucket) })) {
    return new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: ctx.key });
  }
  return new S3Error(403, 'AccessDenied', 'Access Denied');
}

async function getObject(ctx: OperationContext, head: boolean): Promise<Response> {
  if (ctx.query.has('partNumber')) throw new S3Error(501, 'NotImplemented', 'GetObject by partNumber is not implemented here.');
  const opened = await ctx.store.openObject(ctx.bucket, ctx.key);
  if (!opened) throw missingKey(ctx);
  const { meta } = opened;
  let handedOver = false;
  try {
    const condition = evaluateReadConditions(ctx.headers, meta);
    if (condition === 'precondition-failed') throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Match' });
    const headers = objectHeaders(meta);
    if (condition === 'not-modified') {
      return { status: 304, headers: { etag: headers.etag!, 'last-modified': headers['last-modified']! } };
    }
    for (const [param, name] of Object.entries(RESPONSE_OVERRIDES)) {
      const value = ctx.query.get(param);
      if (value !== null) headers[name] = value;
    }
    const range = selectRange(header(ctx, 'range'), meta.size);
    // The stored checksum is the whole object's: S3 returns it when asked, and not for a range.
    if (!range && header(ctx, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED') Object.assign(headers, checksumHeaders(meta.checksum));
    const [start, end] = range ? [range.start, range.end] : [0, meta.size - 1];
    headers['content-length'] = String(meta.size === 0 ? 0 : end - start + 1);
    if (range) headers['content-range'] = `bytes ${start}-${end}/${meta.size}`;
    if (head || meta.size === 0) return { status: range ? 206 : 200, headers, ...(head ? {} : { body: '' }) };
    handedOver = true;
    return { status: range ? 206 : 200, headers, body: ctx.store.readObject(opened, start, end) };
  } finally {
    if (!handedOver) await ctx.store.closeObject(opened);
  }
}

async function putObject(ctx: OperationContext): Promise<Response> {
  const { blob, checksum: received } = await receiveBody(ctx);
  const checksum: StoredChecksum | undefined = received && { algorithm: received.algorithm, type: 'FULL_OBJECT', value: received.digest.toString('base64') };
  const meta = await ctx.store.commit(ctx.bucket, ctx.key, blob, { etag: blob.md5.toString('hex'), ...objectFields(ctx), checksum }, (existing) => checkWriteConditions(ctx.headers, existing));
  ctx.created({ eventName: 'ObjectCreated:Put', bucket: ctx.bucket, key: ctx.key, size: meta.size, eTag: meta.etag });
  return { status: 200, headers: { etag: quoted(meta.etag), ...checksumHeaders(meta.checksum) } };
}

async function copyObject(ctx: OperationContext): Promise<Response> {
  const source = parseCopySource(header(ctx, 'x-amz-copy-source')!);
  if (!ctx.store.hasBucket(source.bucket)) throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: source.bucket });
  const opened = await ctx.store.openObject(source.bucket, source.key);
  if (!opened) {
    if (ctx.may({ action: 's3:ListBucket', resource: bucketArn(source.bucket) })) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: source.key });
    throw new S3Error(403, 'AccessDenied', 'Access Denied');
  }
  const replace = (header(ctx, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase() === 'REPLACE';
  if (!replace && source.bucket === ctx.bucket && source.key === ctx.key) {
    await ctx.store.closeObject(opened);
    throw new S3Error(400, 'InvalidRequest', 'This copy request is illegal because it is trying to copy an object to itself without changing the object\'s metadata, storage class, website redirect location or encryption attributes.');
  }
  const blob = await ctx.store.writeBlob(ctx.store.readObject(opened));
  const fields = replace ? objectFields(ctx) : { headers: opened.meta.headers, metadata: opened.meta.metadata };
  // The bytes are the same, so the checksum is too; a composite one becomes the copy's full-object
  // one in S3, which this server does not compute, so only a full-object checksum is kept.
  const checksum = opened.meta.checksum?.type === 'FULL_OBJECT' ? opened.meta.checksum : undefined;
  const meta = await ctx.store.commit(ctx.bucket, ctx.key, blob, { etag: blob.md5.toString('hex'), ...fields, checksum }, (existing) => checkWriteConditions(ctx.headers, existing));
  ctx.created({ eventName: 'ObjectCreated:Copy', bucket: ctx.bucket, key: ctx.key, size: meta.size, eTag: meta.etag });
  return xml('CopyObjectResult', { LastModified: meta.lastModified, ETag: quoted(meta.etag) });
}

async function deleteObjects(ctx: OperationContext): Promise<Response> {
  const body = await readXmlBody(ctx, 'Delete');
  const objects = children(body, 'Object');
  if (objects.length > 1000) throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
  const quiet = text(body, 'Quiet') === 'true';
  const deleted: XmlValue[] = [];
  const errors: XmlValue[] = [];
  for (const o of objects) {
    const key = text(o, 'Key') ?? '';
    if (!ctx.may({ action: 's3:DeleteObject', resource: objectArn(ctx.bucket, key) })) {
      errors.push({ Key: key, Code: 'AccessDenied', Message: 'Access Denied' });
      continue;
    }
    await ctx.store.deleteObject(ctx.bucket, key);
    if (!quiet) deleted.push({ Key: key });
  }
  return xml('DeleteResult', { Deleted: deleted, Error: errors });
}

// -------------------------------------------------------------------------------------------------
// Multipart uploads

function partNumberOf(ctx: OperationContext): number {
  const raw = ctx.query.get('partNumber') ?? '';
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 10000) {
    throw new S3Error(400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', { ArgumentName: 'partNumber', ArgumentValue: raw });
  }
  return n;
}

/** `x-amz-checksum-algorithm` and `x-amz-checksum-type` of a CreateMultipartUpload, checked as S3 does. */
function uploadChecksum(ctx: OperationContext): UploadMeta['checksum'] {
  const rawAlgorithm = header(ctx, 'x-amz-checksum-algorithm');
  const rawType = header(ctx, 'x-amz-checksum-type');
  if (rawAlgorithm === undefined) {
    if (rawType !== undefined) throw new S3Error(400, 'InvalidRequest', 'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.');
    return undefined;
  }
  const algorithm = rawAlgorithm.trim().toUpperCase();
  if (!isChecksumAlgorithm(algorithm)) throw new S3Error(400, 'InvalidRequest', 'Value for x-amz-checksum-algorithm header is invalid.');
  const type = (rawType?.trim().toUpperCase() ?? (algorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE')) as ChecksumType;
  if (type !== 'FULL_OBJECT' && type !== 'COMPOSITE') throw new S3Error(400, 'InvalidRequest', 'Value for x-amz-checksum-type header is invalid.');
  if (type === 'FULL_OBJECT' && !supportsFullObject(algorithm)) {
    throw new S3Error(400, 'InvalidRequest', `The ${algorithm} checksum algorithm does not support the FULL_OBJECT checksum type.`);
  }
  if (type === 'COMPOSITE' && algorithm === 'CRC64NVME') {
    throw new S3Error(400, 'InvalidRequest', 'The CRC64NVME checksum algorithm does not support the COMPOSITE checksum type.');
  }
  return { algorithm, type };
}

async function createMultipartUpload(ctx: OperationContext): Promise<Response> {
  const checksum = uploadChecksum(ctx);
  const upload = await ctx.store.createUpload(ctx.bucket, ctx.key, { ...objectFields(ctx), ...(checksum ? { checksum } : {}) });
  return {
    ...xml('InitiateMultipartUploadResult', { Bucket: ctx.bucket, Key: ctx.key, UploadId: upload.uploadId }),
    headers: {
      'content-type': 'application/xml',
      ...(checksum ? { 'x-amz-checksum-algorithm': checksum.algorithm, 'x-amz-checksum-type': checksum.type } : {}),
    },
  };
}

async function uploadPart(ctx: OperationContext): Promise<Response> {
  const partNumber = partNumberOf(ctx);
  const uploadId = ctx.query.get('uploadId')!;
  const upload = await ctx.store.upload(ctx.bucket, uploadId, ctx.key); // before the body: no upload, no bytes read
  const declared = declaredChecksum(ctx.headers, ctx.query);
  // An upload created with an algorithm takes parts checksummed with that one only.
  if (upload.checksum && declared && declared.algorithm !== upload.checksum.algorithm) {
    throw new S3Error(400, 'InvalidRequest', `Checksum Type mismatch occurred, expected checksum Type: ${upload.checksum.algorithm.toLowerCase()}, actual checksum Type: ${declared.algorithm.toLowerCase()}`);
  }
  const { blob, checksum } = await receiveBody(ctx);
  const stored = checksum && { algorithm: checksum.algorithm, value: checksum.digest.toString('base64') };
  const part = await ctx.store.putPart(ctx.bucket, uploadId, ctx.key, partNumber, blob, stored);
  return { status: 200, headers: { etag: quoted(part.etag), ...(stored ? { [checksumHeader(stored.algorithm)]: stored.value } : {}) } };
}

const invalidPart = () =>
  new S3Error(400, 'InvalidPart', "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.");

/**
 * The object checksum of a completed upload created with an algorithm: each part must have been sent
 * with its checksum; a composite upload's request names every part's checksum too (S3 refuses it
 * otherwise); a checksum type or value in the request's headers must match what the parts give.
 */
function completedChecksum(
  ctx: OperationContext,
  upload: UploadMeta,
  parts: readonly PartMeta[],
  requested: readonly { partNumber: number; checksum?: string }[],
): StoredChecksum | undefined {
  if (!upload.checksum) return undefined;
  const { algorithm, type } = upload.checksum;
  const requestedType = header(ctx, 'x-amz-checksum-type');
  if (requestedType !== undefined && requestedType.trim().toUpperCase() !== type) {
    throw new S3Error(400, 'BadDigest', `The upload was created using the ${type} checksum type, not ${requestedType.trim().toUpperCase()}.`);
  }
  const digests = parts.map((part, i) => {
    const given = requested[i]!.checksum;
    if (given === undefined && type === 'COMPOSITE') {
      throw new S3Error(400, 'InvalidRequest', `The upload was created using a ${algorithm.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${part.partNumber} in the request.`);
    }
    if (!part.checksum) {
      throw new S3Error(400, 'InvalidRequest', `The upload was created using a ${algorithm.toLowerCase()} checksum. Part ${part.partNumber} was uploaded without one.`);
    }
    if (given !== undefined && given.trim() !== part.checksum.value) throw invalidPart();
    return { checksum: Buffer.from(part.checksum.value, 'base64'), size: part.size };
  });
  const value = multipartChecksum(algorithm, type, digests);
  const expected = header(ctx, checksumHeader(algorithm));
  if (expected !== undefined) {
    const bare = value.replace(/-\d+$/, '');
    parseChecksumValue(algorithm, expected.trim().replace(/-\d+$/, ''));
    if (expected.trim().replace(/-\d+$/, '') !== bare) throw new S3Error(400, 'BadDigest', `The ${algorithm} you specified did not match the calculated checksum.`);
  }
  return { algorithm, type, value };
}

async function completeMultipartUpload(ctx: OperationContext): Promise<Response> {
  const uploadId = ctx.query.get('uploadId')!;
  // Before the body: no upload, no bytes read (unless it is a repeat of a completion, below).
  if (!ctx.store.completedBy(ctx.bucket, ctx.key, uploadId)) await ctx.store.upload(ctx.bucket, uploadId, ctx.key);
  const body = await readXmlBody(ctx, 'CompleteMultipartUpload');
  const requested = children(body, 'Part').map((p) => ({
    partNumber: Number(text(p, 'PartNumber')),
    etag: (text(p, 'ETag') ?? '').replace(/"/g, ''),
    checksums: Object.fromEntries(
      (['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const).flatMap((a) => {
        const v = text(p, checksumElement(a));
        return v === undefined ? [] : [[a, v]];
      }),
    ) as Partial<Record<ChecksumAlgorithm, string>>,
  }));
  if (requested.length === 0) throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
  for (let i = 1; i < requested.length; i++) {
    if (!(requested[i]!.partNumber > requested[i - 1]!.partNumber)) throw new S3Error(400, 'InvalidPartOrder', 'The list of parts was not in ascending order. The parts list must be specified in order by part number.');
  }
  // Chosen from the parts as they are under the upload's lock: a part sent again meanwhile counts.
  const choose = (stored: PartMeta[], upload: UploadMeta) => {
    const byNumber = new Map(stored.map((p) => [p.partNumber, p]));
    const parts = requested.map(({ partNumber, etag }, i) => {
      const part = byNumber.get(partNumber);
      if (!part || part.etag !== etag) throw invalidPart();
      if (i < requested.length - 1 && part.size < MIN_PART_BYTES) {
        throw new S3Error(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', { ProposedSize: part.size, MinSizeAllowed: MIN_PART_BYTES, PartNumber: partNumber, ETag: quoted(etag) });
      }
      return part;
    });
    const algorithm = upload.checksum?.algorithm;
    const checksum = completedChecksum(ctx, upload, parts, requested.map((r) => ({ partNumber: r.partNumber, ...(algorithm && r.checksums[algorithm] !== undefined ? { checksum: r.checksums[algorithm] } : {}) })));
    const md5s = Buffer.concat(parts.map((p) => Buffer.from(p.etag, 'hex')));
    return { parts, etag: `${createHash('md5').update(md5s).digest('hex')}-${parts.length}`, ...(checksum ? { checksum } : {}) };
  };
  // A repeat of a completion whose object is still the current one is answered with that object,
  // as S3 does (and moto): no write, no event, and the parts and conditions sent are not looked at.
  const { meta, replayed } = await ctx.store.completeUpload(ctx.bucket, uploadId, ctx.key, choose, (existing) => checkWriteConditions(ctx.headers, existing));
  if (!replayed) ctx.created({ eventName: 'ObjectCreated:CompleteMultipartUpload', bucket: ctx.bucket, key: ctx.key, size: meta.size, eTag: meta.etag });
  return xml('CompleteMultipartUploadResult', {
    Location: `/${ctx.bucket}/${ctx.key}`,
    Bucket: ctx.bucket,
    Key: ctx.key,
    ETag: quoted(meta.etag),
    ...(meta.checksum ? { [checksumElement(meta.checksum.algorithm)]: meta.checksum.value, ChecksumType: meta.checksum.type } : {}),
  });
}

async function listParts(ctx: OperationContext): Promise<Response> {
  const uploadId = ctx.query.get('uploadId')!;
  const marker = Number(ctx.query.get('part-number-marker') ?? 0) || 0;
  const maxParts = Math.min(1000, Math.max(0, Number(ctx.query.get('max-parts') ?? 1000) || 1000));
  const upload = await ctx.store.upload(ctx.bucket, uploadId, ctx.key);
  const all = (await ctx.store.listParts(ctx.bucket, uploadId, ctx.key)).filter((p) => p.partNumber > marker);
  const page = all.slice(0, maxParts);
  return xml('ListPartsResult', {
    Bucket: ctx.bucket,
    Key: ctx.key,
    UploadId: uploadId,
    PartNumberMarker: marker,
    NextPartNumberMarker: page.at(-1)?.partNumber ?? marker,
    MaxParts: maxParts,
    IsTruncated: all.length > page.length,
    Part: page.map((p) => ({
      PartNumber: p.partNumber,
      LastModified: p.lastModified,
      ETag: quoted(p.etag),
      Size: p.size,
      ...(p.checksum ? { [checksumElement(p.checksum.algorithm)]: p.checksum.value } : {}),
    })),
    Initiator: OWNER,
    Owner: OWNER,
    StorageClass: 'STANDARD',
    ...(upload.checksum ? { ChecksumAlgorithm: upload.checksum.algorithm, ChecksumType: upload.checksum.type } : {}),
  });
}

async function listMultipartUploads(ctx: OperationContext): Promise<Response> {
  const prefix = ctx.query.get('prefix') ?? '';
  const uploads = (await ctx.store.listUploads(ctx.bucket))
    .filter((u) => u.key.startsWith(prefix))
    .sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)) || (a.initiated < b.initiated ? -1 : 1));
  return xml('ListMultipartUploadsResult', {
    Bucket: ctx.bucket,
    Prefix: prefix,
    MaxUploads: 1000,
    IsTruncated: false,
    Upload: uploads.map((u) => ({ Key: u.key, UploadId: u.uploadId, Initiator: OWNER, Owner: OWNER, StorageClass: 'STANDARD', Initiated: u.initiated })),
  });
}

// -------------------------------------------------------------------------------------------------
// Listings

/** S3's `encoding-type=url`: form-style percent-encoding that keeps `/` (what boto3 asks for). */
const urlEncode = (s: string) =>
  encodeURIComponent(s)
    .replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+')
    .replace(/%2F/g, '/');

function listParameters(ctx: OperationContext) {
  const rawMax = ctx.query.get('max-keys');
  const maxKeys = rawMax === null ? 1000 : Number(rawMax);
  if (!/^\d+$/.test(rawMax ?? '0') || !Number.isSafeInteger(maxKeys)) {
    throw new S3Error(400, 'InvalidArgument', 'Provided max-keys not an integer or within integer range', { ArgumentName: 'max-keys', ArgumentValue: rawMax ?? '' });
  }
  const encodingType = ctx.query.get('encoding-type');
  if (encodingType !== null && encodingType !== 'url') throw new S3Error(400, 'InvalidArgument', 'Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type', ArgumentValue: encodingType });
  const encode = encodingType === 'url' ? urlEncode : (s: string) => s;
  return { prefix: ctx.query.get('prefix') ?? '', delimiter: ctx.query.get('delimiter') ?? '', maxKeys: Math.min(maxKeys, 1000), encode, encodingType: encodingType ?? undefined };
}

function listEntries(ctx: OperationContext, entries: ListEntry[], encode: (s: string) => string, withOwner: boolean) {
  const contents: XmlValue[] = [];
  const prefixes: XmlValue[] = [];
  for (const entry of entries) {
    if (entry.kind === 'prefix') {
      prefixes.push({ Prefix: encode(entry.prefix) });
      continue;
    }
    const meta = ctx.store.head(ctx.bucket, entry.key)!;
    contents.push({ Key: encode(meta.key), LastModified: meta.lastModified, ETag: quoted(meta.etag), Size: meta.size, ...(withOwner ? { Owner: OWNER } : {}), StorageClass: 'STANDARD' });
  }
  return { Contents: contents, CommonPrefixes: prefixes };
}

const encodeToken = (after: string) => Buffer.from(JSON.stringify({ a: after })).toString('base64url');
function decodeToken(token: string): string {
  try {
    const value = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { a?: unknown }).a;
    if (typeof value === 'string') return value;
  } catch {
    // below
  }
  throw new S3Error(400, 'InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
}

function listObjectsV2(ctx: OperationContext): Response {
  const p = listParameters(ctx);
  const token = ctx.query.get('continuation-token');
  const startAfter = ctx.query.get('start-after') ?? undefined;
  const after = token !== null ? decodeToken(token) : startAfter;
  const page = p.maxKeys === 0 ? { entries: [], truncated: false } : listPage(ctx.store.keys(ctx.bucket), { prefix: p.prefix, delimiter: p.delimiter, maxKeys: p.maxKeys, ...(after !== undefined ? { after } : {}) });
  return xml('ListBucketResult', {
    Name: ctx.bucket,
    Prefix: p.encode(p.prefix),
    ...(startAfter !== undefined ? { StartAfter: p.encode(startAfter) } : {}),
    ...(token !== null ? { ContinuationToken: token } : {}),
    ...(page.truncated && 'last' in page && page.last !== undefined ? { NextContinuationToken: encodeToken(page.last) } : {}),
    KeyCount: page.entries.length,
    MaxKeys: p.maxKeys,
    ...(p.delimiter ? { Delimiter: p.encode(p.delimiter) } : {}),
    ...(p.encodingType ? { EncodingType: p.encodingType } : {}),
    IsTruncated: page.truncated,
    ...listEntries(ctx, page.entries, p.encode, ctx.query.get('fetch-owner') === 'true'),
  });
}

function listObjects(ctx: OperationContext): Response {
  const p = listParameters(ctx);
  const marker = ctx.query.get('marker') ?? '';
  const page = p.maxKeys === 0 ? { entries: [], truncated: false } : listPage(ctx.store.keys(ctx.bucket), { prefix: p.prefix, delimiter: p.delimiter, maxKeys: p.maxKeys, after: marker });
  return xml('ListBucketResult', {
    Name: ctx.bucket,
    Prefix: p.encode(p.prefix),
    Marker: p.encode(marker),
    // S3 gives NextMarker only with a delimiter; without one the client continues from the last key.
    ...(page.truncated && p.delimiter && 'last' in page && page.last !== undefined ? { NextMarker: p.encode(page.last) } : {}),
    MaxKeys: p.maxKeys,
    ...(p.delimiter ? { Delimiter: p.encode(p.delimiter) } : {}),
    ...(p.encodingType ? { EncodingType: p.encodingType } : {}),
    IsTruncated: page.truncated,
    ...listEntries(ctx, page.entries, p.encode, true),
  });
}

// -------------------------------------------------------------------------------------------------
// Buckets

function listBuckets(ctx: OperationContext): Response {
  return xml('ListAllMyBucketsResult', {
    Owner: OWNER,
    Buckets: { Bucket: ctx.store.listBuckets().map((b) => ({ Name: b.name, CreationDate: b.created })) },
  });
}

const BUCKET_NAME = /^(?!xn--)(?!.*-s3alias$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

async function createBucket(ctx: OperationContext): Promise<Response> {
  if (!BUCKET_NAME.test(ctx.bucket) || ctx.bucket.includes('..')) throw new S3Error(400, 'InvalidBucketName', 'The specified bucket is not valid.', { BucketName: ctx.bucket });
  // The body (CreateBucketConfiguration) only names a region; it is read and ignored.
  await ctx.store.writeBlob(ctx.req, ctx.bodyTransforms()).then((b) => ctx.store.discard(b));
  await ctx.store.createBucket(ctx.bucket);
  return { status: 200, headers: { location: `/${ctx.bucket}` } };
}

function parseCorsRules(body: Record<string, unknown>): CorsRule[] {
  return children(body, 'CORSRule').map((r) => {
    const maxAge = text(r, 'MaxAgeSeconds');
    const rule: CorsRule = {
      AllowedOrigins: texts(r, 'AllowedOrigin'),
      AllowedMethods: texts(r, 'AllowedMethod'),
      AllowedHeaders: texts(r, 'AllowedHeader'),
      ExposeHeaders: texts(r, 'ExposeHeader'),
      ...(maxAge !== undefined ? { MaxAgeSeconds: Number(maxAge) } : {}),
    };
    if (!rule.AllowedOrigins!.length || !rule.AllowedMethods!.length) throw new S3Error(400, 'MalformedXML', 'A CORS rule needs an AllowedOrigin and an AllowedMethod');
    for (const m of rule.AllowedMethods!) {
      if (!['GET', 'PUT', 'POST', 'DELETE', 'HEAD'].includes(m)) throw new S3Error(400, 'InvalidRequest', `Found unsupported HTTP method in CORS config. Unsupported method is ${m}`);
    }
    return rule;
  });
}

// -------------------------------------------------------------------------------------------------

type Implementation = (ctx: OperationContext) => Promise<Response> | Response;

export const OPERATIONS: Record<Operation, Implementation> = {
  ListBuckets: listBuckets,
  CreateBucket: createBucket,
  DeleteBucket: async (ctx) => {
    await ctx.store.deleteBucket(ctx.bucket);
    return { status: 204 };
  },
  HeadBucket: (ctx) => {
    ctx.store.keys(ctx.bucket); // throws NoSuchBucket
    return { status: 200, headers: { 'x-amz-bucket-region': ctx.region } };
  },
  GetBucketLocation: (ctx) => {
    ctx.store.keys(ctx.bucket);
    // us-east-1 is the empty constraint, as S3 answers it.
    const region = ctx.region === 'us-east-1' ? '' : xmlEscape(ctx.region);
    return { status: 200, headers: { 'content-type': 'application/xml' }, body: `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="${S3_NAMESPACE}">${region}</LocationConstraint>` };
  },
  GetBucketCors: (ctx) => {
    const rules = ctx.store.cors(ctx.bucket);
    if (rules.length === 0) throw new S3Error(404, 'NoSuchCORSConfiguration', 'The CORS configuration does not exist', { BucketName: ctx.bucket });
    return xml('CORSConfiguration', {
      CORSRule: rules.map((r) => ({
        AllowedHeader: r.AllowedHeaders ?? [],
        AllowedMethod: r.AllowedMethods ?? [],
        AllowedOrigin: r.AllowedOrigins ?? [],
        ExposeHeader: r.ExposeHeaders ?? [],
        MaxAgeSeconds: r.MaxAgeSeconds,
      })),
    });
  },
  PutBucketCors: async (ctx) => {
    await ctx.store.setCors(ctx.bucket, parseCorsRules(await readXmlBody(ctx, 'CORSConfiguration')));
    return { status: 200 };
  },
  DeleteBucketCors: async (ctx) => {
    await ctx.store.setCors(ctx.bucket, []);
    return { status: 204 };
  },
  ListObjects: listObjects,
  ListObjectsV2: listObjectsV2,
  ListMultipartUploads: listMultipartUploads,
  DeleteObjects: deleteObjects,
  GetObject: (ctx) => getObject(ctx, false),
  HeadObject: (ctx) => getObject(ctx, true),
  PutObject: putObject,
  CopyObject: copyObject,
  DeleteObject: async (ctx) => {
    await ctx.store.deleteObject(ctx.bucket, ctx.key);
    return { status: 204 };
  },
  CreateMultipartUpload: createMultipartUpload,
  UploadPart: uploadPart,
  CompleteMultipartUpload: completeMultipartUpload,
  AbortMultipartUpload: async (ctx) => {
    await ctx.store.abortUpload(ctx.bucket, ctx.query.get('uploadId')!, ctx.key);
    return { status: 204 };
  },
  ListParts: listParts,
};

export const newRequestId = () => randomBytes(8).toString('hex').toUpperCase();
