import { describe, expect, it } from 'vitest';
import type { ErrorClass, FlowResult, StepName } from '../flow.ts';
import type { RunSummary } from '../metrics/types.ts';
import { computeSurvival, type ComputeSurvivalParameters } from './computeSurvival.ts';
import { evaluateSurvival } from './evaluateSurvival.ts';
import { parseExpectation } from './scenario.ts';

const T0 = 1_800_000_000_000;

/** A finished flow scheduled `at` ms after T0 that took `ms`; failed ones fail at `step` with `errorClass`. */
function flow(flowId: number, at: number, ok: boolean, { ms = 1_000, retries = 0, step = 'upload_data', errorClass = 'http_5xx' }: Partial<{ ms: number; retries: number; step: StepName; errorClass: ErrorClass }> = {}): FlowResult {
  return {
    flowId,
    userIndex: flowId,
    userAddress: '0x0000000000000000000000000000000000000001',
    testId: 't',
    dataSize: 'small',
    dataBytes: 100,
    scheduledAt: T0 + at,
    startedAt: T0 + at,
    endedAt: T0 + at + ms,
    success: ok,
    steps: {},
    e2eMs: ms,
    retries,
    ...(ok ? {} : { error: { step, errorClass, code: 'X', message: 'x' } }),
  };
}

type SummaryPart = ComputeSurvivalParameters['summary'];
function summary(started: number, dropped = 0, droppedBy: Record<string, number> = { max_in_flight: dropped, circuit_open: 0 }): SummaryPart {
  return {
    counts: { started, completed: started, succeeded: 0, failed: 0, dropped },
    breaker: { opened: 1, halfOpened: 1, closed: 1, finalState: 'closed' },
    retries: { total: 4, byStep: {} },
    scheduler: { targetRate: 2, achievedRate: 2, arrivalRate: 2, lagMs: { mean: 0, max: 0 }, peakInFlight: 3, droppedBy: droppedBy as NonNullable<RunSummary['scheduler']>['droppedBy'], abortedAfterDrain: 0 },
  };
}

const window = { fromMs: 10_000, untilMs: 20_000 };

describe('computeSurvival', () => {
  it('counts flows ok, ok after a retry, failed by step × class, and dropped by reason', () => {
    const flows = [
      flow(0, 1_000, true),
      flow(1, 11_000, true, { retries: 2 }),
      flow(2, 12_000, false, { step: 'upload_data', errorClass: 'http_5xx' }),
      flow(3, 13_000, false, { step: 'upload_data', errorClass: 'http_5xx' }),
      flow(4, 14_000, false, { step: 'relay', errorClass: 'timeout' }),
      flow(5, 21_000, true),
    ];
    const s = computeSurvival({ flows, summary: summary(6, 2), faultsFrom: T0, window, injected: 9 });
    expect(s.flows).toEqual({
      scheduled: 8,
      started: 6,
      ok: 3,
      okAfterRetry: 1,
      failed: 3,
      dropped: 2,
      droppedBy: { max_in_flight: 2, circuit_open: 0 },
      unaccounted: 0,
      successRate: 0.5,
    });
    expect(s.failures).toEqual([
      { step: 'upload_data', errorClass: 'http_5xx', count: 2 },
      { step: 'relay', errorClass: 'timeout', count: 1 },
    ]);
    expect(s.duringFaults).toEqual({ flows: 4, ok: 1 });
    expect([s.retries, s.injected, s.breaker]).toEqual([4, 9, { opened: 1, halfOpened: 1, closed: 1, finalState: 'closed' }]);
  });

  it('counts as unaccounted a started flow without an outcome, a duplicate line not hiding it, and a drop without a reason', () => {
    const flows = [flow(0, 1_000, true), flow(1, 2_000, true), flow(1, 2_000, true)];
    expect(computeSurvival({ flows, summary: summary(3), faultsFrom: T0, window, injected: 1 }).flows.unaccounted).toBe(1);
    const noReason = computeSurvival({ flows, summary: summary(2, 3, { max_in_flight: 1, circuit_open: 1 }), faultsFrom: T0, window, injected: 1 });
    expect(noReason.flows).toMatchObject({ scheduled: 5, dropped: 3, unaccounted: 1 });
  });

  it('times recovery from the window end to the end of the first of 5 successes in a row scheduled after it', () => {
    const flows = [
      flow(0, 19_000, false), // scheduled inside the window: not considered
      flow(1, 20_000, false),
      flow(2, 20_500, true, { ms: 800 }), // a streak of 2 that breaks
      flow(3, 21_000, true),
      flow(4, 21_500, false),
      flow(5, 22_000, true, { ms: 1_500 }), // starts the streak of 5: ends at 23_500
      flow(6, 22_500, true),
      flow(7, 23_000, true),
      flow(8, 23_500, true),
      flow(9, 24_000, true),
    ];
    const { recovery } = computeSurvival({ flows, summary: summary(10), faultsFrom: T0, window, injected: 1 });
    expect(recovery).toEqual({ ms: 3_500, windowEndAt: T0 + 20_000, recoveredAt: T0 + 23_500, flowsAfter: 9, note: 'flow 5 began 5 successes in a row' });
  });

  it('orders flows by when they were scheduled, not by when they ended', () => {
    // Flow 1 was scheduled first but ended last; it starts the streak all the same.
    const flows = [flow(2, 20_200, true, { ms: 100 }), flow(1, 20_100, true, { ms: 4_000 }), flow(3, 20_300, true), flow(4, 20_400, true), flow(5, 20_500, true)];
    expect(computeSurvival({ flows, summary: summary(5), faultsFrom: T0, window, injected: 1 }).recovery.ms).toBe(4_100);
  });

  it('reports no recovery when no streak follows the window, and none to measure when no window ends', () => {
    const flows = [flow(0, 20_000, true), flow(1, 21_000, true), flow(2, 22_000, false), flow(3, 23_000, true)];
    const never = computeSurvival({ flows, summary: summary(4), faultsFrom: T0, window, injected: 1 }).recovery;
    expect(never).toEqual({ ms: null, windowEndAt: T0 + 20_000, recoveredAt: null, flowsAfter: 4, note: 'not recovered: no 5 successes in a row among the 4 flows scheduled after the window' });
    const whole = computeSurvival({ flows, summary: summary(4), faultsFrom: T0, window: { fromMs: 0, untilMs: undefined }, injected: 1 });
    expect(whole.recovery).toMatchObject({ ms: null, windowEndAt: null, note: 'no fault window ends: the faults last the whole run' });
    expect(whole.duringFaults).toEqual({ flows: 4, ok: 3 });
    expect(computeSurvival({ flows, summary: summary(4), faultsFrom: T0, window, injected: 1, streak: 2 }).recovery.ms).toBe(1_000);
  });
});

describe('evaluateSurvival', () => {
  const expectations = [
    parseExpectation('recovery', '<10s', 's.json'),
    parseExpectation('unaccounted', 0, 's.json'),
    parseExpectation('injected', '>0', 's.json'),
    parseExpectation('success_rate', '>=0.95', 's.json'),
  ];

  it('judges recovery, unaccounted and injected, and leaves run thresholds to the run', () => {
    const flows = [20_000, 20_500, 21_000, 21_500, 22_000].map((at, i) => flow(i, at, true));
    const survival = computeSurvival({ flows, summary: summary(6), faultsFrom: T0, window, injected: 0 });
    expect(evaluateSurvival(expectations, survival)).toEqual([
      { expression: 'recovery<10s', metric: 'recovery', actual: 1_000, actualText: '1.00s', pass: true, source: 's.json' },
      { expression: 'unaccounted==0', metric: 'unaccounted', actual: 1, actualText: '1', pass: false, source: 's.json' },
      { expression: 'injected>0', metric: 'injected', actual: 0, actualText: '0', pass: false, source: 's.json' },
    ]);
  });

  it('error: fails a recovery that was not measured, saying why', () => {
    const survival = computeSurvival({ flows: [flow(0, 20_000, false)], summary: summary(1), faultsFrom: T0, window, injected: 3 });
    expect(evaluateSurvival(expectations.slice(0, 1), survival)).toEqual([{ expression: 'recovery<10s', metric: 'recovery', actual: null, actualText: 'not recovered', pass: false, source: 's.json' }]);
    const whole = computeSurvival({ flows: [], summary: summary(0), faultsFrom: T0, window: { fromMs: 0, untilMs: undefined }, injected: 3 });
    expect(evaluateSurvival(expectations.slice(0, 1), whole)[0]).toMatchObject({ actualText: 'n/a (no window ends)', pass: false });
  });
});
