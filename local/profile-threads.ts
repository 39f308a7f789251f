/**
 * Profiles a local file on all cores: the engine's range plan (lambda/core/profile/ranges.ts) run on
 * worker_threads, one range per thread, and the whole file's SHA-256 computed beside them on the
 * main thread (which has nothing else to do). A small file is one range on one thread: the same code path.
 */
import { availableParallelism } from 'node:os';
import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { readFileRange } from './file-range';
import { ThreadPool, type ThreadReply } from '../lambda/shared/thread-pool';
import { HEAD_BYTES, planRanges, profileRanges, rangeWorkers, type Profile, type ProfileOptions, type Range, type RangePartial, type RangePlan } from '../lambda/core/profile';

/**
 * A range thread's young generation, at most (V8 grows it to ~48 MB when allocation is fast). The
 * engine's state lives in typed arrays and its garbage dies young, so a small one costs no time
 * (same run: cpu seconds within noise on the race shapes and a JSON Lines file) and saves 3-30 MB
 * per thread, most on JSON Lines, whose every line is parsed into objects.
 */
export const THREAD_YOUNG_GENERATION_MB = 2;

export type ThreadJob = { kind: 'range'; path: string; plan: RangePlan; range: Range };
/** A range's partial, or its error as `Name: message`. */
export type ProfileReply = ThreadReply<RangePartial, string>;

/** The shared pool (lambda/shared/thread-pool.ts) with the file-range worker as its script. */
export class ProfileThreads extends ThreadPool<ThreadJob, ProfileReply> {
  constructor(size: number, script = join(__dirname, 'profile-worker.cjs')) {
    super(size, () => new Worker(script, { resourceLimits: { maxYoungGenerationSizeMb: THREAD_YOUNG_GENERATION_MB } }));
  }
}

/** The file's SHA-256, read into two reused buffers (file-range.ts): no dead read buffers pile up on the main thread. */
async function sha256Of(path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of readFileRange(path, 0, size, 1024 * 1024)) hash.update(chunk);
  return hash.digest('hex');
}

function unwrap(reply: ProfileReply): RangePartial {
  if (reply.error !== undefined) throw new Error(reply.error);
  return reply.result!;
}

export interface ParallelOptions {
  /** Range threads (default: os.availableParallelism()). */
  threads?: number;
  /** Bytes per range at least (default MIN_RANGE_BYTES): a small file is one range. */
  minRangeBytes?: number;
  /** The worker script (default profile-worker.cjs, through tsx); a bundle of profile-worker.ts runs with plain node. */
  workerScript?: string;
}

/** Profiles a file on worker threads; the profile equals `profileObject`'s for the same bytes. */
export async function profileFileParallel(path: string, options: ProfileOptions = {}, parallel: ParallelOptions = {}): Promise<Profile> {
  const { size } = await stat(path);
  const file = await open(path, 'r');
  const head = Buffer.alloc(Math.min(size, HEAD_BYTES));
  try {
    await file.read(head, 0, head.length, 0);
  } finally {
    await file.close();
  }
  const cores = parallel.threads ?? availableParallelism();
  const workers = rangeWorkers(size, cores, parallel.minRangeBytes);
  const plan = planRanges({ size, head, key: basename(path), workers, options });
  // The main thread, idle while the range threads parse, hashes the file beside them (one V8 isolate
  // fewer than a hash thread of its own: ~30 MB of RSS); an unsplit range hashes as it reads.
  const sha256 = plan.splittable ? sha256Of(path, size) : Promise.resolve(null);
  // One thread per range, closed as soon as its partial is in: a thread done early would otherwise
  // sit idle, its isolate (~10 MB of RSS) beside the others' last work and the merge, the run's peak
  // on a wide file. A re-run from a known boundary (rare) gets a thread of its own too.
  const live = new Set<ProfileThreads>();
  const onThread = async (range: Range): Promise<RangePartial> => {
    const thread = new ProfileThreads(1, parallel.workerScript);
    live.add(thread);
    try {
      return unwrap(await thread.run({ kind: 'range', path, plan, range }));
    } finally {
      live.delete(thread);
      await thread.close();
    }
  };
  try {
    const [first, hash] = await Promise.all([Promise.all(plan.ranges.map(onThread)), sha256]);
    const profile = await profileRanges(plan, (range) => (range.knownStart === undefined ? Promise.resolve(first[range.index]!) : onThread(range)));
    return plan.splittable ? { ...profile, sha256: hash } : profile;
  } finally {
    // A failed range stops the others' threads.
    await Promise.all([...live].map((thread) => thread.close()));
  }
}
