/**
 * Structured logs, one object a line. The functions run with Lambda's JSON log format
 * (lib/constructs/service-function.ts): the runtime writes one object passed to `console` as the
 * `message` of its own JSON record, beside the timestamp, level and Lambda request id, and the
 * function's application log level filters by the console method (log: INFO, warn: WARN, error:
 * ERROR). Local mode hands in `jsonLines`, which prints the same objects as lines of JSON.
 */
export type LogLine = Record<string, unknown> & { level?: 'info' | 'warn' | 'error' };
export type Logger = (line: LogLine) => void;

/** What the deployed functions log with. */
export const lambdaLogger: Logger = (line) => {
  if (line.level === 'error') console.error(line);
  else if (line.level === 'warn') console.warn(line);
  else console.log(line);
};

/** A logger that writes each line as one line of JSON (local mode, where nothing wraps it). */
export function jsonLines(write: (text: string) => void): Logger {
  return (line) => write(JSON.stringify(line));
}

/**
 * The one line an API request leaves: the API Gateway request id (the access log's too), the
 * route as the route table spells it (never the raw path, which holds user keys), the caller's
 * `sub`, the status and the outcome: `ok`, or the error code the caller got. Nothing from headers,
 * query or body, so no bearer token, cursor or presigned URL can reach the logs.
 */
export interface RequestLine {
  requestId: string | undefined;
  route: string;
  userId: string | undefined;
  status: number;
  outcome: string;
  durationMs: number;
}

export function logRequest(log: Logger, line: RequestLine): void {
  log({ level: line.status >= 500 ? 'error' : 'info', message: 'request', ...line });
}
