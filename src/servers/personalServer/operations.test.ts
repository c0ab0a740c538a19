import { describe, expect, it } from 'vitest';
import { createOperationStore } from './operations.ts';

function fakeStore(options: { maxOperations?: number; finishedTtlMs?: number } = {}) {
  const clock = { t: 1_000 };
  let n = 0;
  const store = createOperationStore({ ...options, now: () => clock.t, newId: () => `op-${++n}` });
  return { store, clock };
}

describe('createOperationStore', () => {
  it('moves an operation pending → running → succeeded with timestamps and result', () => {
    const { store, clock } = fakeStore();
    const { record } = store.create()!;
    expect(record).toEqual({ id: 'op-1', status: 'pending', createdAt: 1_000, startedAt: null, finishedAt: null, result: null });
    clock.t = 1_010;
    expect(store.start('op-1')).toBe(true);
    clock.t = 1_050;
    expect(store.finish('op-1', 'succeeded', '{"ok":true}')).toBe(true);
    expect(store.get('op-1')).toEqual({ id: 'op-1', status: 'succeeded', createdAt: 1_000, startedAt: 1_010, finishedAt: 1_050, result: '{"ok":true}' });
  });

  it('refuses moves the state machine does not have', () => {
    const { store } = fakeStore();
    store.create();
    expect(store.finish('op-1', 'succeeded', 'x')).toBe(false); // pending cannot finish
    store.start('op-1');
    expect(store.start('op-1')).toBe(false);
    store.finish('op-1', 'failed', 'boom');
    expect(store.finish('op-1', 'succeeded', 'late')).toBe(false);
    expect(store.get('op-1')?.status).toBe('failed');
    expect(store.start('missing')).toBe(false);
  });

  it('cancels a running operation, aborts its signal and ignores the late result', () => {
    const { store } = fakeStore();
    const { signal } = store.create()!;
    store.start('op-1');
    expect(store.cancel('op-1')).toBe('cancelled');
    expect(signal.aborted).toBe(true);
    expect(store.finish('op-1', 'succeeded', 'late')).toBe(false);
    expect(store.get('op-1')).toMatchObject({ status: 'cancelled', result: null, finishedAt: 1_000 });
    expect(store.cancel('op-1')).toBe('already_finished');
    expect(store.cancel('nope')).toBe('not_found');
  });

  it('cancels a pending operation before it starts', () => {
    const { store } = fakeStore();
    store.create();
    expect(store.cancel('op-1')).toBe('cancelled');
    expect(store.start('op-1')).toBe(false);
  });

  it('evicts finished operations after the TTL but keeps live ones', () => {
    const { store, clock } = fakeStore({ finishedTtlMs: 100 });
    store.create();
    store.create();
    store.start('op-1');
    store.finish('op-1', 'succeeded', 'r');
    clock.t += 99;
    expect(store.get('op-1')?.status).toBe('succeeded');
    clock.t += 1;
    expect(store.get('op-1')).toBeUndefined();
    expect(store.get('op-2')?.status).toBe('pending');
    expect(store.stats()).toEqual({ stored: 1, live: 1, created: 2, succeeded: 1, failed: 0, cancelled: 0, evicted: 1, refused: 0 });
  });

  it('evicts the oldest finished operation when full, and refuses when full of live ones', () => {
    const { store } = fakeStore({ maxOperations: 2 });
    store.create();
    store.create();
    store.cancel('op-2');
    store.cancel('op-1');
    expect(store.create()?.record.id).toBe('op-3'); // op-2 finished first, so it goes first
    expect(store.get('op-2')).toBeUndefined();
    expect(store.get('op-1')?.status).toBe('cancelled');
    expect(store.create()?.record.id).toBe('op-4');
    expect(store.create()).toBeUndefined();
    expect(store.stats()).toMatchObject({ stored: 2, live: 2, evicted: 2, refused: 1 });
  });

  it('cancels every live operation on cancelAll', () => {
    const { store } = fakeStore();
    store.create();
    store.create();
    store.start('op-2');
    store.cancelAll();
    expect([store.get('op-1')?.status, store.get('op-2')?.status]).toEqual(['cancelled', 'cancelled']);
  });
});
