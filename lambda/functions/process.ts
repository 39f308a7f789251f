import { createAwsJsonClient } from '../shared/aws-json';
import { createS3Client } from '../shared/clients';
import { loadConfig } from '../shared/config';
import { profileObject } from '../core/profile';
import { STEP_FUNCTIONS_API, stepFunctionsStarter } from '../core/fan-out-start';
import { createProcessHandler } from '../handlers/process';

const config = loadConfig();
const s3 = createS3Client(config);
const fanOut = config.fanOutStateMachineArn
  ? stepFunctionsStarter(createAwsJsonClient({ ...STEP_FUNCTIONS_API, region: config.region }), config, config.fanOutStateMachineArn)
  : undefined;
export const handler = createProcessHandler({ config, s3, profileObject, ...(fanOut ? { fanOut } : {}) });
