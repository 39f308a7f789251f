import { ApiError } from './api-client';

export interface RetryOptions {
  /** Attempts after the first one. */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Injected for tests; defaults to Math.random and a real timer. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  isRetryable?: (err: unknown) => boolean;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

export const DEFAULT_RETRY: RetryOptions = { retries: 6, baseDelayMs: 250, maxDelayMs: 15_000 };

const THROTTLING_CODES = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'TooManyRequests', 'RequestTimeout', 'RequestTimeTooSkewed']);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * What is worth trying again: network failures (fetch throws a TypeError whose `cause` carries the
 * socket error), 5xx, 429 and S3's throttling codes. Anything else is the caller's to fix.
 */
export function isRetryableError(err: unknown): boolean {
  if (err instanceof ApiError) return err.status >= 500 || err.status === 429 || THROTTLING_CODES.has(err.code);
  if (err instanceof TypeError) return true; // "fetch failed": the request never got an HTTP answer
  const code = (err as { code?: unknown; cause?: { code?: unknown } } | undefined)?.code ?? (err as { cause?: { code?: unknown } })?.cause?.code;
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

/** Exponential backoff with full jitter: a random delay in [0, min(max, base * 2^attempt)). */
export function backoffDelay(attempt: number, options: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs' | 'random'>): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** attempt);
  return Math.floor((options.random ?? Math.random)() * ceiling);
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = DEFAULT_RETRY): Promise<T> {
  const retryable = options.isRetryable ?? isRetryableError;
  const sleep = options.sleep ?? realSleep;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= options.retries || !retryable(err)) throw err;
      const delay = backoffDelay(attempt, options);
      options.onRetry?.(err, attempt + 1, delay);
      await sleep(delay);
    }
  }
}
