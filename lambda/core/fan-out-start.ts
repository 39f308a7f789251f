/**
 * How the processor starts a fan-out run in AWS: one Step Functions execution per (object, event,
 * attempt), named so that a duplicate event starts none: Step Functions answers a StartExecution
 * with the same name and input as a running execution with that execution, and refuses any other
 * with ExecutionAlreadyExists, which is success here: the run it asked for exists.
 */
import type { AwsJsonClient } from '../shared/aws-json';
import type { Config } from '../shared/config';
import { errorName } from '../shared/errors';
import { runNameOf } from './fan-out';
import type { FanOutStarter } from './process';

/** `states` is Step Functions' AWS JSON 1.0 API (`X-Amz-Target: AWSStepFunctions.StartExecution`). */
export const STEP_FUNCTIONS_API = { service: 'states', targetPrefix: 'AWSStepFunctions', jsonVersion: '1.0' } as const;

export function stepFunctionsStarter(sfn: AwsJsonClient, config: Config, stateMachineArn: string): FanOutStarter {
  return {
    start: async (request) => {
      const name = runNameOf(config, request);
      if (name === undefined) throw new Error('A fan-out was asked for a record with nothing to profile');
      try {
        // The input is the record as S3 sent it: a failed run's dead letter carries it back unchanged.
        await sfn.call('StartExecution', { stateMachineArn, name, input: JSON.stringify(request) });
        return 'started';
      } catch (err) {
        if (errorName(err) === 'ExecutionAlreadyExists') return 'already-started';
        throw err;
      }
    },
  };
}
