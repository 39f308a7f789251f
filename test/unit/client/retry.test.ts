import { ApiError } from '../../../client/api-client';
import { backoffDelay, isRetryableError, withRetry } from '../../../client/retry';

const fast = { retries: 3, baseDelayMs: 100, maxDelayMs: 1000, sleep: async () => undefined };

describe('isRetryableError', () => {
  it.each([
    ['a network failure (fetch TypeError)', new TypeError('fetch failed'), true],
    ['a 500', new ApiError(500, 'InternalError', 'x'), true],
    ['a 503 SlowDown', new ApiError(503, 'SlowDown', 'x'), true],
    ['a 429', new ApiError(429, 'TooManyRequests', 'x'), true],
    ['a 400 RequestTimeout from S3', new ApiError(400, 'RequestTimeout', 'x'), true],
    ['a 404', new ApiError(404, 'NoSuchKey', 'x'), false],
    ['a 409 SizeMismatch', new ApiError(409, 'SizeMismatch', 'x'), false],
    ['a plain error', new Error('bug'), false],
  ])('treats %s as retryable: %s', (_name, err, expected) => {
    expect(isRetryableError(err)).toBe(expected);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially up to the cap, scaled by the jitter', () => {
    expect([0, 1, 2, 3, 4, 5].map((a) => backoffDelay(a, { baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.5 }))).toEqual([50, 100, 200, 400, 500, 500]);
  });

  it('is zero when the jitter draws zero (full jitter)', () => {
    expect(backoffDelay(3, { baseDelayMs: 100, maxDelayMs: 1000, random: () => 0 })).toBe(0);
  });
});

describe('withRetry', () => {
  it('returns the result once a retryable failure stops happening', async () => {
    const fn = jest.fn().mockRejectedValueOnce(new ApiError(500, 'X', 'x')).mockResolvedValueOnce('ok');
    await expect(withRetry(fn, fast)).resolves.toBe('ok');
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('does not retry an error the caller has to fix', async () => {
    const fn = jest.fn().mockRejectedValue(new ApiError(400, 'InvalidKey', 'x'));
    await expect(withRetry(fn, fast)).rejects.toMatchObject({ code: 'InvalidKey' });
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('gives up after the configured number of retries', async () => {
    const fn = jest.fn().mockRejectedValue(new ApiError(503, 'SlowDown', 'x'));
    await expect(withRetry(fn, fast)).rejects.toMatchObject({ code: 'SlowDown' });
    expect(fn).toHaveBeenCalledTimes(4);
  });

  it('waits the backoff delay between attempts', async () => {
    const waits: number[] = [];
    const fn = jest.fn().mockRejectedValueOnce(new TypeError('fetch failed')).mockRejectedValueOnce(new TypeError('fetch failed')).mockResolvedValue(1);
    await withRetry(fn, { ...fast, random: () => 1, sleep: async (ms) => void waits.push(ms) });
    expect(waits).toEqual([100, 200]);
  });
});
