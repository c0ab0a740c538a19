/**
 * Fixed-window rate limiting, the scheme the real personal server uses (Upstash `FixedWindow`,
 * PROTOCOL.md 9): windows are aligned to multiples of the window length, every key counts hits in
 * the current window, and a refused hit learns how many seconds remain until the next one.
 * Memory stays bounded: when a new window begins, all counts of the old one are dropped at once.
 */

export type RateLimitDecision = { allowed: true; remaining: number } | { allowed: false; retryAfterSeconds: number };

export interface FixedWindowLimiter {
  /** Counts one hit for `key` and says whether it is within the limit. */
  hit(key: string): RateLimitDecision;
  /** Keys counted in the current window. */
  readonly size: number;
}

export interface CreateFixedWindowLimiterParameters {
  /** Hits allowed per key and window. */
  limit: number;
  windowMs: number;
  /** Clock in ms since the epoch; tests pass a fake one. */
  now?: () => number;
}

/**
 * Creates a fixed-window limiter.
 *
 * @example
 * const perIp = createFixedWindowLimiter({ limit: 60, windowMs: 60_000 });
 * const decision = perIp.hit(`ip:${ip}`);
 * if (!decision.allowed) reply.header('Retry-After', String(decision.retryAfterSeconds)).code(429);
 */
export function createFixedWindowLimiter({ limit, windowMs, now = Date.now }: CreateFixedWindowLimiterParameters): FixedWindowLimiter {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`Expected limit as a positive integer, got ${limit}`);
  if (!Number.isSafeInteger(windowMs) || windowMs < 1) throw new RangeError(`Expected windowMs as a positive integer, got ${windowMs}`);
  let window = -1;
  let counts = new Map<string, number>();
  return {
    hit(key) {
      const t = now();
      const current = Math.floor(t / windowMs);
      if (current !== window) {
        window = current;
        counts = new Map();
      }
      const count = (counts.get(key) ?? 0) + 1;
      counts.set(key, count);
      if (count <= limit) return { allowed: true, remaining: limit - count };
      const windowEnd = (current + 1) * windowMs;
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((windowEnd - t) / 1000)) };
    },
    get size() {
      return counts.size;
    },
  };
}
