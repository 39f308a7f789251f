/**
 * The `s3files` command. Parsing and printing only: the work is done by the API client and the
 * uploader. `main` returns the exit code: 0 ok, 1 an error from the API or the system, 2 usage.
 */
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { Readable, Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ApiError, createApiClient, type ApiClient, type FetchFn, type StoredChecksum } from '../client/api-client';
import { bareEtag } from '../lambda/shared/etag';
import { cognitoClient, LoginError, readLogin, removeLogin, revokeRefreshToken, saveLogin, signIn, storedTokenProvider, tokenFilePath, type SignInPrompts } from './login';
import { profileLocalFile } from './profile-local';
import { createPrompter, NoInputError, type Prompter } from './prompt';
import { createProgressBar, formatBytes, silentProgress, type ProgressBar } from './progress';
import { resolveServiceConfig, ServiceConfigError, type ServiceConfig } from './service-config';
import { PROFILE_SUFFIX } from '../lambda/shared/keys';
import { stateFileFor, uploadFile } from './uploader';
import { downloadVerifier } from './verify';

export interface CliIO {
  /** Where `login` reads passwords and codes (hidden on a terminal; a line each from a pipe). */
  stdin?: Readable & { isTTY?: boolean };
  stdout: Writable;
  stderr: NodeJS.WriteStream | Writable;
  env: Record<string, string | undefined>;
  cwd: string;
  fetch?: FetchFn;
}

class UsageError extends Error {
  constructor(
    message: string,
    readonly help?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;
type Values = Record<string, string | boolean | undefined>;

interface Context {
  io: CliIO;
  values: Values;
  positionals: string[];
  json: boolean;
  api: () => ApiClient;
  prompter: () => Prompter;
  print: (line: string) => void;
  progress: (label: string) => ProgressBar;
}

interface Command {
  summary: string;
  usage: string;
  details?: string;
  options: Options;
  optionHelp: [string, string][];
  minArgs: number;
  maxArgs: number;
  run: (ctx: Context) => Promise<void>;
}

const COMMON: Options = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  quiet: { type: 'boolean', short: 'q' },
};
const COMMON_HELP: [string, string][] = [
  ['--json', 'machine-readable output (JSON on stdout; errors as JSON on stderr)'],
  ['-q, --quiet', 'no progress output'],
  ['-h, --help', 'this help'],
];
const BUCKET_OPTION: Options = { bucket: { type: 'string', short: 'b' } };
const BUCKET_HELP: [string, string] = ['-b, --bucket NAME', 'uploads (default) or results'];

const CONTENT_TYPES: Record<string, string> = {
  '.csv': 'text/csv',
  '.tsv': 'text/tab-separated-values',
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.json': 'application/json',
  '.jsonl': 'application/x-ndjson',
  '.ndjson': 'application/x-ndjson',
  '.xml': 'application/xml',
  '.html': 'text/html',
  '.parquet': 'application/vnd.apache.parquet',
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
};

export function guessContentType(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

function bucketOf(values: Values): string {
  const bucket = (values.bucket as string | undefined) ?? 'uploads';
  if (bucket !== 'uploads' && bucket !== 'results') throw new UsageError(`--bucket must be "uploads" or "results", not "${bucket}"`);
  return bucket;
}

function positiveInt(values: Values, name: string, fallback: number, min = 1): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${String(raw)}"`);
  return n;
}

function stateDir(env: Record<string, string | undefined>): string {
  if (env.S3FILES_STATE_DIR) return resolve(env.S3FILES_STATE_DIR);
  const base = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(base, 's3files', 'uploads');
}

function writeJson(ctx: Context, value: unknown): void {
  ctx.io.stdout.write(JSON.stringify(value) + '\n');
}

function pad(text: string, width: number): string {
  return text.padStart(width);
}

const COMMANDS: Record<string, Command> = {
  buckets: {
    summary: 'list the buckets you can use',
    usage: 's3files buckets',
    options: {},
    optionHelp: [],
    minArgs: 0,
    maxArgs: 0,
    async run(ctx) {
      const buckets = await ctx.api().listBuckets();
      if (ctx.json) return writeJson(ctx, { buckets });
      for (const b of buckets) ctx.print(`${b.name}${b.writable ? '' : ' (read-only)'}`);
    },
  },
  ls: {
    summary: 'list objects and folders under a prefix',
    usage: 's3files ls [prefix] [--recursive] [--bucket results]',
    options: { ...BUCKET_OPTION, recursive: { type: 'boolean', short: 'r' } },
    optionHelp: [BUCKET_HELP, ['-r, --recursive', 'every object under the prefix, not just one level']],
    minArgs: 0,
    maxArgs: 1,
    async run(ctx) {
      const prefix = ctx.positionals[0] ?? '';
      const listing = await ctx.api().listAllObjects(bucketOf(ctx.values), { prefix, ...(ctx.values.recursive ? {} : { delimiter: '/' }) });
      if (ctx.json) return writeJson(ctx, listing);
      for (const p of listing.prefixes) ctx.print(`${pad('PRE', 30)} ${p}`);
      for (const o of listing.objects) {
        const when = o.lastModified ? new Date(o.lastModified).toISOString().replace('T', ' ').slice(0, 19) : '';
        ctx.print(`${when.padEnd(19)} ${pad(String(o.size), 10)} ${o.key}`);
      }
    },
  },
  put: {
    summary: 'upload a file (multipart, parallel, resumable for big files)',
    usage: 's3files put <file> [key] [--concurrency N] [--resume] [--content-type TYPE] [--no-checksum]',
    details:
      'The key defaults to the file name. Big files are sent in parts straight to S3; if the upload is interrupted, run the same command with --resume to send only the missing parts. ' +
      'Every part and the whole file are sent with their CRC32, which S3 checks; --resume first checks the parts S3 already has against the file and sends changed ones again.',
    options: { concurrency: { type: 'string', short: 'c' }, resume: { type: 'boolean' }, 'content-type': { type: 'string' }, 'no-checksum': { type: 'boolean' } },
    optionHelp: [
      ['-c, --concurrency N', 'parts in flight at once (default 4)'],
      ['--resume', 'continue an interrupted upload of this file to this key'],
      ['--content-type TYPE', 'the object type (default: from the file extension)'],
      ['--no-checksum', 'send no CRC32 (for S3-compatible servers without checksums)'],
    ],
    minArgs: 1,
    maxArgs: 2,
    async run(ctx) {
      const file = resolve(ctx.io.cwd, ctx.positionals[0]!);
      if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`${ctx.positionals[0]} is not a file`);
      // NFC: the API refuses other forms, and macOS may give file names in NFD.
      const key = (ctx.positionals[1] ?? basename(file)).normalize('NFC');
      const concurrency = positiveInt(ctx.values, 'concurrency', 4);
      const bar = ctx.progress(`put ${key}`);
      const deps = { api: ctx.api(), stateDir: stateDir(ctx.io.env), checksums: ctx.values['no-checksum'] !== true, ...(ctx.io.fetch ? { fetch: ctx.io.fetch } : {}) };
      const result = await uploadFile(
        deps,
        {
          path: file,
          key,
          contentType: (ctx.values['content-type'] as string | undefined) ?? guessContentType(file),
          concurrency,
          resume: ctx.values.resume === true,
          onProgress: (done, total) => bar.update(done, total),
          onWarning: (message) => ctx.io.stderr.write(`s3files: ${message}\n`),
        },
      ).catch((err: unknown) => {
        bar.finish();
        // The parts already stored are kept: say how to continue instead of starting over.
        if (existsSync(stateFileFor(deps.stateDir, deps.api.baseUrl, file, key))) {
          ctx.io.stderr.write(`s3files: the upload was interrupted; run the same command with --resume to send only the missing parts\n`);
        }
        throw err;
      });
      bar.finish();
      if (ctx.json) return writeJson(ctx, result);
      const how = result.multipart
        ? `${result.partsUploaded.length} part(s) sent${result.resumed ? `, ${result.partsSkipped.length} already there` : ''}` +
          (result.partsChanged.length ? `, ${result.partsChanged.length} of them changed and sent again` : '')
        : 'single PUT';
      const checked = result.checksum ? `, ${result.checksum.algorithm} ${result.checksum.value} checked by S3` : '';
      ctx.print(`uploaded ${file} to ${result.key} (${formatBytes(result.size)}, ${how}${checked})`);
    },
  },
  get: {
    summary: 'download an object to a file',
    usage: 's3files get <key> [file] [--bucket results]',
    details: 'The file defaults to the last segment of the key. The download goes to a temporary file that is renamed when complete.',
    options: { ...BUCKET_OPTION },
    optionHelp: [BUCKET_HELP],
    minArgs: 1,
    maxArgs: 2,
    async run(ctx) {
      const key = ctx.positionals[0]!;
      let target = resolve(ctx.io.cwd, ctx.positionals[1] ?? basename(key));
      if (existsSync(target) && statSync(target).isDirectory()) target = join(target, basename(key));
      const api = ctx.api();
      // What S3 stored, to check the bytes against (HEAD; S3 gives it only when asked, which a
      // presigned GET cannot do without signing the request for it).
      const head = await api.headObject(bucketOf(ctx.values), key);
      const verifier = head?.checksum ? downloadVerifier(head.checksum) : undefined;
      const res = await api.openObject(bucketOf(ctx.values), key, { download: true });
      const total = Number(res.headers.get('content-length') ?? 0);
      const bar = ctx.progress(`get ${key}`);
      const tmp = join(dirname(target), `.${basename(target)}.s3files-${process.pid}.part`);
      let done = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _enc, callback) {
          done += chunk.length;
          verifier?.update(chunk);
          bar.update(done, total || done);
          callback(null, chunk);
        },
      });
      let verified: StoredChecksum | null = null;
      try {
        await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), counter, createWriteStream(tmp));
        if (total && done !== total) throw new Error(`The download stopped at ${done} of ${total} bytes`);
        if (verifier && head) {
          const etag = res.headers.get('etag');
          if (etag && bareEtag(etag) !== bareEtag(head.etag)) throw new Error(`${key} was overwritten during the download; run again`);
          const got = verifier.digest();
          if (got !== head.checksum!.value) {
            throw new Error(`${key}: the bytes downloaded do not match the ${head.checksum!.algorithm} S3 stored for the object (${got}, stored ${head.checksum!.value}); the file was not kept`);
          }
          verified = head.checksum!;
        }
        await rename(tmp, target);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
      bar.finish();
      const why = !head?.checksum ? 'no checksum stored' : verified ? `${verified.algorithm} verified` : `${head.checksum.algorithm} ${head.checksum.type.toLowerCase()} checksum not verified`;
      if (ctx.json) return writeJson(ctx, { key, file: target, size: done, verified: verified ? { algorithm: verified.algorithm, value: verified.value } : null });
      ctx.print(`downloaded ${key} to ${target} (${formatBytes(done)}, ${why})`);
    },
  },
  cat: {
    summary: 'print an object to stdout',
    usage: 's3files cat <key> [--bucket results]',
    details: 'With --json, prints {"key","contentType","text"} instead of the raw bytes.',
    options: { ...BUCKET_OPTION },
    optionHelp: [BUCKET_HELP],
    minArgs: 1,
    maxArgs: 1,
    async run(ctx) {
      const key = ctx.positionals[0]!;
      const res = await ctx.api().openObject(bucketOf(ctx.values), key);
      if (ctx.json) return writeJson(ctx, { key, contentType: res.headers.get('content-type'), text: await res.text() });
      await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), ctx.io.stdout, { end: false });
    },
  },
  rm: {
    summary: 'delete an object from the uploads bucket',
    usage: 's3files rm <key>',
    options: {},
    optionHelp: [],
    minArgs: 1,
    maxArgs: 1,
    async run(ctx) {
      const key = ctx.positionals[0]!;
      await ctx.api().deleteObject(key);
      if (ctx.json) return writeJson(ctx, { key, deleted: true });
      ctx.print(`deleted ${key}`);
    },
  },
  profile: {
    summary: "show a file's profile (columns, types, statistics)",
    usage: 's3files profile <key | local-file>',
    details: 'For a key, prints the profile the service computed after the upload. When the argument is a file on this machine, profiles it locally instead.',
    options: {},
    optionHelp: [],
    minArgs: 1,
    maxArgs: 1,
    async run(ctx) {
      const arg = ctx.positionals[0]!;
      const local = resolve(ctx.io.cwd, arg);
      let profile: unknown;
      if (existsSync(local) && statSync(local).isFile()) {
        profile = await profileLocalFile(local);
      } else {
        try {
          profile = await ctx.api().readJson('results', `${arg}${PROFILE_SUFFIX}`);
        } catch (err) {
          if (err instanceof ApiError && err.status === 404) {
            throw new ApiError(404, 'NoProfile', `No profile for ${arg} yet (is the key right? profiles appear shortly after an upload)`);
          }
          throw err;
        }
      }
      if (ctx.json) return writeJson(ctx, profile);
      ctx.print(JSON.stringify(profile, null, 2));
    },
  },
  rows: {
    summary: 'print rows of a CSV/TSV/JSON-lines object as a table',
    usage: 's3files rows <key> [--offset N] [--limit N] [--columns a,b] [--bucket results]',
    options: { ...BUCKET_OPTION, offset: { type: 'string' }, limit: { type: 'string' }, columns: { type: 'string' } },
    optionHelp: [BUCKET_HELP, ['--offset N', 'first row (default 0)'], ['--limit N', 'rows to print (default 20)'], ['--columns a,b', 'only these columns']],
    minArgs: 1,
    maxArgs: 1,
    async run(ctx) {
      const columns = (ctx.values.columns as string | undefined)?.split(',').map((c) => c.trim()).filter(Boolean);
      const page = await ctx.api().readRows(bucketOf(ctx.values), ctx.positionals[0]!, {
        offset: positiveInt(ctx.values, 'offset', 0, 0),
        limit: positiveInt(ctx.values, 'limit', 20),
        ...(columns ? { columns } : {}),
      });
      if (ctx.json) return writeJson(ctx, page);
      const cell = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
      ctx.print(page.columns.join('\t'));
      for (const row of page.rows) ctx.print(row.map(cell).join('\t'));
      if (page.nextOffset !== null) ctx.io.stderr.write(`(more rows: --offset ${page.nextOffset})\n`);
    },
  },
};

const ACCOUNT_COMMANDS: Record<string, Command> = {
  login: {
    summary: "sign in to the service's user pool (SRP and a TOTP code); the other commands then use it",
    usage: 's3files login [username] [--code CODE]',
    details: [
      'Asks for your password (S3FILES_PASSWORD in scripts) and the code of your authenticator app (--code or',
      'S3FILES_TOTP_CODE). At the first sign-in you choose a new password (S3FILES_NEW_PASSWORD) and add the',
      'printed key to an authenticator app, then type its first code. The tokens are kept in',
      '$XDG_CONFIG_HOME/s3files/tokens.json (~/.config/s3files/tokens.json), readable by you only, and',
      'refreshed before they expire, for 7 days; S3FILES_TOKEN, when set, is used instead.',
    ].join('\n'),
    options: { code: { type: 'string' } },
    optionHelp: [['--code CODE', 'the 6-digit code from your authenticator app']],
    minArgs: 0,
    maxArgs: 1,
    async run(ctx) {
      const service = resolveServiceConfig(ctx.io.env, ctx.io.cwd);
      const cognito = userPoolOf(service);
      const env = ctx.io.env;
      const username = ctx.positionals[0] ?? (await ctx.prompter().ask('User name: ')).trim();
      if (!username) throw new UsageError('a user name is needed');
      const password = env.S3FILES_PASSWORD ?? (await ctx.prompter().ask('Password: ', { hidden: true }));
      let code = (ctx.values.code as string | undefined) ?? env.S3FILES_TOTP_CODE;
      let setUp = false;
      const prompts: SignInPrompts = {
        newPassword: async () => {
          if (env.S3FILES_NEW_PASSWORD) return env.S3FILES_NEW_PASSWORD;
          ctx.io.stderr.write('This is your first sign-in: choose a new password (12 characters or more, with upper and lower case, a digit and a symbol).\n');
          const first = await ctx.prompter().ask('New password: ', { hidden: true });
          if (ctx.io.stdin?.isTTY && first !== (await ctx.prompter().ask('Again: ', { hidden: true }))) throw new LoginError('PasswordMismatch', 'The two passwords differ');
          return first;
        },
        showTotpSetup: ({ secret, uri }) => {
          setUp = true;
          ctx.io.stderr.write(
            [
              'Every sign-in needs a code from an authenticator app. Add this account to yours:',
              `  scan or open: ${uri}`,
              `  or type the key: ${secret}`,
              '',
            ].join('\n'),
          );
        },
        totpCode: async () => {
          // A code given up front is for an app already set up; at the set-up, the new key's code is asked for.
          if (code && !setUp) {
            const given = code;
            code = undefined;
            return given.trim();
          }
          return (await ctx.prompter().ask('Code from your authenticator app: ')).trim();
        },
      };
      const client = cognitoClient(cognito);
      let tokens;
      try {
        tokens = await signIn(client, cognito, { username, password }, prompts);
      } finally {
        client.destroy();
      }
      const file = tokenFilePath(env);
      saveLogin(file, { ...tokens, apiUrl: service.apiUrl, username, cognito });
      if (ctx.json) return writeJson(ctx, { apiUrl: service.apiUrl, username, sub: tokens.sub, expiresAt: new Date(tokens.expiresAt).toISOString(), tokenFile: file });
      ctx.print(`signed in to ${service.apiUrl} as ${username}; tokens kept in ${file}`);
    },
  },
  logout: {
    summary: 'sign out: revoke the refresh token and delete the stored tokens',
    usage: 's3files logout',
    options: {},
    optionHelp: [],
    minArgs: 0,
    maxArgs: 0,
    async run(ctx) {
      const service = resolveServiceConfig(ctx.io.env, ctx.io.cwd);
      const file = tokenFilePath(ctx.io.env);
      const login = readLogin(file, service.apiUrl);
      let revoked = false;
      if (login) {
        const client = cognitoClient(login.cognito);
        try {
          await revokeRefreshToken(client, login.cognito, login.refreshToken);
          revoked = true;
        } catch (err) {
          // The local copy goes anyway: signing out on this machine must not depend on the network.
          ctx.io.stderr.write(`s3files: the refresh token could not be revoked (${(err as Error).message}); it stays valid until it expires\n`);
        } finally {
          client.destroy();
          removeLogin(file, service.apiUrl);
        }
      }
      if (ctx.json) return writeJson(ctx, { apiUrl: service.apiUrl, signedOut: login !== undefined, revoked });
      ctx.print(login ? `signed out of ${service.apiUrl}` : `not signed in to ${service.apiUrl}`);
    },
  },
};
Object.assign(COMMANDS, ACCOUNT_COMMANDS);

function userPoolOf(service: ServiceConfig): NonNullable<ServiceConfig['cognito']> {
  if (service.cognito) return service.cognito;
  throw new ServiceConfigError(
    `No user pool is configured for ${service.apiUrl}: set S3FILES_USER_POOL_ID and S3FILES_CLIENT_ID (the stack's UserPoolId and UserPoolClientId outputs)`,
  );
}

/**
 * The bearer token of every command: S3FILES_TOKEN when set, else the stored login for this API
 * (refreshed as needed), else the local service's default user's token from endpoints.json.
 */
function bearerFor(service: ServiceConfig, env: Record<string, string | undefined>): string | (() => Promise<string>) {
  const fromEnv = env.S3FILES_TOKEN?.trim();
  if (fromEnv) return fromEnv;
  const file = tokenFilePath(env);
  if (readLogin(file, service.apiUrl)) return storedTokenProvider({ file, apiUrl: service.apiUrl });
  if (service.token) return service.token;
  throw new LoginError('NotSignedIn', `Not signed in to ${service.apiUrl}: run s3files login (or set S3FILES_TOKEN)`);
}

function formatOptions(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`).join('\n');
}

export function topHelp(): string {
  const names = Object.keys(COMMANDS);
  const width = Math.max(...names.map((n) => n.length));
  return [
    'Usage: s3files <command> [options]',
    '',
    'Commands:',
    ...names.map((n) => `  ${n.padEnd(width)}  ${COMMANDS[n]!.summary}`),
    '',
    'Options for every command:',
    formatOptions(COMMON_HELP),
    '',
    'The service is S3FILES_API_URL, or else the local service started by `npm start` in the project (its',
    '.local/endpoints.json, or LOCAL_DATA_DIR/endpoints.json). The token is S3FILES_TOKEN, or else the one',
    '`s3files login` keeps (S3FILES_USER_POOL_ID and S3FILES_CLIENT_ID name the user pool when deployed).',
    'Run `s3files <command> --help` for the options of a command.',
  ].join('\n');
}

export function commandHelp(name: string): string {
  const cmd = COMMANDS[name]!;
  return [`Usage: ${cmd.usage}`, '', `${cmd.summary[0]!.toUpperCase()}${cmd.summary.slice(1)}.`, ...(cmd.details ? ['', cmd.details] : []), '', 'Options:', formatOptions([...cmd.optionHelp, ...COMMON_HELP])].join('\n');
}

function reportError(io: CliIO, json: boolean, code: string, message: string): void {
  io.stderr.write(json ? JSON.stringify({ error: { code, message } }) + '\n' : `s3files: ${code}: ${message}\n`);
}

export async function main(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  const json = argv.includes('--json');
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(topHelp() + '\n');
    return name === undefined ? 2 : 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    reportError(io, json, 'Usage', `unknown command "${name}"; run s3files --help`);
    return 2;
  }
  try {
    let parsed: { values: Values; positionals: string[] };
    try {
      parsed = parseArgs({ args: rest, options: { ...COMMON, ...cmd.options }, allowPositionals: true, strict: true }) as typeof parsed;
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const { values, positionals } = parsed;
    if (values.help) {
      io.stdout.write(commandHelp(name) + '\n');
      return 0;
    }
    if (positionals.length < cmd.minArgs || positionals.length > cmd.maxArgs) throw new UsageError(`wrong number of arguments\nUsage: ${cmd.usage}`);
    let client: ApiClient | undefined;
    let prompter: Prompter | undefined;
    const showProgress = !values.quiet && !json && (io.stderr as NodeJS.WriteStream).isTTY === true;
    // A prompter reading stdin keeps the process alive until closed.
    const closePrompter = () => prompter?.close();
    await cmd.run({
      io,
      values,
      positionals,
      json,
      api: () => {
        if (!client) {
          const service = resolveServiceConfig(io.env, io.cwd);
          client = createApiClient({ baseUrl: service.apiUrl, token: bearerFor(service, io.env), ...(io.fetch ? { fetch: io.fetch } : {}) });
        }
        return client;
      },
      prompter: () => {
        if (!io.stdin) throw new NoInputError('the terminal (no standard input)');
        prompter ??= createPrompter(io.stdin, io.stderr);
        return prompter;
      },
      print: (line) => io.stdout.write(line + '\n'),
      progress: (label) => (showProgress ? createProgressBar(io.stderr as NodeJS.WriteStream, label) : silentProgress),
    }).finally(closePrompter);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      reportError(io, json, 'Usage', err.message);
      return 2;
    }
    if (err instanceof ApiError) {
      reportError(io, json, err.code, err.message);
      return 1;
    }
    if (err instanceof ServiceConfigError) {
      reportError(io, json, 'NoService', err.message);
      return 1;
    }
    if (err instanceof LoginError) {
      reportError(io, json, err.code, err.message);
      return 1;
    }
    if (err instanceof NoInputError) {
      reportError(io, json, 'NoInput', err.message);
      return 1;
    }
    // The user pool's refusals (NotAuthorizedException, CodeMismatchException, …) by their SDK name.
    if ((err as { $metadata?: unknown }).$metadata !== undefined) {
      reportError(io, json, (err as Error).name, (err as Error).message);
      return 1;
    }
    const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
    const detail = e.cause?.message ? `${e.message} (${e.cause.message})` : (e.message ?? String(err));
    reportError(io, json, e.code ?? e.cause?.code ?? 'Error', detail);
    return 1;
  }
}
