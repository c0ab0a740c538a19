import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { flowResultFixture } from '../../../test/fixtures/flowResultFixture.ts';
import { emitMetricEvent, flowMetricEvents, type ArtilleryEvents } from './flowMetrics.ts';
import { ARTILLERY_METRICS } from './harness.ts';

describe('flowMetricEvents', () => {
  it('records every step, e2e, the outcome counters and one upload and transaction success each of a successful flow', () => {
    const events = flowMetricEvents(flowResultFixture({ e2eMs: 1_500, stepMs: 10 }));
    expect(events.filter((e) => e.kind === 'histogram').map((e) => e.name)).toEqual([
      'vana.step.encrypt',
      'vana.step.upload_data',
      'vana.step.upload_grant',
      'vana.step.identity',
      'vana.step.wrap_key',
      'vana.step.sign',
      'vana.step.relay',
      'vana.step.confirm',
      'vana.step.inference_submit',
      'vana.step.inference_wait',
      'vana.step.verify',
      'vana.e2e',
    ]);
    expect(events.find((e) => e.kind === 'histogram' && e.name === 'vana.e2e')).toEqual({ kind: 'histogram', name: 'vana.e2e', value: 1_500 });
    expect(events.filter((e) => e.kind === 'counter')).toEqual([
      { kind: 'counter', name: 'vana.flows.completed', value: 1 },
      { kind: 'counter', name: 'vana.flows.succeeded', value: 1 },
      { kind: 'counter', name: 'vana.flows.failed', value: 0 },
      { kind: 'counter', name: 'vana.uploads.attempts', value: 1 },
      { kind: 'counter', name: 'vana.uploads.successes', value: 1 },
      { kind: 'counter', name: 'vana.uploads.attempts', value: 1 },
      { kind: 'counter', name: 'vana.uploads.successes', value: 1 },
      { kind: 'counter', name: 'vana.tx.attempts', value: 1 },
      { kind: 'counter', name: 'vana.tx.successes', value: 1 },
    ]);
    expect(events.some((e) => e.kind === 'error')).toBe(false);
  });

  it('records the steps before a failure but neither the failed step nor e2e, and counts the failure by step and class', () => {
    const events = flowMetricEvents(flowResultFixture({ failAt: { step: 'confirm', errorClass: 'timeout' } }));
    const histograms = events.filter((e) => e.kind === 'histogram').map((e) => e.name);
    expect(histograms.at(-1)).toBe('vana.step.relay');
    expect(histograms).not.toContain('vana.e2e');
    expect(events.filter((e) => e.kind === 'counter' || e.kind === 'error').slice(0, 5)).toEqual([
      { kind: 'counter', name: 'vana.flows.completed', value: 1 },
      { kind: 'counter', name: 'vana.flows.succeeded', value: 0 },
      { kind: 'counter', name: 'vana.flows.failed', value: 1 },
      { kind: 'counter', name: 'vana.errors.confirm.timeout', value: 1 },
      { kind: 'error', code: 'vana.confirm.timeout.TEST_FAILURE' },
    ]);
    expect(events.filter((e) => e.kind === 'counter' && e.name.startsWith('vana.tx.'))).toEqual([
      { kind: 'counter', name: 'vana.tx.attempts', value: 1 },
      { kind: 'counter', name: 'vana.tx.successes', value: 0 },
    ]);
  });

  it('counts no transaction for a flow that failed before the relay', () => {
    const events = flowMetricEvents(flowResultFixture({ failAt: { step: 'upload_data', errorClass: 'http_5xx' } }));
    expect(events.filter((e) => e.kind === 'counter' && (e.name.startsWith('vana.tx.') || e.name.startsWith('vana.uploads.')))).toEqual([
      { kind: 'counter', name: 'vana.uploads.attempts', value: 1 },
      { kind: 'counter', name: 'vana.uploads.successes', value: 0 },
    ]);
  });
});

describe('emitMetricEvent', () => {
  it("speaks Artillery's event emitter: histogram, counter, rate and error", () => {
    const seen: unknown[][] = [];
    const ee = { emit: (...args: unknown[]) => (seen.push(args), true) } as ArtilleryEvents;
    emitMetricEvent(ee, { kind: 'histogram', name: 'vana.e2e', value: 5 });
    emitMetricEvent(ee, { kind: 'counter', name: 'vana.flows.failed', value: 0 });
    emitMetricEvent(ee, { kind: 'rate', name: 'vana.flow_rate' });
    emitMetricEvent(ee, { kind: 'error', code: 'vana.relay.nonce.X' });
    expect(seen).toEqual([
      ['histogram', 'vana.e2e', 5],
      ['counter', 'vana.flows.failed', 0],
      ['rate', 'vana.flow_rate'],
      ['error', 'vana.relay.nonce.X'],
    ]);
  });
});

describe('index.cjs', () => {
  it('counts arrivals under the contract name of src/report/artilleryMetrics.ts', () => {
    const source = readFileSync(new URL('../index.cjs', import.meta.url), 'utf8');
    expect(source).toContain(`ee.emit('counter', '${ARTILLERY_METRICS.flowsStarted}', 1)`);
  });
});
