import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { BadRequestError, fromCallerS3Error, HttpError, MethodNotAllowedError, NotFoundError, PayloadTooLargeError, UnauthorizedError } from './errors';
import { routesOf, type ApiFunctionName } from './routes';
import { validateUserId } from './keys';
import type { SigningKeys } from './signing-keys';
import { API_EXPOSED_HEADERS } from './cors';
import { lambdaLogger, logRequest, type Logger } from './log';

export type ApiEvent = APIGatewayProxyEvent;
export type ApiResult = APIGatewayProxyResult;
export type Headers = Record<string, string>;

/** Largest JSON request body the API accepts (requests carry metadata, never file contents). */
export const MAX_JSON_BODY_BYTES = 256 * 1024;
/**
 * Largest body of the complete route: a list of all 10,000 parts S3 allows, about 70 bytes each
 * (`{"partNumber":10000,"etag":"\"<32 hex>\""},`), must fit, or an upload of more than about 3,700
 * parts could never be completed with its list (the no-parts and partsSha256 forms need none).
 */
export const MAX_COMPLETE_BODY_BYTES = 1024 * 1024;

/**
 * Lambda's limit on what a synchronous invocation returns: "6 MB", counted on the result as the
 * runtime sends it, the whole proxy object serialized as JSON (so the body is escaped once more:
 * `"` and `\` take two bytes, control characters six). Over it the invocation fails and API
 * Gateway answers 502. Lambda's request limit is 6,291,456 bytes (6 MiB) by its own error message;
 * its runtime reports responses refused past 6,291,556 (100 bytes more). We hold responses to the
 * lower figure.
 */
export const LAMBDA_MAX_RESPONSE_BYTES = 6 * 1024 * 1024;

/**
 * Room a function keeps under that limit, when it sizes its own answer, for what is added after:
 * the CORS headers `createApiHandler` puts on every response (an origin from the configured list,
 * the exposed headers, `Vary`).
 */
export const RESPONSE_HEADROOM_BYTES = 4 * 1024;

/** The size Lambda measures: the proxy result as the runtime serializes it, in bytes of UTF-8. */
export function proxyResponseBytes(result: ApiResult): number {
  return Buffer.byteLength(JSON.stringify(result), 'utf8');
}

/** Whether a function's answer stays under Lambda's response limit with the headroom above. */
export function fitsLambdaResponse(result: ApiResult): boolean {
  return proxyResponseBytes(result) <= LAMBDA_MAX_RESPONSE_BYTES - RESPONSE_HEADROOM_BYTES;
}

export function json(statusCode: number, body: unknown, headers: Headers = {}): ApiResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

export function noContent(headers: Headers = {}): ApiResult {
  return { statusCode: 204, headers, body: '' };
}

export function redirect(location: string, headers: Headers = {}): ApiResult {
  return { statusCode: 307, headers: { location, 'cache-control': 'no-store', ...headers }, body: '' };
}

/** Header lookup that ignores case, as HTTP does (API Gateway keeps the caller's spelling). */
export function getHeader(event: Pick<ApiEvent, 'headers'>, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}

/**
 * Whether an `Accept` header asks for JSON: `application/json` listed with a q above 0 that no
 * other listed range beats (a tie goes to JSON, since naming it at all is deliberate). `*\/*`,
 * `application/*` or no header at all do not ask for it: that is what browsers, curl and HTTP
 * libraries send by default.
 */
export function acceptsJson(accept: string | undefined): boolean {
  if (!accept) return false;
  let jsonQ = 0;
  let otherQ = 0;
  for (const range of accept.split(',')) {
    const [type = '', ...params] = range.split(';');
    const essence = type.trim().toLowerCase();
    if (essence === '') continue;
    const weight = params.map((p) => p.split('=')).find(([name]) => name?.trim().toLowerCase() === 'q')?.[1]?.trim() ?? '1';
    // RFC 9110: a weight is 0 to 1 with at most three decimals; a range with another is ignored.
    if (!/^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(weight)) continue;
    const q = Number(weight);
    if (essence === 'application/json') jsonQ = Math.max(jsonQ, q);
    else otherQ = Math.max(otherQ, q);
  }
  return jsonQ > 0 && jsonQ >= otherQ;
}

/**
 * A path parameter, decoded. REST APIs deliver path parameters still percent-encoded; a value
 * that does not decode to valid UTF-8 is the caller's error.
 */
export function pathParam(event: Pick<ApiEvent, 'pathParameters'>, name: string, code = 'InvalidKey'): string {
  const raw = event.pathParameters?.[name];
  if (raw === undefined || raw === null) throw new BadRequestError(code, `Missing path parameter ${name}`);
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new BadRequestError(code, `Path parameter ${name} is not valid percent-encoded UTF-8`);
  }
}

/** The request body as JSON; 400 when absent or malformed, 413 over `maxBytes`. */
export function parseJsonBody(event: Pick<ApiEvent, 'body' | 'isBase64Encoded'>, maxBytes = MAX_JSON_BODY_BYTES): unknown {
  if (event.body === null || event.body === undefined || event.body === '') {
    throw new BadRequestError('InvalidBody', 'A JSON request body is required');
  }
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(text, 'utf8') > maxBytes) {
    throw new PayloadTooLargeError('BodyTooLarge', `The request body is over ${maxBytes} bytes`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BadRequestError('InvalidJson', 'The request body is not valid JSON');
  }
}

/** The caller's id: the `sub` claim that the Cognito authorizer (or the local gateway) passed. */
export function callerId(event: Pick<ApiEvent, 'requestContext'>): string {
  const authorizer = event.requestContext?.authorizer as { claims?: { sub?: unknown } } | null | undefined;
  const sub = authorizer?.claims?.sub;
  if (typeof sub !== 'string' || sub === '') throw new UnauthorizedError();
  return validateUserId(sub);
}

/** CORS response headers for an allowed Origin (the preflight itself is answered by API Gateway). */
export function corsHeaders(event: Pick<ApiEvent, 'headers'>, allowedOrigins: readonly string[]): Headers {
  const origin = getHeader(event, 'origin');
  return origin && allowedOrigins.includes(origin) ? allowedOriginHeaders(origin) : {};
}

/** The CORS headers of a response to an origin already found allowed. */
export function allowedOriginHeaders(origin: string): Headers {
  return {
    'access-control-allow-origin': origin,
    'access-control-expose-headers': API_EXPOSED_HEADERS.join(', '),
    vary: 'Origin',
  };
}

/** The one place errors become HTTP: HttpErrors as they say, S3 outages 503, anything else (a bug) 500; both logged. */
export function toErrorResponse(err: unknown, log: Logger = lambdaLogger): ApiResult {
  const known = err instanceof HttpError ? err : fromCallerS3Error(err);
  if (known) {
    return json(known.statusCode, { error: { code: known.code, message: known.message } }, known.headers);
  }
  if (isUpstreamUnavailable(err)) {
    log({ level: 'error', message: 'Storage unavailable', error: describe(err) });
    return json(503, { error: { code: 'ServiceUnavailable', message: 'Storage is unavailable or throttling; retry later' } }, { 'retry-after': '1' });
  }
  log({ level: 'error', message: 'Unhandled error', error: describe(err) });
  return json(500, { error: { code: 'InternalError', message: 'Internal error' } });
}

/** `ok` for a success, else the error code of the JSON error body every error response has. */
function outcomeOf(result: ApiResult): string {
  if (result.statusCode < 400) return 'ok';
  try {
    const code = (JSON.parse(result.body) as { error?: { code?: unknown } }).error?.code;
    if (typeof code === 'string') return code;
  } catch {
    // not a JSON error body: the status says it
  }
  return `HTTP${result.statusCode}`;
}

/** The caller's `sub` as the authorizer passed it, for the log only (callerId validates it for use). */
function loggedUserId(event: Pick<ApiEvent, 'requestContext'>): string | undefined {
  const sub = (event.requestContext?.authorizer as { claims?: { sub?: unknown } } | null | undefined)?.claims?.sub;
  return typeof sub === 'string' ? sub : undefined;
}

const NETWORK_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND']);

/**
 * An outage or throttling of S3 (or the network to it), as opposed to a bug: the SDK marks such
 * errors `$fault: 'server'` (SlowDown, InternalError, 503s); connection failures carry a Node code.
 * Callers get 503 with Retry-After, which clients (and the s3files command) retry.
 */
function isUpstreamUnavailable(err: unknown): boolean {
  const e = err as { $fault?: string; $metadata?: { httpStatusCode?: number }; code?: string; name?: string } | undefined;
  if (!e) return false;
  if (e.$fault === 'server' || (e.$metadata?.httpStatusCode ?? 0) >= 500) return true;
  if (e.name === 'TimeoutError') return true;
  return NETWORK_ERROR_CODES.has(e.code ?? '');
}

function describe(err: unknown): Record<string, unknown> {
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack };
  return { value: String(err) };
}

export type Operation = (event: ApiEvent) => Promise<ApiResult>;

/**
 * Builds a function's API handler from its operations: finds the route the event came in on
 * (by `resource` and method, as API Gateway sets them), runs it, maps errors and adds CORS headers.
 * A HEAD response never has a body, errors included. With `keys`, each request first waits for
 * them to be fresh (the first fetch after a cold start, or a refresh when they are old).
 */
export function createApiHandler(
  fn: ApiFunctionName,
  operations: Record<string, Operation>,
  allowedOrigins: readonly string[],
  keys?: Pick<SigningKeys, 'refresh'>,
  log: Logger = lambdaLogger,
): (event: ApiEvent) => Promise<ApiResult> {
  const routes = routesOf(fn);
  for (const route of routes) {
    if (!operations[route.operation]) throw new Error(`Function ${fn} has no operation ${route.operation}`);
  }
  return async (event) => {
    const started = Date.now();
    let result: ApiResult;
    try {
      const onResource = routes.filter((r) => r.resource === event.resource);
      if (onResource.length === 0) throw new NotFoundError('NoSuchRoute', `No route ${event.httpMethod} ${event.path}`);
      const route = onResource.find((r) => r.method === event.httpMethod);
      if (!route) throw new MethodNotAllowedError('MethodNotAllowed', `${event.httpMethod} is not allowed on ${event.resource}`);
      await keys?.refresh();
      result = await operations[route.operation]!(event);
    } catch (err) {
      result = toErrorResponse(err, log);
    }
    logRequest(log, {
      requestId: event.requestContext?.requestId,
      route: `${event.httpMethod} ${event.resource}`,
      userId: loggedUserId(event),
      status: result.statusCode,
      outcome: outcomeOf(result),
      durationMs: Date.now() - started,
    });
    return {
      ...result,
      headers: { ...result.headers, ...corsHeaders(event, allowedOrigins) },
      ...(event.httpMethod === 'HEAD' ? { body: '' } : {}),
    };
  };
}
