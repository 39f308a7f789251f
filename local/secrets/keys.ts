/**
 * The signing keys in local mode: one secret per purpose in the local Secrets Manager
 * (./server.ts), each function allowed to read only its row's keys (keyGrantStatements, the
 * statements its role has in AWS) with its own key, the service's own key allowed everything (to
 * rotate). Gives the environment the functions' config reads: SECRETS_ENDPOINT and the ARN of
 * each key's secret.
 */
import { join } from 'node:path';
import { ENV } from '../../lambda/shared/config';
import { keyGrantStatements, type ServiceFunctionName } from '../../lambda/shared/grants';
import { SIGNING_KEY_NAMES, SIGNING_KEY_PURPOSES, type SigningKeyPurpose } from '../../lambda/shared/signing-keys';
import { FUNCTION_NAMES, type Credentials } from '../function-keys';
import { startLocalSecrets } from './server';

export interface KeySecretsOptions {
  dataDir: string;
  region: string;
  /** The key each function signs its requests with. */
  functionCredentials: Record<ServiceFunctionName, Credentials>;
  /** The service's own key (endpoints.json): may read and rotate every secret. */
  adminCredentials: Credentials;
  port?: number;
  log: (line: string) => void;
}

export interface KeySecrets {
  endpoint: string;
  /** SECRETS_ENDPOINT and each key's `<PURPOSE>_KEY_SECRET_ID`, as the handlers' config reads them. */
  env: Record<string, string>;
  /** The ARN of each key's secret. */
  arns: Record<SigningKeyPurpose, string>;
  stop(): Promise<void>;
}

export const keySecretName = (purpose: SigningKeyPurpose) => `s3fs-${purpose}-key`;

export async function startKeySecrets(options: KeySecretsOptions): Promise<KeySecrets> {
  const names = SIGNING_KEY_NAMES.map((p) => ({ name: keySecretName(p), description: SIGNING_KEY_PURPOSES[p].description }));
  const arnsOf = (byName: Readonly<Record<string, string>>) =>
    Object.fromEntries(SIGNING_KEY_NAMES.map((p) => [p, byName[keySecretName(p)]!])) as Record<SigningKeyPurpose, string>;
  const server = await startLocalSecrets({
    file: join(options.dataDir, 'secrets.json'),
    region: options.region,
    secrets: names,
    principals: (byName) => [
      ...FUNCTION_NAMES.map((fn) => ({ name: `${fn}-function`, ...options.functionCredentials[fn], policy: keyGrantStatements(fn, arnsOf(byName)) })),
      { name: 'local-service', ...options.adminCredentials, policy: [{ actions: ['secretsmanager:*'], resources: ['*'] }] },
    ],
    ...(options.port !== undefined ? { port: options.port } : {}),
    log: options.log,
  });
  const arns = arnsOf(server.arns);
  return {
    endpoint: server.endpoint,
    env: { [ENV.secretsEndpoint]: server.endpoint, ...Object.fromEntries(SIGNING_KEY_NAMES.map((p) => [SIGNING_KEY_PURPOSES[p].envVar, arns[p]])) },
    arns,
    stop: () => server.close(),
  };
}
