/**
 * The embedded S3: an S3-compatible HTTP server (path-style) on local disk that refuses what S3
 * refuses. Every request goes through the same steps as in S3:
 *
 *   CORS preflight (no credentials) → SigV4 authentication (sigv4.ts) → operation (routing.ts)
 *   → IAM authorization of the caller's policy (iam.ts) → the operation (operations.ts, store.ts)
 *
 * Callers are principals with their own access keys: the admin key (`S3RVER`/`S3RVER`, allowed
 * everything, for the AWS CLI and boto3) and one key per Lambda function with that function's
 * statements from lambda/shared/grants.ts, so a handler that needs a grant the stack does not give
 * fails here as it would in AWS. Writes announce themselves as S3 events (`onEvent`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable, type Transform } from 'node:stream';
import { bucketCorsRule, corsResponseHeaders, preflight } from './cors';
import { isAllowed, validatePolicy, type Authorization, type PolicyStatement } from './iam';
import { newRequestId, OPERATIONS, type ObjectCreatedEvent, type OperationContext, type Response } from './operations';
import { authorizationsFor, parseAddress, resolveOperation, type S3Address } from './routing';
import { AwsChunkedDecoder, payloadVerifier } from './aws-chunked';
import { authenticate, S3AuthError, type Authenticated } from './sigv4';
import { importS3rverData } from './import-s3rver';
import { ObjectStore } from './store';
import { errorDocument, S3Error } from './xml';
import { listen } from '../listen';

export type { ObjectCreatedEvent } from './operations';

/** The embedded server's admin key (allowed everything): what the AWS CLI and boto3 are given. */
export const ADMIN_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** A caller with its own key and the IAM statements its role would have. */
export interface S3Principal {
  name: string;
  accessKeyId: string;
  secretAccessKey: string;
  policy: readonly PolicyStatement[];
}

export interface EmbeddedS3Options {
  directory: string;
  /** 0 picks a free port. */
  port: number;
  host?: string;
  /** The region signatures must be scoped to. Default us-east-1. */
  region?: string;
  /** Created at start when missing, with CORS for `corsOrigins`. */
  buckets: readonly string[];
  corsOrigins: readonly string[];
  /** Callers besides the admin key. */
  principals?: readonly S3Principal[];
  /** The clock signatures are checked against (tests). */
  now?: () => Date;
  /**
   * `false` skips authentication and authorization (every request acts as the admin key): only for
   * bench/s3, which measures what enforcing costs per request. Default true.
   */
  enforce?: boolean;
  log?: (line: string) => void;
}

export interface EmbeddedS3 {
  endpoint: string;
  port: number;
  region: string;
  onEvent(listener: (event: ObjectCreatedEvent) => void): void;
  close(): Promise<void>;
}

const accessDenied = () => new S3Error(403, 'AccessDenied', 'Access Denied');

/** What an unenforcing server (bench/s3) takes every request as: the admin, with the body unchecked. */
function unchecked(req: IncomingMessage): Authenticated {
  const streaming = headerValue(req, 'x-amz-content-sha256')?.startsWith('STREAMING-') ?? false;
  return {
    accessKeyId: ADMIN_CREDENTIALS.accessKeyId,
    presigned: false,
    payload: streaming ? { kind: 'aws-chunked', trailer: headerValue(req, 'x-amz-content-sha256')!.endsWith('-TRAILER'), signing: undefined } : { kind: 'unsigned' },
  };
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

export async function startEmbeddedS3(options: EmbeddedS3Options): Promise<EmbeddedS3> {
  const region = options.region ?? 'us-east-1';
  const log = options.log ?? (() => undefined);
  const store = await ObjectStore.open(options.directory);
  await importS3rverData(options.directory, store, log);
  for (const name of options.buckets) {
    if (!store.hasBucket(name)) await store.createBucket(name);
    await store.setCors(name, [bucketCorsRule(options.corsOrigins)]);
  }
  const principals = new Map<string, { secret: string; policy?: readonly PolicyStatement[] }>([
    [ADMIN_CREDENTIALS.accessKeyId, { secret: ADMIN_CREDENTIALS.secretAccessKey }],
  ]);
  for (const p of options.principals ?? []) {
    validatePolicy(p.policy);
    principals.set(p.accessKeyId, { secret: p.secretAccessKey, policy: p.policy });
  }
  const listeners: ((event: ObjectCreatedEvent) => void)[] = [];

  function corsHeadersFor(req: IncomingMessage, address: S3Address): Record<string, string> {
    const origin = headerValue(req, 'origin');
    if (!origin || !address.bucket || !store.hasBucket(address.bucket)) return {};
    return corsResponseHeaders(store.cors(address.bucket), origin, req.method ?? 'GET');
  }

  function send(req: IncomingMessage, res: ServerResponse, response: Response, extra: Record<string, string>): void {
    const headers: Record<string, string> = { ...extra, ...response.headers };
    const body = response.body;
    if (req.method === 'HEAD' || body === undefined || response.status === 304 || response.status === 204) {
      if (body instanceof Readable) body.destroy();
      if (headers['content-length'] === undefined && req.method !== 'HEAD') headers['content-length'] = '0';
      res.writeHead(response.status, headers);
      res.end();
      return;
    }
    if (body instanceof Readable) {
      res.writeHead(response.status, headers);
      body.on('error', () => res.destroy());
      res.on('close', () => body.destroy());
      body.pipe(res);
      return;
    }
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    headers['content-length'] = String(bytes.length);
    res.writeHead(response.status, headers);
    res.end(bytes);
  }

  function sendError(req: IncomingMessage, res: ServerResponse, err: unknown, resource: string, extra: Record<string, string>): void {
    let error: S3Error;
    if (err instanceof S3Error) error = err;
    else if (err instanceof S3AuthError) error = new S3Error(err.status, err.code, err.message, err.details);
    else {
      log(`s3: ${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`);
      error = new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.');
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // A refused request whose body has not all arrived: do not make the client send the rest on
    // this connection. (A request without a body is complete once its headers are in.)
    if (!req.complete) extra = { ...extra, connection: 'close' };
    req.resume();
    const body = req.method === 'HEAD' ? undefined : errorDocument(error, resource, extra['x-amz-request-id'] ?? '');
    send(req, res, { status: error.status, headers: { ...error.headers, ...(body ? { 'content-type': 'application/xml' } : {}) }, ...(body ? { body } : {}) }, extra);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newRequestId();
    const base: Record<string, string> = { 'x-amz-request-id': requestId, 'x-amz-id-2': requestId, server: 'AmazonS3' };
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const rawQuery = q < 0 ? '' : rawUrl.slice(q + 1);
    const query = new URLSearchParams(rawQuery);
    const method = (req.method ?? 'GET').toUpperCase();
    let address: S3Address = {};
    try {
      address = parseAddress(rawPath);
      if (method === 'OPTIONS') return answerPreflight(req, res, address, base);
      const auth =
        options.enforce === false
          ? unchecked(req)
          : await authenticate({ method, path: rawPath, query: rawQuery, headers: req.headers }, {
              region,
              secretFor: (id) => principals.get(id)?.secret,
              ...(options.now ? { now: options.now } : {}),
            });
      const policy = principals.get(auth.accessKeyId)?.policy;
      const may = (a: Authorization) => policy === undefined || isAllowed(policy, a);
      const operation = resolveOperation(method, address, query, req.headers);
      for (const authorization of authorizationsFor(operation, address, query, req.headers)) {
        if (!may(authorization)) throw accessDenied();
      }
      if (address.bucket && operation !== 'CreateBucket' && !store.hasBucket(address.bucket)) {
        throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: address.bucket });
      }
      const response = await OPERATIONS[operation](operationContext(req, res, address, query, auth, may));
      send(req, res, response, { ...base, ...corsHeadersFor(req, address) });
    } catch (err) {
      sendError(req, res, err, rawPath, { ...base, ...corsHeadersFor(req, address) });
    }
  }

  function operationContext(
    req: IncomingMessage,
    res: ServerResponse,
    address: S3Address,
    query: URLSearchParams,
    auth: Authenticated,
    may: (a: Authorization) => boolean,
  ): OperationContext {
    const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    let verifier: Transform | undefined;
    return {
      req,
      bucket: address.bucket ?? '',
      key: address.key ?? '',
      query,
      headers: req.headers,
      store,
      region,
      may,
      bodyTransforms: (): Transform[] => {
        // Expect: 100-continue: the client waits for this before sending the body it was refused for.
        if (headerValue(req, 'expect')?.toLowerCase() === '100-continue') res.writeContinue();
        verifier = payloadVerifier(auth, req.headers);
        return verifier ? [verifier] : [];
      },
      trailers: () => (verifier instanceof AwsChunkedDecoder ? verifier.trailers : undefined),
      decodedLength: () => {
        const decoded = headerValue(req, 'x-amz-decoded-content-length');
        return decoded === undefined ? undefined : Number(decoded);
      },
      created: (event) => {
        for (const listener of listeners) {
          try {
            listener({ ...event, sourceIp });
          } catch (err) {
            log(`s3: event listener failed: ${String((err as Error)?.message ?? err)}`);
          }
        }
      },
    };
  }

  function answerPreflight(req: IncomingMessage, res: ServerResponse, address: S3Address, base: Record<string, string>): void {
    const origin = headerValue(req, 'origin');
    const method = headerValue(req, 'access-control-request-method');
    if (!origin || !method) {
      throw new S3Error(400, 'BadRequest', 'Insufficient information. Origin request header needed.');
    }
    const rules = address.bucket && store.hasBucket(address.bucket) ? store.cors(address.bucket) : [];
    if (rules.length === 0) throw new S3Error(403, 'AccessForbidden', 'CORSResponse: CORS is not enabled for this bucket.');
    const headers = preflight(rules, origin, method, headerValue(req, 'access-control-request-headers') ?? '');
    if (!headers) {
      throw new S3Error(403, 'AccessForbidden', 'CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource\'s CORS spec.');
    }
    send(req, res, { status: 200, headers }, base);
  }

  const server = createServer((req, res) => void handle(req, res));
  // Answer `Expect: 100-continue` only once the request was authenticated and authorized.
  server.on('checkContinue', (req, res) => void handle(req, res));
  const port = await listen(server, options.port, options.host ?? '127.0.0.1');
  return {
    endpoint: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    region,
    onEvent: (listener) => void listeners.push(listener),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
