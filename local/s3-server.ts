import { AsyncLocalStorage } from 'node:async_hooks';
import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import type { CORSRule } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { s3rverConditionalRequests } from './s3rver-conditional';
import { s3rverMultipartRoutes } from './s3rver-multipart';
import { BUCKET_EXPOSED_HEADERS } from '../lambda/shared/cors';

/**
 * The embedded S3-compatible server (s3rver), with the fixes it needs on Node 20+:
 * - its ListObjectsV2 continuation tokens use DES, which OpenSSL 3 refuses without the legacy
 *   provider (paged listings answer 500). `patchLegacyDesCipher` maps that one algorithm to
 *   AES-128-CBC with keys and IVs doubled to size; the token stays opaque and round-trips, and no
 *   other algorithm is touched.
 * - `aws-chunked` request bodies (streamed uploads signed per chunk or with a trailing checksum)
 *   would be stored with their framing; `decodeAwsChunked` strips it at the server edge.
 */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

let desPatched = false;

export function patchLegacyDesCipher(): void {
  if (desPatched) return;
  desPatched = true;
  try {
    crypto.createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
    return; // this OpenSSL still has DES: nothing to do
  } catch {
    // fall through and patch
  }
  const widen = (b: crypto.BinaryLike | crypto.CipherKey | null): Buffer => {
    const buf = Buffer.from(b as Buffer);
    return Buffer.concat([buf, buf]).subarray(0, 16);
  };
  const mutable = crypto as unknown as Record<string, unknown>;
  const originalCipher = crypto.createCipheriv;
  const originalDecipher = crypto.createDecipheriv;
  mutable.createCipheriv = function createCipheriv(algorithm: string, key: crypto.CipherKey, iv: crypto.BinaryLike | null, options?: unknown) {
    if (algorithm === 'des') return originalCipher('aes-128-cbc', widen(key), widen(iv));
    return (originalCipher as (...args: unknown[]) => crypto.Cipher)(algorithm, key, iv, options);
  };
  mutable.createDecipheriv = function createDecipheriv(algorithm: string, key: crypto.CipherKey, iv: crypto.BinaryLike | null, options?: unknown) {
    if (algorithm === 'des') return originalDecipher('aes-128-cbc', widen(key), widen(iv));
    return (originalDecipher as (...args: unknown[]) => crypto.Decipher)(algorithm, key, iv, options);
  };
}

/**
 * The CORS rule the local buckets get (exposing the same headers as the stack's buckets), one `*`
 * wildcard per origin allowed: given to the embedded
 * server as XML (`corsXml`), to an external one with PutBucketCors (local/service.ts).
 */
export function bucketCorsRule(origins: readonly string[]): CORSRule {
  return { AllowedOrigins: [...origins], AllowedMethods: ['GET', 'PUT', 'HEAD', 'POST'], AllowedHeaders: ['*'], ExposeHeaders: [...BUCKET_EXPOSED_HEADERS], MaxAgeSeconds: 3000 };
}

/** `bucketCorsRule` as the S3 XML s3rver's `configureBuckets` takes. */
export function corsXml(origins: readonly string[]): string {
  const rule = bucketCorsRule(origins);
  const elements = (tag: string, values: readonly string[] = []) => values.map((v) => `<${tag}>${v}</${tag}>`).join('');
  return (
    '<CORSConfiguration><CORSRule>' +
    elements('AllowedOrigin', rule.AllowedOrigins) +
    elements('AllowedMethod', rule.AllowedMethods) +
    elements('AllowedHeader', rule.AllowedHeaders) +
    elements('ExposeHeader', rule.ExposeHeaders) +
    `<MaxAgeSeconds>${rule.MaxAgeSeconds}</MaxAgeSeconds>` +
    '</CORSRule></CORSConfiguration>'
  );
}

/**
 * What s3rver's `event` carries (lib/models/event.js): one record, its key not URL-encoded; a
 * completed multipart upload is renamed ObjectCreated:CompleteMultipartUpload before listeners see it.
 */
export interface S3rverEvent {
  Records: {
    eventName: string;
    s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string } };
    requestParameters?: { sourceIPAddress?: string };
  }[];
}

export interface EmbeddedS3 {
  endpoint: string;
  port: number;
  onEvent(listener: (event: S3rverEvent) => void): void;
  close(): Promise<void>;
}

export interface EmbeddedS3Options {
  directory: string;
  port: number;
  host?: string;
  buckets: string[];
  corsOrigins: readonly string[];
}

export async function startEmbeddedS3(options: EmbeddedS3Options): Promise<EmbeddedS3> {
  patchLegacyDesCipher();
  const host = options.host ?? '127.0.0.1';
  const cors = corsXml(options.corsOrigins);
  const server = new S3rver({
    port: options.port,
    address: host,
    silent: true,
    directory: options.directory,
    vhostBuckets: false,
    // s3rver checks V2 signatures only; V4 (what every current SDK sends) is taken on trust.
    allowMismatchedSignatures: true,
    configureBuckets: options.buckets.map((name) => ({ name, configs: [cors] })),
  });
  // s3rver reports a completed multipart upload as ObjectCreated:Post, like a form POST, and its
  // ETag is a plain MD5: only the request tells them apart. Its events are emitted synchronously
  // inside the request, so the request is remembered in async-local storage.
  const requests = new AsyncLocalStorage<{ completesMultipart: boolean }>();
  // koa runs middleware in array order, and s3rver added its router in its constructor: ours go in
  // front of its stack, in this order.
  server.middleware.unshift(
    (ctx: { method: string; query: Record<string, unknown> }, next: () => Promise<unknown>) =>
      requests.run({ completesMultipart: ctx.method === 'POST' && 'uploadId' in ctx.query }, next),
    decodeAwsChunked,
    s3rverMultipartRoutes(options.directory),
    s3rverConditionalRequests(),
  );
  const address = (await server.run()) as AddressInfo;
  const endpoint = `http://${host}:${address.port}`;
  return {
    endpoint,
    port: address.port,
    onEvent(listener) {
      server.on('event', (event: S3rverEvent) => {
        const record = event.Records[0];
        if (record && record.eventName === 'ObjectCreated:Post' && requests.getStore()?.completesMultipart) {
          record.eventName = 'ObjectCreated:CompleteMultipartUpload';
        }
        listener(event);
      });
    },
    close: async () => {
      const http = (server as unknown as { httpServer?: { closeAllConnections?: () => void } }).httpServer;
      const closing = server.close();
      http?.closeAllConnections?.();
      await closing;
    },
  };
}

interface KoaContext {
  req: IncomingMessage;
  get(name: string): string;
}

/**
 * Strips `aws-chunked` framing (`<hex size>[;chunk-signature=…]\r\n<data>\r\n … 0\r\n<trailers>\r\n\r\n`)
 * before s3rver reads the body, and sets the decoded length, as S3 does. Clients send it for
 * streamed uploads (boto3/aws cli with flexible checksums, the JS SDK without WHEN_REQUIRED).
 */
export async function decodeAwsChunked(ctx: KoaContext, next: () => Promise<unknown>): Promise<unknown> {
  const encoding = ctx.get('content-encoding');
  const sha = ctx.get('x-amz-content-sha256');
  const chunked = /(^|,)\s*aws-chunked\s*(,|$)/i.test(encoding) || sha.startsWith('STREAMING-');
  if (!chunked || !['PUT', 'POST'].includes(ctx.req.method ?? '')) return next();
  const raw = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    ctx.req.on('data', (c: Buffer) => chunks.push(c));
    ctx.req.on('end', () => resolve(Buffer.concat(chunks)));
    ctx.req.on('error', reject);
  });
  const body = unframeAwsChunked(raw);
  const headers = ctx.req.headers;
  // s3rver pipes ctx.req into its store and reads headers through ctx.request: hand it a stream
  // of the decoded bytes as ctx.req, and fix the headers on the original request.
  ctx.req = Readable.from([body]) as unknown as IncomingMessage;
  headers['content-length'] = String(body.length);
  const remaining = (headers['content-encoding'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s && s.toLowerCase() !== 'aws-chunked');
  if (remaining.length) headers['content-encoding'] = remaining.join(',');
  else delete headers['content-encoding'];
  headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  delete headers['x-amz-decoded-content-length'];
  delete headers['x-amz-trailer'];
  return next();
}

/** The payload of an aws-chunked body; throws on a malformed frame. */
export function unframeAwsChunked(raw: Buffer): Buffer {
  const out: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', pos);
    if (lineEnd < 0) throw new Error('aws-chunked body: missing chunk header');
    const header = raw.subarray(pos, lineEnd).toString('latin1');
    const size = parseInt(header.split(';')[0]!, 16);
    if (!Number.isFinite(size) || size < 0) throw new Error(`aws-chunked body: bad chunk size "${header}"`);
    pos = lineEnd + 2;
    if (size === 0) break; // trailers (checksums) follow; S3 checks them, we drop them
    out.push(raw.subarray(pos, pos + size));
    pos += size + 2;
  }
  return Buffer.concat(out);
}
