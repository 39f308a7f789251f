import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveServiceConfig } from '../../../cli/service-config';

describe('resolveServiceConfig', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 's3files-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const writeEndpoints = (folder: string, apiUrl: string) => {
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'endpoints.json'), JSON.stringify({ apiUrl, token: 'local-token' }));
  };

  it('uses S3FILES_API_URL and S3FILES_TOKEN when both are set', () => {
    writeEndpoints(join(dir, '.local'), 'http://ignored');
    expect(resolveServiceConfig({ S3FILES_API_URL: 'https://api', S3FILES_TOKEN: 'tok' }, dir)).toMatchObject({ apiUrl: 'https://api', token: 'tok' });
  });

  it('finds .local/endpoints.json in a parent of the working directory', () => {
    writeEndpoints(join(dir, '.local'), 'http://127.0.0.1:3000');
    mkdirSync(join(dir, 'sub', 'deeper'), { recursive: true });
    expect(resolveServiceConfig({}, join(dir, 'sub', 'deeper'))).toMatchObject({ apiUrl: 'http://127.0.0.1:3000', token: 'local-token' });
  });

  it('reads endpoints.json from LOCAL_DATA_DIR when it is set', () => {
    writeEndpoints(join(dir, '.local'), 'http://wrong');
    writeEndpoints(join(dir, 'data'), 'http://right');
    expect(resolveServiceConfig({ LOCAL_DATA_DIR: 'data' }, dir).apiUrl).toBe('http://right');
  });

  it('refuses a half-set environment, naming the variable that is set', () => {
    expect(() => resolveServiceConfig({ S3FILES_TOKEN: 't' }, dir)).toThrow('only S3FILES_TOKEN is set');
  });

  it('explains how to configure the service when nothing is found', () => {
    expect(() => resolveServiceConfig({ LOCAL_DATA_DIR: join(dir, 'none') }, dir)).toThrow('S3FILES_API_URL');
  });

  it('takes the user pool from S3FILES_USER_POOL_ID and S3FILES_CLIENT_ID, the region from the pool id', () => {
    const config = resolveServiceConfig({ S3FILES_API_URL: 'https://api', S3FILES_USER_POOL_ID: 'eu-west-1_AbC123', S3FILES_CLIENT_ID: 'client' }, dir);
    expect(config).toEqual({ apiUrl: 'https://api', cognito: { userPoolId: 'eu-west-1_AbC123', clientId: 'client', region: 'eu-west-1' }, source: 'environment' });
  });

  it('refuses a user pool id without a client id', () => {
    expect(() => resolveServiceConfig({ S3FILES_API_URL: 'https://api', S3FILES_USER_POOL_ID: 'eu-west-1_AbC123' }, dir)).toThrow('only S3FILES_USER_POOL_ID is set');
  });

  it('reads the local user pool from endpoints.json', () => {
    const cognito = { endpoint: 'http://127.0.0.1:4572', region: 'us-east-1', userPoolId: 'us-east-1_s3filesLocal', clientId: 's3files-local' };
    writeFileSync(join(dir, 'endpoints.json'), JSON.stringify({ apiUrl: 'http://127.0.0.1:3000', token: 't', cognito }));
    expect(resolveServiceConfig({ LOCAL_DATA_DIR: '.' }, dir).cognito).toEqual(cognito);
  });
});
