import { objectAddress, xmlError, type S3rverContext } from './s3rver-context';
import { bareEtag } from '../lambda/shared/etag';

/**
 * Conditional requests for s3rver, which ignores them: `If-Match` on GET/HEAD, and S3's conditional
 * writes, `If-Match` and `If-None-Match: *` on PUT. The processor depends on both (it profiles the
 * version its event announced, and writes profiles compare-and-swap so an older event can never
 * replace a newer profile); without them an overwritten object's stale event could win locally
 * where it cannot on AWS. Conditional PUTs are serialised per key so check-and-write is atomic
 * within this server, as S3 makes it.
 */

function matches(condition: string, etag: string | undefined): boolean {
  if (etag === undefined) return false;
  return condition.split(',').some((c) => c.trim() === '*' || bareEtag(c) === bareEtag(etag));
}

/** Object requests only: no subresource (`?acl`, `?uploadId`, `?partNumber`...), no copy. */
function isPlainObjectRequest(ctx: S3rverContext): boolean {
  return Object.keys(ctx.query).every((q) => q === 'x-id' || /^x-amz-/i.test(q)) && !ctx.headers['x-amz-copy-source'];
}

export function s3rverConditionalRequests() {
  const locks = new Map<string, Promise<unknown>>();
  return async (ctx: S3rverContext, next: () => Promise<unknown>): Promise<unknown> => {
    const header = (name: string) => {
      const v = ctx.headers[name];
      return Array.isArray(v) ? v.join(',') : v;
    };
    const ifMatch = header('if-match');
    const ifNoneMatch = header('if-none-match');
    const isRead = (ctx.method === 'GET' || ctx.method === 'HEAD') && !!ifMatch;
    const isWrite = ctx.method === 'PUT' && (!!ifMatch || ifNoneMatch === '*');
    if ((!isRead && !isWrite) || !isPlainObjectRequest(ctx)) return next();
    const object = objectAddress(ctx);
    if (!object) return next();
    const { bucket, key } = object;

    const check = async (): Promise<unknown> => {
      const etag = await ctx.store.getMetadata(bucket, key).then(
        (m) => m.etag,
        () => undefined,
      );
      if (etag === undefined) {
        if (isRead || !ifMatch) return next(); // a GET answers 404 itself; If-None-Match: * writes
        return xmlError(ctx, 404, 'NoSuchKey', 'The specified key does not exist.');
      }
      if (ifMatch && !matches(ifMatch, etag)) return xmlError(ctx, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
      if (isWrite && ifNoneMatch === '*' && etag !== undefined) {
        return xmlError(ctx, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
      }
      return next();
    };
    if (!isWrite) return check();
    const lockKey = `${bucket}/${key}`;
    const previous = locks.get(lockKey) ?? Promise.resolve();
    const current = previous.then(check, check);
    locks.set(lockKey, current);
    try {
      return await current;
    } finally {
      if (locks.get(lockKey) === current) locks.delete(lockKey);
    }
  };
}
