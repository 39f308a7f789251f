import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { CreateBucketCommand, PutBucketCorsCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../lambda/shared/clients';
import type { ServiceFunctionName } from '../lambda/shared/grants';
import { FUNCTION_NAMES, functionCredentials, functionPrincipals, type Credentials, type FunctionGrants } from './function-keys';
import { loadConfig, type Config } from '../lambda/shared/config';
import type { ApiFunctionName } from '../lambda/shared/routes';
import { json } from '../lambda/shared/http';
import { loadOrCreateKey, signToken, verifyToken } from './auth';
import { createGateway, originMatcher, type ApiHandler } from './gateway';
import type { DeadLetter } from './dead-letters';
import { isWatched, ObjectPoller, type ListedObject } from './notifications';
import { startProcessingQueue, type ProcessHandler } from './processing';
import { findUnprocessed, listUploads, type ReconcileDeps } from './reconcile';
import { bucketCorsRule } from './s3/cors';
import { ADMIN_CREDENTIALS, startEmbeddedS3, type EmbeddedS3 } from './s3/server';

/**
 * The whole service on one machine: an S3-compatible server (the embedded one, or an external one
 * given by `s3Endpoint`), the API behind a local gateway with the same handlers as in AWS, and the
 * upload notifications delivered to the process handler. Used by `npm start` and by tests.
 */
export type { Credentials };

export type Handlers = Record<ApiFunctionName, ApiHandler> & { process: ProcessHandler };
/** `clients`: one S3 client per function, signing with that function's own key. */
export type BuildHandlers = (deps: { config: Config; clients: Record<ServiceFunctionName, S3Client> }) => Handlers;

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
  /** The local SQS queue's port; 0 picks a free one. Default 0. */
  sqsPort?: number;
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
  log?: (line: string) => void;
}

export interface Endpoints {
  apiUrl: string;
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
}

export interface LocalService {
  apiUrl: string;
  s3Endpoint: string;
  region: string;
  credentials: Credentials;
  buckets: { uploads: string; results: string };
  config: Config;
  /** A client for the same S3 server, with the service's credentials. */
  s3: S3Client;
  /** Whether uploads are noticed by polling (external S3) rather than by server events. */
  polling: boolean;
  token(userId: string, ttlSeconds?: number): string;
  endpoints(): Endpoints;
  processing: {
    /** Resolves when every upload made before the call has been processed (or dead-lettered). */
    idle(): Promise<void>;
    deadLetters(): Promise<DeadLetter[]>;
    replayDeadLetters(ids?: readonly string[]): Promise<number>;
  };
  stop(): Promise<void>;
}

export const DEFAULT_BUCKETS = { uploads: 's3fs-uploads', results: 's3fs-results' } as const;
export const DEFAULT_USER_ID = 'local-user';
const LOCAL_CORS_ORIGINS = ['http://localhost:*', 'http://127.0.0.1:*'];

async function loadOrCreateSecret(path: string): Promise<string> {
  try {
    const secret = (await readFile(path, 'utf8')).trim();
    if (secret.length >= 32) return secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const secret = randomBytes(32).toString('hex');
  await writeFile(path, secret + '\n', { mode: 0o600 });
  return secret;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolvePort((server.address() as AddressInfo).port);
    });
  });
}

/** Creates the buckets on an external server when missing, with CORS where it is supported. */
async function ensureBuckets(s3: S3Client, names: string[], corsOrigins: string[], log: (l: string) => void): Promise<void> {
  for (const Bucket of names) {
    try {
      await s3.send(new CreateBucketCommand({ Bucket }));
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
    }
    try {
      await s3.send(new PutBucketCorsCommand({ Bucket, CORSConfiguration: { CORSRules: [bucketCorsRule(corsOrigins)] } }));
    } catch (err) {
      log(`bucket ${Bucket}: CORS not set (${(err as Error).name}); browsers may be refused`);
    }
  }
}

export async function startLocalService(options: LocalServiceOptions): Promise<LocalService> {
  const log = options.log ?? (() => undefined);
  const host = options.host ?? '127.0.0.1';
  const dataDir = resolve(options.dataDir);
  const region = options.region ?? 'us-east-1';
  const buckets = options.buckets ?? { ...DEFAULT_BUCKETS };
  const userId = options.defaultUserId ?? DEFAULT_USER_ID;
  await mkdir(dataDir, { recursive: true });
  const jwtKey = loadOrCreateKey(join(dataDir, 'jwt-key'));
  const signingSecret = await loadOrCreateSecret(join(dataDir, 'signing-secret'));
  const origins = options.allowedOrigins?.split(',').map((o) => o.trim()).filter(Boolean) ?? LOCAL_CORS_ORIGINS;
  const isAllowedOrigin = originMatcher(origins.join(','));

  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) {
      await stop().catch((err: unknown) => log(`stop: ${String(err)}`));
    }
  };

  try {
    let embedded: EmbeddedS3 | undefined;
    let s3Endpoint: string;
    let credentials: Credentials;
    let fnCredentials = functionCredentials(signingSecret);
    if (options.s3Endpoint) {
      s3Endpoint = options.s3Endpoint.replace(/\/+$/, '');
      credentials = options.credentials ?? {
        accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
        secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
        ...(process.env.AWS_SESSION_TOKEN ? { sessionToken: process.env.AWS_SESSION_TOKEN } : {}),
      };
      const shared = credentials;
      fnCredentials = options.functionCredentials ?? (Object.fromEntries(FUNCTION_NAMES.map((fn) => [fn, shared])) as typeof fnCredentials);
    } else {
      embedded = await startEmbeddedS3({
        directory: join(dataDir, 's3'),
        port: options.s3Port ?? 4569,
        host,
        region,
        buckets: [buckets.uploads, buckets.results],
        corsOrigins: origins,
        principals: functionPrincipals(fnCredentials, buckets, options.grants),
        log,
      });
      stops.push(() => embedded!.close());
      s3Endpoint = embedded.endpoint;
      credentials = { ...ADMIN_CREDENTIALS };
    }

    const config = loadConfig({
      ...options.env,
      UPLOADS_BUCKET: buckets.uploads,
      RESULTS_BUCKET: buckets.results,
      S3_ENDPOINT: s3Endpoint,
      AWS_REGION: region,
      SIGNING_SECRET: options.env?.SIGNING_SECRET ?? signingSecret,
      // The handlers match origins exactly; wildcard ones are answered by the gateway.
      ALLOWED_ORIGINS: options.env?.ALLOWED_ORIGINS ?? origins.filter((o) => !o.includes('*')).join(','),
    });
    const s3 = createS3Client(config, { credentials });
    stops.push(async () => s3.destroy());
    if (!embedded) await ensureBuckets(s3, [buckets.uploads, buckets.results], origins, log);

    const buildHandlers = options.buildHandlers ?? (await import('./handlers')).buildHandlers;
    const clients = Object.fromEntries(FUNCTION_NAMES.map((fn) => [fn, createS3Client(config, { credentials: fnCredentials[fn] })])) as Record<ServiceFunctionName, S3Client>;
    stops.push(async () => Object.values(clients).forEach((c) => c.destroy()));
    const handlers = buildHandlers({ config, clients });

    const queue = await startProcessingQueue({
      dataDir,
      region,
      port: options.sqsPort ?? 0,
      // The service's own keys, which endpoints.json gives to tools such as replay-dlq.
      credentials,
      queueName: `${buckets.uploads}-events`,
      handler: handlers.process,
      ...(options.retryAfterSeconds !== undefined ? { retryAfterSeconds: options.retryAfterSeconds } : {}),
      log,
    });
    stops.push(() => queue.stop());
    const notify = queue.notify;

    // Start-up reconciliation: in the background, so the API is up at once; idle() and stop() wait for it.
    let stopping = false;
    const reconcileDeps: ReconcileDeps | undefined =
      options.reconcile === false
        ? undefined
        : {
            s3,
            uploadsBucket: buckets.uploads,
            resultsBucket: buckets.results,
            deadLetters: () => queue.deadLetters(),
            ...(typeof options.reconcile === 'object' && options.reconcile.maxKeys !== undefined ? { maxKeys: options.reconcile.maxKeys } : {}),
            stopped: () => stopping,
            log,
          };
    const queueUnprocessed = async (deps: ReconcileDeps, uploads: ListedObject[]) => {
      const { created, deadLettered } = await findUnprocessed(deps, uploads);
      if (stopping) return;
      for (const c of created) notify(c);
      log(`reconciled: ${created.length} objects queued for processing${deadLettered ? ` (${deadLettered} left in the dead-letter store)` : ''}`);
    };
    const reconcileFailed = (err: unknown) => log(`reconcile failed: ${String((err as Error)?.message ?? err)}`);
    let reconciling: Promise<void> = Promise.resolve();

    let poller: ObjectPoller | undefined;
    if (embedded) {
      // Called inside the embedded server's request: queueing never makes the upload wait or fail.
      embedded.onEvent((created) => {
        if (isWatched(created.bucket, created.key, buckets.uploads)) notify(created);
      });
      if (reconcileDeps) reconciling = listUploads(reconcileDeps).then((uploads) => queueUnprocessed(reconcileDeps, uploads)).catch(reconcileFailed);
    } else {
      poller = new ObjectPoller({
        s3,
        bucket: buckets.uploads,
        intervalMs: options.pollIntervalMs ?? 500,
        onCreated: notify,
        // The poller's first listing is the reconciliation's; without it, what is there is taken as done.
        ...(reconcileDeps ? { onFirstScan: (uploads: ListedObject[]) => queueUnprocessed(reconcileDeps, uploads) } : {}),
        log,
      });
      stops.push(() => poller!.stop());
      if (reconcileDeps) reconciling = poller.start().catch(reconcileFailed);
      else await poller.start();
    }
    // Runs before the poller's and the queue's stops: a reconciliation in progress gives up early.
    stops.push(async () => {
      stopping = true;
      await reconciling;
    });

    const gateway = createGateway({
      handlers,
      verifyToken: (token) => verifyToken(jwtKey, token),
      isAllowedOrigin,
      log,
      localRoutes: {
        'GET /health': { auth: false, handle: async () => json(200, { status: 'ok' }) },
        // Each user sees and replays only the dead letters of their own uploads.
        'GET /local/dead-letters': { auth: true, handle: async ({ claims }) => json(200, { deadLetters: await queue.deadLetters(claims!.sub) }) },
        'POST /local/dead-letters/replay': {
          auth: true,
          handle: async ({ claims, query }) => {
            const ids = query.getAll('id');
            return json(200, { replayed: await queue.replay({ userId: claims!.sub, ...(ids.length ? { ids } : {}) }) });
          },
        },
      },
    });
    const port = await listen(gateway, options.port ?? 3000, host);
    stops.push(
      () =>
        new Promise<void>((done) => {
          gateway.close(() => done());
          gateway.closeAllConnections();
        }),
    );
    const apiUrl = `http://${host}:${port}`;

    const token = (sub: string, ttlSeconds?: number) => signToken(jwtKey, sub, ttlSeconds ? { ttlSeconds } : {});
    return {
      apiUrl,
      s3Endpoint,
      region,
      credentials,
      buckets,
      config,
      s3,
      polling: !!poller,
      token,
      endpoints: () => ({
        apiUrl,
        s3Endpoint,
        region,
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        buckets,
        userId,
        token: token(userId),
        sqsEndpoint: queue.endpoint,
        queueUrl: queue.queueUrl,
        deadLetterQueueUrl: queue.deadLetterQueueUrl,
      }),
      processing: {
        idle: async () => {
          await reconciling;
          if (poller) await poller.nextScan();
          await queue.idle();
        },
        deadLetters: () => queue.deadLetters(),
        replayDeadLetters: (ids) => queue.replay(ids ? { ids } : {}),
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
