import { createS3Client } from '../shared/clients';
import { loadConfig } from '../shared/config';
// The rows reader alone: the profile index would bring the profiler's module-level state along.
import { readRows } from '../core/profile/rows';
import { createReadHandler } from '../handlers/read';

const config = loadConfig();
const s3 = createS3Client(config);
export const handler = createReadHandler({ config, s3, readRows });
