import { AwsServiceError, type AwsJsonClient } from '../../../lambda/shared/aws-json';
import { ConfigError } from '../../../lambda/shared/config';
import { createSigningKeys } from '../../../lambda/shared/secrets';
import { SIGNING_KEY_PURPOSES } from '../../../lambda/shared/signing-keys';

const ids = { cursor: 'arn:aws:secretsmanager:us-east-1:1:secret:cursor-AbCdEf', upload: 'arn:aws:secretsmanager:us-east-1:1:secret:upload-AbCdEf' };
const config = { signingKeySecretIds: ids, signingKeysRefreshSeconds: 300 };

const K1 = 'first-key-first-key-first-key-first-key';
const K2 = 'second-key-second-key-second-key-second';
const T0 = new Date('2025-01-01T00:00:00Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);
/** What the JSON client throws for Secrets Manager's 400 on a stage that does not exist. */
const noPrevious = () => new AwsServiceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS", 400);

/**
 * A Secrets Manager answering GetSecretValue by stage, as its JSON API does (CreatedDate in epoch
 * seconds), or failing every call with `failure` (an error the real client throws).
 */
let byStage: Record<string, { SecretString: string; CreatedDate: number } | Error> = {};
let failure: Error | undefined;
const calls: { action: string; input: Record<string, unknown> }[] = [];
const client: AwsJsonClient = {
  call: async <T>(action: string, input: object): Promise<T> => {
    calls.push({ action, input: input as Record<string, unknown> });
    if (failure) throw failure;
    const answer = byStage[String((input as { VersionStage?: string }).VersionStage)];
    if (!answer || answer instanceof Error) throw answer ?? new AwsServiceError('ResourceNotFoundException', 'no such version', 400);
    return answer as T;
  },
  destroy: () => undefined,
};

/** The secret's versions as Secrets Manager would answer for each stage. */
function versions(current: { value: string; at: Date }, previous?: { value: string; at: Date }) {
  failure = undefined;
  byStage = {
    AWSCURRENT: { SecretString: current.value, CreatedDate: current.at.getTime() / 1000 },
    AWSPREVIOUS: previous ? { SecretString: previous.value, CreatedDate: previous.at.getTime() / 1000 } : noPrevious(),
  };
}

beforeEach(() => {
  byStage = {};
  failure = undefined;
  calls.length = 0;
});

describe('createSigningKeys', () => {
  it('names the missing variable when a key of the function has no secret id', () => {
    expect(() => createSigningKeys({ ...config, signingKeySecretIds: {} }, client, ['upload'])).toThrow(ConfigError);
    expect(() => createSigningKeys({ ...config, signingKeySecretIds: {} }, client, ['upload'])).toThrow(SIGNING_KEY_PURPOSES.upload.envVar);
  });

  it('fetches the current and previous versions of only its own keys, by the ids config names', async () => {
    versions({ value: K1, at: T0 });
    const keys = createSigningKeys(config, client, ['cursor'], { now: () => T0 });

    await keys.refresh();

    expect(calls).toEqual(
      expect.arrayContaining([
        { action: 'GetSecretValue', input: { SecretId: ids.cursor, VersionStage: 'AWSCURRENT' } },
        { action: 'GetSecretValue', input: { SecretId: ids.cursor, VersionStage: 'AWSPREVIOUS' } },
      ]),
    );
    expect(calls).toHaveLength(2);
    expect(keys.ring('cursor')).toEqual({ purpose: 'cursor', signing: K1, verifying: [K1] });
    expect(() => keys.ring('upload')).toThrow('no upload key');
  });

  it('signs with the current key and verifies with the previous one too, within the window after the rotation', async () => {
    versions({ value: K2, at: T0 }, { value: K1, at: minutes(-60 * 24 * 30) });
    const keys = createSigningKeys(config, client, ['cursor'], { now: () => minutes(60) });

    await keys.refresh();

    expect(keys.ring('cursor')).toEqual({ purpose: 'cursor', signing: K2, verifying: [K2, K1] });
  });

  it('no longer verifies with the previous key once the window after the rotation has passed', async () => {
    versions({ value: K2, at: T0 }, { value: K1, at: minutes(-60) });
    const keys = createSigningKeys(config, client, ['cursor'], { now: () => minutes(SIGNING_KEY_PURPOSES.cursor.acceptPreviousSeconds / 60) });

    await keys.refresh();

    expect(keys.ring('cursor').verifying).toEqual([K2]);
  });

  it('sees a rotation on a warm function once the keys are older than the refresh interval', async () => {
    let now = T0;
    versions({ value: K1, at: minutes(-60) });
    const keys = createSigningKeys(config, client, ['cursor'], { now: () => now });
    await keys.refresh();
    versions({ value: K2, at: minutes(1) }, { value: K1, at: minutes(-60) });

    now = minutes(4);
    await keys.refresh();
    const before = keys.ring('cursor').signing;
    now = minutes(6);
    await keys.refresh();

    expect(before).toBe(K1);
    expect(keys.ring('cursor')).toEqual({ purpose: 'cursor', signing: K2, verifying: [K2, K1] });
  });

  it('keeps the keys it has when a refresh on a warm function fails', async () => {
    let now = T0;
    versions({ value: K1, at: minutes(-60) });
    const log = jest.fn();
    const keys = createSigningKeys(config, client, ['cursor'], { now: () => now, log });
    await keys.refresh();
    failure = Object.assign(new Error('connect ECONNREFUSED (network down)'), { code: 'ECONNREFUSED' });

    now = minutes(10);
    await keys.refresh();

    expect(keys.ring('cursor').signing).toBe(K1);
    expect(log).toHaveBeenCalledWith(expect.stringContaining('network down'));
  });

  it('fails the first request when the cold-start fetch fails, and fetches again on the next', async () => {
    failure = new AwsServiceError('AccessDeniedException', 'not authorized to perform secretsmanager:GetSecretValue', 400);
    const keys = createSigningKeys(config, client, ['cursor'], { now: () => T0 });

    await expect(keys.refresh()).rejects.toMatchObject({ name: 'AccessDeniedException' });
    versions({ value: K1, at: T0 });
    await keys.refresh();

    expect(keys.ring('cursor').signing).toBe(K1);
  });

  it('refuses a key shorter than 32 characters', async () => {
    versions({ value: 'short', at: T0 });
    const keys = createSigningKeys(config, client, ['cursor'], { now: () => T0 });

    await expect(keys.refresh()).rejects.toThrow('shorter than 32');
  });

  it('fetches nothing for a function without keys', async () => {
    const keys = createSigningKeys(config, client, []);

    await keys.refresh();

    expect(calls).toHaveLength(0);
  });
});
