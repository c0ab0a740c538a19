/**
 * The contract between the engine and `vana-load report --from-artillery`: the events the engine
 * emits for a set of flows, merged as Artillery merges them (counters summed per period and
 * overall, histograms summarized), give the report the same counts, rates and errors as our own
 * collector gives for the same flows.
 */
import { describe, expect, it } from 'vitest';
import { createMetricsCollector } from '../../../src/metrics/collector.ts';
import { flowResultFixture } from '../../../test/fixtures/flowResultFixture.ts';
import { buildArtillerySummary, type ArtilleryOutput, type ArtilleryReport } from '../../../src/report/artillerySummary.ts';
import { flowMetricEvents } from './flowMetrics.ts';
import type { FlowResult } from './harness.ts';

/** Nearest-rank percentiles, in Artillery's summary shape. */
function summarize(values: number[]): ArtilleryReport['summaries'][string] {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { min: sorted[0]!, max: sorted.at(-1)!, count: sorted.length, mean: values.reduce((a, b) => a + b, 0) / values.length, p50: at(0.5), p90: at(0.9), p95: at(0.95), p99: at(0.99), p999: at(0.999) };
}

/** What Artillery's workers and coordinator make of the engine's events, one period per group of flows. */
function artilleryOutputOf(periods: FlowResult[][], periodStart: number): ArtilleryOutput {
  const reportOf = (flows: FlowResult[], period: number): ArtilleryReport => {
    const counters: Record<string, number> = { 'vana.flows.started': flows.length, 'vusers.created': flows.length };
    const histograms: Record<string, number[]> = {};
    for (const flow of flows) {
      for (const event of flowMetricEvents(flow)) {
        if (event.kind === 'counter') counters[event.name] = (counters[event.name] ?? 0) + event.value;
        if (event.kind === 'error') counters[`errors.${event.code}`] = (counters[`errors.${event.code}`] ?? 0) + 1;
        if (event.kind === 'histogram') (histograms[event.name] ??= []).push(event.value);
      }
    }
    const summaries = Object.fromEntries(Object.entries(histograms).map(([name, values]) => [name, summarize(values)]));
    return { counters, summaries, period, firstMetricAt: period + 1, lastMetricAt: period + 9_999 };
  };
  const intermediate = periods.map((flows, i) => reportOf(flows, periodStart + i * 10_000));
  return { aggregate: reportOf(periods.flat(), periodStart), intermediate };
}

describe('engine events read back by the Artillery report', () => {
  const t0 = 1_800_000_000_000;
  const periods: FlowResult[][] = [
    [flowResultFixture({ flowId: 0, e2eMs: 900 }), flowResultFixture({ flowId: 1, e2eMs: 1_100 }), flowResultFixture({ flowId: 2, failAt: { step: 'relay', errorClass: 'nonce' } })],
    [flowResultFixture({ flowId: 3, e2eMs: 1_300 }), flowResultFixture({ flowId: 4, failAt: { step: 'upload_data', errorClass: 'http_5xx' } }), flowResultFixture({ flowId: 5, failAt: { step: 'relay', errorClass: 'nonce' } })],
  ];

  it('gives the counts, rates, errors and step counts our collector gives for the same flows', () => {
    const collector = createMetricsCollector({ now: () => t0 });
    for (const flow of periods.flat()) {
      collector.flowStarted(flow.flowId, flow.scheduledAt);
      collector.flowFinished(flow);
    }
    const expected = collector.totals(t0 + 20_000);
    const { summary } = buildArtillerySummary({ output: artilleryOutputOf(periods, t0), source: 'out.json', runId: 'r', milestone: null });

    expect(summary.counts).toEqual(expected.counts);
    expect(summary.rates.txSuccessRate).toBe(expected.transactions.successes / expected.transactions.attempts);
    expect(summary.rates.uploadSuccessRate).toBe(expected.uploads.successes / expected.uploads.attempts);
    expect(summary.errors.map(({ step, errorClass, count }) => ({ step, errorClass, count }))).toEqual(expected.errors.map(({ step, errorClass, count }) => ({ step, errorClass, count })));
    expect(summary.errors[0]!.example).toBe('codes: TEST_FAILURE ×2 (Artillery keeps no messages)');
    for (const [step, percentiles] of Object.entries(expected.steps)) expect(summary.steps[step as keyof typeof summary.steps]?.count, step).toBe(percentiles.count);
    expect(summary.steps.e2e).toMatchObject({ count: 3, min: 900, max: 1_300 });
  });

  it('draws one timeline sample per period, with cumulative counts and the errors of each period', () => {
    const { samples } = buildArtillerySummary({ output: artilleryOutputOf(periods, t0), source: 'out.json', runId: 'r', milestone: null });
    expect(samples.map(({ elapsedS, started, completed, succeeded, failed, startedPerS, inFlight, errors }) => ({ elapsedS, started, completed, succeeded, failed, startedPerS, inFlight, errors }))).toEqual([
      { elapsedS: 10, started: 3, completed: 3, succeeded: 2, failed: 1, startedPerS: 0.3, inFlight: 0, errors: { 'relay.nonce': 1 } },
      { elapsedS: 20, started: 6, completed: 6, succeeded: 3, failed: 3, startedPerS: 0.3, inFlight: 0, errors: { 'relay.nonce': 1, 'upload_data.http_5xx': 1 } },
    ]);
    expect(samples[0]!.e2e).toEqual({ p50: 900, p95: 1_100, p99: 1_100 });
  });
});
