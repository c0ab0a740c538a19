import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { dataSizeFor, flowDataSeed, generateUserData } from '../client/syntheticData.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { runLoadModel } from '../load/runLoadModel.ts';
import type { LoadModel } from '../load/types.ts';
import { flowResultFixture } from '../../test/fixtures/flowResultFixture.ts';

interface PlannedFlow {
  flowId: number;
  /** ms after the run started. */
  at: number;
  size: string;
  dataSha256: string;
}

/**
 * What a run would send, without a stack: the load model runs under fake timers with the seed of
 * the config (as MS-05 builds its model), and each flow makes its synthetic data as runLoadTest does.
 */
async function planRun(env: Record<string, string>, runId: string, kind: 'poisson' | 'closed' = 'poisson'): Promise<PlannedFlow[]> {
  const config = loadConfig({ env: { VANA_DATA_SIZE: 'mixed', ...env } });
  const seed = config.load.seed;
  const model: LoadModel =
    kind === 'poisson'
      ? { kind: 'poisson', rate: 40, users: 60, maxInFlight: 1_000, ...(seed !== undefined ? { seed } : {}) }
      : { kind: 'closed', users: 12, iterations: 2, staggerMs: 50 };
  const testId = `ms-05-${runId}`;
  const t0 = Date.now();
  const flows: PlannedFlow[] = [];
  const done = runLoadModel(model, {
    runFlow: async (task) => {
      const size = dataSizeFor(task.flowId, config.data.size);
      const data = generateUserData(flowDataSeed(task.flowId, { seed, testId }), size);
      const dataSha256 = createHash('sha256').update(JSON.stringify(data)).digest('hex');
      flows.push({ flowId: task.flowId, at: task.scheduledAt - t0, size, dataSha256 });
      return flowResultFixture({ flowId: task.flowId, scheduledAt: task.scheduledAt });
    },
  });
  await vi.advanceTimersByTimeAsync(60_000);
  await done;
  return flows.sort((a, b) => a.flowId - b.flowId);
}

describe('two runs with the same --seed', () => {
  beforeEach(() => void vi.useFakeTimers({ now: 1_800_000_000_000 }));
  afterEach(() => void vi.useRealTimers());

  it('get the same Poisson arrival times and the same synthetic data for every flow', async () => {
    const a = await planRun({ VANA_SEED: '7' }, 'a1b2');
    vi.setSystemTime(1_800_000_500_000);
    const b = await planRun({ VANA_SEED: '7' }, 'c3d4');
    expect(a).toHaveLength(60);
    expect(b).toEqual(a);
    // Not trivially equal: the arrivals are spread out and the data differs between flows.
    expect(new Set(a.map((f) => f.at)).size).toBe(60);
    expect(new Set(a.map((f) => f.dataSha256)).size).toBe(60);
    expect(new Set(a.map((f) => f.size))).toEqual(new Set(['small', 'medium', 'large']));
  });

  it('get the same data per flow under a closed model, whose schedule has no randomness', async () => {
    const a = await planRun({ VANA_SEED: '7' }, 'a1b2', 'closed');
    const b = await planRun({ VANA_SEED: '7' }, 'c3d4', 'closed');
    expect(a).toHaveLength(24);
    expect(b.map((f) => [f.flowId, f.dataSha256])).toEqual(a.map((f) => [f.flowId, f.dataSha256]));
  });

  it('differ in arrivals and data from a run with another seed', async () => {
    const a = await planRun({ VANA_SEED: '7' }, 'a1b2');
    const b = await planRun({ VANA_SEED: '8' }, 'a1b2');
    expect(b.filter((f, i) => f.at === a[i]!.at)).toEqual([]);
    expect(b.filter((f, i) => f.dataSha256 === a[i]!.dataSha256)).toEqual([]);
  });

  it('without a seed, two runs encrypt different data (the seed comes from the run id)', async () => {
    const a = await planRun({}, 'a1b2');
    const b = await planRun({}, 'c3d4');
    expect(b.filter((f, i) => f.dataSha256 === a[i]!.dataSha256)).toEqual([]);
    expect(b.filter((f, i) => f.at === a[i]!.at)).toEqual([]);
  });
});
