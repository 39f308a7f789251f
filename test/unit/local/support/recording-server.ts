/**
 * A throwaway HTTP server on 127.0.0.1 that records every request exactly as a client put it on
 * the wire (raw target, lower-case headers, body bytes) and answers an empty 200, so tests can
 * feed real SDK and CLI requests to `authenticate` and the payload verifiers.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IncomingS3Request } from '../../../../local/s3/sigv4';

export interface RecordedRequest extends IncomingS3Request {
  body: Buffer;
}

export interface RecordingServer {
  endpoint: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startRecordingServer(): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = splitTarget(req.url ?? '/');
      requests.push({ method: req.method ?? 'GET', ...target, headers: { ...req.headers }, body: Buffer.concat(chunks) });
      // An ETag keeps PutObject and UploadPart callers content; nothing reads the body.
      res.writeHead(200, { etag: '"recorded"', 'content-length': '0' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}

/** The request a client sends for a presigned URL: its raw path and query, and the headers given. */
export function requestForUrl(method: string, url: string, headers: Record<string, string> = {}): IncomingS3Request {
  const afterScheme = url.indexOf('//') + 2;
  const slash = url.indexOf('/', afterScheme);
  return {
    method,
    ...splitTarget(url.slice(slash)),
    headers: { host: url.slice(afterScheme, slash), ...headers },
  };
}

/** Splits a request target without decoding or normalising it: the signature covers it as sent. */
function splitTarget(target: string): { path: string; query: string } {
  const question = target.indexOf('?');
  return question < 0 ? { path: target, query: '' } : { path: target.slice(0, question), query: target.slice(question + 1) };
}
