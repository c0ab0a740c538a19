/**
 * The engine without Artillery: a worker's engine against a real local stack, its virtual users
 * driven directly, the events Artillery would merge recorded. (test/artillery.test.ts runs it
 * inside Artillery itself, in .ci/run.)
 */
import { EventEmitter } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStack, type StackHandle } from '../../../src/stack/ensureStack.ts';
import { createVanaEngine } from './createVanaEngine.ts';
import type { ArtilleryEvents } from './flowMetrics.ts';
import { silentLogger } from './harness.ts';

/** Records what the engine tells Artillery, summing counters as Artillery does. */
function recorder(): { ee: ArtilleryEvents; counters: Record<string, number>; histograms: Record<string, number[]> } {
  const counters: Record<string, number> = {};
  const histograms: Record<string, number[]> = {};
  const ee = {
    emit: (event: string, name?: string, value?: number) => {
      if (event === 'counter') counters[name!] = (counters[name!] ?? 0) + value!;
      if (event === 'histogram') (histograms[name!] ??= []).push(value!);
      return true;
    },
  } as ArtilleryEvents;
  return { ee, counters, histograms };
}

describe('createVanaEngine', () => {
  let stack: StackHandle;
  let manifest: string;

  beforeAll(async () => {
    stack = await ensureStack({ attach: false });
    manifest = join(await mkdtemp(join(tmpdir(), 'vana-engine-')), 'stack.json');
    await writeFile(manifest, JSON.stringify(stack.manifest));
  });

  afterAll(async () => {
    await stack?.stop();
    if (manifest) await rm(dirname(manifest), { recursive: true, force: true });
  });

  it('runs one flow per virtual user on its own wallet and reports each as Artillery metrics, then closes when the runner is done', async () => {
    const runner = new EventEmitter();
    const engine = createVanaEngine({
      script: { config: { vana: { manifest, 's2k-count-byte': 96 }, phases: [{ pause: 5 }, { duration: 10, arrivalRate: 2 }] } },
      runnerEvents: runner,
      logger: silentLogger(),
    });
    await engine.ready;
    const { ee, counters, histograms } = recorder();
    const results = await Promise.all([engine.runVirtualUser(ee, Date.now()), engine.runVirtualUser(ee, Date.now())]);

    expect(results.map((r) => r.success)).toEqual([true, true]);
    expect(new Set(results.map((r) => r.userAddress)).size).toBe(2);
    expect(counters).toMatchObject({
      'vana.plan.arrivals': 20,
      'vana.workers.target_local': 1,
      'vana.workers.chain_31337': 1,
      'vana.flows.completed': 2,
      'vana.flows.succeeded': 2,
      'vana.flows.failed': 0,
      'vana.tx.attempts': 2,
      'vana.tx.successes': 2,
    });
    expect(counters['vana.flows.waited_for_startup']).toBeUndefined();
    expect(histograms['vana.plan.duration_ms']).toEqual([10_000]);
    expect(histograms['vana.e2e']).toHaveLength(2);
    expect(histograms['vana.step.confirm']).toHaveLength(2);

    runner.emit('done');
    await engine.close();
  }, 120_000);

  it('error: a worker whose manifest names no running stack never becomes ready, and says what to do', async () => {
    const engine = createVanaEngine({ script: { config: { vana: { manifest: join(tmpdir(), 'no-such-stack.json') } } }, logger: silentLogger() });
    await expect(engine.ready).rejects.toMatchObject({ code: 'ARTILLERY_STACK_NOT_RUNNING', shortMessage: expect.stringContaining('no-such-stack.json') });
    await engine.close();
  });
});
