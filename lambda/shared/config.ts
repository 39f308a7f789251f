/**
 * Configuration, read once per cold start from the environment. A missing required variable
 * throws at start-up, naming the variable, rather than failing on the first request.
 */
import { MIN_MULTIPART_THRESHOLD_BYTES } from './api-types';
import { SIGNING_KEY_NAMES, SIGNING_KEY_PURPOSES, type SigningKeyPurpose } from './signing-keys';

export interface Config {
  /** Physical bucket names behind the logical names the API uses. */
  uploadsBucket: string;
  resultsBucket: string;
  region: string;
  /** An S3-compatible endpoint (local mode, tests); unset in AWS. Implies path-style addressing. */
  s3Endpoint?: string;
  /** Largest object a caller may declare (413 above). */
  maxUploadBytes: number;
  /** Declared sizes above this get a multipart session instead of a single presigned PUT. */
  multipartThresholdBytes: number;
  /** Lifetime of presigned URLs; at most 15 minutes. */
  presignExpiresSeconds: number;
  /** Objects at most this big with a text-like type are returned inline by the read route. */
  inlineMaxBytes: number;
  /**
   * The Secrets Manager secret (ARN or name, never the value) of each HMAC key the function has
   * (./signing-keys.ts): only the keys of its row in the grants table are set.
   */
  signingKeySecretIds: Partial<Record<SigningKeyPurpose, string>>;
  /** A Secrets Manager-compatible endpoint (local mode); unset in AWS. */
  secretsEndpoint?: string;
  /** How old fetched keys may get before a request fetches them again (a warm function sees a rotation). */
  signingKeysRefreshSeconds: number;
  /** Origins allowed to call the API from a browser (exact matches). */
  allowedOrigins: string[];
}

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

/** The S3 maximum object size (5 TiB). */
export const S3_MAX_OBJECT_BYTES = 5 * TiB;
export const MAX_PRESIGN_EXPIRES_SECONDS = 15 * 60;

/** Names of the environment variables, shared with the CDK constructs so they cannot drift. */
export const ENV = {
  uploadsBucket: 'UPLOADS_BUCKET',
  resultsBucket: 'RESULTS_BUCKET',
  region: 'AWS_REGION',
  s3Endpoint: 'S3_ENDPOINT',
  maxUploadBytes: 'MAX_UPLOAD_BYTES',
  multipartThresholdBytes: 'MULTIPART_THRESHOLD_BYTES',
  presignExpiresSeconds: 'PRESIGN_EXPIRES_SECONDS',
  inlineMaxBytes: 'INLINE_MAX_BYTES',
  secretsEndpoint: 'SECRETS_ENDPOINT',
  signingKeysRefreshSeconds: 'SIGNING_KEYS_REFRESH_SECONDS',
  allowedOrigins: 'ALLOWED_ORIGINS',
} as const;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function required(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigError(`Missing required environment variable ${name}`);
  }
  return value.trim();
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`Environment variable ${name} must be an integer in [${min}, ${max}], got "${raw}"`);
  }
  return value;
}

function signingKeySecretIds(env: Env): Partial<Record<SigningKeyPurpose, string>> {
  const ids: Partial<Record<SigningKeyPurpose, string>> = {};
  for (const purpose of SIGNING_KEY_NAMES) {
    const id = env[SIGNING_KEY_PURPOSES[purpose].envVar]?.trim();
    if (id) ids[purpose] = id;
  }
  return ids;
}

export function loadConfig(env: Env = process.env): Config {
  const endpoint = env[ENV.s3Endpoint]?.trim();
  const secretsEndpoint = env[ENV.secretsEndpoint]?.trim();
  return {
    uploadsBucket: required(env, ENV.uploadsBucket),
    resultsBucket: required(env, ENV.resultsBucket),
    region: env[ENV.region]?.trim() || env.AWS_DEFAULT_REGION?.trim() || 'us-east-1',
    ...(endpoint ? { s3Endpoint: endpoint } : {}),
    maxUploadBytes: integer(env, ENV.maxUploadBytes, S3_MAX_OBJECT_BYTES, 1, S3_MAX_OBJECT_BYTES),
    multipartThresholdBytes: integer(env, ENV.multipartThresholdBytes, 64 * MiB, MIN_MULTIPART_THRESHOLD_BYTES, 5 * GiB),
    presignExpiresSeconds: integer(env, ENV.presignExpiresSeconds, MAX_PRESIGN_EXPIRES_SECONDS, 1, MAX_PRESIGN_EXPIRES_SECONDS),
    inlineMaxBytes: integer(env, ENV.inlineMaxBytes, MiB, 0, 5 * MiB),
    signingKeySecretIds: signingKeySecretIds(env),
    ...(secretsEndpoint ? { secretsEndpoint } : {}),
    signingKeysRefreshSeconds: integer(env, ENV.signingKeysRefreshSeconds, 300, 0, 3600),
    allowedOrigins: (env[ENV.allowedOrigins] ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean),
  };
}
