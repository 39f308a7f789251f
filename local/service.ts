/**
 * The whole service on one machine: an S3-compatible server (the embedded one, or an external one
 * given by `s3Endpoint`), the API behind a local gateway with the same handlers as in AWS, and the
 * upload notifications delivered to the process handler. Used by `npm start` and by tests.
 */
import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../lambda/shared/clients';
import { SERVICE_FUNCTIONS, type ServiceFunctionName } from '../lambda/shared/grants';
import { createSecretsClient, createSigningKeys } from '../lambda/shared/secrets';
import type { SigningKeys } from '../lambda/shared/signing-keys';
import { FUNCTION_NAMES, functionCredentials, type Credentials, type FunctionGrants } from './function-keys';
import { loadConfig, type Config } from '../lambda/shared/config';
import type { ApiFunctionName } from '../lambda/shared/routes';
import { json } from '../lambda/shared/http';
import { buildOpenApi } from '../lib/openapi';
import { loadOrCreateKey, signIdToken, verifyIdToken } from './auth';
import { loadOrCreateHexSecret } from './secret-file';
import { jsonLines, type Logger } from '../lambda/shared/log';
import { localConsoleRoutes } from './console';
import { createGateway, originMatcher, type ApiHandler } from './gateway';
import type { DeadLetter } from './dead-letters';
import { createPoolSignIn } from './cognito/console-sign-in';
import { startLocalCognito, type LocalCognito } from './cognito/server';
import { startProcessingQueue, type ProcessHandler } from './processing';
import { createLocalFanOut } from './fan-out';
import { fanOutRangeThreads, processRangeRunner } from './range-threads';
import type { RangeRunner } from '../lambda/core/ranged-profile';
import type { FanOutStarter } from '../lambda/core/process';
import { startS3Events } from './s3-events';
import { startStorage } from './storage';
import { startKeySecrets } from './secrets/keys';
import { listen } from './listen';

export type { Credentials };

export type Handlers = Record<ApiFunctionName, ApiHandler> & { process: ProcessHandler };
/**
 * `clients`: one S3 client per function, signing with that function's own key. `keys`: each
 * function's signing keys, fetched from the local Secrets Manager with its own key, as in AWS.
 */
export type BuildHandlers = (deps: {
  config: Config;
  clients: Record<ServiceFunctionName, S3Client>;
  keys: Record<ServiceFunctionName, SigningKeys>;
  /** Where the functions' structured lines go: the service's log, one line of JSON each. */
  log: Logger;
  /** The local fan-out (local/fan-out.ts), which the processor starts as it would the state machine. */
  fanOut: FanOutStarter;
  /** The processor's range threads (local/range-threads.ts), signing with its key, and its smallest range. */
  processRanges: { runner: RangeRunner; minRangeBytes?: number };
}) => Handlers;

export interface LocalServiceOptions {
  /** Where the embedded S3 keeps its data and the service its keys (`.local`). */
  dataDir: string;
  /** Gateway port; 0 picks a free one. */
  port?: number;
  /** Embedded S3 port; 0 picks a free one. Ignored with `s3Endpoint`. */
  s3Port?: number;
  host?: string;
  /** An external S3-compatible server; then uploads are found by polling. */
  s3Endpoint?: string;
  /** For the external server; the embedded one has its own keys. */
  credentials?: Credentials;
  /**
   * The functions' keys on an external server (default: `credentials` for all of them). The
   * embedded server gives each function its own key, allowed what its grants allow.
   */
  functionCredentials?: Record<ServiceFunctionName, Credentials>;
  /** The functions' grants on the embedded server: the table's unless a test changes them. */
  grants?: FunctionGrants;
  region?: string;
  buckets?: { uploads: string; results: string };
  /** Comma-separated origins for the gateway and bucket CORS; `*` as a port matches any. */
  allowedOrigins?: string;
  /** More handler configuration (MULTIPART_THRESHOLD_BYTES, ...), as environment variables. */
  env?: Record<string, string | undefined>;
  defaultUserId?: string;
  /** The local Secrets Manager's port (the signing keys); 0 picks a free one. Default 0. */
  secretsPort?: number;
  /** The local SQS queue's port; 0 picks a free one. Default 0. */
  sqsPort?: number;
  /** The local Cognito user pool's port (`s3files login`); 0 picks a free one. Default 0. */
  cognitoPort?: number;
  /** The user pool's clock (TOTP steps, sessions, refresh tokens); tests move it. Default: Date.now. */
  cognitoClock?: () => number;
  /** Seconds before a failed record is received again (AWS: the 30-minute visibility timeout). Default 1. */
  retryAfterSeconds?: number;
  pollIntervalMs?: number;
  /**
   * At start, queue every upload under `users/` whose profile is missing or was made from another
   * ETag (written while the service was stopped, or pending when it stopped). On by default; runs
   * in the background after the API is up. `maxKeys` bounds the keys checked (100,000).
   */
  reconcile?: boolean | { maxKeys?: number };
  /** Defaults to the real handlers (local/handlers.ts). */
  buildHandlers?: BuildHandlers;
  /**
   * The fan-out's smallest range (AWS: FAN_OUT.minRangeBytes, 512 MiB); tests lower it, with
   * `env.FAN_OUT_BYTES`, to take small files through plan -> ranges -> merge.
   */
  fanOutMinRangeBytes?: number;
  /**
   * Range threads of the processor and of the fan-out's range step (default: the cores). With 1,
   * the processor's ranges run in its own thread and the fan-out's in-process, one at a time.
   */
  rangeThreads?: number;
  /** The processor's smallest range (default 8 MiB: smaller objects are one range); tests lower it. */
  processMinRangeBytes?: number;
  log?: (line: string) => void;
}

export interface Endpoints {
  apiUrl: string;
  /** The web console: same origin as the API. */
  consoleUrl: string;
  s3Endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  buckets: { uploads: string; results: string };
  userId: string;
  token: string;
  /** The local SQS queue between S3 events and the processor, and its dead-letter queue (same keys). */
  sqsEndpoint: string;
  queueUrl: string;
  deadLetterQueueUrl: string;
  /** The local user pool `s3files login` signs in to (the stack's UserPoolId and UserPoolClientId outputs, locally). */
  cognito: { endpoint: string; region: string; userPoolId: string; clientId: string };
  /** The local Secrets Manager holding the signing keys (same keys), and each key's secret. */
  secretsEndpoint: string;
  signingKeySecrets: Record<string, string>;
}

export interface LocalService {
  apiUrl: string;
  consoleUrl: string;
  s3Endpoint: string;
  region: string;
  credentials: Credentials;
  buckets: { uploads: string; results: string };
  config: Config;
  /** A client for the same S3 server, with the service's credentials. */
  s3: S3Client;
  /** Whether uploads are noticed by polling (external S3) rather than by server events. */
  polling: boolean;
  /** The local user pool: its endpoint, ids and users (`npm run user`). */
  cognito: LocalCognito;
  token(userId: string, ttlSeconds?: number): string;
  endpoints(): Endpoints;
  processing: {
    /** Resolves when every upload made before the call has been processed (or dead-lettered). */
    idle(): Promise<void>;
    deadLetters(): Promise<DeadLetter[]>;
    replayDeadLetters(ids?: readonly string[]): Promise<number>;
    /** The names of the fan-out runs started so far (local/fan-out.ts). */
    fanOutRuns(): string[];
  };
  stop(): Promise<void>;
}

export const DEFAULT_BUCKETS = { uploads: 's3fs-uploads', results: 's3fs-results' } as const;
export const DEFAULT_USER_ID = 'local-user';
const LOCAL_CORS_ORIGINS = ['http://localhost:*', 'http://127.0.0.1:*'];

/** Stops, in the reverse order of their starts: each part of the service owns its own stop. */
class Parts {
  private readonly stops: (() => Promise<void>)[] = [];
  constructor(private readonly log: (line: string) => void) {}
  add<T extends { stop(): Promise<void> }>(part: T): T {
    this.stops.push(() => part.stop());
    return part;
  }
  async stopAll(): Promise<void> {
    for (const stop of this.stops.splice(0).reverse()) {
      await stop().catch((err: unknown) => this.log(`stop: ${String(err)}`));
    }
  }
}

/**
 * The service, composed of its parts: S3 (embedded or external), the functions' S3 clients and
 * handlers, the queue behind S3 events, where S3 events come from (with the start-up
 * reconciliation), and the API gateway. Stopping runs their stops the other way round.
 */
export async function startLocalService(options: LocalServiceOptions): Promise<LocalService> {
  const log = options.log ?? (() => undefined);
  const host = options.host ?? '127.0.0.1';
  const dataDir = resolve(options.dataDir);
  const region = options.region ?? 'us-east-1';
  const buckets = options.buckets ?? { ...DEFAULT_BUCKETS };
  const userId = options.defaultUserId ?? DEFAULT_USER_ID;
  await mkdir(dataDir, { recursive: true });
  const jwtKey = loadOrCreateKey(join(dataDir, 'jwt-key'));
  const signingSecret = loadOrCreateHexSecret(join(dataDir, 'signing-secret'));
  const origins = options.allowedOrigins?.split(',').map((o) => o.trim()).filter(Boolean) ?? LOCAL_CORS_ORIGINS;

  const parts = new Parts(log);
  try {
    const storage = parts.add(
      await startStorage({
        dataDir,
        host,
        region,
        buckets,
        corsOrigins: origins,
        s3Port: options.s3Port ?? 4569,
        signingSecret,
        ...(options.s3Endpoint ? { s3Endpoint: options.s3Endpoint } : {}),
        ...(options.credentials ? { credentials: options.credentials } : {}),
        ...(options.functionCredentials ? { functionCredentials: options.functionCredentials } : {}),
        ...(options.grants ? { grants: options.grants } : {}),
        log,
      }),
    );
    // The signing keys: the handlers fetch them as in AWS, each function with its own key.
    const fnKeys = functionCredentials(signingSecret);
    const secrets = parts.add(
      await startKeySecrets({ dataDir, region, functionCredentials: fnKeys, adminCredentials: storage.credentials, port: options.secretsPort ?? 0, log }),
    );
    const config = loadConfig({
      ...options.env,
      ...secrets.env,
      UPLOADS_BUCKET: buckets.uploads,
      RESULTS_BUCKET: buckets.results,
      S3_ENDPOINT: storage.endpoint,
      AWS_REGION: region,
      // The handlers match origins exactly; wildcard ones are answered by the gateway.
      ALLOWED_ORIGINS: options.env?.ALLOWED_ORIGINS ?? origins.filter((o) => !o.includes('*')).join(','),
    });
    const clients = Object.fromEntries(FUNCTION_NAMES.map((fn) => [fn, createS3Client(config, { credentials: storage.functionCredentials[fn] })])) as Record<ServiceFunctionName, S3Client>;
    const secretsClients = FUNCTION_NAMES.map((fn) => [fn, createSecretsClient(config, { credentials: fnKeys[fn] })] as const);
    parts.add({ stop: async () => [...Object.values(clients), ...secretsClients.map(([, c]) => c)].forEach((c) => c.destroy()) });
    const keys = Object.fromEntries(
      secretsClients.map(([fn, client]) => [fn, createSigningKeys(config, client, SERVICE_FUNCTIONS[fn].keys, { log })]),
    ) as Record<ServiceFunctionName, SigningKeys>;
    // The fan-out's failed runs go to the processing dead-letter queue, which starts below.
    let sendDeadLetter = (_body: string): Promise<void> => Promise.reject(new Error('The processing queue has not started'));
    const threads = options.rangeThreads ?? availableParallelism();
    const processRanges = processRangeRunner(config, clients.process, storage.functionCredentials.process, threads);
    const rangeThreads = threads > 1 ? fanOutRangeThreads(config, storage.functionCredentials.fanOutRange, threads) : undefined;
    parts.add({ stop: async () => void (await Promise.all([processRanges.close(), rangeThreads?.close()])) });
    const fanOut = createLocalFanOut({
      config,
      engine: (await import('./handlers')).buildFanOutEngine(),
      clients: { plan: clients.fanOutPlan, range: clients.fanOutRange, merge: clients.fanOutMerge },
      ...(rangeThreads ? { rangeThreads } : {}),
      sendDeadLetter: (body) => sendDeadLetter(body),
      ...(options.fanOutMinRangeBytes !== undefined ? { minRangeBytes: options.fanOutMinRangeBytes } : {}),
      log,
    });
    const buildHandlers = options.buildHandlers ?? (await import('./handlers')).buildHandlers;
    const handlers = buildHandlers({
      config,
      clients,
      keys,
      log: jsonLines(log),
      fanOut,
      processRanges: { runner: processRanges, ...(options.processMinRangeBytes !== undefined ? { minRangeBytes: options.processMinRangeBytes } : {}) },
    });

    const queue = parts.add(
      await startProcessingQueue({
        dataDir,
        region,
        port: options.sqsPort ?? 0,
        // The service's own keys, which endpoints.json gives to tools such as replay-dlq.
        credentials: storage.credentials,
        queueName: `${buckets.uploads}-events`,
        handler: handlers.process,
        ...(options.retryAfterSeconds !== undefined ? { retryAfterSeconds: options.retryAfterSeconds } : {}),
        log,
      }),
    );
    sendDeadLetter = (body) => queue.sendDeadLetter(body);
    // Stopped before the queue (parts stop in reverse): a run ending now can still dead-letter.
    parts.add({ stop: () => fanOut.idle() });
    const events = parts.add(
      await startS3Events({
        s3: storage.s3,
        ...(storage.embedded ? { embedded: storage.embedded } : {}),
        buckets,
        notify: queue.notify,
        deadLetters: () => queue.deadLetters(),
        reconcile: options.reconcile ?? true,
        pollIntervalMs: options.pollIntervalMs ?? 500,
        log,
      }),
    );
    const cognito = parts.add(
      await startLocalCognito({ dataDir, region, jwtKey, port: options.cognitoPort ?? 0, ...(options.cognitoClock ? { now: options.cognitoClock } : {}), log }),
    );
    // The console's routes need the gateway's port, known once it listens: they are added then.
    const localRoutes: Parameters<typeof createGateway>[0]['localRoutes'] = {
      'GET /health': { auth: false, handle: async () => json(200, { status: 'ok' }) },
      // The API's OpenAPI document (lib/openapi.ts), a docs route like the deployed one: no token.
      'GET /openapi.json': { auth: false, handle: async () => json(200, buildOpenApi({ serverUrl: apiUrl })) },
      // Each user sees and replays only the dead letters of their own uploads.
      'GET /local/dead-letters': { auth: true, handle: async ({ claims }) => json(200, { deadLetters: await queue.deadLetters(claims!.sub) }) },
      'POST /local/dead-letters/replay': {
        auth: true,
        handle: async ({ claims, query }) => {
          const ids = query.getAll('id');
          return json(200, { replayed: await queue.replay({ userId: claims!.sub, ...(ids.length ? { ids } : {}) }) });
        },
      },
    };
    const gateway = createGateway({
      handlers,
      verifyIdToken: (token) => verifyIdToken(jwtKey, token),
      isAllowedOrigin: originMatcher(origins.join(',')),
      log,
      localRoutes,
    });
    const port = await listen(gateway, options.port ?? 3000, host);
    const apiUrl = `http://${host}:${port}`;
    parts.add({
      stop: () =>
        new Promise<void>((done) => {
          gateway.close(() => done());
          gateway.closeAllConnections();
        }),
    });
    Object.assign(
      localRoutes,
      localConsoleRoutes({
        port,
        s3Endpoint: storage.endpoint,
        region,
        mintIdToken: (sub, claims, ttlSeconds) => signIdToken(jwtKey, sub, { claims, ttlSeconds }),
        signIn: createPoolSignIn({ users: cognito.users, lockout: cognito.lockout, now: cognito.now }),
      }),
    );
    const token = (sub: string, ttlSeconds?: number) => signIdToken(jwtKey, sub, ttlSeconds ? { ttlSeconds } : {});
    const consoleUrl = `${apiUrl}/`;
    return {
      apiUrl,
      consoleUrl,
      s3Endpoint: storage.endpoint,
      region,
      credentials: storage.credentials,
      buckets,
      config,
      s3: storage.s3,
      polling: events.polling,
      cognito,
      token,
      endpoints: () => ({
        apiUrl,
        consoleUrl,
        s3Endpoint: storage.endpoint,
        region,
        accessKeyId: storage.credentials.accessKeyId,
        secretAccessKey: storage.credentials.secretAccessKey,
        buckets,
        userId,
        token: token(userId),
        sqsEndpoint: queue.endpoint,
        queueUrl: queue.queueUrl,
        deadLetterQueueUrl: queue.deadLetterQueueUrl,
        cognito: { endpoint: cognito.endpoint, region, userPoolId: cognito.userPoolId, clientId: cognito.clientId },
        secretsEndpoint: secrets.endpoint,
        signingKeySecrets: secrets.arns,
      }),
      processing: {
        idle: async () => {
          await events.idle();
          await queue.idle();
          await fanOut.idle();
        },
        fanOutRuns: () => fanOut.runs(),
        deadLetters: () => queue.deadLetters(),
        replayDeadLetters: (ids) => queue.replay(ids ? { ids } : {}),
      },
      stop: () => parts.stopAll(),
    };
  } catch (err) {
    await parts.stopAll();
    throw err;
  }
}
