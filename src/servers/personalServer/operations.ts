/**
 * The personal server's operation store and the state machine every operation follows:
 *
 *   pending ─► running ─► succeeded | failed
 *      │          │
 *      └──────────┴─────► cancelled
 *
 * Any other move is refused (returns false), so a late backend answer can never overwrite a
 * cancellation. Memory is bounded for 100k-user runs: a finished operation is kept for
 * `finishedTtlMs` so the client can poll its result, and when the store is full the oldest
 * finished operations go first. Live operations are never evicted; a store full of them refuses
 * new ones.
 */
import { randomUUID } from 'node:crypto';
import { FINAL_OPERATION_STATUSES, type OperationStatusValue } from '../../protocol/personalServerApi.ts';

/** A snapshot of one operation (the store keeps its own copy). */
export interface OperationRecord {
  readonly id: string;
  readonly status: OperationStatusValue;
  /** ms since the epoch. */
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly result: string | null;
}

export type CancelOutcome = 'cancelled' | 'already_finished' | 'not_found';

export interface OperationStore {
  /** Creates a `pending` operation, or returns undefined when the store is full of live ones. */
  create(): { record: OperationRecord; signal: AbortSignal } | undefined;
  get(id: string): OperationRecord | undefined;
  /** pending → running. */
  start(id: string): boolean;
  /** running → succeeded | failed, with the result text. */
  finish(id: string, status: 'succeeded' | 'failed', result: string): boolean;
  /** pending | running → cancelled, and aborts the operation's signal. */
  cancel(id: string): CancelOutcome;
  /** Aborts every live operation (server shutdown); they end `cancelled`. */
  cancelAll(): void;
  stats(): OperationStoreStats;
}

export interface OperationStoreStats {
  /** Operations held (live + finished). */
  stored: number;
  /** pending + running. */
  live: number;
  created: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  /** Finished operations dropped by TTL or by the size bound. */
  evicted: number;
  /** `create` calls refused because the store was full of live operations. */
  refused: number;
}

export interface CreateOperationStoreParameters {
  /** Most operations held at once. Default 50_000. */
  maxOperations?: number;
  /** How long a finished operation stays pollable, ms. Default 15 minutes. */
  finishedTtlMs?: number;
  /** Clock in ms since the epoch; tests pass a fake one. */
  now?: () => number;
  /** Operation id factory. Default `randomUUID`. */
  newId?: () => string;
}

interface Entry {
  record: OperationRecord;
  controller: AbortController;
}

/**
 * Creates an empty operation store.
 *
 * @example
 * const store = createOperationStore({ maxOperations: 10_000 });
 * const { record, signal } = store.create()!;
 * store.start(record.id);
 * store.finish(record.id, 'succeeded', '{"ok":true}');
 */
export function createOperationStore({
  maxOperations = 50_000,
  finishedTtlMs = 15 * 60_000,
  now = Date.now,
  newId = randomUUID,
}: CreateOperationStoreParameters = {}): OperationStore {
  if (!Number.isSafeInteger(maxOperations) || maxOperations < 1) throw new RangeError(`Expected maxOperations >= 1, got ${maxOperations}`);
  if (!(finishedTtlMs >= 0)) throw new RangeError(`Expected finishedTtlMs >= 0, got ${finishedTtlMs}`);

  const entries = new Map<string, Entry>();
  // Finished ids in finishing order; with one TTL for all, the head is always the next to expire.
  const finishedOrder = new Map<string, number>();
  const counts = { created: 0, succeeded: 0, failed: 0, cancelled: 0, evicted: 0, refused: 0 };

  function evict(id: string): void {
    entries.delete(id);
    finishedOrder.delete(id);
    counts.evicted++;
  }

  function sweep(t: number): void {
    for (const [id, finishedAt] of finishedOrder) {
      if (finishedAt + finishedTtlMs > t) break;
      evict(id);
    }
  }

  function transition(id: string, from: readonly OperationStatusValue[], patch: Partial<Omit<OperationRecord, 'id'>>): Entry | undefined {
    const entry = entries.get(id);
    if (!entry || !from.includes(entry.record.status)) return undefined;
    entry.record = Object.freeze({ ...entry.record, ...patch });
    const status = entry.record.status;
    if (status === 'succeeded' || status === 'failed' || status === 'cancelled') {
      finishedOrder.set(id, entry.record.finishedAt ?? now());
      counts[status]++;
    }
    return entry;
  }

  function cancel(id: string): CancelOutcome {
    const entry = transition(id, ['pending', 'running'], { status: 'cancelled', finishedAt: now() });
    if (entry) {
      entry.controller.abort(new Error(`operation ${id} cancelled`));
      return 'cancelled';
    }
    return entries.has(id) ? 'already_finished' : 'not_found';
  }

  return {
    create() {
      const t = now();
      sweep(t);
      while (entries.size >= maxOperations) {
        const oldest = finishedOrder.keys().next();
        if (oldest.done) {
          counts.refused++;
          return undefined;
        }
        evict(oldest.value);
      }
      const record: OperationRecord = Object.freeze({
        id: newId(),
        status: 'pending',
        createdAt: t,
        startedAt: null,
        finishedAt: null,
        result: null,
      });
      const controller = new AbortController();
      entries.set(record.id, { record, controller });
      counts.created++;
      return { record, signal: controller.signal };
    },
    get(id) {
      sweep(now());
      return entries.get(id)?.record;
    },
    start(id) {
      return transition(id, ['pending'], { status: 'running', startedAt: now() }) !== undefined;
    },
    finish(id, status, result) {
      return transition(id, ['running'], { status, finishedAt: now(), result }) !== undefined;
    },
    cancel,
    cancelAll() {
      for (const [id, entry] of entries) {
        if (!FINAL_OPERATION_STATUSES.has(entry.record.status)) cancel(id);
      }
    },
    stats() {
      return { stored: entries.size, live: entries.size - finishedOrder.size, ...counts };
    },
  };
}
