/**
 * Start-up reconciliation. The local queue lives in memory, so an object written while the
 * service was stopped, or whose event was pending or being retried when it stopped, has no
 * profile. At start the uploads are compared with the profiles in the results bucket, and each
 * object without an up-to-date profile gets the event a poller would have produced.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { decodeEventKey } from '../lambda/core/process';
import { isNotFound } from '../lambda/shared/errors';
import { profileKeyFor, USER_ROOT } from '../lambda/shared/keys';
import type { DeadLetter } from './dead-letters';
import { createdFromListing, listObjectPages, type ListedObject, type ObjectCreated } from './notifications';
import { bareEtag } from '../lambda/shared/etag';
// The clients' pool: local mode may use client/ (the runtime in lambda/ may not).
import { runPool } from '../client/pool';

export const DEFAULT_RECONCILE_MAX_KEYS = 100_000;
/** Profiles read at once when their LastModified does not settle the question. */
const READ_CONCURRENCY = 8;

export interface ReconcileDeps {
  s3: S3Client;
  uploadsBucket: string;
  resultsBucket: string;
  /** The dead-letter store: those object versions wait for `replay-dlq` and are not queued again. */
  deadLetters: () => Promise<DeadLetter[]>;
  /** Upload keys checked at most; later keys wait for the next start. */
  maxKeys?: number;
  /** Checked between pages and reads, so a stop does not wait for a whole listing. */
  stopped?: () => boolean;
  log: (line: string) => void;
}

export interface Reconciliation {
  /** The objects to queue, in listing order. */
  created: ObjectCreated[];
  /** Objects without an up-to-date profile left alone because they are dead letters. */
  deadLettered: number;
}

/** The first `maxKeys + 1` upload keys under `users/` (one more, to know there are more). */
export async function listUploads(deps: ReconcileDeps): Promise<ListedObject[]> {
  const limit = (deps.maxKeys ?? DEFAULT_RECONCILE_MAX_KEYS) + 1;
  const uploads: ListedObject[] = [];
  for await (const page of listObjectPages(deps.s3, deps.uploadsBucket, USER_ROOT)) {
    uploads.push(...page);
    if (uploads.length >= limit || deps.stopped?.()) break;
  }
  return uploads.slice(0, limit);
}

/** `key` + ETag of every object version in the dead-letter store. */
export function deadLetteredVersions(letters: readonly DeadLetter[]): Set<string> {
  const versions = new Set<string>();
  for (const letter of letters) {
    try {
      for (const record of (JSON.parse(letter.body) as S3Event).Records ?? []) {
        versions.add(versionOf(decodeEventKey(record.s3.object.key), record.s3.object.eTag ?? ''));
      }
    } catch {
      // a letter that is not an S3 event names no object
    }
  }
  return versions;
}

const versionOf = (key: string, eTag: string) => `${key}\n${bareEtag(eTag)}`;

/** Which of the listed uploads (in S3 listing order) need processing. */
export async function findUnprocessed(deps: ReconcileDeps, listed: readonly ListedObject[]): Promise<Reconciliation> {
  const maxKeys = deps.maxKeys ?? DEFAULT_RECONCILE_MAX_KEYS;
  let uploads = listed;
  if (uploads.length > maxKeys) {
    uploads = uploads.slice(0, maxKeys);
    deps.log(`reconcile: stopped after ${maxKeys} keys (up to ${uploads[uploads.length - 1]!.key}); later keys are checked at the next start`);
  }
  if (uploads.length === 0) return { created: [], deadLettered: 0 };

  const profiles = await listProfiles(deps, new Set(uploads.map((o) => profileKeyFor(o.key))));
  const dead = deadLetteredVersions(await deps.deadLetters());
  const needed = new Set<ListedObject>();
  const toRead: ListedObject[] = [];
  let deadLettered = 0;
  for (const o of uploads) {
    const profile = profiles.get(profileKeyFor(o.key));
    if (profile !== undefined && isNewer(profile.lastModified, o.lastModified)) continue;
    if (dead.has(versionOf(o.key, o.eTag))) deadLettered++;
    else if (profile === undefined) needed.add(o);
    else toRead.push(o);
  }
  // A profile not newer than its object may still be its profile (written in the same second);
  // only then is it read, for the ETag it was made from.
  await runPool(toRead, READ_CONCURRENCY, async (o) => {
    if (deps.stopped?.()) return;
    if ((await profiledETag(deps, profileKeyFor(o.key))) !== o.eTag) needed.add(o);
  });
  if (deps.stopped?.()) return { created: [], deadLettered };
  return { created: uploads.filter((o) => needed.has(o)).map((o) => createdFromListing(deps.uploadsBucket, o)), deadLettered };
}

/** Profile key -> LastModified, for the wanted keys, listing the results bucket only as far as they go. */
async function listProfiles(deps: ReconcileDeps, wanted: Set<string>): Promise<Map<string, { lastModified?: Date }>> {
  // S3 lists in UTF-8 byte order; past the greatest wanted key there is nothing to find.
  let last = '';
  for (const key of wanted) if (Buffer.compare(Buffer.from(key), Buffer.from(last)) > 0) last = key;
  const found = new Map<string, { lastModified?: Date }>();
  for await (const page of listObjectPages(deps.s3, deps.resultsBucket, USER_ROOT)) {
    for (const o of page) if (wanted.has(o.key)) found.set(o.key, o.lastModified ? { lastModified: o.lastModified } : {});
    const end = page[page.length - 1]?.key;
    if (found.size === wanted.size || deps.stopped?.() || (end !== undefined && Buffer.compare(Buffer.from(end), Buffer.from(last)) >= 0)) break;
  }
  return found;
}

function isNewer(a: Date | undefined, b: Date | undefined): boolean {
  return a !== undefined && b !== undefined && a.getTime() > b.getTime();
}

/** `source.etag` of a stored profile; undefined when it is gone or unreadable (then it is redone). */
async function profiledETag(deps: ReconcileDeps, key: string): Promise<string | undefined> {
  let text: string;
  try {
    const out = await deps.s3.send(new GetObjectCommand({ Bucket: deps.resultsBucket, Key: key }));
    text = out.Body ? await out.Body.transformToString('utf8') : '';
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  try {
    const etag = (JSON.parse(text) as { source?: { etag?: unknown } }).source?.etag;
    return typeof etag === 'string' ? bareEtag(etag) : undefined;
  } catch {
    return undefined;
  }
}
