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
});
