/**
 * Fetching the signing keys (./signing-keys.ts) from Secrets Manager: once per cold start, started
 * while the module loads so it overlaps the rest of the start, awaited by the first request; then
 * again when they are older than `signingKeysRefreshSeconds`, so a warm function sees a rotation.
 * Only the functions that sign or verify tokens import this module. Two GetSecretValue calls are
 * all it makes, through the small AWS JSON client (./aws-json.ts) rather than the SDK's Secrets
 * Manager client, whose protocol stack costs every cold start load time (bench/bundles/NOTES.md).
 */
import { createAwsJsonClient, type AwsJsonClient, type AwsJsonClientOptions } from './aws-json';
import { ConfigError, type Config } from './config';
import { keyRing, ringOf, SIGNING_KEY_PURPOSES, SigningKeyError, type KeyRing, type KeyVersion, type SigningKeyPurpose, type SigningKeys } from './signing-keys';

/** Secrets Manager's AWS JSON 1.1 API (`X-Amz-Target: secretsmanager.GetSecretValue`). */
export const SECRETS_MANAGER_API = { service: 'secretsmanager', targetPrefix: 'secretsmanager', jsonVersion: '1.1' } as const;

/**
 * The one way the service builds its Secrets Manager client. `credentials` only for local mode,
 * where each function signs with its own key; in AWS the role's are used.
 */
export function createSecretsClient(
  config: Pick<Config, 'region' | 'secretsEndpoint'>,
  options: Pick<AwsJsonClientOptions, 'credentials'> = {},
): AwsJsonClient {
  return createAwsJsonClient({
    ...SECRETS_MANAGER_API,
    ...options,
    region: config.region,
    ...(config.secretsEndpoint ? { endpoint: config.secretsEndpoint } : {}),
  });
}

/** What GetSecretValue answers, of what we use (CreatedDate: epoch seconds, as JSON 1.1 sends dates). */
interface SecretValue {
  SecretString?: unknown;
  CreatedDate?: unknown;
}

type Stage = 'AWSCURRENT' | 'AWSPREVIOUS';

async function fetchVersion(client: AwsJsonClient, secretId: string, stage: Stage): Promise<KeyVersion | undefined> {
  try {
    const out = await client.call<SecretValue>('GetSecretValue', { SecretId: secretId, VersionStage: stage });
    if (typeof out.SecretString !== 'string') throw new SigningKeyError(`Secret ${secretId} (${stage}) has no SecretString`);
    // Without a creation date the rotation time is unknown: then the previous key is not accepted.
    const created = typeof out.CreatedDate === 'number' && Number.isFinite(out.CreatedDate) ? new Date(out.CreatedDate * 1000) : new Date(0);
    return { value: out.SecretString, createdAt: created };
  } catch (err) {
    // A secret that was never rotated has no AWSPREVIOUS version: Secrets Manager says ResourceNotFoundException.
    if (stage === 'AWSPREVIOUS' && (err as { name?: string }).name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
}

/** The key ring of `purpose` from its secret's AWSCURRENT and AWSPREVIOUS versions (two calls, in parallel). */
export async function fetchKeyRing(client: AwsJsonClient, purpose: SigningKeyPurpose, secretId: string, now: Date): Promise<KeyRing> {
  const [current, previous] = await Promise.all([fetchVersion(client, secretId, 'AWSCURRENT'), fetchVersion(client, secretId, 'AWSPREVIOUS')]);
  if (!current) throw new SigningKeyError(`Secret ${secretId} has no AWSCURRENT version`);
  return keyRing(purpose, current, previous, now);
}

export interface SigningKeysOptions {
  now?: () => Date;
  log?: (line: string) => void;
}

/**
 * The keys of `purposes` (a function's row in the grants table), fetched from the secrets that
 * config names. Throws a ConfigError naming the variable when one is not set. The first fetch
 * starts now; its failure reaches the first request (and the next one fetches again). A refresh
 * that fails on a warm function keeps the keys it has and tries again one interval later.
 */
export function createSigningKeys(
  config: Pick<Config, 'signingKeySecretIds' | 'signingKeysRefreshSeconds'>,
  client: AwsJsonClient,
  purposes: readonly SigningKeyPurpose[],
  options: SigningKeysOptions = {},
): SigningKeys {
  const now = options.now ?? (() => new Date());
  const log = options.log ?? ((line: string) => console.error(line));
  const ids = purposes.map((purpose) => {
    const id = config.signingKeySecretIds[purpose];
    if (!id) throw new ConfigError(`Missing required environment variable ${SIGNING_KEY_PURPOSES[purpose].envVar}`);
    return [purpose, id] as const;
  });
  const refreshMs = config.signingKeysRefreshSeconds * 1000;
  let rings: Map<SigningKeyPurpose, KeyRing> | undefined = ids.length === 0 ? new Map() : undefined;
  let fetchedAt = 0;
  let inFlight: Promise<void> | undefined;

  const fetchAll = (): Promise<void> =>
    (inFlight ??= (async () => {
      const at = now();
      const fetched = await Promise.all(ids.map(([purpose, id]) => fetchKeyRing(client, purpose, id, at)));
      rings = new Map(fetched.map((ring) => [ring.purpose, ring]));
      fetchedAt = at.getTime();
    })().finally(() => {
      inFlight = undefined;
    }));

  const keys: SigningKeys = {
    ring: (purpose) => {
      if (!rings) throw new SigningKeyError('The signing keys have not been fetched yet (await refresh() first)');
      return ringOf(rings, purpose);
    },
    refresh: async () => {
      if (!rings) return fetchAll();
      if (ids.length === 0 || now().getTime() - fetchedAt < refreshMs) return;
      try {
        await fetchAll();
      } catch (err) {
        fetchedAt = now().getTime();
        log(JSON.stringify({ level: 'error', message: 'Refreshing the signing keys failed; keeping the ones fetched before', error: String(err) }));
      }
    },
  };
  if (ids.length > 0) keys.refresh().catch(() => undefined);
  return keys;
}
