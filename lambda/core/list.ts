import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../shared/config';
import { decodeCursor, encodeCursor } from '../shared/cursor';
import { BadRequestError } from '../shared/errors';
import { fromS3Key, LOGICAL_BUCKETS, resolveBucket, toS3Key, validatePrefix } from '../shared/keys';
import type { BucketInfo, ObjectInfo, ObjectPage } from '../shared/api-types';
import type { SigningKeys } from '../shared/signing-keys';

export interface ListDeps {
  s3: S3Client;
  config: Config;
  /** The cursor key. */
  keys: SigningKeys;
}

export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;

export function listBuckets(): { buckets: BucketInfo[] } {
  return { buckets: LOGICAL_BUCKETS.map(({ name, writable }) => ({ name, writable })) };
}

/** `limit` as the query string gives it: an integer 1..1000, 100 when absent. */
export function parseLimit(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_LIST_LIMIT;
  const value = /^[0-9]{1,7}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_LIST_LIMIT) {
    throw new BadRequestError('InvalidLimit', `limit must be an integer from 1 to ${MAX_LIST_LIMIT}`);
  }
  return value;
}

/** Only "/" (folders) or nothing (a flat listing): other delimiters would expose S3 quirks. */
export function parseDelimiter(raw: string | undefined): '' | '/' {
  if (raw === undefined || raw === '') return '';
  if (raw === '/') return '/';
  throw new BadRequestError('InvalidDelimiter', 'delimiter must be "/" or empty');
}

export interface ListObjectsInput {
  userId: string;
  bucket: string;
  prefix?: string;
  delimiter?: string;
  limit?: string;
  cursor?: string;
}

export async function listObjects(deps: ListDeps, input: ListObjectsInput): Promise<ObjectPage> {
  const bucket = resolveBucket(deps.config, input.bucket);
  const prefix = validatePrefix(input.prefix);
  const delimiter = parseDelimiter(input.delimiter);
  const limit = parseLimit(input.limit);
  const scope = { userId: input.userId, bucket: bucket.name, prefix, delimiter };
  const continuationToken = input.cursor ? decodeCursor(deps.keys.ring('cursor'), scope, input.cursor) : undefined;

  const out = await deps.s3.send(
    new ListObjectsV2Command({
      Bucket: bucket.physical,
      Prefix: toS3Key(input.userId, prefix),
      MaxKeys: limit,
      ...(delimiter ? { Delimiter: delimiter } : {}),
      ...(continuationToken ? { ContinuationToken: continuationToken } : {}),
    }),
  );

  const objects: ObjectInfo[] = [];
  for (const item of out.Contents ?? []) {
    const key = item.Key === undefined ? undefined : fromS3Key(input.userId, item.Key);
    if (key === undefined || key === '') continue;
    objects.push({
      key,
      size: item.Size ?? 0,
      lastModified: item.LastModified ? item.LastModified.toISOString() : null,
      etag: item.ETag ?? null,
    });
  }
  const prefixes: string[] = [];
  for (const p of out.CommonPrefixes ?? []) {
    const rel = p.Prefix === undefined ? undefined : fromS3Key(input.userId, p.Prefix);
    if (rel) prefixes.push(rel);
  }
  const next = out.IsTruncated && out.NextContinuationToken ? out.NextContinuationToken : undefined;
  return {
    objects,
    prefixes,
    nextCursor: next ? encodeCursor(deps.keys.ring('cursor'), scope, next) : null,
  };
}
