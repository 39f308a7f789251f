import { createS3Client } from '../shared/clients';
import { loadConfig } from '../shared/config';
import { readRows } from '../core/profile';
import { createReadHandler } from '../handlers/read';

const config = loadConfig();
const s3 = createS3Client(config);
export const handler = createReadHandler({ config, s3, readRows });
