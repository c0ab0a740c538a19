import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import type { LatencyDifference, ProportionDifference, RunComparison } from './compare.ts';
import type { LatencyStat } from './compareStats.ts';
import { DEFAULT_REGRESSION_RULES, describeDefaultGate, judgeRegressions, parseMaxRegression } from './maxRegression.ts';

const facts = { dir: 'd', runId: 'r', milestone: null, startedAt: 0, durationS: 10, ok: 10, failed: 0, dropped: 0, seed: null };

/** A comparison holding only what the rules read: e2e latency and the success rate. */
function comparison({ e2e, successRate = null }: { e2e?: Partial<Record<LatencyStat, LatencyDifference>>; successRate?: ProportionDifference | null }): RunComparison {
  return {
    alpha: 0.05,
    resamples: 2_000,
    baseline: facts,
    candidate: facts,
    comparability: [],
    steps: e2e ? [{ step: 'e2e', baselineCount: 100, candidateCount: 100, stats: e2e as Record<LatencyStat, LatencyDifference>, mannWhitney: { pValue: 0.001, probabilityCandidateLarger: 0.7 } }] : [],
    successRate,
    txSuccessRate: null,
    uploadSuccessRate: null,
    droppedRate: null,
    throughput: null,
    errors: [],
    cpuMsPerFlow: [],
  };
}

const latency = (baseline: number, candidate: number, pValue: number): LatencyDifference => ({
  baseline, candidate, difference: candidate - baseline, relative: (candidate - baseline) / baseline, ci: [0, 0], pValue, bootstrapPValue: pValue,
});

describe('parseMaxRegression', () => {
  it('reads latencies in % of the baseline or in a duration, rates in points, throughput in % or flows/s', () => {
    expect(parseMaxRegression(' e2e.p95:+10% ')).toEqual({ expression: 'e2e.p95:+10%', metric: 'e2e.p95', kind: 'latency', worse: 'up', tolerance: { relative: 0.1 } });
    expect(parseMaxRegression('relay.p99:+50ms').tolerance).toEqual({ absolute: 50 });
    expect(parseMaxRegression('inference_wait.p99.9:+1.5s').tolerance).toEqual({ absolute: 1_500 });
    expect(parseMaxRegression('confirm.avg:+2m').tolerance).toEqual({ absolute: 120_000 });
    expect(parseMaxRegression('success_rate:-1%')).toMatchObject({ metric: 'success_rate', kind: 'ratio', worse: 'down', tolerance: { absolute: 0.01 } });
    expect(parseMaxRegression('tx_success_rate:-0.5pp').tolerance).toEqual({ absolute: 0.005 });
    expect(parseMaxRegression('dropped_rate:+2%')).toMatchObject({ worse: 'up', tolerance: { absolute: 0.02 } });
    expect(parseMaxRegression('throughput:-5%')).toMatchObject({ metric: 'flows_per_s', kind: 'rate', worse: 'down', tolerance: { relative: 0.05 } });
    expect(parseMaxRegression('flows_per_s:-30/m').tolerance).toEqual({ absolute: 0.5 });
  });

  it.each([
    ['e2e.p95+10%', "no ':' between metric and amount"],
    ['e2e.p95:10%', 'missing sign: a regression of e2e.p95 is +<amount>'],
    ['e2e.p95:-10%', 'a regression of e2e.p95 is an increase: write +10%'],
    ['success_rate:+1%', 'a regression of success_rate is a decrease: write -1%'],
    ['e2e.p95:+%', 'missing amount after the sign'],
    ['e2e.p95:+10', "unit '' does not fit e2e.p95 (units: % ms s m)"],
    ['success_rate:-1ms', "unit 'ms' does not fit success_rate (units: % pp)"],
    ['e2e.max:+10%', "'e2e.max' cannot be judged (one figure per run, no samples to test), or is unknown"],
    ['harness.cpu_ms_per_flow:+10%', "unknown metric 'harness.cpu_ms_per_flow'"],
    ['e2e:+10%', "'e2e' needs a stat"],
    ['constructor:+1%', "unknown metric 'constructor'"],
    ['e2e.p95:+1e3ms', "unit 'e3ms' does not fit e2e.p95 (units: % ms s m)"],
    [':+10%', 'malformed'],
  ])('error: %s', (expression, problem) => {
    let error: unknown;
    try {
      parseMaxRegression(expression);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message.startsWith(`bad --max-regression '${expression}': ${problem}; expected <metric>:<+|-><amount><unit>, e.g. e2e.p95:+10%`)).toBe(true);
    // One line that names what is accepted.
    expect(message).not.toContain('\n');
    expect(message).toContain('success_rate tx_success_rate upload_success_rate dropped_rate');
  });
});

describe('judgeRegressions', () => {
  const rules = (...expressions: string[]) => expressions.map(parseMaxRegression);

  it('flags a metric only when it is worse beyond the tolerance and significantly so', () => {
    const c = comparison({ e2e: { p95: latency(1_000, 1_300, 0.001), p50: latency(500, 520, 0.001), p99: latency(2_000, 3_000, 0.2) } });
    const verdicts = judgeRegressions(c, rules('e2e.p95:+10%', 'e2e.p50:+10%', 'e2e.p99:+10%', 'e2e.p95:+300ms', 'e2e.p95:+299ms'));
    expect(verdicts.map((v) => [v.rule.expression, v.worsening, v.beyondTolerance, v.significant, v.regressed])).toEqual([
      ['e2e.p95:+10%', 300, true, true, true],
      ['e2e.p50:+10%', 20, false, true, false], // significant, but within the tolerance
      ['e2e.p99:+10%', 1_000, true, false, false], // beyond, but not significant
      ['e2e.p95:+300ms', 300, false, true, false], // exactly the tolerance is within it
      ['e2e.p95:+299ms', 300, true, true, true],
    ]);
  });

  it('never calls an improvement a regression', () => {
    const c = comparison({ e2e: { p95: latency(1_000, 600, 0.0001) } });
    expect(judgeRegressions(c, rules('e2e.p95:+0%'))[0]).toMatchObject({ worsening: -400, regressed: false });
  });

  it('reads a drop of success rate in points', () => {
    const rate = (baseline: number, candidate: number, pValue: number): ProportionDifference => ({
      baseline, candidate, difference: candidate - baseline, relative: null, ci: [0, 0], pValue, test: 'z',
      baselineCount: { attempts: 1_000, successes: baseline * 1_000 }, candidateCount: { attempts: 1_000, successes: candidate * 1_000 },
    });
    expect(judgeRegressions(comparison({ successRate: rate(0.99, 0.97, 0.01) }), rules('success_rate:-1%'))[0]?.regressed).toBe(true);
    expect(judgeRegressions(comparison({ successRate: rate(0.99, 0.985, 0.01) }), rules('success_rate:-1%'))[0]?.regressed).toBe(false);
  });

  it('does not judge a metric one run did not measure', () => {
    expect(judgeRegressions(comparison({}), rules('relay.p95:+10%', 'success_rate:-1%'))).toMatchObject([
      { estimate: null, regressed: false },
      { estimate: null, regressed: false },
    ]);
  });

  it('judges at the alpha it is given, and allows the floor whatever the tolerance', () => {
    const c = comparison({ e2e: { p95: latency(100, 120, 0.01) } });
    expect(judgeRegressions(c, rules('e2e.p95:+10%'))[0]).toMatchObject({ alpha: 0.05, significant: true, regressed: true });
    expect(judgeRegressions(c, rules('e2e.p95:+10%'), 0.005)[0]).toMatchObject({ alpha: 0.005, significant: false, regressed: false });
    expect(judgeRegressions(c, [{ ...parseMaxRegression('e2e.p95:+10%'), floor: 20 }])[0]).toMatchObject({ beyondTolerance: false, regressed: false });
    expect(judgeRegressions(c, [{ ...parseMaxRegression('e2e.p95:+10%'), floor: 19 }])[0]).toMatchObject({ beyondTolerance: true, regressed: true });
  });
});

describe('the default gate', () => {
  it("checks e2e and every step's p95 with a 25 ms floor, success and dropped rates, and says so", () => {
    expect(DEFAULT_REGRESSION_RULES.map((r) => `${r.expression}${r.floor === undefined ? '' : ` ≥${r.floor}`}`)).toEqual([
      'e2e.p95:+10% ≥25', 'encrypt.p95:+10% ≥25', 'upload_data.p95:+10% ≥25', 'upload_grant.p95:+10% ≥25', 'identity.p95:+10% ≥25',
      'wrap_key.p95:+10% ≥25', 'sign.p95:+10% ≥25', 'relay.p95:+10% ≥25', 'confirm.p95:+10% ≥25', 'inference_submit.p95:+10% ≥25',
      'inference_wait.p95:+10% ≥25', 'verify.p95:+10% ≥25', 'success_rate:-1%', 'dropped_rate:+1%',
    ]);
    expect(describeDefaultGate(0.05)).toBe(
      "default gate (no --max-regression given): e2e and every step's p95 +10% (at least 25 ms), success_rate -1pp, dropped_rate +1pp; 14 rules, each at p < 0.05 ÷ 14 = 0.0036 (Bonferroni)",
    );
  });
});
