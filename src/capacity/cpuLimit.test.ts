import { describe, expect, it } from 'vitest';
import { exampleRun } from '../../test/fixtures/htmlFixture.ts';
import { capacityRatio, cpuLimit } from './cpuLimit.ts';
import { toCapacityStep } from './toCapacityStep.ts';

describe('cpuLimit', () => {
  it('divides the cores by the CPU seconds per flow summed over the processes of a run summary', () => {
    // The fixture's run: harness 142, stack 215, anvil 48 ms of CPU per completed flow, 2 cores.
    const { summary } = exampleRun({ sampleCount: 60 });
    const limit = cpuLimit(summary.resources, { cores: summary.environment.cpus, scope: 'local' });
    expect(limit).toEqual({
      cores: 2,
      scope: 'local',
      processes: [
        { name: 'harness', msPerFlow: 142 },
        { name: 'stack', msPerFlow: 215 },
        { name: 'anvil', msPerFlow: 48 },
      ],
      cpuMsPerFlow: 405,
      flowsPerS: 2000 / 405,
    });
  });

  it('counts the harness alone on a remote target', () => {
    const { summary } = exampleRun({ sampleCount: 60 });
    expect(cpuLimit(summary.resources, { cores: 2, scope: 'harness' })).toMatchObject({ processes: [{ name: 'harness', msPerFlow: 142 }], cpuMsPerFlow: 142, flowsPerS: 2000 / 142 });
  });

  it('is null when a process has no CPU per flow (no flow completed) or nothing was sampled', () => {
    expect(cpuLimit([{ name: 'harness', cpuMsPerFlow: 10 }, { name: 'stack', cpuMsPerFlow: null }], { cores: 2, scope: 'local' })).toBeNull();
    expect(cpuLimit([{ name: 'stack', cpuMsPerFlow: 10 }], { cores: 2, scope: 'harness' })).toBeNull();
    expect(cpuLimit([], { cores: 2, scope: 'local' })).toBeNull();
  });
});

describe('capacityRatio', () => {
  it('states the found rate as a share of the CPU limit, with the sum it comes from', () => {
    const limit = cpuLimit(
      [
        { name: 'harness', cpuMsPerFlow: 11.8 },
        { name: 'stack', cpuMsPerFlow: 21.2 },
        { name: 'anvil', cpuMsPerFlow: 15.5 },
      ],
      { cores: 2, scope: 'local' },
    )!;
    const { ratio, text } = capacityRatio(33.5, limit);
    expect(ratio).toBeCloseTo(33.5 / (2000 / 48.5), 10);
    expect(text).toBe('33.5 flows/s = 0.81 of the CPU limit 41.2 flows/s (2 cores ÷ 48.5 ms CPU per flow: harness 11.8 + stack 21.2 + anvil 15.5)');
  });

  it("says that only the harness is measured on a remote target", () => {
    const limit = cpuLimit([{ name: 'harness', cpuMsPerFlow: 25 }], { cores: 4, scope: 'harness' })!;
    expect(capacityRatio(40, limit).text).toBe(
      "40 flows/s = 0.25 of the harness's CPU limit 160.0 flows/s (4 cores ÷ 25.0 ms harness CPU per flow; remote target: only the harness is measured)",
    );
  });
});

describe('toCapacityStep', () => {
  it("takes a step's rates, latencies, CPU, CPU limit and SLO breaches from its run summary", () => {
    const { summary } = exampleRun({ sampleCount: 60 });
    const step = toCapacityStep({
      index: 3,
      phase: 'bisect',
      rate: 2.5,
      seed: 9,
      arrivals: 157,
      summary,
      dir: 'results/capacity-x/step-03-2.5rps',
      machineCpuPercent: 120,
      loadAverage: 1.5,
      cpuScope: 'local',
      chain: null,
      chainNote: 'no block was mined during the step',
    });
    expect(step).toMatchObject({
      index: 3,
      phase: 'bisect',
      achievedRate: summary.rates.achievedRate,
      successRate: summary.rates.successRate,
      e2eP95Ms: summary.steps.e2e!.p95,
      dropped: 0,
      cpu: { harness: { avgPercent: 31.5, msPerFlow: 142 }, stack: { avgPercent: 47.9, msPerFlow: 215 }, anvil: { avgPercent: 10.8, msPerFlow: 48 } },
      cpuLimit: { cpuMsPerFlow: 405 },
      chain: null,
      chainNote: 'no block was mined during the step',
      breaches: ['success>=85% (got 73.3%)'],
      pass: false,
      interrupted: false,
    });
    expect(Object.keys(step.stepP95Ms)).toEqual(['encrypt', 'upload_data', 'upload_grant', 'identity', 'wrap_key', 'sign', 'relay', 'confirm', 'inference_submit', 'inference_wait', 'verify']);
    expect(step.stepP95Ms.confirm).toBe(summary.steps.confirm!.p95);
  });
});
