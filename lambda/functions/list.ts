import { createS3Client } from '../shared/clients';
import { loadConfig } from '../shared/config';
import { createListHandler } from '../handlers/list';

const config = loadConfig();
const s3 = createS3Client(config);
export const handler = createListHandler({ config, s3 });
