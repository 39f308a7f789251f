import { createS3Client } from '../shared/clients';
import { loadConfig } from '../shared/config';
import { SERVICE_FUNCTIONS } from '../shared/grants';
import { createSecretsClient, createSigningKeys } from '../shared/secrets';
import { createUploadHandler } from '../handlers/upload';

const config = loadConfig();
const s3 = createS3Client(config);
// Starts fetching the function's keys now, during the cold start; the first request awaits them.
const keys = createSigningKeys(config, createSecretsClient(config), SERVICE_FUNCTIONS.upload.keys);
export const handler = createUploadHandler({ config, s3, keys });
