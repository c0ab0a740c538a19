import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../errors.ts';
import type { FlowResult } from '../../flow.ts';
import { createHeapSnapshotReporter, parseHeapSnapshotPlan } from './heapSnapshotReporter.ts';

const flow = {} as FlowResult;
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('parseHeapSnapshotPlan', () => {
  it('reads finished-flow counts in order without repeats, and end', () => {
    expect(parseHeapSnapshotPlan('10000, 5000,end,5000')).toEqual({ atFlows: [5000, 10000], atEnd: true });
    expect(parseHeapSnapshotPlan('end')).toEqual({ atFlows: [], atEnd: true });
  });

  it('turns nothing on when unset or empty', () => {
    expect(parseHeapSnapshotPlan(undefined)).toBeUndefined();
    expect(parseHeapSnapshotPlan(' ')).toBeUndefined();
  });

  it('error: refuses a count that is not a positive integer, naming the variable', () => {
    expect(() => parseHeapSnapshotPlan('5000,0')).toThrow(ConfigError);
    expect(() => parseHeapSnapshotPlan('5k')).toThrowErrorMatchingInlineSnapshot(`
      [ConfigError: VANA_LOAD_HEAP_SNAPSHOTS: Expected comma-separated finished-flow counts (1-999999999) or "end", got "5k"

      example: VANA_LOAD_HEAP_SNAPSHOTS=5000,10000,15000,end]
    `);
  });
});

describe('createHeapSnapshotReporter', () => {
  it('writes one snapshot per planned count, on the turn after the flow that reaches it, and one at the end', async () => {
    const written: string[] = [];
    const notices: string[] = [];
    const reporter = createHeapSnapshotReporter({ plan: { atFlows: [2, 3, 5], atEnd: true }, dir: 'results/x', write: (path) => written.push(path), notice: (line) => notices.push(line) });
    reporter.onFlowFinished!(flow);
    reporter.onFlowFinished!(flow);
    expect(written).toEqual([]);
    await nextTurn();
    expect(written).toEqual([join('results/x', 'heap-2.heapsnapshot')]);
    for (let i = 0; i < 4; i++) reporter.onFlowFinished!(flow);
    await nextTurn();
    await reporter.onRunEnd!({} as never);
    expect(written).toEqual(['heap-2', 'heap-3', 'heap-5', 'heap-end'].map((name) => join('results/x', `${name}.heapsnapshot`)));
    expect(notices).toHaveLength(4);
    expect(notices[0]).toMatch(/^📸 heap snapshot results\/x\/heap-2\.heapsnapshot \(\d+\.\d s\)$/);
  });

  it('writes a real snapshot V8 can be asked for', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'heap-snapshot-'));
    try {
      const reporter = createHeapSnapshotReporter({ plan: { atFlows: [], atEnd: true }, dir });
      await reporter.onRunEnd!({} as never);
      const path = join(dir, 'heap-end.heapsnapshot');
      expect(existsSync(path)).toBe(true);
      expect(readFileSync(path, 'utf8').slice(0, 40)).toMatch(/^\{"snapshot":\{"meta":/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
