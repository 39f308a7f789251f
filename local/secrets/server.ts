/**
 * Local mode's Secrets Manager: an HTTP server on 127.0.0.1 speaking Secrets Manager's JSON 1.1
 * protocol (`POST /`, `Content-Type: application/x-amz-json-1.1`, `X-Amz-Target:
 * secretsmanager.<Action>`), as the functions' own client (lambda/shared/aws-json.ts), the SDK's
 * client and the AWS CLI speak it, so the functions fetch their signing keys with the same code as
 * in AWS (lambda/shared/secrets.ts), only with SECRETS_ENDPOINT set.
 *
 * Every request goes through:
 *   protocol (JSON only) → SigV4 for service `secretsmanager` (../s3/sigv4.ts, the embedded S3's
 *   verifier) → the caller's IAM statements (../s3/iam.ts; a function's are its row's
 *   keyGrantStatements, so it reads only its own keys, as its role lets it in AWS) → the action.
 *
 * Served: GetSecretValue (by VersionStage AWSCURRENT / AWSPREVIOUS, or VersionId) and
 * PutSecretValue (a rotation: the new version becomes AWSCURRENT, the old one AWSPREVIOUS, as in
 * Secrets Manager), enough for the functions and for `aws secretsmanager put-secret-value
 * --endpoint-url …` with the service's own keys. Secrets are created on first start with random
 * values and kept, 0600, in `<dataDir>/secrets.json`.
 *
 * Like the local queue, it refuses anything a web page could send cross-site without a preflight.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isAllowed, type PolicyStatement } from '../s3/iam';
import { authenticateWithBody, S3AuthError } from '../s3/sigv4';
import { readBody } from '../read-body';
import { sendAwsJson } from '../aws-json';
import { listen } from '../listen';

export interface SecretsPrincipal {
  name: string;
  accessKeyId: string;
  secretAccessKey: string;
  policy: readonly PolicyStatement[];
}

export interface LocalSecretsOptions {
  /** The JSON file the secrets are kept in. */
  file: string;
  region: string;
  /** The secrets that must exist: created with a random value when missing. */
  secrets: readonly { name: string; description: string }[];
  /** Who may call, given the secrets' ARNs by name (the policies name ARNs, known once the secrets exist). */
  principals: (arns: Readonly<Record<string, string>>) => readonly SecretsPrincipal[];
  /** 0 (the default) picks a free port. */
  port?: number;
  accountId?: string;
  log?: (line: string) => void;
}

export interface LocalSecrets {
  endpoint: string;
  /** ARN of each secret, by name. */
  arns: Record<string, string>;
  close(): Promise<void>;
}

interface StoredVersion {
  id: string;
  value: string;
  /** Epoch milliseconds. */
  createdAt: number;
  stages: string[];
}
interface StoredSecret {
  name: string;
  arn: string;
  description: string;
  versions: StoredVersion[];
}

class SecretsError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';
const TARGET_PREFIX = 'secretsmanager.';
const MAX_BODY_BYTES = 256 * 1024;
const HOST = '127.0.0.1';
const CURRENT = 'AWSCURRENT';
const PREVIOUS = 'AWSPREVIOUS';

/** 64 characters from 48 random bytes: the length the stack generates (64, no punctuation). */
export const randomKeyValue = () => randomBytes(48).toString('base64url');

async function loadSecrets(options: LocalSecretsOptions, accountId: string): Promise<{ secrets: StoredSecret[]; created: boolean }> {
  let secrets: StoredSecret[] = [];
  try {
    secrets = (JSON.parse(await readFile(options.file, 'utf8')) as { secrets: StoredSecret[] }).secrets;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  let created = false;
  for (const { name, description } of options.secrets) {
    if (secrets.some((s) => s.name === name)) continue;
    // Secrets Manager ends a secret's ARN with a dash and six random characters.
    const suffix = randomBytes(6).toString('base64url').replace(/[-_]/g, 'x').slice(0, 6);
    const arn = `arn:aws:secretsmanager:${options.region}:${accountId}:secret:${name}-${suffix}`;
    secrets.push({ name, arn, description, versions: [{ id: randomUUID(), value: randomKeyValue(), createdAt: Date.now(), stages: [CURRENT] }] });
    created = true;
  }
  return { secrets, created };
}

export async function startLocalSecrets(options: LocalSecretsOptions): Promise<LocalSecrets> {
  const log = options.log ?? (() => undefined);
  const accountId = options.accountId ?? '000000000000';
  const { secrets, created } = await loadSecrets(options, accountId);
  const save = async () => {
    const tmp = `${options.file}.tmp`;
    await writeFile(tmp, JSON.stringify({ secrets }, null, 2) + '\n', { mode: 0o600 });
    await rename(tmp, options.file);
  };
  if (created) await save();
  const arns = Object.fromEntries(secrets.map((s) => [s.name, s.arn]));
  const principals = new Map(options.principals(arns).map((p) => [p.accessKeyId, p]));

  const find = (principal: SecretsPrincipal, action: string, id: unknown): StoredSecret => {
    if (typeof id !== 'string' || id === '') throw new SecretsError('InvalidParameterException', 'SecretId is required');
    const secret = secrets.find((s) => s.name === id || s.arn === id);
    // As IAM does, authorize on the resource first: a caller not allowed learns nothing of what exists.
    const resource = secret?.arn ?? `arn:aws:secretsmanager:${options.region}:${accountId}:secret:${id}`;
    if (!isAllowed(principal.policy, { action: `secretsmanager:${action}`, resource })) {
      throw new SecretsError(
        'AccessDeniedException',
        `User: ${principal.name} is not authorized to perform: secretsmanager:${action} on resource: ${id} because no identity-based policy allows the secretsmanager:${action} action`,
      );
    }
    if (!secret) throw new SecretsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return secret;
  };

  const actions: Record<string, (input: Record<string, unknown>, principal: SecretsPrincipal) => Promise<unknown>> = {
    GetSecretValue: async (input, principal) => {
      const secret = find(principal, 'GetSecretValue', input.SecretId);
      const stage = input.VersionId === undefined ? (input.VersionStage ?? CURRENT) : input.VersionStage;
      const version = secret.versions.find(
        (v) => (input.VersionId === undefined || v.id === input.VersionId) && (stage === undefined || v.stages.includes(String(stage))),
      );
      if (!version) throw new SecretsError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for staging label: ${String(stage)}`);
      return { ARN: secret.arn, Name: secret.name, VersionId: version.id, SecretString: version.value, VersionStages: version.stages, CreatedDate: version.createdAt / 1000 };
    },
    PutSecretValue: async (input, principal) => {
      const secret = find(principal, 'PutSecretValue', input.SecretId);
      if (typeof input.SecretString !== 'string' || input.SecretString === '') {
        throw new SecretsError('InvalidParameterException', 'You must provide either SecretString or SecretBinary.');
      }
      // A rotation: AWSPREVIOUS moves to the old current version, AWSCURRENT to the new one; a
      // version left with no stage is dropped (Secrets Manager keeps it deprecated, unreadable by stage).
      const version: StoredVersion = { id: typeof input.ClientRequestToken === 'string' ? input.ClientRequestToken : randomUUID(), value: input.SecretString, createdAt: Date.now(), stages: [CURRENT] };
      for (const v of secret.versions) {
        v.stages = v.stages.filter((s) => s !== PREVIOUS);
        if (v.stages.includes(CURRENT)) v.stages = [...v.stages.filter((s) => s !== CURRENT), PREVIOUS];
      }
      secret.versions = [...secret.versions.filter((v) => v.stages.length > 0), version];
      await save();
      log(`secrets: ${secret.name} rotated by ${principal.name}`);
      return { ARN: secret.arn, Name: secret.name, VersionId: version.id, VersionStages: version.stages };
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      const target = String(req.headers['x-amz-target'] ?? '');
      if (req.method !== 'POST' || req.url !== '/' || contentType !== JSON_CONTENT_TYPE || !target.startsWith(TARGET_PREFIX)) {
        throw new SecretsError('UnknownOperationException', `The local Secrets Manager speaks JSON 1.1 only: POST / with Content-Type: ${JSON_CONTENT_TYPE} and X-Amz-Target: secretsmanager.<Action>`);
      }
      const body = await readBody(req, MAX_BODY_BYTES, () => new SecretsError('InvalidRequestException', `The request body is over ${MAX_BODY_BYTES} bytes`));
      const principal = await authenticate(req, body);
      const run = actions[target.slice(TARGET_PREFIX.length)];
      if (!run) throw new SecretsError('UnknownOperationException', `${target} is not served by the local Secrets Manager`);
      let input: unknown;
      try {
        input = JSON.parse(body.toString('utf8') || '{}');
      } catch {
        throw new SecretsError('SerializationException', 'The request body is not valid JSON');
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new SecretsError('SerializationException', 'The request body must be a JSON object');
      sendAwsJson(res, JSON_CONTENT_TYPE, 200, await run(input as Record<string, unknown>, principal));
    } catch (err) {
      if (!(err instanceof SecretsError)) log(`secrets: ${(err as Error)?.stack ?? String(err)}`);
      const e = err instanceof SecretsError ? err : new SecretsError('InternalServiceError', 'Internal error');
      req.resume();
      if (!res.headersSent) sendAwsJson(res, JSON_CONTENT_TYPE, e.type === 'InternalServiceError' ? 500 : 400, { __type: e.type, message: e.message });
    }
  }

  async function authenticate(req: IncomingMessage, body: Buffer): Promise<SecretsPrincipal> {
    try {
      const { accessKeyId } = await authenticateWithBody({ method: 'POST', path: '/', query: '', headers: req.headers }, body, {
        service: 'secretsmanager',
        region: options.region,
        secretFor: (id) => principals.get(id)?.secretAccessKey,
      });
      return principals.get(accessKeyId)!;
    } catch (err) {
      if (!(err instanceof S3AuthError)) throw err;
      // S3's words for the refusal, in the JSON services' common ones.
      switch (err.code) {
        case 'InvalidAccessKeyId':
          throw new SecretsError('UnrecognizedClientException', 'The security token included in the request is invalid.');
        case 'AccessDenied':
          throw new SecretsError('MissingAuthenticationTokenException', 'Missing Authentication Token');
        default:
          throw new SecretsError('InvalidSignatureException', err.message);
      }
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  await listen(server, options.port ?? 0, HOST);
  return {
    endpoint: `http://${HOST}:${(server.address() as AddressInfo).port}`,
    arns,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

