/**
 * The local user pool on HTTP: what `@aws-sdk/client-cognito-identity-provider` speaks to Cognito,
 * JSON 1.1 (`POST /`, `Content-Type: application/x-amz-json-1.1`, `X-Amz-Target:
 * AWSCognitoIdentityProviderService.<Action>`), errors as `{"__type","message"}` with
 * `x-amzn-ErrorType`, so the SDK raises NotAuthorizedException, CodeMismatchException… as against
 * Cognito. The actions it serves are unauthenticated in Cognito too (no SigV4): a sign-in is proved
 * by the password and the code. On 127.0.0.1 only. CORS as Cognito's public endpoint answers it:
 * any origin may call these actions from a browser (they take no cookies and no ambient
 * credentials; the body carries the proof), so a preflight gets 200 with the asked-for headers and
 * every answer, errors included, `Access-Control-Allow-Origin: *`.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { signIdToken } from '../auth';
import { CognitoError, createIdentityProvider } from './identity-provider';
import { PasswordLockout } from './lockout';
import { UserStore } from './users';
import { listen } from '../listen';

export interface LocalCognitoOptions {
  dataDir: string;
  region: string;
  /** The gateway's token key (local/auth.ts): the ID tokens minted here are the ones it accepts. */
  jwtKey: Buffer;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** The clock of sessions, codes and token lifetimes (tests move it). Default: Date.now. */
  now?: () => number;
  log?: (line: string) => void;
}

export interface LocalCognito {
  /** `http://127.0.0.1:<port>`: the CognitoIdentityProviderClient's endpoint. */
  endpoint: string;
  region: string;
  userPoolId: string;
  clientId: string;
  users: UserStore;
  /** Failed passwords per user name; the console's sign-in page counts into the same one. */
  lockout: PasswordLockout;
  /** The pool's clock (options.now). */
  now: () => number;
  stop(): Promise<void>;
}

/** The local pool's id: region, "_", name (the name is part of every SRP verifier). */
export const localUserPoolId = (region: string) => `${region}_s3filesLocal`;
/** The local app client's id, which ID tokens carry as `aud` (local/auth.ts checks it). */
export const LOCAL_COGNITO_CLIENT_ID = 's3files-local';

const CONTENT_TYPE = 'application/x-amz-json-1.1';
const TARGET_PREFIX = 'AWSCognitoIdentityProviderService.';
const MAX_BODY_BYTES = 64 * 1024;
/** What a browser may read of an answer: the SDK reads the error type and the request id. */
const EXPOSED_HEADERS = 'x-amzn-RequestId, x-amzn-ErrorType, x-amzn-ErrorMessage, Date';
/** A request header name (RFC 9110 token), for echoing Access-Control-Request-Headers back. */
const HEADER_LIST = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s*,\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*$/;

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

export async function startLocalCognito(options: LocalCognitoOptions): Promise<LocalCognito> {
  const log = options.log ?? (() => undefined);
  const now = options.now ?? Date.now;
  const userPoolId = localUserPoolId(options.region);
  const users = new UserStore(options.dataDir, userPoolId.split('_')[1]!);
  const lockout = new PasswordLockout(now);
  // Access tokens are signed with a key of their own, so the gateway (which checks ID tokens with
  // jwtKey) can never take one for an ID token.
  const accessKey = createHmac('sha256', options.jwtKey).update('access tokens').digest();
  const actions = createIdentityProvider({
    users,
    userPoolId,
    clientId: LOCAL_COGNITO_CLIENT_ID,
    secret: options.jwtKey,
    now,
    lockout,
    signIdToken: (sub, claims, nowMs, ttlSeconds) => signIdToken(options.jwtKey, sub, { now: nowMs, ttlSeconds, claims }),
    signAccessToken: (claims) => {
      const unsigned = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
      return `${unsigned}.${b64url(createHmac('sha256', accessKey).update(unsigned).digest())}`;
    },
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      preflight(req, res);
      return;
    }
    try {
      const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      const target = String(req.headers['x-amz-target'] ?? '');
      if (req.method !== 'POST' || req.url !== '/' || contentType !== CONTENT_TYPE || !target.startsWith(TARGET_PREFIX)) {
        throw new CognitoError('UnknownOperationException', `The local user pool speaks Cognito's JSON 1.1 protocol only: POST / with Content-Type: ${CONTENT_TYPE} and X-Amz-Target: ${TARGET_PREFIX}<Action>`);
      }
      const name = target.slice(TARGET_PREFIX.length);
      const action = actions[name];
      if (!action) throw new CognitoError('UnsupportedOperationException', `${name} is not served by the local user pool (it serves ${Object.keys(actions).join(', ')})`);
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > MAX_BODY_BYTES) throw new CognitoError('InvalidParameterException', `The request body is over ${MAX_BODY_BYTES} bytes`);
        chunks.push(chunk as Buffer);
      }
      let input: unknown;
      try {
        input = size ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      } catch {
        throw new CognitoError('SerializationException', 'The request body is not valid JSON');
      }
      if (!input || typeof input !== 'object' || Array.isArray(input)) throw new CognitoError('SerializationException', 'The request body must be a JSON object');
      const output = await action(input as Record<string, unknown>);
      log(`cognito ${name} 200`);
      send(res, 200, output);
    } catch (err) {
      if (err instanceof CognitoError) {
        log(`cognito ${String(req.headers['x-amz-target'] ?? '')} ${err.status} ${err.type}: ${err.message}`);
        send(res, err.status, { __type: err.type, message: err.message }, err.type);
        return;
      }
      log(`cognito: internal error: ${(err as Error)?.stack ?? String(err)}`);
      send(res, 500, { __type: 'InternalErrorException', message: 'Internal error' }, 'InternalErrorException');
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  const port = await listen(server, options.port ?? 0, '127.0.0.1');
  return {
    endpoint: `http://127.0.0.1:${port}`,
    region: options.region,
    userPoolId,
    clientId: LOCAL_COGNITO_CLIENT_ID,
    users,
    lockout,
    now,
    stop: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

/**
 * A CORS preflight: POST from any origin, with whatever headers the SDK sends (Content-Type,
 * X-Amz-Target, X-Amz-User-Agent, amz-sdk-invocation-id…) when the list is well formed.
 */
function preflight(req: IncomingMessage, res: ServerResponse): void {
  const method = String(req.headers['access-control-request-method']);
  const asked = String(req.headers['access-control-request-headers'] ?? '').trim();
  if (method !== 'POST' || (asked !== '' && !HEADER_LIST.test(asked))) {
    res.writeHead(403, { 'content-length': 0 });
    res.end();
    return;
  }
  res.writeHead(200, {
    'access-control-allow-origin': '*',
    'access-control-allow-methods': 'POST',
    ...(asked ? { 'access-control-allow-headers': asked } : {}),
    'access-control-max-age': '86400',
    'content-length': 0,
  });
  res.end();
}

function send(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'access-control-allow-origin': '*',
    'access-control-expose-headers': EXPOSED_HEADERS,
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  res.end(text);
}
