import type { SQSEvent } from 'aws-lambda';
import { SERVICE_FUNCTIONS, type ServiceFunctionName } from '../../lambda/shared/grants';
import { LOGICAL_BUCKETS, PROFILE_SUFFIX } from '../../lambda/shared/keys';
import { createProcessHandler } from '../../lambda/handlers/process';
import { buildHandlers, processDeps } from '../../local/handlers';
import { tableGrants, type FunctionGrants } from '../../local/function-keys';
import type { BuildHandlers } from '../../local/service';
import { ApiUser, call, startService, type Started } from './helpers';

/**
 * Every entry of the grants table is needed: with any one removed, the embedded S3 refuses some
 * request a function makes and at least one of the named scenarios below fails. The same scenarios
 * pass with the whole table. A grant nothing needs, or a scenario that cannot notice a missing
 * grant, shows up here as an entry that no scenario misses.
 */
jest.setTimeout(240_000);

interface Scenario {
  name: string;
  /** Run against the service whose fan-out threshold is lowered (FAN_OUT_BYTES), so uploads take plan -> ranges -> merge. */
  fanOut?: true;
  run(ctx: { user: ApiUser; started: Started; hold: Hold }): Promise<void>;
}

/** The lowered threshold and smallest range of the fan-out scenarios' service: CSV above is over it. */
const FAN_OUT_ENV = { FAN_OUT_BYTES: '12' };
const FAN_OUT_MIN_RANGE_BYTES = 8;

/** Holds the processor back, so a scenario can change an upload before its event is handled. */
interface Hold {
  hold(): void;
  /** Lets held and later batches through (also after a scenario that failed while holding). */
  release(): void;
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

const CSV = Buffer.from('name,n\na,1\nb,2\n');

async function uploadAndProcess(user: ApiUser, started: Started, key: string, data = CSV): Promise<void> {
  await user.upload(key, data, 'text/csv');
  await started.service.processing.idle();
}

async function profileStatus(user: ApiUser, key: string): Promise<number> {
  return (await call(user.baseUrl, 'GET', `/buckets/results/objects/${key}${PROFILE_SUFFIX}`, { token: user.token })).status;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'uploads a CSV with a presigned PUT and gets its first profile',
    async run({ user, started }) {
      await uploadAndProcess(user, started, 'first.csv');
      check((await profileStatus(user, 'first.csv')) === 200, 'no profile was written');
      check((await started.service.processing.deadLetters()).length === 0, 'the upload was dead-lettered');
    },
  },
  {
    name: 'lists the caller’s uploads',
    async run({ user, started }) {
      await uploadAndProcess(user, started, 'listed.csv');
      const res = await call(user.baseUrl, 'GET', '/buckets/uploads/objects', { token: user.token });
      check(res.status === 200 && res.text.includes('listed.csv'), `GET /buckets/uploads/objects: ${res.status}`);
    },
  },
  {
    name: 'lists the caller’s profiles',
    async run({ user, started }) {
      await uploadAndProcess(user, started, 'profiled.csv');
      const res = await call(user.baseUrl, 'GET', '/buckets/results/objects', { token: user.token });
      check(res.status === 200 && res.text.includes('profiled.csv.profile.json'), `GET /buckets/results/objects: ${res.status}`);
    },
  },
  {
    name: 'reads an upload inline',
    async run({ user, started }) {
      await uploadAndProcess(user, started, 'read.csv');
      const res = await call(user.baseUrl, 'GET', '/buckets/uploads/objects/read.csv', { token: user.token });
      check(res.status === 200 && res.text === CSV.toString(), `GET read.csv: ${res.status}`);
    },
  },
  {
    name: 'answers 404 for an upload that does not exist',
    async run({ user }) {
      const res = await call(user.baseUrl, 'GET', '/buckets/uploads/objects/missing.csv', { token: user.token });
      check(res.status === 404, `GET missing.csv: ${res.status}`);
    },
  },
  {
    name: 'reads a profile',
    async run({ user, started }) {
      await uploadAndProcess(user, started, 'profile-read.csv');
      check((await profileStatus(user, 'profile-read.csv')) === 200, 'the profile could not be read');
    },
  },
  {
    name: 'answers 404 for a profile that does not exist',
    async run({ user }) {
      check((await profileStatus(user, 'never-uploaded.csv')) === 404, 'a missing profile was not a 404');
    },
  },
  {
    name: 'uploads in parts, lists the parts, completes and aborts',
    async run({ user }) {
      const session = await user.createMultipart('parts.bin', 6 * 1024 * 1024, 'application/octet-stream');
      check((await user.listParts(session)).length === 0, 'a new upload has parts');
      await user.expect('DELETE', `/uploads/${session.uploadId}?key=parts.bin`, 204);
      await user.upload('whole.bin', Buffer.alloc(6 * 1024 * 1024, 1));
    },
  },
  {
    name: 'deletes an upload and its profile',
    async run({ user, started }) {
      await uploadAndProcess(user, started, 'deleted.csv');
      await user.expect('DELETE', '/buckets/uploads/objects/deleted.csv', 204);
      check((await profileStatus(user, 'deleted.csv')) === 404, 'the profile outlived its upload');
    },
  },
  {
    name: 'profiles an overwritten upload again',
    async run({ user, started }) {
      await uploadAndProcess(user, started, 'twice.csv');
      await uploadAndProcess(user, started, 'twice.csv', Buffer.from('name,n\nc,3\n'));
      const res = await call(user.baseUrl, 'GET', '/buckets/results/objects/twice.csv.profile.json', { token: user.token });
      check(res.status === 200 && (res.json as { rows?: number }).rows === 1, `the profile is not of the second upload: ${res.text.slice(0, 100)}`);
    },
  },
  {
    name: 'skips an upload deleted before it was processed',
    async run({ user, started, hold }) {
      hold.hold();
      await user.upload('gone.csv', CSV, 'text/csv');
      await user.expect('DELETE', '/buckets/uploads/objects/gone.csv', 204);
      hold.release();
      await started.service.processing.idle();
      check((await started.service.processing.deadLetters()).length === 0, 'the deleted upload was dead-lettered instead of skipped');
    },
  },
  {
    name: 'profiles an upload over the fan-out threshold through plan, ranges and merge',
    fanOut: true,
    async run({ user, started }) {
      await uploadAndProcess(user, started, 'fanned.csv');
      check((await profileStatus(user, 'fanned.csv')) === 200, 'no profile was written');
      check((await started.service.processing.deadLetters()).length === 0, 'the upload was dead-lettered');
    },
  },
  {
    name: 'profiles a re-upload through the fan-out (the merge reads the stored profile first)',
    fanOut: true,
    async run({ user, started }) {
      await uploadAndProcess(user, started, 'fanned-twice.csv');
      await uploadAndProcess(user, started, 'fanned-twice.csv', Buffer.from('name,n\nc,3\nd,4\ne,5\n'));
      const res = await call(user.baseUrl, 'GET', '/buckets/results/objects/fanned-twice.csv.profile.json', { token: user.token });
      check(res.status === 200 && (res.json as { rows?: number }).rows === 3, `the profile is not of the second upload: ${res.text.slice(0, 100)}`);
    },
  },
  {
    name: 'ends the fan-out of an upload deleted before it was planned without a dead letter',
    fanOut: true,
    async run({ user, started, hold }) {
      hold.hold();
      await user.upload('fanned-gone.csv', CSV, 'text/csv');
      await user.expect('DELETE', '/buckets/uploads/objects/fanned-gone.csv', 204);
      hold.release();
      await started.service.processing.idle();
      check((await started.service.processing.deadLetters()).length === 0, 'the deleted upload was dead-lettered instead of skipped');
    },
  },
  {
    name: 'merges an upload whose range guessed its first record wrong by reading that range again',
    fanOut: true,
    async run({ user, started }) {
      // A quote inside an unquoted field misleads the first-record guess of the second 8-byte range,
      // and the merge reads it again from the boundary the first range proved (test/unit/profile/ranges.test.ts).
      await uploadAndProcess(user, started, 'misguess.csv', Buffer.from('a\nx"y\n"p\nq"\nz\n'));
      const res = await call(user.baseUrl, 'GET', '/buckets/results/objects/misguess.csv.profile.json', { token: user.token });
      check(res.status === 200 && (res.json as { status?: string }).status === 'ok', `no profile: ${res.status} ${res.text.slice(0, 100)}`);
    },
  },
];

/** Every (function, bucket, access) entry of the table. */
const ENTRIES = (Object.keys(SERVICE_FUNCTIONS) as ServiceFunctionName[]).flatMap((fn) =>
  LOGICAL_BUCKETS.flatMap(({ name: bucket }) => SERVICE_FUNCTIONS[fn].buckets[bucket].map((access) => ({ fn, bucket, access }))),
);

function without(entry: (typeof ENTRIES)[number]): FunctionGrants {
  const grants = tableGrants();
  grants[entry.fn] = { ...grants[entry.fn], [entry.bucket]: grants[entry.fn][entry.bucket].filter((a) => a !== entry.access) };
  return grants;
}

/** Real handlers; the processor waits while a scenario holds it, and keeps its log lines to itself. */
function holdable(): { build: BuildHandlers; hold: Hold } {
  let gate: { promise: Promise<void>; open: () => void } | undefined;
  const build: BuildHandlers = (deps) => {
    const process = createProcessHandler({ ...processDeps(deps), log: () => undefined });
    return {
      ...buildHandlers(deps),
      process: async (event: SQSEvent) => {
        await gate?.promise;
        return process(event);
      },
    };
  };
  const hold: Hold = {
    hold: () => {
      let open!: () => void;
      gate = { promise: new Promise<void>((resolve) => (open = resolve)), open };
    },
    release: () => {
      gate?.open();
      gate = undefined;
    },
  };
  return { build, hold };
}

/** Runs every scenario against a service with `grants` (the table's by default); the names of those that failed. */
async function failingScenarios(grants?: FunctionGrants): Promise<string[]> {
  const { build, hold } = holdable();
  const started = await startService({ buildHandlers: build, reconcile: false, ...(grants ? { grants } : {}) });
  const fanOutStarted = await startService({
    buildHandlers: build,
    reconcile: false,
    env: FAN_OUT_ENV,
    fanOutMinRangeBytes: FAN_OUT_MIN_RANGE_BYTES,
    ...(grants ? { grants } : {}),
  }).catch(async (err: unknown) => {
    await started.stop();
    throw err;
  });
  const failed: string[] = [];
  try {
    for (const [i, scenario] of SCENARIOS.entries()) {
      const target = scenario.fanOut ? fanOutStarted : started;
      const user = new ApiUser(target.service.apiUrl, target.service.token(`mutant-${i}`));
      try {
        await scenario.run({ user, started: target, hold });
      } catch {
        failed.push(scenario.name);
      }
      hold.release();
    }
  } finally {
    await fanOutStarted.stop();
    await started.stop();
  }
  return failed;
}

describe('the grants table', () => {
  // A refused S3 call is logged by the handler that made it: expected here, noise in the output.
  let quiet: jest.SpyInstance;
  beforeEach(() => (quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined)));
  afterEach(() => quiet.mockRestore());

  it('lets every scenario pass when it is whole', async () => {
    expect(await failingScenarios()).toEqual([]);
  });

  it('has no entry that every scenario could do without', async () => {
    const table: string[] = [];
    const unnoticed: string[] = [];
    for (const entry of ENTRIES) {
      const failed = await failingScenarios(without(entry));
      const name = `${entry.fn} ${entry.bucket} ${entry.access}`;
      table.push(`${name.padEnd(30)} -> ${failed.length ? failed.join('; ') : '(nothing failed)'}`);
      if (failed.length === 0) unnoticed.push(name);
    }
    console.log(`grants mutation check: each entry removed in turn -> the scenarios that failed\n${table.join('\n')}`);
    expect(unnoticed).toEqual([]);
  });
});
