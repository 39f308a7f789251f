import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ensureFirstUser } from './cognito/users';
import { startLocalService } from './service';

/**
 * `npm start`: the whole service on this machine. Environment: PORT (3000), S3_PORT (4569), SQS_PORT (4570), SECRETS_PORT (4571), COGNITO_PORT (4572),
 * LOCAL_DATA_DIR (.local), S3_ENDPOINT (an external S3-compatible server instead of the embedded
 * one, with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), ALLOWED_ORIGINS, AWS_REGION, LOG_REQUESTS=0.
 */
function portFrom(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${name} must be a port number, got "${raw}"`);
  return port;
}

async function main(): Promise<void> {
  const dataDir = resolve(process.env.LOCAL_DATA_DIR || '.local');
  const quiet = process.env.LOG_REQUESTS === '0';
  const service = await startLocalService({
    dataDir,
    port: portFrom('PORT', 3000),
    s3Port: portFrom('S3_PORT', 4569),
    sqsPort: portFrom('SQS_PORT', 4570),
    secretsPort: portFrom('SECRETS_PORT', 4571),
    cognitoPort: portFrom('COGNITO_PORT', 4572),
    ...(process.env.S3_ENDPOINT ? { s3Endpoint: process.env.S3_ENDPOINT } : {}),
    ...(process.env.ALLOWED_ORIGINS ? { allowedOrigins: process.env.ALLOWED_ORIGINS } : {}),
    ...(process.env.AWS_REGION ? { region: process.env.AWS_REGION } : {}),
    env: process.env,
    log: (line) => {
      if (!quiet) console.log(`[local] ${line}`);
    },
  });
  const endpoints = service.endpoints();
  const first = ensureFirstUser(service.cognito.users, endpoints.userId, Date.now());
  const signInLine = !first
    ? 'a user of the local pool (npm run user -- list; npm run user -- add <name>)'
    : first.temporaryPassword
      ? `${first.username}, temporary password ${first.temporaryPassword}   (choose your own at the first sign-in; until then each start prints a new one)`
      : `${first.username}, with the password you chose   (forgot it? npm run user -- reset ${first.username})`;
  const file = join(dataDir, 'endpoints.json');
  await writeFile(file, JSON.stringify(endpoints, null, 2) + '\n', { mode: 0o600 });
  console.log(
    [
      '',
      'S3 File Service is running locally.',
      `  Console:      ${endpoints.consoleUrl}   (open it in a browser)`,
      `  Sign in as:   ${signInLine}`,
      `  API:          ${endpoints.apiUrl}   (GET /health, routes as deployed)`,
      `  S3 endpoint:  ${endpoints.s3Endpoint}   (${service.polling ? 'external, uploads found by polling' : 'embedded S3, signatures and grants enforced'})`,
      `  SQS queue:    ${endpoints.queueUrl}   (dead letters: npm run replay-dlq)`,
      `  S3 keys:      AWS_ACCESS_KEY_ID=${endpoints.accessKeyId} AWS_SECRET_ACCESS_KEY=${endpoints.secretAccessKey} AWS_REGION=${endpoints.region}`,
      `  Buckets:      uploads=${endpoints.buckets.uploads} results=${endpoints.buckets.results}`,
      `  User pool:    ${endpoints.cognito.endpoint}   (${endpoints.cognito.userPoolId}; npm run user -- add <name>, then npx s3files login)`,
      `  User:         ${endpoints.userId}`,
      `  Token:        ${endpoints.token}`,
      `  Written to:   ${file}`,
      '',
      `  curl -H "Authorization: Bearer $(node -p "require('${file}').token")" ${endpoints.apiUrl}/buckets`,
      '  Another user: npm run token -- <user>    Dead letters: npm run replay-dlq',
      '',
    ].join('\n'),
  );

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      console.log('Forced exit.');
      process.exit(1);
    }
    stopping = true;
    console.log(`\n${signal}: stopping (in-flight processing finishes, pending retries are dropped)...`);
    service.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(`Local service failed to start: ${(err as Error)?.message ?? String(err)}`);
  if ((err as NodeJS.ErrnoException)?.code === 'EADDRINUSE') console.error('A port is in use: set PORT / S3_PORT to free ones.');
  process.exit(1);
});
