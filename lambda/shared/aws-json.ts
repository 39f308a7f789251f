/**
 * A minimal client for AWS's JSON protocols (1.0: Step Functions; 1.1: Secrets Manager), for the
 * one or two calls a function makes to a service other than S3: a POST of a JSON body with
 * `X-Amz-Target: <prefix>.<Action>`, signed with SigV4 by the same signer the S3 client uses.
 *
 * Why not the SDK's clients: each one bundles its own protocol stack (schemas, JSON codec, retry
 * and endpoint rules) beside S3's, about 40 KB of minified code that every cold start compiles
 * (client-sfn cost the process function ~12 % of its load time: bench/bundles/NOTES.md). What we
 * need of them is small and kept here: the endpoint for the region, SigV4, a timeout, retries of
 * throttling / 5xx / network failures with jittered backoff, and errors named by the service's
 * error type (`err.name === 'ExecutionAlreadyExists'`), as the SDK names them.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { fromEnv } from '@aws-sdk/credential-provider-env';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { Sha256 } from './sha256';

export interface AwsJsonClientOptions {
  /** The signing name and endpoint prefix: `states`, `secretsmanager`. */
  service: string;
  /** The X-Amz-Target prefix: `AWSStepFunctions`, `secretsmanager`. */
  targetPrefix: string;
  /** `1.0` (Step Functions) or `1.1` (Secrets Manager). */
  jsonVersion: '1.0' | '1.1';
  region: string;
  /** Another endpoint (local mode, tests); default `https://<service>.<region>.amazonaws.com`. */
  endpoint?: string;
  /** Default: the role's, from the environment Lambda sets (as the bundles' S3 client reads them). */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Attempts in all for a retryable failure (default 3, as the SDK's standard mode). */
  maxAttempts?: number;
  /** Per attempt (default 10 s). */
  timeoutMs?: number;
  /** For tests: the wait before retry `attempt` (1-based). */
  backoffMs?: (attempt: number) => number;
}

export interface AwsJsonClient {
  /** Calls `action` with `input`; resolves to the parsed answer, or throws an AwsServiceError. */
  call<T = Record<string, unknown>>(action: string, input: object): Promise<T>;
  /** Closes its kept-alive connections (as the SDK clients' destroy()). */
  destroy(): void;
}

/** A service's error answer, named by its error type as the SDK names its exceptions. */
export class AwsServiceError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode: number; requestId?: string };
  constructor(name: string, message: string, status: number, requestId?: string) {
    super(message);
    this.name = name;
    this.$fault = status >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode: status, ...(requestId ? { requestId } : {}) };
  }
}

/** Error types the SDK's standard retry strategy treats as throttling (retried like a 5xx). */
const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'SlowDown',
]);

const NETWORK_ERRORS = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND']);

/** The service's regional endpoint, in the partition the region belongs to. */
export function defaultEndpoint(service: string, region: string): string {
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://${service}.${region}.${domain}`;
}

/** The error type from an AWS JSON error answer: `x-amzn-errortype` or `__type`, without namespace or suffix. */
export function errorTypeOf(header: string | undefined, body: Record<string, unknown> | undefined): string {
  const raw = header ?? (typeof body?.__type === 'string' ? body.__type : typeof body?.code === 'string' ? body.code : undefined);
  if (!raw) return 'UnknownError';
  return raw.split(':')[0]!.split('#').pop()!.trim() || 'UnknownError';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

function send(url: URL, agent: HttpAgent, headers: Record<string, string>, body: string, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const options = { method: 'POST', headers, timeout: timeoutMs, agent };
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`No answer from ${url.host} within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(body);
  });
}

function parseJson(body: Buffer): Record<string, unknown> | undefined {
  if (body.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function retryable(err: unknown): boolean {
  if (err instanceof AwsServiceError) return err.$fault === 'server' || err.$metadata.httpStatusCode === 429 || THROTTLING.has(err.name);
  const code = (err as { code?: string } | undefined)?.code;
  return code !== undefined && NETWORK_ERRORS.has(code);
}

/** Full jitter on 100 ms × 2^attempt, at most 20 s: the SDK's standard backoff. */
const jitteredBackoff = (attempt: number): number => Math.random() * Math.min(20_000, 100 * 2 ** attempt);

export function createAwsJsonClient(options: AwsJsonClientOptions): AwsJsonClient {
  const url = new URL(options.endpoint ?? defaultEndpoint(options.service, options.region));
  const signer = new SignatureV4({
    service: options.service,
    region: options.region,
    credentials: options.credentials ?? fromEnv(),
    sha256: Sha256,
  });
  const contentType = `application/x-amz-json-${options.jsonVersion}`;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 3);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const backoff = options.backoffMs ?? jitteredBackoff;
  // Its own kept-alive connections, as the SDK's handler keeps them per client.
  const agent = url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, maxSockets: 50 }) : new HttpAgent({ keepAlive: true, maxSockets: 50 });

  const attempt = async <T>(action: string, body: string): Promise<T> => {
    const signed = await signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: {},
      headers: {
        host: url.host,
        'content-type': contentType,
        'content-length': String(Buffer.byteLength(body)),
        'x-amz-target': `${options.targetPrefix}.${action}`,
      },
      body,
    });
    const answer = await send(url, agent, signed.headers, body, timeoutMs);
    const parsed = parseJson(answer.body);
    const requestId = answer.headers['x-amzn-requestid'] as string | undefined;
    if (answer.status >= 200 && answer.status < 300 && parsed !== undefined) return parsed as T;
    const type = answer.status < 300 ? 'InvalidResponse' : errorTypeOf(answer.headers['x-amzn-errortype'] as string | undefined, parsed);
    const message = typeof parsed?.message === 'string' ? parsed.message : typeof parsed?.Message === 'string' ? parsed.Message : `${options.service} answered ${answer.status}`;
    throw new AwsServiceError(type, message, answer.status < 300 ? 502 : answer.status, requestId);
  };

  return {
    call: async <T>(action: string, input: object): Promise<T> => {
      const body = JSON.stringify(input);
      for (let n = 1; ; n++) {
        try {
          return await attempt<T>(action, body);
        } catch (err) {
          if (n >= maxAttempts || !retryable(err)) throw err;
          await sleep(backoff(n));
        }
      }
    },
    destroy: () => agent.destroy(),
  };
}
