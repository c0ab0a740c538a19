import { describe, expect, it } from 'vitest';
import { createMetricsCollector } from './collector.ts';
import { flowResultFixture } from '../../test/fixtures/flowResultFixture.ts';

const T0 = 1_800_000_000_000;

/** HDR with 3 significant digits reports a value at most 0.1 % above the exact one. */
function expectHdrValue(actual: number | null | undefined, exact: number): void {
  expect(actual).toBeGreaterThanOrEqual(exact);
  expect(actual).toBeLessThanOrEqual(exact * 1.001);
}

function fakeClock(start = T0) {
  let now = start;
  return { now: () => now, set: (t: number) => void (now = t) };
}

describe('createMetricsCollector', () => {
  it('reports e2e percentiles of 1..1000 ms within HDR precision, with exact min, mean and max', () => {
    const collector = createMetricsCollector();
    for (let ms = 1; ms <= 1000; ms++) {
      collector.flowStarted(ms, T0);
      collector.flowFinished(flowResultFixture({ flowId: ms, e2eMs: ms }));
    }
    const e2e = collector.totals().steps.e2e;
    expect(e2e).toMatchObject({ count: 1000, min: 1, mean: 500.5, max: 1000 });
    expectHdrValue(e2e?.p50, 500);
    expectHdrValue(e2e?.p90, 900);
    expectHdrValue(e2e?.p95, 950);
    expectHdrValue(e2e?.p99, 990);
    expectHdrValue(e2e?.p999, 999);
  });

  it('keeps sub-millisecond step times to the microsecond', () => {
    const collector = createMetricsCollector();
    collector.flowFinished(flowResultFixture({ stepMs: 0.25 }));
    expect(collector.totals().steps.wrap_key).toEqual({
      count: 1, min: 0.25, mean: 0.25, p50: 0.25, p90: 0.25, p95: 0.25, p99: 0.25, p999: 0.25, max: 0.25,
    });
  });

  it('records latency only for what succeeded: e2e of successful flows, steps that completed', () => {
    const collector = createMetricsCollector();
    collector.flowFinished(flowResultFixture({ e2eMs: 100, stepMs: 5 }));
    collector.flowFinished(flowResultFixture({ e2eMs: 9_000, stepMs: 7, failAt: { step: 'relay', errorClass: 'timeout' } }));
    const { steps } = collector.totals();
    expect(steps.e2e?.count).toBe(1);
    expect(steps.e2e?.max).toBe(100);
    expect(steps.sign).toMatchObject({ count: 2, min: 5, max: 7 });
    expect(steps.relay).toMatchObject({ count: 1, max: 5 });
    expect(steps.verify?.count).toBe(1);
  });

  it('counts failures by step and error class, most frequent first, keeping the first message', () => {
    const collector = createMetricsCollector();
    collector.flowFinished(flowResultFixture({ failAt: { step: 'upload_data', errorClass: 'http_5xx', message: 'HTTP 503' } }));
    collector.flowFinished(flowResultFixture({ failAt: { step: 'relay', errorClass: 'nonce', message: 'nonce too low (1)' } }));
    collector.flowFinished(flowResultFixture({ failAt: { step: 'relay', errorClass: 'nonce', message: 'nonce too low (2)' } }));
    collector.flowFinished(flowResultFixture({ failAt: { step: 'confirm', errorClass: 'timeout', message: 'no receipt' } }));
    expect(collector.totals().errors).toEqual([
      { step: 'relay', errorClass: 'nonce', count: 2, example: 'nonce too low (1)' },
      { step: 'upload_data', errorClass: 'http_5xx', count: 1, example: 'HTTP 503' },
      { step: 'confirm', errorClass: 'timeout', count: 1, example: 'no receipt' },
    ]);
    expect(collector.snapshotInterval().errors).toEqual({ 'upload_data.http_5xx': 1, 'relay.nonce': 2, 'confirm.timeout': 1 });
    expect(collector.snapshotInterval().errors).toEqual({});
  });

  it('derives upload and transaction attempts and successes from how far each flow got', () => {
    const collector = createMetricsCollector();
    collector.flowFinished(flowResultFixture()); // uploads 2/2, tx 1/1
    collector.flowFinished(flowResultFixture({ failAt: { step: 'encrypt', errorClass: 'other' } })); // nothing
    collector.flowFinished(flowResultFixture({ failAt: { step: 'upload_data', errorClass: 'http_5xx' } })); // uploads 0/1
    collector.flowFinished(flowResultFixture({ failAt: { step: 'upload_grant', errorClass: 'network' } })); // uploads 1/2
    collector.flowFinished(flowResultFixture({ failAt: { step: 'relay', errorClass: 'nonce' } })); // uploads 2/2, tx 0/1
    collector.flowFinished(flowResultFixture({ failAt: { step: 'confirm', errorClass: 'revert' } })); // uploads 2/2, tx 0/1
    collector.flowFinished(flowResultFixture({ failAt: { step: 'inference_wait', errorClass: 'timeout' } })); // uploads 2/2, tx 1/1
    const { uploads, transactions } = collector.totals();
    expect(uploads).toEqual({ attempts: 11, successes: 9 });
    expect(transactions).toEqual({ attempts: 4, successes: 2 });
  });

  it('counts started, completed, dropped and in-flight, cumulatively and per interval', () => {
    const clock = fakeClock();
    const collector = createMetricsCollector({ now: clock.now });
    for (let id = 0; id < 5; id++) collector.flowStarted(id, T0);
    collector.flowFinished(flowResultFixture({ flowId: 0 }));
    collector.flowFinished(flowResultFixture({ flowId: 1, failAt: { step: 'sign', errorClass: 'other' } }));
    collector.flowDropped(T0);
    collector.flowDropped(T0);
    clock.set(T0 + 2_000);
    const first = collector.snapshotInterval();
    expect(first).toMatchObject({
      intervalMs: 2_000,
      counts: { started: 5, completed: 2, succeeded: 1, failed: 1, dropped: 2 },
      interval: { started: 5, completed: 2, succeeded: 1, failed: 1, dropped: 2 },
      inFlight: 3,
    });
    collector.flowFinished(flowResultFixture({ flowId: 2 }));
    clock.set(T0 + 3_000);
    expect(collector.snapshotInterval()).toMatchObject({
      intervalMs: 1_000,
      counts: { started: 5, completed: 3, succeeded: 2, failed: 1, dropped: 2 },
      interval: { started: 0, completed: 1, succeeded: 1, failed: 0, dropped: 0 },
      inFlight: 2,
    });
  });

  it('gives interval e2e percentiles of that interval only, and a rolling p95 over the last 30 s', () => {
    const clock = fakeClock();
    const collector = createMetricsCollector({ now: clock.now });
    // 40 s ago: slow flows, outside the rolling window by the time of the second snapshot.
    for (let i = 0; i < 100; i++) collector.flowFinished(flowResultFixture({ scheduledAt: T0 - 5_000, e2eMs: 5_000 }));
    clock.set(T0 + 1_000);
    expect(collector.snapshotInterval()).toMatchObject({ e2e: { p50: 5_000, p95: 5_000, p99: 5_000 }, rollingE2eP95: 5_000 });
    clock.set(T0 + 40_000);
    for (let ms = 1; ms <= 100; ms++) collector.flowFinished(flowResultFixture({ scheduledAt: T0 + 39_000, e2eMs: ms }));
    const snapshot = collector.snapshotInterval();
    expectHdrValue(snapshot.e2e?.p50, 50);
    expectHdrValue(snapshot.e2e?.p95, 95);
    expectHdrValue(snapshot.e2e?.p99, 99);
    expectHdrValue(snapshot.rollingE2eP95, 95);
    clock.set(T0 + 41_000);
    const quiet = collector.snapshotInterval();
    expect(quiet.e2e).toBeNull();
    expectHdrValue(quiet.rollingE2eP95, 95);
    clock.set(T0 + 80_000);
    expect(collector.snapshotInterval().rollingE2eP95).toBeNull();
  });

  it('tracks retries, breaker transitions and phases', () => {
    const clock = fakeClock();
    const collector = createMetricsCollector({ now: clock.now });
    expect(collector.totals().breaker).toBeNull();
    collector.breakerChanged('closed');
    collector.phaseStarted('ramp_up');
    collector.flowStarted(0, T0);
    collector.flowFinished(flowResultFixture({ scheduledAt: T0, e2eMs: 200, retries: 2 }));
    collector.stepRetried('relay');
    collector.stepRetried('relay');
    collector.breakerChanged('open');
    collector.breakerChanged('half_open');
    collector.breakerChanged('closed');
    collector.breakerChanged('open');
    clock.set(T0 + 10_000);
    collector.phaseStarted('sustain');
    collector.flowStarted(1, T0 + 10_500);
    collector.flowDropped(T0 + 10_600);
    collector.flowFinished(flowResultFixture({ scheduledAt: T0 + 10_500, failAt: { step: 'relay', errorClass: 'nonce' }, phase: 'sustain' }));
    expect(collector.snapshotInterval(T0 + 11_000)).toMatchObject({ breaker: 'open', phase: 'sustain', retriesByStep: { relay: 2 } });
    const totals = collector.totals(T0 + 12_000);
    expect(totals.retries).toEqual({ total: 2, byStep: { relay: 2 } });
    expect(totals.breaker).toEqual({ opened: 2, halfOpened: 1, closed: 1, finalState: 'open' });
    expect(totals.phases.map(({ e2e, ...phase }) => ({ ...phase, e2eCount: e2e?.count ?? 0 }))).toEqual([
      { name: 'ramp_up', startedAt: T0, endedAt: T0 + 10_000, started: 1, succeeded: 1, failed: 0, dropped: 0, e2eCount: 1 },
      { name: 'sustain', startedAt: T0 + 10_000, endedAt: T0 + 12_000, started: 1, succeeded: 0, failed: 1, dropped: 1, e2eCount: 0 },
    ]);
  });

  it('error: rejects a negative duration', () => {
    const collector = createMetricsCollector();
    expect(() => collector.flowFinished(flowResultFixture({ e2eMs: -1 }))).toThrowErrorMatchingInlineSnapshot(
      `[RangeError: Expected a duration in ms >= 0, got -1]`,
    );
  });
});
