/**
 * How the processor starts a fan-out run in AWS: one Step Functions execution per (object, event,
 * attempt), named so that a duplicate event's StartExecution is refused with ExecutionAlreadyExists,
 * which is success here: the run it asked for exists.
 */
import { StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { Config } from '../shared/config';
import { errorName } from '../shared/errors';
import { runNameOf } from './fan-out';
import type { FanOutStarter } from './process';

export function stepFunctionsStarter(sfn: SFNClient, config: Config, stateMachineArn: string): FanOutStarter {
  return {
    start: async (request) => {
      const name = runNameOf(config, request);
      if (name === undefined) throw new Error('A fan-out was asked for a record with nothing to profile');
      try {
        // The input is the record as S3 sent it: a failed run's dead letter carries it back unchanged.
        await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(request) }));
        return 'started';
      } catch (err) {
        if (errorName(err) === 'ExecutionAlreadyExists') return 'already-started';
        throw err;
      }
    },
  };
}
