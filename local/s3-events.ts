/**
 * Where local mode hears of new uploads: the embedded S3's own events, or, for an external server
 * that raises none the service can see, a poller. Either way a start-up reconciliation first queues
 * every upload without an up-to-date profile (written while the service was stopped).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { DeadLetter } from './dead-letters';
import { isWatched, ObjectPoller, type ListedObject, type ObjectCreated } from './notifications';
import { findUnprocessed, listUploads, type ReconcileDeps } from './reconcile';
import type { EmbeddedS3 } from './s3/server';

export interface S3EventsOptions {
  s3: S3Client;
  /** The embedded server; without it, the uploads bucket is polled. */
  embedded?: EmbeddedS3;
  buckets: { uploads: string; results: string };
  notify(created: ObjectCreated): void;
  deadLetters(): Promise<DeadLetter[]>;
  /** false: no start-up reconciliation. `maxKeys` bounds the keys it checks. */
  reconcile: boolean | { maxKeys?: number };
  pollIntervalMs: number;
  log: (line: string) => void;
}

export interface S3Events {
  /** Whether uploads are found by polling (external S3) rather than by server events. */
  polling: boolean;
  /** Resolves once the reconciliation is done and, when polling, a whole scan has run since the call. */
  idle(): Promise<void>;
  /** A reconciliation in progress gives up early; the poller stops. */
  stop(): Promise<void>;
}

export async function startS3Events(options: S3EventsOptions): Promise<S3Events> {
  const { buckets, notify, log } = options;
  let stopping = false;
  const reconcileDeps: ReconcileDeps | undefined =
    options.reconcile === false
      ? undefined
      : {
          s3: options.s3,
          uploadsBucket: buckets.uploads,
          resultsBucket: buckets.results,
          deadLetters: options.deadLetters,
          ...(typeof options.reconcile === 'object' && options.reconcile.maxKeys !== undefined ? { maxKeys: options.reconcile.maxKeys } : {}),
          stopped: () => stopping,
          log,
        };
  const queueUnprocessed = async (deps: ReconcileDeps, uploads: ListedObject[]) => {
    const { created, deadLettered } = await findUnprocessed(deps, uploads);
    if (stopping) return;
    for (const c of created) notify(c);
    log(`reconciled: ${created.length} objects queued for processing${deadLettered ? ` (${deadLettered} left in the dead-letter queue)` : ''}`);
  };
  const reconcileFailed = (err: unknown) => log(`reconcile failed: ${String((err as Error)?.message ?? err)}`);

  // In the background, so the API is up at once; idle() and stop() wait for it.
  let reconciling: Promise<void> = Promise.resolve();
  let poller: ObjectPoller | undefined;
  if (options.embedded) {
    // Called inside the embedded server's request: queueing never makes the upload wait or fail.
    options.embedded.onEvent((created) => {
      if (isWatched(created.bucket, created.key, buckets.uploads)) notify(created);
    });
    if (reconcileDeps) reconciling = listUploads(reconcileDeps).then((uploads) => queueUnprocessed(reconcileDeps, uploads)).catch(reconcileFailed);
  } else {
    poller = new ObjectPoller({
      s3: options.s3,
      bucket: buckets.uploads,
      intervalMs: options.pollIntervalMs,
      onCreated: notify,
      // The poller's first listing is the reconciliation's; without it, what is there is taken as done.
      ...(reconcileDeps ? { onFirstScan: (uploads: ListedObject[]) => queueUnprocessed(reconcileDeps, uploads) } : {}),
      log,
    });
    if (reconcileDeps) reconciling = poller.start().catch(reconcileFailed);
    else await poller.start();
  }
  return {
    polling: !!poller,
    idle: async () => {
      await reconciling;
      if (poller) await poller.nextScan();
    },
    stop: async () => {
      stopping = true;
      await reconciling;
      await poller?.stop();
    },
  };
}
