import { MILESTONE_THRESHOLDS } from '../milestones/thresholds.ts';
import { describe, expect, it } from 'vitest';
import { parseThresholds } from '../metrics/thresholds.ts';
import { ensureOfThresholds, NOT_MEASURED_ON_ARTILLERY, thresholdsForArtillery } from './artilleryThresholds.ts';

describe('thresholdsForArtillery', () => {
  it("keeps the milestone's thresholds with the flags over them, per-process ones passing as n/a", () => {
    const thresholds = thresholdsForArtillery(MILESTONE_THRESHOLDS['ms-05'], ['e2e.p95<20s', 'stack.cpu_avg<90%']);
    expect(thresholds.map((t) => [t.expression, t.notMeasuredText ?? null])).toEqual([
      ['achieved_rate>=2.5', null],
      ['e2e.p95<20s', null],
      ['success_rate>=85%', null],
      ['harness.rss_peak<1GB', NOT_MEASURED_ON_ARTILLERY],
      ['funding_latency_p95<30s', 'n/a (relayed mode)'],
      ['stack.cpu_avg<90%', NOT_MEASURED_ON_ARTILLERY],
    ]);
  });

  it('has only the flags without a milestone', () => {
    expect(thresholdsForArtillery([], ['failed_count==0']).map((t) => t.expression)).toEqual(['failed_count==0']);
  });

  it('error: refuses a bad threshold', () => {
    expect(() => thresholdsForArtillery([], ['e2e.p96<1s'])).toThrow("bad threshold 'e2e.p96<1s'");
  });
});

describe('ensureOfThresholds', () => {
  it("writes latency stats, ratios, counts and the workers' lag in Artillery's metric names and our units", () => {
    const { conditions, reportOnly } = ensureOfThresholds(
      parseThresholds(['e2e.avg<90s', 'relay.p99.9<=2s', 'confirm.count>=10', 'tx_success_rate>95%', 'upload_success_rate>=0.98', 'failed_count==0', 'event_loop_lag_max<500ms', 'throughput>=2', 'dropped_count==0', 'anvil.rss_peak<1GB'], 'flag'),
    );
    expect(conditions.map((c) => c.expression)).toEqual([
      'vana.e2e.mean < 90000',
      'vana.step.relay.p999 <= 2000',
      'vana.step.confirm.count >= 10',
      'vana.tx.successes / vana.tx.attempts > 0.95',
      'vana.uploads.successes / vana.uploads.attempts >= 0.98',
      'vana.flows.failed == 0',
      'vana.worker.event_loop_lag_ms.max < 500',
    ]);
    expect(reportOnly).toEqual([
      { expression: 'throughput>=2', why: "Artillery's checks see no run duration" },
      { expression: 'dropped_count==0', why: 'vusers.skipped exists only when an arrival was skipped' },
      { expression: 'anvil.rss_peak<1GB', why: 'no per-process resources on Artillery workers' },
    ]);
  });
});
