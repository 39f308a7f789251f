/**
 * A local stand-in for the API Gateway REST API: routes with the shared route table, checks bearer
 * tokens like the Cognito authorizer, answers CORS preflights like `defaultCorsPreflightOptions`,
 * and turns each request into the proxy event a Lambda function would get.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { API_CORS_ALLOWED_HEADERS, API_CORS_ALLOWED_METHODS, API_CORS_MAX_AGE_SECONDS } from '../lambda/shared/cors';
import { allowedOriginHeaders, json, LAMBDA_MAX_RESPONSE_BYTES, proxyResponseBytes } from '../lambda/shared/http';
import { SERVICE_FUNCTIONS } from '../lambda/shared/grants';
import type { ApiFunctionName } from '../lambda/shared/routes';
import { matchRoute } from './route-matcher';
import { bearerToken, TokenError, type Claims } from './auth';
import { readBody } from './read-body';

export type ApiHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/** A gateway-only route (health, local tools, the console and its sign-in): gets the request, answers a proxy-style result. */
export type LocalRoute = (request: { claims?: Claims; method: string; query: URLSearchParams; body: string }) => Promise<APIGatewayProxyResult>;

export interface GatewayOptions {
  handlers: Record<ApiFunctionName, ApiHandler>;
  /** Throws TokenError when the token is refused. */
  verifyIdToken: (token: string) => Claims;
  isAllowedOrigin: (origin: string) => boolean;
  /** Keyed `METHOD /path`; `auth: false` routes skip the token check. */
  localRoutes?: Record<string, { auth: boolean; handle: LocalRoute }>;
  /** API Gateway's payload limit. */
  maxBodyBytes?: number;
  /** Each function's own timeout (Lambda's), in seconds; fractions allowed. */
  functionTimeoutSeconds?: Partial<Record<ApiFunctionName, number>>;
  /** API Gateway's integration timeout, in seconds; fractions allowed. */
  integrationTimeoutSeconds?: number;
  /** The request log. */
  log?: (line: string) => void;
  /** Why a request got a 5xx from the gateway (a function failed, timed out, answered too much). */
  logError?: (line: string) => void;
}

export const API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;
/** API Gateway REST's longest wait for an integration; then 504. */
export const API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS = 29;
/** The deployed functions' timeouts: the grants table's, which the stack sets too. */
export const DEFAULT_FUNCTION_TIMEOUT_SECONDS: Readonly<Record<ApiFunctionName, number>> = {
  list: SERVICE_FUNCTIONS.list.timeoutSeconds,
  read: SERVICE_FUNCTIONS.read.timeoutSeconds,
  upload: SERVICE_FUNCTIONS.upload.timeoutSeconds,
};


const TEXT_TYPES = /^(text\/|application\/(json|xml|x-www-form-urlencoded|[\w.+-]*\+json|[\w.+-]*\+xml)\b)/i;

/** `http://localhost:<any port>` and `http://127.0.0.1:<any port>`, the local default. */
export function localhostOrigins(origin: string): boolean {
  return /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/.test(origin);
}

/** An origin check from a comma-separated list; `*` as a port matches any port. */
export function originMatcher(list: string | undefined): (origin: string) => boolean {
  if (!list || list.trim() === '') return localhostOrigins;
  const patterns = list
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean)
    .map((o) => new RegExp(`^${o.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:\*$/, '(:\\d{1,5})?').replace(/\*/g, '[^/]*')}$`));
  return (origin) => patterns.some((p) => p.test(origin));
}

class BodyTooLargeError extends Error {}

function headersOf(req: IncomingMessage): { headers: Record<string, string>; multiValueHeaders: Record<string, string[]> } {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    const value = req.rawHeaders[i + 1]!;
    headers[name] = value; // API Gateway keeps the last value in `headers`
    (multiValueHeaders[name] ??= []).push(value);
  }
  return { headers, multiValueHeaders };
}

function queryOf(search: URLSearchParams): {
  queryStringParameters: Record<string, string> | null;
  multiValueQueryStringParameters: Record<string, string[]> | null;
} {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [name, value] of search) {
    single[name] = value;
    (multi[name] ??= []).push(value);
  }
  return Object.keys(single).length
    ? { queryStringParameters: single, multiValueQueryStringParameters: multi }
    : { queryStringParameters: null, multiValueQueryStringParameters: null };
}

function errorResult(statusCode: number, code: string, message: string, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return json(statusCode, { error: { code, message } }, headers);
}

/**
 * What API Gateway answers by itself when the integration fails: its default messages, in the
 * `{"error":{"code":"<responseType>","message":…}}` the stack's gateway responses give every
 * error (lib/constructs/api.ts), where a bare API Gateway would send `{"message":…}`.
 */
const INTEGRATION_FAILURE = errorResult(502, 'INTEGRATION_FAILURE', 'Internal server error');
const INTEGRATION_TIMEOUT = errorResult(504, 'INTEGRATION_TIMEOUT', 'Endpoint request timed out');

type Outcome = { kind: 'answered'; result: APIGatewayProxyResult } | { kind: 'threw'; error: unknown } | { kind: 'functionTimeout' } | { kind: 'gatewayTimeout' };

function describeError(err: unknown): string {
  return String((err as Error)?.stack ?? err);
}


function send(req: IncomingMessage, res: ServerResponse, result: APIGatewayProxyResult, extraHeaders: Record<string, string>): void {
  const out: Record<string, string | string[]> = {};
  const put = (name: string, value: string | number | boolean) => {
    const lower = name.toLowerCase();
    const existing = out[lower];
    if (existing === undefined) out[lower] = String(value);
    else out[lower] = [...(Array.isArray(existing) ? existing : [existing]), String(value)];
  };
  for (const [name, value] of Object.entries(result.headers ?? {})) put(name, value);
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    // API Gateway merges the two maps; a name in both keeps the multi-value list.
    delete out[name.toLowerCase()];
    for (const value of values) put(name, value);
  }
  for (const [name, value] of Object.entries(extraHeaders)) if (out[name] === undefined) out[name] = value;
  const body = result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : Buffer.from(result.body ?? '', 'utf8');
  if (req.method === 'HEAD') {
    // No body on HEAD; keep a Content-Length the handler set (the object's size).
    res.writeHead(result.statusCode, out);
    res.end();
    return;
  }
  out['content-length'] = String(body.length);
  res.writeHead(result.statusCode, out);
  res.end(body);
}

export function createGateway(options: GatewayOptions): Server {
  const maxBody = options.maxBodyBytes ?? API_GATEWAY_MAX_BODY_BYTES;
  const functionTimeouts = { ...DEFAULT_FUNCTION_TIMEOUT_SECONDS, ...options.functionTimeoutSeconds };
  const integrationTimeout = options.integrationTimeoutSeconds ?? API_GATEWAY_INTEGRATION_TIMEOUT_SECONDS;
  const log = options.log ?? (() => undefined);
  const logError = options.logError ?? ((line: string) => console.error(line));

  /**
   * Calls a function as API Gateway calls Lambda: whichever comes first of its answer, its own
   * timeout (Lambda stops it: 502) and the integration timeout (API Gateway stops waiting: 504);
   * an answer over Lambda's response limit fails the invocation (502). A handler cannot be stopped
   * in-process: one that times out runs on, and whatever it answers later is dropped here, never
   * written to the socket, which has had its answer.
   */
  async function invoke(fn: ApiFunctionName, event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    const fnSeconds = functionTimeouts[fn];
    const gatewayFirst = integrationTimeout <= fnSeconds;
    let timer: NodeJS.Timeout | undefined;
    const answer: Promise<Outcome> = Promise.resolve()
      .then(() => options.handlers[fn](event))
      .then(
        (result): Outcome => ({ kind: 'answered', result }),
        (error: unknown): Outcome => ({ kind: 'threw', error }),
      );
    const deadline = new Promise<Outcome>((resolve) => {
      timer = setTimeout(() => resolve({ kind: gatewayFirst ? 'gatewayTimeout' : 'functionTimeout' }), Math.min(fnSeconds, integrationTimeout) * 1000);
      timer.unref();
    });
    const outcome = await Promise.race([answer, deadline]);
    clearTimeout(timer);
    switch (outcome.kind) {
      case 'answered': {
        const bytes = proxyResponseBytes(outcome.result);
        if (bytes > LAMBDA_MAX_RESPONSE_BYTES) {
          logError(`${fn}: response of ${bytes} bytes is over Lambda's ${LAMBDA_MAX_RESPONSE_BYTES}-byte response payload limit; 502 as API Gateway answers`);
          return INTEGRATION_FAILURE;
        }
        return outcome.result;
      }
      case 'threw':
        logError(`${fn}: the function failed; 502 as API Gateway answers: ${describeError(outcome.error)}`);
        return INTEGRATION_FAILURE;
      case 'functionTimeout':
      case 'gatewayTimeout': {
        void answer.then((late) => log(`${fn}: ${late.kind} after its timeout; the answer is dropped`));
        if (outcome.kind === 'functionTimeout') {
          logError(`${fn}: Task timed out after ${fnSeconds} s (the function's timeout); 502 as API Gateway answers`);
          return INTEGRATION_FAILURE;
        }
        logError(`${fn}: no answer within API Gateway's ${integrationTimeout} s integration timeout; 504`);
        return INTEGRATION_TIMEOUT;
      }
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<number> {
    const method = (req.method ?? 'GET').toUpperCase();
    const rawUrl = req.url ?? '/';
    const queryStart = rawUrl.indexOf('?');
    const rawPath = queryStart < 0 ? rawUrl : rawUrl.slice(0, queryStart);
    const search = new URLSearchParams(queryStart < 0 ? '' : rawUrl.slice(queryStart + 1));
    const origin = typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
    const cors = origin && options.isAllowedOrigin(origin) ? allowedOriginHeaders(origin) : {};
    const reply = (result: APIGatewayProxyResult) => {
      send(req, res, result, cors);
      return result.statusCode;
    };

    const local = options.localRoutes?.[`${method} ${rawPath}`];
    const match = local ? undefined : matchRoute(method === 'OPTIONS' ? 'GET' : method, rawPath);

    if (method === 'OPTIONS') {
      const known = local || match || options.localRoutes?.[`GET ${rawPath}`];
      if (!known) return reply(errorResult(404, 'NoSuchRoute', `No route for ${rawPath}`));
      const headers: Record<string, string> = { vary: 'Origin' };
      if (origin && options.isAllowedOrigin(origin)) {
        Object.assign(headers, {
          'access-control-allow-origin': origin,
          'access-control-allow-methods': API_CORS_ALLOWED_METHODS.join(','),
          'access-control-allow-headers': API_CORS_ALLOWED_HEADERS.join(','),
          'access-control-max-age': String(API_CORS_MAX_AGE_SECONDS),
        });
      }
      send(req, res, { statusCode: 204, headers, body: '' }, {});
      return 204;
    }

    let claims: Claims | undefined;
    const needsAuth = local ? local.auth : !!match && 'route' in match;
    if (needsAuth) {
      const token = bearerToken(req.headers.authorization);
      if (!token) return reply(errorResult(401, 'Unauthorized', 'Missing bearer token'));
      try {
        claims = options.verifyIdToken(token);
      } catch (err) {
        if (err instanceof TokenError) return reply(errorResult(401, 'Unauthorized', err.message));
        throw err;
      }
    }

    /** The body, or undefined once a 413 has been answered. */
    const readOr413 = async (): Promise<Buffer | undefined> => {
      try {
        return await readBody(req, maxBody, () => new BodyTooLargeError());
      } catch (err) {
        if (!(err instanceof BodyTooLargeError)) throw err;
        res.setHeader('connection', 'close');
        reply(errorResult(413, 'RequestTooLong', `The request body is over ${maxBody} bytes`));
        return undefined;
      }
    };

    if (local) {
      const body = await readOr413();
      if (!body) return 413;
      return reply(await local.handle({ ...(claims ? { claims } : {}), method, query: search, body: body.toString('utf8') }));
    }
    if (!match) return reply(errorResult(404, 'NoSuchRoute', `No route for ${method} ${rawPath}`));
    if (!('route' in match)) {
      return reply(errorResult(405, 'MethodNotAllowed', `${method} is not allowed on ${rawPath}`, { allow: match.allowed.join(', ') }));
    }
    const body = await readOr413();
    if (!body) return 413;
    const { headers, multiValueHeaders } = headersOf(req);
    const contentType = req.headers['content-type'] ?? '';
    const isText = body.length === 0 || TEXT_TYPES.test(contentType);
    const requestId = randomUUID();
    const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
    const event: APIGatewayProxyEvent = {
      resource: match.route.resource,
      path: rawPath,
      httpMethod: method,
      headers,
      multiValueHeaders,
      ...queryOf(search),
      pathParameters: Object.keys(match.pathParameters).length ? match.pathParameters : null,
      stageVariables: null,
      body: body.length === 0 ? null : isText ? body.toString('utf8') : body.toString('base64'),
      isBase64Encoded: !isText,
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        authorizer: claims ? { claims: { ...claims, sub: claims.sub } } : null,
        httpMethod: method,
        identity: {
          accessKey: null,
          accountId: null,
          apiKey: null,
          apiKeyId: null,
          caller: null,
          clientCert: null,
          cognitoAuthenticationProvider: null,
          cognitoAuthenticationType: null,
          cognitoIdentityId: null,
          cognitoIdentityPoolId: null,
          principalOrgId: null,
          sourceIp,
          user: null,
          userAgent: req.headers['user-agent'] ?? null,
          userArn: null,
        },
        path: `/local${rawPath}`,
        protocol: `HTTP/${req.httpVersion}`,
        requestId,
        requestTimeEpoch: Date.now(),
        resourceId: 'local',
        resourcePath: match.route.resource,
        stage: 'local',
      },
    };
    return reply(await invoke(match.route.fn, event));
  }

  return createServer((req, res) => {
    const started = Date.now();
    handle(req, res)
      // An authorization code in the console's callback URL is a credential: never logged.
      .then((status) => log(`${req.method} ${(req.url ?? '').replace(/([?&]code=)[^&]*/g, '$1…')} ${status} ${Date.now() - started}ms`))
      .catch((err: unknown) => {
        console.error(JSON.stringify({ level: 'error', message: 'Local gateway error', error: String((err as Error)?.stack ?? err) }));
        if (!res.headersSent) {
          res.writeHead(502, { 'content-type': 'application/json; charset=utf-8' });
          res.end(JSON.stringify({ error: { code: 'BadGateway', message: 'The handler failed' } }));
        } else res.destroy();
      });
  });
}
