/**
 * What the middlewares in front of s3rver (local/s3rver-*.ts) share: the parts of its koa context
 * they use, the object a path-style request names, and S3's XML error body.
 */
export interface S3rverContext {
  method: string;
  /** The raw (percent-encoded) path: `/<bucket>/<key>`; the embedded server is path-style only. */
  path: string;
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  status: number;
  body: unknown;
  /** s3rver's filesystem store (lib/stores/filesystem.js). */
  store: { getMetadata(bucket: string, key: string): Promise<{ etag?: string }> };
  set(name: string, value: string): void;
}

/** The bucket and (decoded) key of an object request; undefined for bucket and service requests. */
export function objectAddress(ctx: Pick<S3rverContext, 'path'>): { bucket: string; key: string } | undefined {
  const [, bucket, ...keyParts] = ctx.path.split('/');
  if (!bucket || keyParts.length === 0) return undefined;
  return { bucket, key: decodeURIComponent(keyParts.join('/')) };
}

export const xmlEscape = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

export function xmlError(ctx: Pick<S3rverContext, 'status' | 'body' | 'set'>, status: number, code: string, message: string): void {
  ctx.status = status;
  ctx.set('content-type', 'application/xml');
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error>`;
}
