import { createS3Client } from '../shared/clients';
import { loadConfig } from '../shared/config';
import { rangeEngine } from '../core/fan-out';
import { createFanOutMergeHandler } from '../handlers/fan-out';

const config = loadConfig();
const s3 = createS3Client(config);
export const handler = createFanOutMergeHandler({ config, s3, engine: rangeEngine() });
