import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { ConfigError } from '../../../lambda/shared/config';
import { createSigningKeys } from '../../../lambda/shared/secrets';
import { SIGNING_KEY_PURPOSES } from '../../../lambda/shared/signing-keys';

const sm = mockClient(SecretsManagerClient);
const client = new SecretsManagerClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' } });
const ids = { cursor: 'arn:aws:secretsmanager:us-east-1:1:secret:cursor-AbCdEf', upload: 'arn:aws:secretsmanager:us-east-1:1:secret:upload-AbCdEf' };
const config = { signingKeySecretIds: ids, signingKeysRefreshSeconds: 300 };

const K1 = 'first-key-first-key-first-key-first-key';
const K2 = 'second-key-second-key-second-key-second';
const T0 = new Date('2025-01-01T00:00:00Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);
const noPrevious = () => new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS", $metadata: {} });

/** The secret's versions as Secrets Manager would answer for each stage. */
function versions(current: { value: string; at: Date }, previous?: { value: string; at: Date }) {
  sm.on(GetSecretValueCommand, { VersionStage: 'AWSCURRENT' }).resolves({ SecretString: current.value, CreatedDate: current.at });
  if (previous) sm.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).resolves({ SecretString: previous.value, CreatedDate: previous.at });
  else sm.on(GetSecretValueCommand, { VersionStage: 'AWSPREVIOUS' }).rejects(noPrevious());
}

beforeEach(() => sm.reset());

describe('createSigningKeys', () => {
  it('names the missing variable when a key of the function has no secret id', () => {
    expect(() => createSigningKeys({ ...config, signingKeySecretIds: {} }, client, ['upload'])).toThrow(ConfigError);
    expect(() => createSigningKeys({ ...config, signingKeySecretIds: {} }, client, ['upload'])).toThrow(SIGNING_KEY_PURPOSES.upload.envVar);
  });

  it('fetches the current and previous versions of only its own keys, by the ids config names', async () => {
    versions({ value: K1, at: T0 });
    const keys = createSigningKeys(config, client, ['cursor'], { now: () => T0 });

    await keys.refresh();

    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    expect(sm).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: ids.cursor, VersionStage: 'AWSCURRENT' });
    expect(sm).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: ids.cursor, VersionStage: 'AWSPREVIOUS' });
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
    sm.on(GetSecretValueCommand).rejects(new Error('network down'));

    now = minutes(10);
    await keys.refresh();

    expect(keys.ring('cursor').signing).toBe(K1);
    expect(log).toHaveBeenCalledWith(expect.stringContaining('network down'));
  });

  it('fails the first request when the cold-start fetch fails, and fetches again on the next', async () => {
    sm.on(GetSecretValueCommand).rejects(new Error('AccessDeniedException'));
    const keys = createSigningKeys(config, client, ['cursor'], { now: () => T0 });

    await expect(keys.refresh()).rejects.toThrow('AccessDeniedException');
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

    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 0);
  });
});
