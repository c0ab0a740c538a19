/**
 * Bounded retries with full-jitter exponential backoff, for one flow step.
 *
 * Only transient classes are retried (network, timeout, http_5xx, rate_limited); nonce,
 * underpriced, revert, integrity, http_4xx and other never are: retrying them repeats the same
 * failure and multiplies the load. A rate-limited error can say when to come back through a
 * `retryAfterMs` property (`RetryHint`), read structurally from the error or its causes.
 */
import { ConfigError } from '../errors.ts';
import { ERROR_CLASSES, type ErrorClass, type StepName } from '../flow.ts';
import type { RandomSource } from './seededRandom.ts';
import { sleepUnlessAborted } from './deadlineSignal.ts';

/** The error classes `withRetry` may retry. */
export const RETRYABLE_ERROR_CLASSES: readonly ErrorClass[] = ['network', 'timeout', 'http_5xx', 'rate_limited'];

/**
 * A server's "come back later" (HTTP `Retry-After`, in ms), carried as a property of the thrown
 * error or of an error in its `cause` chain, e.g. on a `VanaLoadError` subclass.
 */
export interface RetryHint {
  retryAfterMs?: number;
}

export interface RetryInfo {
  step: StepName | undefined;
  /** The attempt that just failed, 1-based. */
  attempt: number;
  /** Pause before the next attempt. */
  delayMs: number;
  errorClass: ErrorClass;
  /** The server's hint, when the error carried one. */
  retryAfterMs: number | undefined;
  error: unknown;
}

export interface WithRetryOptions {
  /** Reported in `onRetry`. */
  step?: StepName;
  /** Attempts in all, the first included. Default 3; 1 = no retry. */
  maxAttempts?: number;
  /** Backoff cap of the first retry; doubles per retry. Default 200. */
  baseDelayMs?: number;
  /** Cap on one pause, a `retryAfterMs` hint included. Default 5_000. */
  maxDelayMs?: number;
  /** Further narrows the retryable classes; it cannot make another class retryable. */
  isRetryable?: (error: unknown) => boolean;
  onRetry?: (info: RetryInfo) => void;
  /** Aborting stops retrying: a pending pause ends and the last error is thrown. */
  signal?: AbortSignal;
  /** Jitter source in [0, 1). Default `Math.random`; pass a seeded one for reproducible delays. */
  random?: RandomSource;
}

/**
 * Calls `fn` until it resolves, it throws a non-retryable error, or `maxAttempts` are spent; then
 * resolves with its value or throws its last error unchanged. The pause before retry k is drawn
 * uniformly from [0, min(maxDelayMs, baseDelayMs × 2^(k-1))], and is at least `retryAfterMs`
 * (capped at `maxDelayMs`) when the error carries that hint.
 *
 * @example
 * const receipt = await withRetry(() => relay(request), { step: 'relay', signal, onRetry: () => retries++ });
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: WithRetryOptions = {}): Promise<T> {
  const { step, maxAttempts = 3, baseDelayMs = 200, maxDelayMs = 5_000, isRetryable, onRetry, signal, random = Math.random } = options;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) invalid('maxAttempts', 'an integer >= 1', maxAttempts);
  if (!Number.isFinite(baseDelayMs) || baseDelayMs < 0) invalid('baseDelayMs', 'a finite number >= 0', baseDelayMs);
  if (!Number.isFinite(maxDelayMs) || maxDelayMs < baseDelayMs) invalid('maxDelayMs', `a finite number >= baseDelayMs (${baseDelayMs})`, maxDelayMs);

  signal?.throwIfAborted();
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      const errorClass = errorClassOf(error);
      const retryable = RETRYABLE_ERROR_CLASSES.includes(errorClass) && (isRetryable?.(error) ?? true);
      if (!retryable || attempt >= maxAttempts || signal?.aborted) throw error;
      const retryAfterMs = retryAfterMsOf(error);
      const jittered = random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      const delayMs = Math.min(maxDelayMs, Math.max(jittered, retryAfterMs ?? 0));
      onRetry?.({ step, attempt, delayMs, errorClass, retryAfterMs, error });
      await sleepUnlessAborted(delayMs, signal, () => error);
    }
  }
}

/** The error class of `error`: its `errorClass` property when that is one of ERROR_CLASSES (as on `VanaLoadError`), else `other`. */
export function errorClassOf(error: unknown): ErrorClass {
  const value = typeof error === 'object' && error !== null ? (error as { errorClass?: unknown }).errorClass : undefined;
  return (ERROR_CLASSES as readonly unknown[]).includes(value) ? (value as ErrorClass) : 'other';
}

/** The first finite, non-negative `retryAfterMs` (RetryHint) on `error` or its `cause` chain. */
export function retryAfterMsOf(error: unknown): number | undefined {
  let current = error;
  for (let depth = 0; depth < 16 && typeof current === 'object' && current !== null; depth++) {
    const hint = (current as RetryHint).retryAfterMs;
    if (typeof hint === 'number' && Number.isFinite(hint) && hint >= 0) return hint;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function invalid(field: string, expected: string, got: unknown): never {
  throw new ConfigError(`withRetry ${field}: Expected ${expected}, got ${String(got)}`, { code: 'RETRY_OPTIONS_INVALID' });
}
