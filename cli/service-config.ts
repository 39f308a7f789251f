/**
 * Where the service is: `S3FILES_API_URL` (with `S3FILES_TOKEN`, or the user pool
 * `S3FILES_USER_POOL_ID` + `S3FILES_CLIENT_ID` that `s3files login` signs in to: the stack's
 * outputs), or else the `endpoints.json` that the local service (`npm start`) writes into its data
 * folder (`LOCAL_DATA_DIR`, default `.local` in the project, found by walking up from the working
 * directory), which names the local user pool too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { CognitoConfig } from './login';

export interface ServiceConfig {
  apiUrl: string;
  /** S3FILES_TOKEN, or the local service's default user's token; a stored login comes before the latter. */
  token?: string;
  /** The user pool to sign in to, when the service has one. */
  cognito?: CognitoConfig;
  source: string;
}

export class ServiceConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServiceConfigError';
  }
}

type Env = Record<string, string | undefined>;

function endpointsFile(env: Env, cwd: string): string | undefined {
  if (env.LOCAL_DATA_DIR) return join(resolve(cwd, env.LOCAL_DATA_DIR), 'endpoints.json');
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const candidate = join(dir, '.local', 'endpoints.json');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

function cognitoFromEnv(env: Env): CognitoConfig | undefined {
  const userPoolId = env.S3FILES_USER_POOL_ID?.trim();
  const clientId = env.S3FILES_CLIENT_ID?.trim();
  if (!userPoolId && !clientId) return undefined;
  if (!userPoolId || !clientId) throw new ServiceConfigError(`Set both S3FILES_USER_POOL_ID and S3FILES_CLIENT_ID (only ${userPoolId ? 'S3FILES_USER_POOL_ID' : 'S3FILES_CLIENT_ID'} is set)`);
  // A pool id starts with its region: eu-west-1_AbCdEf123.
  const region = env.S3FILES_REGION?.trim() || userPoolId.split('_')[0]!;
  const endpoint = env.S3FILES_COGNITO_ENDPOINT?.trim();
  return { userPoolId, clientId, region, ...(endpoint ? { endpoint } : {}) };
}

function cognitoFromFile(value: unknown): CognitoConfig | undefined {
  const c = value as Partial<CognitoConfig> | undefined;
  if (!c || typeof c.userPoolId !== 'string' || typeof c.clientId !== 'string' || typeof c.region !== 'string') return undefined;
  return { userPoolId: c.userPoolId, clientId: c.clientId, region: c.region, ...(typeof c.endpoint === 'string' ? { endpoint: c.endpoint } : {}) };
}

export function resolveServiceConfig(env: Env = process.env, cwd = process.cwd()): ServiceConfig {
  const apiUrl = env.S3FILES_API_URL?.trim();
  const token = env.S3FILES_TOKEN?.trim();
  const cognito = cognitoFromEnv(env);
  if (apiUrl) return { apiUrl, ...(token ? { token } : {}), ...(cognito ? { cognito } : {}), source: 'environment' };
  if (token || cognito) {
    throw new ServiceConfigError(`Set S3FILES_API_URL too (only ${token ? 'S3FILES_TOKEN' : 'S3FILES_USER_POOL_ID and S3FILES_CLIENT_ID'} is set)`);
  }
  const file = endpointsFile(env, cwd);
  if (!file || !existsSync(file)) {
    throw new ServiceConfigError(
      'No service configured: set S3FILES_API_URL (with S3FILES_TOKEN, or S3FILES_USER_POOL_ID and S3FILES_CLIENT_ID for s3files login), or run `npm start` in the project to start the local service',
    );
  }
  let parsed: { apiUrl?: unknown; token?: unknown; cognito?: unknown };
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as typeof parsed;
  } catch (err) {
    throw new ServiceConfigError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed.apiUrl !== 'string' || typeof parsed.token !== 'string') {
    throw new ServiceConfigError(`${file} has no apiUrl and token`);
  }
  const local = cognitoFromFile(parsed.cognito);
  return { apiUrl: parsed.apiUrl, token: parsed.token, ...(local ? { cognito: local } : {}), source: file };
}
