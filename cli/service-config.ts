import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * Where the service is: `S3FILES_API_URL` + `S3FILES_TOKEN`, or else the `endpoints.json` that the
 * local service (`npm start`) writes into its data folder (`LOCAL_DATA_DIR`, default `.local` in the
 * project, found by walking up from the working directory).
 */
export interface ServiceConfig {
  apiUrl: string;
  token: string;
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

export function resolveServiceConfig(env: Env = process.env, cwd = process.cwd()): ServiceConfig {
  const apiUrl = env.S3FILES_API_URL?.trim();
  const token = env.S3FILES_TOKEN?.trim();
  if (apiUrl && token) return { apiUrl, token, source: 'environment' };
  if (apiUrl || token) {
    throw new ServiceConfigError(`Set both S3FILES_API_URL and S3FILES_TOKEN (only ${apiUrl ? 'S3FILES_API_URL' : 'S3FILES_TOKEN'} is set)`);
  }
  const file = endpointsFile(env, cwd);
  if (!file || !existsSync(file)) {
    throw new ServiceConfigError(
      'No service configured: set S3FILES_API_URL and S3FILES_TOKEN, or run `npm start` in the project to start the local service',
    );
  }
  let parsed: { apiUrl?: unknown; token?: unknown };
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as typeof parsed;
  } catch (err) {
    throw new ServiceConfigError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed.apiUrl !== 'string' || typeof parsed.token !== 'string') {
    throw new ServiceConfigError(`${file} has no apiUrl and token`);
  }
  return { apiUrl: parsed.apiUrl, token: parsed.token, source: file };
}
