import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../shared/config';
import { decodeCursor, encodeCursor } from '../shared/cursor';
import { fromS3Key, LOGICAL_BUCKETS, resolveBucket, toS3Key } from '../shared/keys';
import type { BucketInfo, ObjectInfo, ObjectPage } from '../shared/api-types';
import type { SigningKeys } from '../shared/signing-keys';

export interface ListDeps {
  s3: S3Client;
  config: Config;
  /** The cursor key. */
  keys: SigningKeys;
}

export function listBuckets(): { buckets: BucketInfo[] } {
  return { buckets: LOGICAL_BUCKETS.map(({ name, writable }) => ({ name, writable })) };
}

/** The query of a listing, validated (handlers/inputs.ts). */
export interface ListQuery {
  /** A valid prefix (keys.ts validatePrefix), '' for all. */
  prefix: string;
  delimiter: '' | '/';
  limit: number;
  cursor?: string;
}

export interface ListObjectsInput extends ListQuery {
  userId: string;
  bucket: string;
}

export async function listObjects(deps: ListDeps, input: ListObjectsInput): Promise<ObjectPage> {
  const bucket = resolveBucket(deps.config, input.bucket);
  const { prefix, delimiter, limit } = input;
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
