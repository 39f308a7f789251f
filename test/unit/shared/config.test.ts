import { ConfigError, loadConfig, MAX_PRESIGN_EXPIRES_SECONDS } from '../../../lambda/shared/config';

const REQUIRED = { UPLOADS_BUCKET: 'u', RESULTS_BUCKET: 'r' };

describe('loadConfig', () => {
  it('names the missing variable', () => {
    expect(() => loadConfig({ UPLOADS_BUCKET: 'u' })).toThrow('RESULTS_BUCKET');
  });

  // The presigning code uses presignExpiresSeconds as it is: this bound is the only one.
  it('refuses a presigned URL lifetime over 15 minutes', () => {
    const env = { ...REQUIRED, PRESIGN_EXPIRES_SECONDS: String(MAX_PRESIGN_EXPIRES_SECONDS + 1) };

    expect(() => loadConfig(env)).toThrow(ConfigError);
  });

  it('defaults the presigned URL lifetime to 15 minutes', () => {
    expect(loadConfig(REQUIRED).presignExpiresSeconds).toBe(MAX_PRESIGN_EXPIRES_SECONDS);
  });
});
