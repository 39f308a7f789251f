import type { S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createS3Client } from '../../../lambda/shared/clients';
import type { Config } from '../../../lambda/shared/config';
import { fixedSigningKeys } from '../../../lambda/shared/signing-keys';

export const USER = 'user-1';
export const OTHER_USER = 'user-2';

export const TEST_CONFIG: Config = {
  uploadsBucket: 'phys-uploads',
  resultsBucket: 'phys-results',
  region: 'us-east-1',
  maxUploadBytes: 5 * 1024 ** 4,
  multipartThresholdBytes: 64 * 1024 * 1024,
  presignExpiresSeconds: 900,
  inlineMaxBytes: 1024 * 1024,
  signingKeySecretIds: {},
  signingKeysRefreshSeconds: 300,
  allowedOrigins: ['https://app.example.com'],
  fanOutBytes: 2 * 1024 ** 3,
  profileBytesPerSecond: 32 * 1024 * 1024,
};

/** One key per purpose, as the functions have (each at least MIN_KEY_CHARS long). */
export const TEST_KEY_VALUES = {
  cursor: 'test-cursor-key-0123456789abcdef0123',
  upload: 'test-upload-key-0123456789abcdef0123',
  grant: 'test-grant-key-0123456789abcdef01234',
} as const;
export const TEST_KEYS = fixedSigningKeys(TEST_KEY_VALUES);

/** Dummy credentials: presigned URLs are signed for real and asserted on. */
export const DUMMY_CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };

export interface EventInit {
  resource: string;
  httpMethod: string;
  /** Decoded path parameters; the helper percent-encodes them as REST APIs deliver them. */
  pathParameters?: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  headers?: Record<string, string>;
  body?: unknown;
  /** The caller's sub; null for an unauthenticated event. */
  sub?: string | null;
}

function encodePathParameter(name: string, value: string): string {
  // A greedy {key+} keeps its slashes; everything else is encoded like a URL path segment.
  return name.endsWith('+') || name === 'key'
    ? value.split('/').map(encodeURIComponent).join('/')
    : encodeURIComponent(value);
}

export function apiEvent(init: EventInit): APIGatewayProxyEvent {
  const pathParameters = init.pathParameters
    ? Object.fromEntries(Object.entries(init.pathParameters).map(([k, v]) => [k, encodePathParameter(k, v)]))
    : null;
  let path = init.resource;
  for (const [name, value] of Object.entries(pathParameters ?? {})) {
    path = path.replace(`{${name}+}`, value).replace(`{${name}}`, value);
  }
  const sub = init.sub === undefined ? USER : init.sub;
  return {
    resource: init.resource,
    httpMethod: init.httpMethod,
    path,
    pathParameters,
    queryStringParameters: init.queryStringParameters ?? null,
    multiValueQueryStringParameters: null,
    headers: init.headers ?? {},
    multiValueHeaders: {},
    body: init.body === undefined ? null : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
    isBase64Encoded: false,
    stageVariables: null,
    requestContext: {
      authorizer: sub === null ? null : { claims: { sub } },
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}

export function parseBody(result: { body: string }): unknown {
  return result.body === '' ? undefined : (JSON.parse(result.body) as unknown);
}

export function errorCode(result: { body: string }): string | undefined {
  return (parseBody(result) as { error?: { code?: string } } | undefined)?.error?.code;
}

/**
 * The service's own S3 client (createS3Client), with dummy credentials from the environment so
 * presigned URLs are signed for real, with the same checksum settings as in production.
 */
export function presigningS3Client(): S3Client {
  process.env.AWS_ACCESS_KEY_ID = DUMMY_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = DUMMY_CREDENTIALS.secretAccessKey;
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  return createS3Client(TEST_CONFIG);
}
