/**
 * The local SQS queue: an HTTP server on 127.0.0.1 speaking SQS's JSON protocol (what
 * `@aws-sdk/client-sqs` speaks: `POST /`, `Content-Type: application/x-amz-json-1.0`,
 * `X-Amz-Target: AmazonSQS.<Action>`), with queues and messages kept on disk (./store.ts).
 *
 * Every request goes through:
 *   protocol (JSON only) → SigV4 for service `sqs` (../s3/sigv4.ts, the embedded S3's verifier)
 *   → action (./actions.ts) → store
 * and is refused, with SQS's error types and codes (./errors.ts), where SQS would refuse it.
 *
 * Why the query protocol (form-encoded `Action=SendMessage&…`) is refused although SQS takes it:
 * a web page can send such a form to 127.0.0.1 from any site without a CORS preflight, so this
 * server takes only requests no browser sends cross-site unasked (a JSON content type and an
 * X-Amz-Target header both force a preflight, which is never answered here). Signatures are
 * checked as well, so a request needs an accepted key anyway.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { authenticateWithBody, S3AuthError } from '../s3/sigv4';
import { ACTIONS, NOT_SERVED } from './actions';
import {
  incompleteSignature,
  internalFailure,
  invalidClientTokenId,
  missingAuthenticationToken,
  requestEntityTooLarge,
  signatureDoesNotMatch,
  SqsError,
  serializationError,
  unknownOperation,
  unsupportedOperation,
} from './errors';
import { QueueStore, type PeekedMessage } from './store';
import { readBody } from '../read-body';
import { sendAwsJson } from '../aws-json';
import { listen } from '../listen';

export interface LocalQueueOptions {
  /** Where queues and messages are kept; a restart on the same directory finds them again. */
  directory: string;
  /** The region signatures must be scoped to, and of the queues' ARNs. */
  region: string;
  /** The keys whose signatures are accepted. */
  credentials: readonly { accessKeyId: string; secretAccessKey: string }[];
  /** 0 (the default) picks a free port. The server listens on 127.0.0.1 only. */
  port?: number;
  /** In queue URLs and ARNs. Default 000000000000. */
  accountId?: string;
  /** The clock signatures are checked against (tests); visibility timeouts use the real one. */
  signatureClock?: () => Date;
  log?: (line: string) => void;
}

export interface LocalQueue {
  /** `http://127.0.0.1:<port>`: the SQSClient's endpoint. */
  endpoint: string;
  /** `<endpoint>/<account>/<name>`, as SQS's QueueUrl. */
  queueUrl(name: string): string;
  /** `arn:aws:sqs:<region>:<account>:<name>`. */
  queueArn(name: string): string;
  /** A queue's messages, read without being received (in-process, for local tooling; not SQS). */
  peek(name: string): Promise<PeekedMessage[]>;
  /** Ends long polls (they answer no messages), closes the server, waits for writes under way. */
  close(): Promise<void>;
}

const JSON_CONTENT_TYPE = 'application/x-amz-json-1.0';
const TARGET_PREFIX = 'AmazonSQS.';
/** Above SQS's largest request (a 256 KiB batch, escaped as JSON); an upload of anything else is cut short. */
const MAX_BODY_BYTES = 2 * 1024 * 1024;
const HOST = '127.0.0.1';

export async function startLocalQueue(options: LocalQueueOptions): Promise<LocalQueue> {
  const log = options.log ?? (() => undefined);
  const accountId = options.accountId ?? '000000000000';
  const store = await QueueStore.open({ directory: options.directory, region: options.region, accountId, log });
  const secrets = new Map(options.credentials.map((c) => [c.accessKeyId, c.secretAccessKey]));
  let endpoint = '';
  const queueUrl = (name: string) => `${endpoint}/${accountId}/${name}`;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Aborted when the caller disconnects, so a long poll stops waiting (and takes no message) for nobody.
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    try {
      const action = checkProtocol(req);
      const body = await readBody(req, MAX_BODY_BYTES, () => requestEntityTooLarge(MAX_BODY_BYTES));
      const { accessKeyId } = await authenticate(req, body);
      const run = ACTIONS[action];
      if (!run) throw NOT_SERVED.has(action) ? unsupportedOperation(`${action} is not served by the local queue.`) : unknownOperation();
      let input: unknown;
      try {
        input = body.length ? JSON.parse(body.toString('utf8')) : {};
      } catch {
        throw serializationError('The request body is not valid JSON.');
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) throw serializationError('The request body must be a JSON object.');
      const output = await run(input as Record<string, unknown>, { store, accessKeyId, queueUrl, signal: gone.signal });
      sendAwsJson(res, JSON_CONTENT_TYPE, 200, output);
    } catch (err) {
      sendError(req, res, err);
    }
  }

  function checkProtocol(req: IncomingMessage): string {
    const url = req.url ?? '/';
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const target = header(req, 'x-amz-target');
    const queryProtocol = contentType === 'application/x-www-form-urlencoded' || /[?&]Action=/.test(url);
    if (req.method !== 'POST' || url !== '/' || contentType !== JSON_CONTENT_TYPE || queryProtocol || !target?.startsWith(TARGET_PREFIX)) {
      throw unsupportedOperation(
        `The local queue speaks SQS's JSON protocol only: POST / with Content-Type: ${JSON_CONTENT_TYPE} and X-Amz-Target: AmazonSQS.<Action>` +
          (queryProtocol ? '. The query protocol (Action=…) is refused, as a web page could send it from any site.' : '.'),
      );
    }
    return target.slice(TARGET_PREFIX.length);
  }

  async function authenticate(req: IncomingMessage, body: Buffer): Promise<{ accessKeyId: string }> {
    try {
      return await authenticateWithBody(
        { method: 'POST', path: '/', query: '', headers: req.headers },
        body,
        {
          service: 'sqs',
          region: options.region,
          secretFor: (id) => secrets.get(id),
          ...(options.signatureClock ? { now: options.signatureClock } : {}),
        },
      );
    } catch (err) {
      if (!(err instanceof S3AuthError)) throw err;
      // S3's words for the refusal, in SQS's.
      switch (err.code) {
        case 'AccessDenied':
          throw missingAuthenticationToken();
        case 'InvalidAccessKeyId':
          throw invalidClientTokenId();
        case 'SignatureDoesNotMatch':
        case 'XAmzContentSHA256Mismatch':
          throw signatureDoesNotMatch(
            'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
          );
        case 'RequestTimeTooSkewed':
          throw signatureDoesNotMatch(`Signature expired: ${err.details.RequestTime ?? ''} is now earlier or later than the server time ${err.details.ServerTime ?? ''} by more than 15 minutes.`);
        default:
          throw incompleteSignature(err.message);
      }
    }
  }

  function sendError(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    let error: SqsError;
    if (err instanceof SqsError) error = err;
    else {
      log(`sqs: ${header(req, 'x-amz-target') ?? req.method}: ${(err as Error)?.stack ?? String(err)}`);
      error = internalFailure();
    }
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    // A refused request whose body has not all arrived: do not make the client send the rest.
    const extra: Record<string, string> = { 'x-amzn-query-error': `${error.code};${error.senderFault ? 'Sender' : 'Receiver'}` };
    if (!req.complete) extra.connection = 'close';
    req.resume();
    sendAwsJson(res, JSON_CONTENT_TYPE, error.status, { __type: error.type, message: error.message }, extra);
  }

  const server = createServer((req, res) => void handle(req, res));
  await listen(server, options.port ?? 0, HOST);
  endpoint = `http://${HOST}:${(server.address() as AddressInfo).port}`;

  return {
    endpoint,
    queueUrl,
    queueArn: (name) => store.arnOf(name),
    peek: (name) => store.peek(store.queueNamed(name)),
    close: async () => {
      await store.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}


function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}
