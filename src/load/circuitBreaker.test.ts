import { describe, expect, it } from 'vitest';
import { createCircuitBreaker, type BreakerStateChange, type CircuitBreakerOptions } from './circuitBreaker.ts';

/** A breaker on a hand-driven clock, with its state changes collected. */
function breakerAt(options: CircuitBreakerOptions = {}) {
  let t = 1_000_000;
  const changes: BreakerStateChange[] = [];
  const breaker = createCircuitBreaker({
    windowMs: 10_000,
    minRequests: 20,
    failureRateToOpen: 0.5,
    openMs: 5_000,
    halfOpenProbes: 3,
    onStateChange: (change) => void changes.push(change),
    now: () => t,
    ...options,
  });
  const record = (successes: number, failures: number) => {
    for (let i = 0; i < successes; i++) breaker.record(true);
    for (let i = 0; i < failures; i++) breaker.record(false);
  };
  return { breaker, changes, record, advance: (ms: number) => void (t += ms), time: () => t };
}

describe('createCircuitBreaker', () => {
  it('stays closed below minRequests, even when every flow fails', () => {
    const { breaker, record } = breakerAt();
    record(0, 19);
    expect([breaker.state(), breaker.allow()]).toEqual(['closed', true]);
    record(0, 1);
    expect([breaker.state(), breaker.allow()]).toEqual(['open', false]);
  });

  it('opens when the failure rate reaches the threshold, not below it', () => {
    const below = breakerAt();
    below.record(11, 9);
    expect(below.breaker.state()).toBe('closed');
    const at = breakerAt();
    at.record(10, 10);
    expect(at.breaker.state()).toBe('open');
    expect(at.changes).toEqual([{ from: 'closed', to: 'open', reason: 'failure rate 50% (10/20) over 10000 ms >= 50%', at: at.time() }]);
  });

  it('forgets outcomes that slid out of the window', () => {
    const { breaker, record, advance } = breakerAt();
    record(0, 15);
    advance(11_000);
    record(10, 5);
    expect(breaker.stats().window).toEqual({ requests: 15, failures: 5 });
    expect(breaker.state()).toBe('closed');
  });

  it('turns half-open after openMs and lets exactly halfOpenProbes flows through', () => {
    const { breaker, record, advance } = breakerAt();
    record(0, 20);
    advance(4_999);
    expect([breaker.allow(), breaker.msUntilAllowed()]).toEqual([false, 1]);
    advance(1);
    expect([breaker.allow(), breaker.allow(), breaker.allow(), breaker.allow()]).toEqual([true, true, true, false]);
    expect(breaker.state()).toBe('half_open');
  });

  it('closes after halfOpenProbes successful probes, with an empty window', () => {
    const { breaker, record, advance, changes } = breakerAt();
    record(0, 20);
    advance(5_000);
    record(2, 0);
    expect(breaker.state()).toBe('half_open');
    record(1, 0);
    expect(breaker.stats()).toEqual({ state: 'closed', opened: 1, halfOpened: 1, closed: 1, window: { requests: 0, failures: 0 } });
    expect(changes.map(({ from, to, reason }) => `${from} → ${to}: ${reason}`)).toEqual([
      'closed → open: failure rate 100% (20/20) over 10000 ms >= 50%',
      'open → half_open: open for 5000 ms',
      'half_open → closed: 3 half-open probes succeeded',
    ]);
    expect(breaker.allow()).toBe(true);
  });

  it('reopens on a failed probe and waits openMs again', () => {
    const { breaker, record, advance, changes } = breakerAt();
    record(0, 20);
    advance(5_000);
    record(1, 1);
    expect(breaker.stats()).toMatchObject({ state: 'open', opened: 2, halfOpened: 1, closed: 0 });
    expect(changes.at(-1)).toMatchObject({ from: 'half_open', to: 'open', reason: 'a half-open probe failed' });
    expect(breaker.msUntilAllowed()).toBe(5_000);
    advance(5_000);
    expect(breaker.allow()).toBe(true);
  });

  it('ignores outcomes recorded while open', () => {
    const { breaker, record, advance } = breakerAt();
    record(0, 20);
    record(50, 0);
    advance(5_000);
    expect(breaker.stats()).toMatchObject({ state: 'half_open', closed: 0 });
  });

  it('error: rejects options out of range', () => {
    expect(() => createCircuitBreaker({ failureRateToOpen: 0 })).toThrow('createCircuitBreaker failureRateToOpen: Expected a number in (0, 1], got 0');
    expect(() => createCircuitBreaker({ halfOpenProbes: 0 })).toThrow('createCircuitBreaker halfOpenProbes: Expected an integer >= 1, got 0');
  });
});
