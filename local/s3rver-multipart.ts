import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { objectAddress, xmlError, xmlEscape, type S3rverContext } from './s3rver-context';

/**
 * ListParts and AbortMultipartUpload for s3rver, which answers both with MethodNotAllowed. Both are
 * on the service's main path (completion checks part sizes from ListParts; resume lists parts;
 * abort cleans up), so the embedded server gets them here, read straight from s3rver's store:
 * `<dir>/<bucket>/._S3rver_uploads/<uploadId>/<partNumber>` with a `<partNumber>.md5` beside it.
 */
export function s3rverMultipartRoutes(directory: string) {
  return async (ctx: S3rverContext, next: () => Promise<unknown>): Promise<unknown> => {
    const uploadId = ctx.query.uploadId;
    if ((ctx.method !== 'GET' && ctx.method !== 'DELETE') || typeof uploadId !== 'string') return next();
    const object = objectAddress(ctx);
    if (!object || !/^[0-9a-f]+$/i.test(uploadId)) return next();
    const { bucket, key } = object;
    const dir = join(directory, bucket, '._S3rver_uploads', uploadId);
    const exists = await stat(dir).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!exists) return xmlError(ctx, 404, 'NoSuchUpload', 'The specified upload does not exist.');

    if (ctx.method === 'DELETE') {
      await rm(dir, { recursive: true, force: true });
      ctx.status = 204;
      ctx.body = '';
      return undefined;
    }

    const marker = Number(ctx.query['part-number-marker'] ?? 0) || 0;
    const maxParts = Math.min(1000, Number(ctx.query['max-parts'] ?? 1000) || 1000);
    const numbers = (await readdir(dir))
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .filter((n) => n > marker)
      .sort((a, b) => a - b);
    const page = numbers.slice(0, maxParts);
    const parts = await Promise.all(
      page.map(async (n) => {
        const [info, md5] = await Promise.all([stat(join(dir, String(n))), readFile(join(dir, `${n}.md5`), 'utf8').catch(() => '')]);
        return `<Part><PartNumber>${n}</PartNumber><LastModified>${info.mtime.toISOString()}</LastModified><ETag>"${md5.trim()}"</ETag><Size>${info.size}</Size></Part>`;
      }),
    );
    const truncated = numbers.length > page.length;
    ctx.status = 200;
    ctx.set('content-type', 'application/xml');
    ctx.body =
      `<?xml version="1.0" encoding="UTF-8"?><ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
      `<Bucket>${xmlEscape(bucket)}</Bucket><Key>${xmlEscape(key)}</Key><UploadId>${uploadId}</UploadId>` +
      `<PartNumberMarker>${marker}</PartNumberMarker><NextPartNumberMarker>${page.at(-1) ?? marker}</NextPartNumberMarker>` +
      `<MaxParts>${maxParts}</MaxParts><IsTruncated>${truncated}</IsTruncated>${parts.join('')}</ListPartsResult>`;
    return undefined;
  };
}
