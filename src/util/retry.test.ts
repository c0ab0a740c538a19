import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, VanaLoadError } from '../errors.ts';
import { type ErrorClass } from '../flow.ts';
import { createSeededRandom } from './seededRandom.ts';
import { RETRYABLE_ERROR_CLASSES, retryAfterMsOf, withRetry, type RetryInfo } from './retry.ts';

function errorOf(errorClass: ErrorClass, extra: { retryAfterMs?: number } = {}): VanaLoadError {
  return Object.assign(new VanaLoadError(`${errorClass} failure`, { code: 'TEST', errorClass, step: 'relay' }), extra);
}

/** fn failing with `errors` in turn, then resolving with the attempt number; counts calls. */
function failing(...errors: unknown[]) {
  const fn = vi.fn(async (attempt: number) => {
    if (attempt <= errors.length) throw errors[attempt - 1];
    return attempt;
  });
  return fn;
}

describe('withRetry', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it.each(['network', 'timeout', 'http_5xx', 'rate_limited'] as const)('retries %s errors until the call succeeds', async (errorClass) => {
    const fn = failing(errorOf(errorClass), errorOf(errorClass));
    const result = withRetry(fn, { maxAttempts: 3 });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await result).toBe(3);
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it.each(['nonce', 'underpriced', 'revert', 'integrity', 'http_4xx', 'other'] as const)('error: never retries %s errors', async (errorClass) => {
    const error = errorOf(errorClass);
    const fn = failing(error);
    await expect(withRetry(fn, { maxAttempts: 5 })).rejects.toBe(error);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('error: never retries an error without a class', async () => {
    const fn = failing(new Error('plain'));
    await expect(withRetry(fn)).rejects.toThrow('plain');
    expect(fn).toHaveBeenCalledTimes(1);
    expect(RETRYABLE_ERROR_CLASSES).toEqual(['network', 'timeout', 'http_5xx', 'rate_limited']);
  });

  it('error: stops after maxAttempts and throws the last error', async () => {
    const errors = [errorOf('network'), errorOf('timeout'), errorOf('http_5xx'), errorOf('network')];
    const fn = failing(...errors);
    const result = withRetry(fn, { maxAttempts: 3 });
    const settled = expect(result).rejects.toBe(errors[2]);
    await vi.advanceTimersByTimeAsync(10_000);
    await settled;
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it('backs off exponentially with full jitter, capped at maxDelayMs', async () => {
    const delays: number[] = [];
    const fn = failing(...Array.from({ length: 6 }, () => errorOf('network')));
    const result = withRetry(fn, { maxAttempts: 7, baseDelayMs: 200, maxDelayMs: 5_000, random: () => 0.5, onRetry: (info) => void delays.push(info.delayMs) });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(await result).toBe(7);
    expect(delays).toEqual([100, 200, 400, 800, 1_600, 2_500]);
  });

  it('keeps every seeded jittered delay within [0, min(maxDelayMs, base × 2^(k-1))]', async () => {
    const infos: RetryInfo[] = [];
    for (let run = 0; run < 50; run++) {
      const fn = failing(...Array.from({ length: 5 }, () => errorOf('http_5xx')));
      const result = withRetry(fn, { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 1_000, random: createSeededRandom(run), onRetry: (info) => void infos.push(info) });
      await vi.advanceTimersByTimeAsync(10_000);
      await result;
    }
    for (const { attempt, delayMs } of infos) {
      expect(delayMs).toBeGreaterThanOrEqual(0);
      expect(delayMs).toBeLessThanOrEqual(Math.min(1_000, 100 * 2 ** (attempt - 1)));
    }
    // Full jitter spreads the delays: at attempt 4 (cap 800 ms) some are short, some long.
    const fourth = infos.filter((info) => info.attempt === 4).map((info) => info.delayMs);
    expect(Math.min(...fourth)).toBeLessThan(200);
    expect(Math.max(...fourth)).toBeGreaterThan(600);
  });

  it('waits at least retryAfterMs before the next attempt, and no longer than maxDelayMs', async () => {
    const fn = failing(errorOf('rate_limited', { retryAfterMs: 1_500 }), errorOf('rate_limited', { retryAfterMs: 60_000 }));
    const infos: RetryInfo[] = [];
    const result = withRetry(fn, { baseDelayMs: 100, maxDelayMs: 5_000, random: () => 0, onRetry: (info) => void infos.push(info) });
    await vi.advanceTimersByTimeAsync(1_499);
    expect(fn).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(fn).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(fn).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(await result).toBe(3);
    expect(infos.map(({ attempt, delayMs, retryAfterMs, errorClass }) => ({ attempt, delayMs, retryAfterMs, errorClass }))).toEqual([
      { attempt: 1, delayMs: 1_500, retryAfterMs: 1_500, errorClass: 'rate_limited' },
      { attempt: 2, delayMs: 5_000, retryAfterMs: 60_000, errorClass: 'rate_limited' },
    ]);
  });

  it('finds a retryAfterMs hint in the cause chain', () => {
    const inner = Object.assign(new Error('429'), { retryAfterMs: 700 });
    expect(retryAfterMsOf(new VanaLoadError('rate limited', { code: 'HTTP_STATUS', errorClass: 'rate_limited', cause: inner }))).toBe(700);
    expect(retryAfterMsOf(Object.assign(new Error('bad hint'), { retryAfterMs: Number.NaN }))).toBe(undefined);
  });

  it('lets isRetryable narrow the retryable classes but not widen them', async () => {
    const narrowed = failing(errorOf('timeout'));
    await expect(withRetry(narrowed, { isRetryable: () => false })).rejects.toThrow('timeout failure');
    expect(narrowed).toHaveBeenCalledTimes(1);
    const widened = failing(errorOf('revert'));
    await expect(withRetry(widened, { isRetryable: () => true })).rejects.toThrow('revert failure');
    expect(widened).toHaveBeenCalledTimes(1);
  });

  it('error: an abort during the pause ends it at once with the last error', async () => {
    const controller = new AbortController();
    const error = errorOf('network');
    const fn = failing(error, error);
    const result = withRetry(fn, { baseDelayMs: 1_000, maxDelayMs: 1_000, random: () => 0.99, signal: controller.signal });
    const settled = expect(result).rejects.toBe(error);
    await vi.advanceTimersByTimeAsync(100);
    controller.abort();
    await settled;
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('error: rejects bad options before the first call', async () => {
    const fn = failing();
    await expect(withRetry(fn, { maxAttempts: 0 })).rejects.toThrow(ConfigError);
    await expect(withRetry(fn, { maxAttempts: 0 })).rejects.toThrow('withRetry maxAttempts: Expected an integer >= 1, got 0');
    await expect(withRetry(fn, { baseDelayMs: 500, maxDelayMs: 100 })).rejects.toThrow('withRetry maxDelayMs: Expected a finite number >= baseDelayMs (500), got 100');
    expect(fn).not.toHaveBeenCalled();
  });
});
