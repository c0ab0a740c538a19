import { describe, expect, it } from 'vitest';
import { createFixedWindowLimiter } from './rateLimiter.ts';

describe('createFixedWindowLimiter', () => {
  it('allows limit hits per key and window, then refuses with the seconds left in the window', () => {
    let t = 120_000; // start of a minute window
    const limiter = createFixedWindowLimiter({ limit: 2, windowMs: 60_000, now: () => t });
    expect(limiter.hit('ip:a')).toEqual({ allowed: true, remaining: 1 });
    expect(limiter.hit('ip:a')).toEqual({ allowed: true, remaining: 0 });
    t += 15_500;
    expect(limiter.hit('ip:a')).toEqual({ allowed: false, retryAfterSeconds: 45 });
    expect(limiter.hit('ip:b')).toEqual({ allowed: true, remaining: 1 });
  });

  it('starts counting afresh at the next aligned window and drops old keys', () => {
    let t = 59_999;
    const limiter = createFixedWindowLimiter({ limit: 1, windowMs: 60_000, now: () => t });
    limiter.hit('ip:a');
    expect(limiter.hit('ip:a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    limiter.hit('ip:b');
    expect(limiter.size).toBe(2);
    t = 60_000;
    expect(limiter.hit('ip:a')).toEqual({ allowed: true, remaining: 0 });
    expect(limiter.size).toBe(1);
  });

  it('error: rejects a non-positive limit', () => {
    expect(() => createFixedWindowLimiter({ limit: 0, windowMs: 1000 })).toThrowErrorMatchingInlineSnapshot(`[RangeError: Expected limit as a positive integer, got 0]`);
  });
});
