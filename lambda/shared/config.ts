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
  /**
   * The processor: objects of at least this many bytes are profiled by the fan-out (plan -> byte
   * ranges -> merge) rather than in one pass (CDK context `fanOutBytes`).
   */
  fanOutBytes: number;
  /**
   * The processor: bytes per second one pass of the profiler is assumed to read, for the estimate
   * that decides whether an object fits the time left (lambda/core/process.ts `routeObject`).
   */
  profileBytesPerSecond: number;
  /** The processor: the fan-out state machine it starts; unset when there is none (then too-large objects get a `skipped` profile). */
  fanOutStateMachineArn?: string;
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
  fanOutBytes: 'FAN_OUT_BYTES',
  profileBytesPerSecond: 'PROFILE_BYTES_PER_SECOND',
  fanOutStateMachineArn: 'FAN_OUT_STATE_MACHINE_ARN',
} as const;

/** Default of `fanOutBytes`: 2 GiB, about half a minute of one pass at the assumed throughput below. */
export const DEFAULT_FAN_OUT_BYTES = 2 * GiB;
/**
 * Default of `profileBytesPerSecond`: the slowest shape bench/profile measured on one core here was
 * about 60 MB/s and the processor's 1,024 MB Lambda has about 0.6 of a vCPU, so 32 MiB/s: an
 * estimate on the safe side, since too low only fans out an object that would have fitted.
 */
export const DEFAULT_PROFILE_BYTES_PER_SECOND = 32 * MiB;

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
  const stateMachineArn = env[ENV.fanOutStateMachineArn]?.trim();
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
    fanOutBytes: integer(env, ENV.fanOutBytes, DEFAULT_FAN_OUT_BYTES, 1, S3_MAX_OBJECT_BYTES),
    profileBytesPerSecond: integer(env, ENV.profileBytesPerSecond, DEFAULT_PROFILE_BYTES_PER_SECOND, 1, 100 * GiB),
    ...(stateMachineArn ? { fanOutStateMachineArn: stateMachineArn } : {}),
  };
}
