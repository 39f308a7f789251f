import { createS3Client } from '../shared/clients';
import { loadConfig } from '../shared/config';
import { rangeEngine } from '../core/fan-out';
import { createFanOutRangeHandler } from '../handlers/fan-out';

const config = loadConfig();
const s3 = createS3Client(config);
export const handler = createFanOutRangeHandler({ config, s3, engine: rangeEngine() });
