/**
 * Heap snapshots of the harness during a run, for finding what holds memory (development only):
 * `VANA_LOAD_HEAP_SNAPSHOTS=5000,10000,end` writes `heap-5000.heapsnapshot` once 5000 flows have
 * finished, `heap-10000.heapsnapshot` at 10000, and `heap-end.heapsnapshot` when the run is over
 * (every flow finished, the environment still open: what is left then is residue), into the run's
 * results directory. Compare them with `npx tsx scripts/heap-snapshot.ts`.
 *
 * Writing a snapshot stops the event loop for seconds (longer with a bigger heap) and briefly
 * needs about as much memory again: flows in flight then see late timers, and the run's latency
 * and memory figures are not the ones of a run without snapshots. Never for a measured run.
 */
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { ConfigError } from '../../errors.ts';
import type { RunReporter } from '../runReporter.ts';

/** The env var that turns snapshots on; unset or empty = none. */
export const HEAP_SNAPSHOTS_ENV = 'VANA_LOAD_HEAP_SNAPSHOTS';

export interface HeapSnapshotPlan {
  /** Finished-flow counts to snapshot at, ascending, no repeats. */
  atFlows: readonly number[];
  /** Also snapshot when the run is over. */
  atEnd: boolean;
}

/**
 * Reads `VANA_LOAD_HEAP_SNAPSHOTS`: comma-separated finished-flow counts and/or `end`. Returns
 * undefined when unset or empty; a bad value is a `ConfigError` (exit 2) naming the variable.
 *
 * @example
 * parseHeapSnapshotPlan('5000,10000,end'); // { atFlows: [5000, 10000], atEnd: true }
 */
export function parseHeapSnapshotPlan(value: string | undefined): HeapSnapshotPlan | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const atFlows = new Set<number>();
  let atEnd = false;
  for (const raw of value.split(',')) {
    const item = raw.trim();
    if (item === 'end') atEnd = true;
    else if (/^[1-9]\d{0,8}$/.test(item)) atFlows.add(Number(item));
    else {
      throw new ConfigError(`${HEAP_SNAPSHOTS_ENV}: Expected comma-separated finished-flow counts (1-999999999) or "end", got ${JSON.stringify(item)}`, {
        code: 'HEAP_SNAPSHOTS_INVALID',
        metaMessages: ['example: VANA_LOAD_HEAP_SNAPSHOTS=5000,10000,15000,end'],
      });
    }
  }
  return { atFlows: [...atFlows].sort((a, b) => a - b), atEnd };
}

export interface CreateHeapSnapshotReporterParameters {
  plan: HeapSnapshotPlan;
  /** The run's results directory. */
  dir: string;
  /** Told where each snapshot went and how long it took. */
  notice?: (line: string) => void;
  /** Writes one snapshot; node:v8's by default. */
  write?: (path: string) => void;
}

/**
 * A reporter that writes the planned snapshots. A snapshot is taken on the next turn after the
 * flow that reaches a count, outside the reporters' hooks; the end one in `onRunEnd`.
 *
 * @example
 * const plan = parseHeapSnapshotPlan(process.env.VANA_LOAD_HEAP_SNAPSHOTS);
 * if (plan) reporters.push(createHeapSnapshotReporter({ plan, dir: writer.dir }));
 */
export function createHeapSnapshotReporter({ plan, dir, notice, write = (path) => void writeHeapSnapshot(path) }: CreateHeapSnapshotReporterParameters): RunReporter {
  let finished = 0;
  let next = 0;
  const take = (label: string): void => {
    const path = join(dir, `heap-${label}.heapsnapshot`);
    const t0 = performance.now();
    write(path);
    notice?.(`📸 heap snapshot ${path} (${((performance.now() - t0) / 1_000).toFixed(1)} s)`);
  };
  return {
    onFlowFinished() {
      finished++;
      if (next < plan.atFlows.length && finished >= plan.atFlows[next]!) {
        const label = String(plan.atFlows[next]);
        while (next < plan.atFlows.length && finished >= plan.atFlows[next]!) next++;
        setImmediate(() => take(label));
      }
    },
    onRunEnd() {
      if (plan.atEnd) take('end');
    },
  };
}
