import { describe, expect, it } from 'vitest';
import { capacityStepFixture, exampleCapacitySteps } from './capacityFixture.ts';
import { findBottleneck, processHeadroom } from './findBottleneck.ts';
import { summarizeCapacity } from './summarizeCapacity.ts';

const LOW_CPU = { harness: 2, stack: 4, anvil: 3 };

describe('findBottleneck', () => {
  it('names the process nearest its CPU limit at the lowest failing rate, with the other signals as evidence', () => {
    expect(findBottleneck(exampleCapacitySteps(), { cores: 2 })).toEqual({
      kind: 'process',
      name: 'stack',
      atRate: 35.1,
      text: 'stack process at 87 % of the CPU it could get at 35.1/s (74 % of one core; machine 189 % of 200 %)',
      evidence: [
        'CPU at 35.1/s: stack 74 % of one core (87 % of what it could get), anvil 66 % of one core (86 % of what it could get), harness 41 % of one core (79 % of what it could get); machine 189 % of 200 %',
        'p95 growth 33.5/s → 35.1/s: confirm +960 ms, inference_submit +8.0 ms, relay +3.2 ms',
        'chain at 35.1/s: blocks 1 % full on average over 702 blocks (0 % over half full), base fee 1.00 gwei → 0.12 gwei',
      ],
    });
  });

  it('names the harness as the load generator when it is the one at its limit', () => {
    const steps = [capacityStepFixture({ rate: 10 }), capacityStepFixture({ rate: 20, pass: false, msPerFlow: { harness: 48, stack: 10, anvil: 5 }, otherCpuPercent: 0 })];
    expect(findBottleneck(steps, { cores: 4 }).text).toBe('harness (the load generator) at 96 % of the CPU it could get at 20/s (96 % of one core; machine 126 % of 400 %)');
  });

  it('names the flow step whose p95 grew most when no process is near its limit', () => {
    const steps = [
      capacityStepFixture({ rate: 4, msPerFlow: LOW_CPU, stepP95Ms: { relay: 50, confirm: 100, inference_wait: 900 } }),
      capacityStepFixture({ rate: 6, pass: false, msPerFlow: LOW_CPU, stepP95Ms: { relay: 70, confirm: 150, inference_wait: 2_600 } }),
    ];
    const bottleneck = findBottleneck(steps, { cores: 2 });
    expect([bottleneck.kind, bottleneck.name, bottleneck.text]).toEqual([
      'step',
      'inference_wait',
      'inference_wait: its p95 grew most, 900 ms at 4/s → 2.60 s at 6/s; no process near its CPU limit, the nearest stack at 2 %',
    ]);
  });

  it('names the chain when its blocks were over half full, or its base fee rose, whatever the CPU', () => {
    const full = { blocks: 40, meanGasUsedRatio: 0.62, overHalfFullShare: 0.8, baseFeeFirstWei: '1000000000', baseFeeLastWei: '1000000000' };
    const rising = { blocks: 40, meanGasUsedRatio: 0.3, overHalfFullShare: 0.2, baseFeeFirstWei: '1000000000', baseFeeLastWei: '3200000000' };
    const at = (chain: typeof full) => findBottleneck([capacityStepFixture({ rate: 5 }), capacityStepFixture({ rate: 40, pass: false, chain })], { cores: 2 });
    expect([at(full).kind, at(full).text]).toEqual(['chain', 'the chain: blocks 62 % full on average at 40/s']);
    expect(at(rising).text).toBe('the chain: base fee rising 1.00 gwei → 3.20 gwei at 40/s');
    // A base fee that only drifts (within 10 %) is no signal.
    expect(at({ ...rising, baseFeeLastWei: '1090000000' }).kind).not.toBe('chain');
  });

  it('names other work on the machine when the CPU was full and the search used the lesser part of it', () => {
    const steps = [capacityStepFixture({ rate: 2, msPerFlow: LOW_CPU }), capacityStepFixture({ rate: 4, pass: false, msPerFlow: LOW_CPU, otherCpuPercent: 170 })];
    expect(findBottleneck(steps, { cores: 2 })).toMatchObject({
      kind: 'machine',
      name: 'other work',
      text: "the machine: other work took 170 % of the 200 % CPU at 4/s, the search's processes 4 %; the figures are the shared machine's, not the target's",
    });
  });

  it('says the limit was not reached when no step failed, and names the nearest signal at the highest rate', () => {
    const steps = [capacityStepFixture({ rate: 10 }), capacityStepFixture({ rate: 20 })];
    expect(findBottleneck(steps, { cores: 2 }).text).toMatch(/^not reached up to 20\/s \(no step failed\); nearest: /);
  });

  it('leaves interrupted steps out, and has nothing to say without a measured step', () => {
    const interrupted = capacityStepFixture({ rate: 60, interrupted: true, pass: false });
    expect(findBottleneck([interrupted], { cores: 2 })).toEqual({ kind: 'none', name: '', atRate: null, text: 'no step was measured', evidence: [] });
    expect(findBottleneck([...exampleCapacitySteps(), interrupted], { cores: 2 }).atRate).toBe(35.1);
  });
});

describe('processHeadroom', () => {
  it("gives a process at most one core, less what the rest of the machine uses", () => {
    const step = { cpu: { harness: { avgPercent: 40, msPerFlow: 10 }, stack: { avgPercent: 90, msPerFlow: 20 } }, machineCpuPercent: 150 };
    expect(processHeadroom(step, 2)).toEqual([
      { name: 'stack', cpuPercent: 90, limitPercent: 100, share: 0.9 },
      { name: 'harness', cpuPercent: 40, limitPercent: 90, share: 40 / 90 },
    ]);
  });
});

describe('summarizeCapacity', () => {
  it('gives the sustainable rate, the first failing one and the ratio to the CPU limit of the sustainable step', () => {
    const outcome = summarizeCapacity(exampleCapacitySteps(), { maxRate: 60, cores: 2, interrupted: false, error: null });
    expect(outcome).toMatchObject({ sustainableRate: 33.5, ceilingReached: false, firstFailingRate: 35.1, cpuLimit: { cpuMsPerFlow: 51.9 } });
    expect(outcome.ratioText).toBe('33.5 flows/s = 0.87 of the CPU limit 38.5 flows/s (2 cores ÷ 51.9 ms CPU per flow: harness 11.8 + stack 21.2 + anvil 18.9)');
  });

  it('marks the ceiling when the max rate passed, and has no rate when the first step failed', () => {
    expect(summarizeCapacity([capacityStepFixture({ rate: 5 }), capacityStepFixture({ rate: 10 })], { maxRate: 10, cores: 2, interrupted: false, error: null })).toMatchObject({
      sustainableRate: 10,
      ceilingReached: true,
      firstFailingRate: null,
    });
    expect(summarizeCapacity([capacityStepFixture({ rate: 5, pass: false })], { maxRate: 10, cores: 2, interrupted: false, error: null })).toMatchObject({
      sustainableRate: null,
      ceilingReached: false,
      firstFailingRate: 5,
      cpuLimit: null,
      ratioText: null,
    });
  });
});
