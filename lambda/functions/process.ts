import { createS3Client } from '../shared/clients';
import { loadConfig } from '../shared/config';
import { profileObject } from '../core/profile';
import { createProcessHandler } from '../handlers/process';

const config = loadConfig();
const s3 = createS3Client(config);
export const handler = createProcessHandler({ config, s3, profileObject });
