/**
 * Which S3 operation a path-style request is, and what IAM is asked to allow for it: the action
 * and resource ARN S3's authorization reference gives for the operation, with its condition keys
 * (`s3:prefix` … for listings). Subresources the server does not implement are named, so the
 * caller gets 501 NotImplemented instead of a wrong answer.
 */
import { bucketArn, objectArn, type Authorization } from './iam';
import { S3Error } from './xml';

export type Operation =
  | 'ListBuckets'
  | 'CreateBucket'
  | 'DeleteBucket'
  | 'HeadBucket'
  | 'GetBucketLocation'
  | 'GetBucketCors'
  | 'PutBucketCors'
  | 'DeleteBucketCors'
  | 'ListObjects'
  | 'ListObjectsV2'
  | 'ListMultipartUploads'
  | 'DeleteObjects'
  | 'GetObject'
  | 'HeadObject'
  | 'PutObject'
  | 'CopyObject'
  | 'DeleteObject'
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'ListParts';

export interface S3Address {
  bucket?: string;
  key?: string;
}

/** Query parameters that select a subresource (S3's list); anything not handled is 501. */
const SUBRESOURCES = new Set([
  'accelerate', 'acl', 'analytics', 'attributes', 'cors', 'delete', 'encryption', 'intelligent-tiering', 'inventory',
  'legal-hold', 'lifecycle', 'location', 'logging', 'metrics', 'notification', 'object-lock', 'ownershipControls',
  'partNumber', 'policy', 'policyStatus', 'publicAccessBlock', 'replication', 'requestPayment', 'restore', 'retention',
  'select', 'tagging', 'torrent', 'uploadId', 'uploads', 'versioning', 'versionId', 'versions', 'website', 'renameObject',
]);

/** The bucket and decoded key of a path-style request path (`/bucket/a/b%20c`). */
export function parseAddress(rawPath: string): S3Address {
  const [, bucket = '', ...rest] = rawPath.split('/');
  if (bucket === '') return {};
  if (rest.length === 0 || (rest.length === 1 && rest[0] === '')) return { bucket };
  let key: string;
  try {
    key = decodeURIComponent(rest.join('/'));
  } catch {
    throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.");
  }
  if (Buffer.byteLength(key, 'utf8') > 1024) throw new S3Error(400, 'KeyTooLongError', 'Your key is too long', { MaxSizeAllowed: 1024, Size: Buffer.byteLength(key, 'utf8') });
  return { bucket, key };
}

const notImplemented = (what: string) => new S3Error(501, 'NotImplemented', `A header or query you provided implies functionality that is not implemented (${what}).`);

export function resolveOperation(method: string, address: S3Address, query: URLSearchParams, headers: Record<string, string | string[] | undefined>): Operation {
  const sub = [...new Set([...query.keys()].filter((q) => SUBRESOURCES.has(q)))];
  const only = (...allowed: string[]) => {
    const other = sub.find((s) => !allowed.includes(s));
    if (other) throw notImplemented(`?${other} on ${method}`);
  };
  const has = (name: string) => query.has(name);
  if (!address.bucket) {
    if (method === 'GET') return 'ListBuckets';
    throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
  }
  if (address.key === undefined) {
    switch (method) {
      case 'GET':
        only('uploads', 'cors', 'location');
        if (has('uploads')) return 'ListMultipartUploads';
        if (has('cors')) return 'GetBucketCors';
        if (has('location')) return 'GetBucketLocation';
        return query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
      case 'HEAD':
        return 'HeadBucket';
      case 'PUT':
        only('cors');
        return has('cors') ? 'PutBucketCors' : 'CreateBucket';
      case 'DELETE':
        only('cors');
        return has('cors') ? 'DeleteBucketCors' : 'DeleteBucket';
      case 'POST':
        only('delete');
        if (has('delete')) return 'DeleteObjects';
        // A browser form POST (with or without a policy): not supported here.
        throw notImplemented('POST object uploads');
    }
    throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
  }
  const copy = headers['x-amz-copy-source'] !== undefined;
  switch (method) {
    case 'GET':
      only('uploadId');
      return has('uploadId') ? 'ListParts' : 'GetObject';
    case 'HEAD':
      only();
      return 'HeadObject';
    case 'PUT':
      only('partNumber', 'uploadId');
      if (has('partNumber') || has('uploadId')) {
        if (!has('partNumber') || !has('uploadId')) throw new S3Error(400, 'InvalidRequest', 'UploadPart needs both partNumber and uploadId');
        if (copy) throw notImplemented('UploadPartCopy');
        return 'UploadPart';
      }
      return copy ? 'CopyObject' : 'PutObject';
    case 'POST':
      only('uploads', 'uploadId');
      if (has('uploads')) return 'CreateMultipartUpload';
      if (has('uploadId')) return 'CompleteMultipartUpload';
      throw notImplemented('POST on an object');
    case 'DELETE':
      only('uploadId');
      return has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
  }
  throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
}

/** The copy source of CopyObject: `bucket/key` or `/bucket/key`, URL-encoded, optional `?versionId`. */
export function parseCopySource(header: string): { bucket: string; key: string } {
  const [path = ''] = header.split('?');
  let decoded: string;
  try {
    decoded = decodeURIComponent(path.replace(/^\//, ''));
  } catch {
    throw new S3Error(400, 'InvalidArgument', 'Invalid copy source encoding');
  }
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) throw new S3Error(400, 'InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey');
  return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1) };
}

/**
 * What IAM must allow for the operation (every entry), per S3's actions reference. DeleteObjects
 * is authorized per key inside the operation, as S3 reports each key's result on its own.
 */
export function authorizationsFor(operation: Operation, address: S3Address, query: URLSearchParams, headers: Record<string, string | string[] | undefined>): Authorization[] {
  const bucket = address.bucket ?? '';
  const onBucket = (action: string, context?: Record<string, string>): Authorization[] => [{ action, resource: bucketArn(bucket), ...(context ? { context } : {}) }];
  const onObject = (action: string): Authorization[] => [{ action, resource: objectArn(bucket, address.key ?? '') }];
  switch (operation) {
    case 'ListBuckets':
      return [{ action: 's3:ListAllMyBuckets', resource: '*' }];
    case 'CreateBucket':
      return onBucket('s3:CreateBucket');
    case 'DeleteBucket':
      return onBucket('s3:DeleteBucket');
    case 'HeadBucket':
      return onBucket('s3:ListBucket');
    case 'GetBucketLocation':
      return onBucket('s3:GetBucketLocation');
    case 'GetBucketCors':
      return onBucket('s3:GetBucketCORS');
    case 'PutBucketCors':
    case 'DeleteBucketCors':
      return onBucket('s3:PutBucketCORS');
    case 'ListObjects':
    case 'ListObjectsV2': {
      const context: Record<string, string> = { 's3:prefix': query.get('prefix') ?? '' };
      if (query.has('delimiter')) context['s3:delimiter'] = query.get('delimiter')!;
      if (query.has('max-keys')) context['s3:max-keys'] = query.get('max-keys')!;
      return onBucket('s3:ListBucket', context);
    }
    case 'ListMultipartUploads':
      return onBucket('s3:ListBucketMultipartUploads');
    case 'DeleteObjects':
      return [];
    case 'GetObject':
    case 'HeadObject':
      return onObject('s3:GetObject');
    case 'PutObject':
    case 'CreateMultipartUpload':
    case 'UploadPart':
    case 'CompleteMultipartUpload':
      return onObject('s3:PutObject');
    case 'CopyObject': {
      const source = parseCopySource(String(headers['x-amz-copy-source']));
      return [...onObject('s3:PutObject'), { action: 's3:GetObject', resource: objectArn(source.bucket, source.key) }];
    }
    case 'DeleteObject':
      return onObject('s3:DeleteObject');
    case 'AbortMultipartUpload':
      return onObject('s3:AbortMultipartUpload');
    case 'ListParts':
      return onObject('s3:ListMultipartUploadParts');
  }
}
