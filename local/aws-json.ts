/**
 * Answers in the AWS JSON protocol (1.0 for SQS, 1.1 for Secrets Manager) that the local SQS and
 * Secrets Manager speak: a JSON body, its length, and a request id, as the SDK expects them.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

export function sendAwsJson(res: ServerResponse, contentType: string, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const bytes = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(status, { ...extra, 'content-type': contentType, 'content-length': String(bytes.length), 'x-amzn-requestid': randomUUID() });
  res.end(bytes);
}
