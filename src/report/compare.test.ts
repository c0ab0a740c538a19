import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareRuns } from './compare.ts';
import { writeCompareFixture, type CompareFixtureParameters } from '../../test/fixtures/compareFixture.ts';
import { LATENCY_STATS, latencyStats } from './compareStats.ts';
import { readCompareRun, type CompareRun } from './readCompareRun.ts';

let root: string;
beforeAll(async () => void (root = await mkdtemp(join(tmpdir(), 'compare-'))));
afterAll(async () => rm(root, { recursive: true, force: true }));

let next = 0;
async function run(params: CompareFixtureParameters): Promise<CompareRun> {
  const dir = join(root, `run-${next++}`);
  await writeCompareFixture(dir, params);
  return readCompareRun(dir);
}

describe('compareRuns', () => {
  it('finds no difference between identical runs: every difference 0, every p 1', async () => {
    const a = await run({ flows: 300, seed: 1 });
    const b = await run({ flows: 300, seed: 1 });
    const comparison = compareRuns(a, b);
    expect(comparison.steps.map((s) => s.step)).toEqual([
      'encrypt', 'upload_data', 'upload_grant', 'identity', 'wrap_key', 'sign', 'relay', 'confirm', 'inference_submit', 'inference_wait', 'verify', 'e2e',
    ]);
    for (const step of comparison.steps) {
      for (const stat of LATENCY_STATS) {
        const e = step.stats![stat];
        expect([step.step, stat, e.difference, e.pValue >= 0.99, e.ci[0] <= 0 && e.ci[1] >= 0]).toEqual([step.step, stat, 0, true, true]);
      }
    }
    expect(comparison.successRate).toMatchObject({ difference: 0, pValue: 1 });
    expect(comparison.throughput).toMatchObject({ difference: 0 });
    expect(comparison.comparability).toEqual([]);
  });

  it('measures a candidate 30 % slower in every step: the exact difference, a tight interval, p < 0.001', async () => {
    const a = await run({ flows: 300, seed: 1 });
    const b = await run({ flows: 300, seed: 1, scale: 1.3 });
    const e2e = compareRuns(a, b).steps.find((s) => s.step === 'e2e')!;
    const expected = latencyStats(b.times.e2e!).p95 - latencyStats(a.times.e2e!).p95;
    expect(e2e.stats!.p95.difference).toBe(expected);
    expect(e2e.stats!.p95.relative).toBeCloseTo(0.3, 3);
    expect(e2e.stats!.p95.ci[0]).toBeGreaterThan(0);
    expect(e2e.stats!.p95.ci[0]).toBeLessThan(expected);
    expect(e2e.stats!.p95.ci[1]).toBeGreaterThan(expected);
    expect(e2e.stats!.p95.pValue).toBeLessThan(0.001);
    expect(e2e.mannWhitney!.probabilityCandidateLarger).toBeGreaterThan(0.6);
  });

  it('keeps a tiny sample’s large difference from being significant: the rank test is not fooled', async () => {
    const a = await run({ flows: 3, seed: 1 });
    const b = await run({ flows: 3, seed: 2, scale: 3 });
    const e2e = compareRuns(a, b).steps.find((s) => s.step === 'e2e')!;
    expect(e2e.stats!.p95.relative).toBeGreaterThan(1);
    // Every resample of the candidate is slower, so the bootstrap alone would call it significant.
    expect(e2e.stats!.p95.bootstrapPValue).toBeLessThan(0.05);
    expect(e2e.mannWhitney!.pValue).toBeCloseTo(0.081, 3);
    expect(e2e.stats!.p95.pValue).toBe(e2e.mannWhitney!.pValue);
  });

  it('prints the same figures for the same runs (seeded bootstrap)', async () => {
    const a = await run({ flows: 120, seed: 4 });
    const b = await run({ flows: 150, seed: 5, stepScale: { relay: 1.1 } });
    expect(compareRuns(a, b)).toEqual(compareRuns(a, b));
  });

  it('puts errors by step × class and CPU per flow side by side, and tests success and dropped rates', async () => {
    const a = await run({ flows: 200, seed: 1, failEvery: { every: 50, step: 'relay', errorClass: 'nonce' } });
    const b = await run({ flows: 200, seed: 2, failEvery: { every: 10, step: 'inference_wait', errorClass: 'timeout' }, dropped: 25, cpuMsPerFlow: { harness: 50, stack: 90 } });
    const comparison = compareRuns(a, b);
    expect(comparison.errors).toEqual([
      { key: 'inference_wait.timeout', baseline: 0, candidate: 20 },
      { key: 'relay.nonce', baseline: 4, candidate: 0 },
    ]);
    expect(comparison.cpuMsPerFlow).toEqual([
      { process: 'harness', baseline: 45, candidate: 50 },
      { process: 'stack', baseline: 60, candidate: 90 },
      { process: 'anvil', baseline: 12, candidate: null },
    ]);
    expect(comparison.successRate).toMatchObject({ baseline: 0.98, candidate: 0.9, baselineCount: { attempts: 200, successes: 196 }, test: 'z' });
    expect(comparison.successRate!.pValue).toBeLessThan(0.01);
    expect(comparison.droppedRate).toMatchObject({ baseline: 0, candidate: 25 / 225, test: 'z' });
    expect(comparison.candidate).toMatchObject({ ok: 180, failed: 20, dropped: 25, seed: 7 });
  });

  it('does not compare a step with fewer than 2 flows in a run', async () => {
    const a = await run({ flows: 1, seed: 1 });
    const b = await run({ flows: 50, seed: 2 });
    expect(compareRuns(a, b).steps.find((s) => s.step === 'e2e')).toEqual({ step: 'e2e', baselineCount: 1, candidateCount: 50, stats: null, mannWhitney: null });
  });
});
