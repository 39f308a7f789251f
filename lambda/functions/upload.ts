import { createS3Client } from '../shared/clients';
import { loadConfig } from '../shared/config';
import { createUploadHandler } from '../handlers/upload';

const config = loadConfig();
const s3 = createS3Client(config);
export const handler = createUploadHandler({ config, s3 });
