import { getEventListeners } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { followSignals, sleepUnlessAborted, startDeadline } from './deadlineSignal.ts';

const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

describe('startDeadline', () => {
  it('follows the caller: aborts with its reason, not as a timeout', () => {
    const caller = new AbortController();
    const deadline = startDeadline(60_000, caller.signal);
    caller.abort(new Error('stop'));
    expect(deadline.signal.aborted).toBe(true);
    expect((deadline.signal.reason as Error).message).toBe('stop');
    expect(deadline.timedOut()).toBe(false);
    deadline.clear();
  });

  it('times out with a TimeoutError and says so', () => {
    vi.useFakeTimers();
    try {
      const deadline = startDeadline(1_000, undefined);
      vi.advanceTimersByTime(999);
      expect(deadline.signal.aborted).toBe(false);
      vi.advanceTimersByTime(1);
      expect(deadline.signal.aborted).toBe(true);
      expect((deadline.signal.reason as DOMException).name).toBe('TimeoutError');
      expect(deadline.timedOut()).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('is aborted at once when the caller already was', () => {
    const caller = new AbortController();
    caller.abort(new Error('early'));
    const deadline = startDeadline(60_000, caller.signal);
    expect(deadline.signal.aborted).toBe(true);
    deadline.clear();
  });

  it('leaves nothing on a run-long signal once cleared, however many pieces of work used it', () => {
    const run = new AbortController();
    for (let i = 0; i < 1_000; i++) startDeadline(60_000, run.signal).clear();
    expect(listeners(run.signal)).toBe(0);
  });
});

describe('followSignals', () => {
  it('aborts with the reason of whichever source aborts first and lets go of the others', () => {
    const [a, b] = [new AbortController(), new AbortController()];
    const followed = followSignals([a.signal, b.signal]);
    b.abort(new Error('b went'));
    expect((followed.signal.reason as Error).message).toBe('b went');
    expect(listeners(a.signal)).toBe(0);
    expect(listeners(b.signal)).toBe(0);
  });

  it('starts aborted when a source already is, with no listener left', () => {
    const [a, b] = [new AbortController(), new AbortController()];
    b.abort(new Error('gone'));
    const followed = followSignals([a.signal, b.signal]);
    expect(followed.signal.aborted).toBe(true);
    expect(listeners(a.signal)).toBe(0);
  });

  it('leaves nothing on its sources once cleared', () => {
    const [a, b] = [new AbortController(), new AbortController()];
    for (let i = 0; i < 1_000; i++) followSignals([a.signal, b.signal]).clear();
    expect(listeners(a.signal) + listeners(b.signal)).toBe(0);
  });
});

describe('sleepUnlessAborted', () => {
  it('resolves after the pause and leaves no listener behind', async () => {
    const controller = new AbortController();
    await sleepUnlessAborted(5, controller.signal, () => new Error('aborted'));
    expect(listeners(controller.signal)).toBe(0);
  });

  it('rejects with the given error as soon as the signal aborts, and at once when it already has', async () => {
    const controller = new AbortController();
    const sleeping = sleepUnlessAborted(60_000, controller.signal, () => new Error('aborted while sleeping'));
    controller.abort();
    await expect(sleeping).rejects.toThrow('aborted while sleeping');
    await expect(sleepUnlessAborted(60_000, controller.signal, () => new Error('already'))).rejects.toThrow('already');
  });
});
