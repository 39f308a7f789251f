/**
 * The service's own AWS JSON client (lambda/shared/aws-json.ts) over real HTTP: every request is
 * checked by local mode's SigV4 verifier (the embedded S3's, which the local Secrets Manager uses
 * too), and the answers are the ones AWS's JSON services give. Against moto_server, where it is
 * installed, Step Functions' StartExecution as the processor makes it, duplicate included.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listen } from '../../local/listen';
import { authenticateWithBody, S3AuthError } from '../../local/s3/sigv4';
import { runNameOf } from '../../lambda/core/fan-out';
import { STEP_FUNCTIONS_API, stepFunctionsStarter } from '../../lambda/core/fan-out-start';
import { AwsServiceError, createAwsJsonClient, defaultEndpoint, errorTypeOf, type AwsJsonClientOptions } from '../../lambda/shared/aws-json';
import { TEST_CONFIG } from '../unit/helpers/events';
import { MOTO, MOTO_CREDENTIALS, startMoto, type Moto } from './support/moto';
import { describeWith } from './support/optional-tools';

const REGION = 'eu-west-1';
const KEY = { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-test-secret-local-test-secret' };

interface Seen {
  target: string | undefined;
  contentType: string | undefined;
  body: unknown;
}
type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | 'hang';

/** A JSON service on loopback: verifies each request's signature, then answers from `replies` in turn. */
async function startService(service: string): Promise<{ endpoint: string; seen: Seen[]; replies: Reply[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const replies: Reply[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      void (async () => {
        try {
          await authenticateWithBody({ method: req.method ?? '', path: req.url ?? '/', query: '', headers: req.headers }, body, {
            service,
            region: REGION,
            secretFor: (id) => (id === KEY.accessKeyId ? KEY.secretAccessKey : undefined),
          });
        } catch (err) {
          // A verifier failure other than a refusal would otherwise be an unhandled rejection and a
          // request left hanging: answer it, so the test fails on the answer.
          const refused = err instanceof S3AuthError;
          res.writeHead(refused ? 403 : 500, { 'content-type': 'application/x-amz-json-1.0' });
          res.end(JSON.stringify({ __type: refused ? 'InvalidSignatureException' : 'TestServerError', message: (err as Error).message }));
          return;
        }
        seen.push({ target: req.headers['x-amz-target'] as string | undefined, contentType: req.headers['content-type'], body: JSON.parse(body.toString('utf8')) });
        const reply = replies.shift() ?? { status: 200, body: {} };
        if (reply === 'hang') return;
        res.writeHead(reply.status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'req-1', ...reply.headers });
        res.end(JSON.stringify(reply.body ?? {}));
      })();
    });
  });
  const port = await listen(server, 0, '127.0.0.1');
  return {
    endpoint: `http://127.0.0.1:${port}`,
    seen,
    replies,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('createAwsJsonClient over HTTP, checked by the SigV4 verifier', () => {
  let svc: Awaited<ReturnType<typeof startService>>;
  const clients: { destroy(): void }[] = [];
  const client = (options: Partial<AwsJsonClientOptions> = {}) => {
    const c = createAwsJsonClient({ ...STEP_FUNCTIONS_API, region: REGION, endpoint: svc.endpoint, credentials: KEY, backoffMs: () => 0, ...options });
    clients.push(c);
    return c;
  };

  beforeEach(async () => {
    svc = await startService('states');
  });
  afterEach(async () => {
    clients.splice(0).forEach((c) => c.destroy());
    await svc.close();
  });

  it('sends a signed JSON 1.0 POST with the action as X-Amz-Target and returns the parsed answer', async () => {
    svc.replies.push({ status: 200, body: { executionArn: 'arn:x', startDate: 1.7e9 } });

    await expect(client().call('StartExecution', { name: 'run-1', input: '{"a":"é"}' })).resolves.toEqual({ executionArn: 'arn:x', startDate: 1.7e9 });

    expect(svc.seen).toEqual([{ target: 'AWSStepFunctions.StartExecution', contentType: 'application/x-amz-json-1.0', body: { name: 'run-1', input: '{"a":"é"}' } }]);
  });

  it('signs with temporary credentials (a session token, as Lambda gives the role)', async () => {
    await expect(client({ credentials: { ...KEY, sessionToken: 'session-token' } }).call('StartExecution', {})).resolves.toEqual({});
  });

  it('is refused with a wrong secret, by name, and does not retry a refusal', async () => {
    await expect(client({ credentials: { ...KEY, secretAccessKey: 'wrong' } }).call('StartExecution', {})).rejects.toMatchObject({
      name: 'InvalidSignatureException',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
    });
    expect(svc.seen).toHaveLength(0);
  });

  it('names an error by its type without the namespace, as the SDK does, and does not retry it', async () => {
    svc.replies.push({ status: 400, body: { __type: 'com.amazonaws.swf.service.v2.model#ExecutionAlreadyExists', message: 'Execution Already Exists' } });

    const err = await client().call('StartExecution', {}).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(AwsServiceError);
    expect(err).toMatchObject({ name: 'ExecutionAlreadyExists', message: 'Execution Already Exists', $metadata: { httpStatusCode: 400, requestId: 'req-1' } });
    expect(svc.seen).toHaveLength(1);
  });

  it('retries a 5xx and a throttling answer, then succeeds', async () => {
    svc.replies.push({ status: 500, body: { __type: 'InternalFailure' } }, { status: 400, body: { __type: 'ThrottlingException', message: 'Rate exceeded' } }, { status: 200, body: { ok: 1 } });

    await expect(client().call('StartExecution', {})).resolves.toEqual({ ok: 1 });
    expect(svc.seen).toHaveLength(3);
  });

  it('gives up after maxAttempts, with the last error', async () => {
    svc.replies.push(...Array.from({ length: 3 }, () => ({ status: 503, headers: { 'x-amzn-errortype': 'ServiceUnavailable:http://internal.amazon.com/' } })));

    await expect(client().call('StartExecution', {})).rejects.toMatchObject({ name: 'ServiceUnavailable', $fault: 'server' });
    expect(svc.seen).toHaveLength(3);
  });

  it('times out an attempt that gets no answer, and retries it', async () => {
    svc.replies.push('hang', { status: 200, body: { ok: 2 } });

    await expect(client({ timeoutMs: 300 }).call('StartExecution', {})).resolves.toEqual({ ok: 2 });
    expect(svc.seen).toHaveLength(2);
  });

  it('fails with the network error when nothing listens', async () => {
    const endpoint = svc.endpoint;
    await svc.close();

    await expect(client({ endpoint, maxAttempts: 2 }).call('StartExecution', {})).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    svc = await startService('states');
  });
});

describe('errorTypeOf and defaultEndpoint', () => {
  it('reads the type from the header first, then __type, then code', () => {
    expect(errorTypeOf('ValidationException:http://internal.amazon.com/coral/', { __type: 'Other' })).toBe('ValidationException');
    expect(errorTypeOf(undefined, { __type: 'com.amazon.coral.service#AccessDeniedException' })).toBe('AccessDeniedException');
    expect(errorTypeOf(undefined, { code: 'ResourceNotFoundException' })).toBe('ResourceNotFoundException');
    expect(errorTypeOf(undefined, {})).toBe('UnknownError');
  });

  it('puts a China region in its own partition', () => {
    expect(defaultEndpoint('states', 'eu-west-1')).toBe('https://states.eu-west-1.amazonaws.com');
    expect(defaultEndpoint('secretsmanager', 'cn-north-1')).toBe('https://secretsmanager.cn-north-1.amazonaws.com.cn');
  });
});

describeWith(MOTO, "Step Functions' StartExecution against moto_server", () => {
  let moto: Moto;
  beforeAll(async () => {
    moto = await startMoto();
  }, 90_000);
  afterAll(async () => {
    await moto?.stop();
  });

  it('starts one run per (object, event, attempt), however often the event comes', async () => {
    const sfn = createAwsJsonClient({ ...STEP_FUNCTIONS_API, region: REGION, endpoint: moto.endpoint, credentials: { ...MOTO_CREDENTIALS } });
    try {
      const { stateMachineArn } = await sfn.call<{ stateMachineArn: string }>('CreateStateMachine', {
        name: 'fan-out',
        definition: JSON.stringify({ StartAt: 'Plan', States: { Plan: { Type: 'Pass', End: true } } }),
        roleArn: 'arn:aws:iam::123456789012:role/fan-out',
      });
      const config = { ...TEST_CONFIG, uploadsBucket: 'phys-uploads' };
      const record = {
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: 'phys-uploads' }, object: { key: 'users/u1/big.csv', size: 3 * 2 ** 30, eTag: 'e1', sequencer: '0055AED6DCD90281E5' } },
      };
      const starter = stepFunctionsStarter(sfn, config, stateMachineArn);

      await expect(starter.start({ record, attempt: 0 })).resolves.toBe('started');
      // The same event again while the run goes on: Step Functions answers the first call's answer.
      await expect(starter.start({ record, attempt: 0 })).resolves.toBe('started');
      // The same object event in other words (S3 may send one event twice): ExecutionAlreadyExists.
      await expect(starter.start({ record: { ...record, eventTime: '2025-02-03T04:00:01.000Z' }, attempt: 0 })).resolves.toBe('already-started');
      // A failed run's replay is another attempt: a run of its own.
      await expect(starter.start({ record, attempt: 1 })).resolves.toBe('started');

      const { executions } = await sfn.call<{ executions: { name: string }[] }>('ListExecutions', { stateMachineArn });
      expect(executions.map((e) => e.name).sort()).toEqual([runNameOf(config, { record, attempt: 0 }), runNameOf(config, { record, attempt: 1 })].sort());
      await expect(stepFunctionsStarter(sfn, config, `${stateMachineArn}-gone`).start({ record, attempt: 0 })).rejects.toMatchObject({ name: 'StateMachineDoesNotExist' });
    } finally {
      sfn.destroy();
    }
  }, 60_000);
});
