import { describe, expect, it } from 'vitest';
import { exitCodeFor } from '../cli/errorOutput.ts';
import { ConfigError } from '../errors.ts';
import { evaluateThresholds, formatValue, mergeThresholds, parseThreshold, parseThresholds, type Threshold, type ThresholdSubject } from './thresholds.ts';
import { MILESTONE_THRESHOLDS } from '../milestones/thresholds.ts';
import type { Percentiles } from './types.ts';

const MB = 1024 ** 2;

function percentiles(p95: number, extra: Partial<Percentiles> = {}): Percentiles {
  return { count: 25, min: p95 / 4, mean: p95 / 2, p50: p95 / 2, p90: p95 * 0.9, p95, p99: p95 * 1.1, p999: p95 * 1.2, max: p95 * 1.3, ...extra };
}

function subject(overrides: Partial<ThresholdSubject> = {}): ThresholdSubject {
  return {
    version: 1,
    runId: 'test-run',
    milestone: 'ms-03',
    startedAt: 0,
    endedAt: 120_000,
    durationS: 120,
    interrupted: false,
    config: {},
    environment: { node: 'v20.19.0', platform: 'linux', cpus: 2, chainId: 31337, target: 'local', loadModel: 'closed' },
    counts: { started: 25, completed: 25, succeeded: 24, failed: 1, dropped: 0 },
    rates: { successRate: 0.96, txSuccessRate: 1, uploadSuccessRate: 1, flowsPerS: 0.21, targetRate: null, achievedRate: null },
    steps: { e2e: percentiles(68_100, { mean: 52_300 }), relay: percentiles(250) },
    errors: [{ step: 'relay', errorClass: 'timeout', count: 1, example: 'POST /api/relay timed out after 30s' }],
    resources: [
      { name: 'harness', pid: 1, cpuAvgPercent: 34, cpuPeakPercent: 92, rssAvgBytes: 180 * MB, rssPeakBytes: 245 * MB, rssGrowthBytes: 12 * MB, cpuMsPerFlow: 35 },
      { name: 'anvil', pid: 2, cpuAvgPercent: 12, cpuPeakPercent: 40, rssAvgBytes: 90 * MB, rssPeakBytes: 95 * MB, rssGrowthBytes: 0, cpuMsPerFlow: null },
    ],
    eventLoopLagMs: { mean: 2, max: 45 },
    retries: { total: 0, byStep: {} },
    breaker: null,
    phases: [],
    ...overrides,
  };
}

const parsed = (t: Threshold): [string, string, number] => [t.metric, t.op, t.value];

function problem(expression: string): string {
  try {
    parseThreshold(expression, 'flag');
  } catch (err) {
    if (err instanceof ConfigError) return err.shortMessage;
    throw err;
  }
  throw new Error(`'${expression}' parsed`);
}

describe('parseThreshold', () => {
  it.each<[string, string, string, number]>([
    ['e2e.p95<120s', 'e2e.p95', '<', 120_000],
    ['e2e.avg<90s', 'e2e.avg', '<', 90_000],
    ['e2e.p95<=1.5m', 'e2e.p95', '<=', 90_000],
    ['e2e.p95==1.1s', 'e2e.p95', '==', 1_100],
    ['relay.p99>250ms', 'relay.p99', '>', 250],
    ['confirm.p50>=300', 'confirm.p50', '>=', 300],
    ['inference_wait.p99.9<2m', 'inference_wait.p99.9', '<', 120_000],
    ['upload_data.min>0', 'upload_data.min', '>', 0],
    ['verify.max<1s', 'verify.max', '<', 1_000],
    ['sign.p90<.5s', 'sign.p90', '<', 500],
    ['encrypt.count>=25', 'encrypt.count', '>=', 25],
    ['success_rate>=0.9', 'success_rate', '>=', 0.9],
    ['success_rate>=90%', 'success_rate', '>=', 0.9],
    ['tx_success_rate>95%', 'tx_success_rate', '>', 0.95],
    ['upload_success_rate>98.5%', 'upload_success_rate', '>', 0.985],
    ['flows_per_s>2', 'flows_per_s', '>', 2],
    ['throughput>=2.5/s', 'flows_per_s', '>=', 2.5],
    ['achieved_rate>=150/m', 'achieved_rate', '>=', 2.5],
    ['harness.rss_peak<1GB', 'harness.rss_peak', '<', 1024 ** 3],
    ['stack.rss_growth<100MB', 'stack.rss_growth', '<', 100 * MB],
    ['anvil.rss_peak<512kb', 'anvil.rss_peak', '<', 512 * 1024],
    ['harness.rss_peak<2048', 'harness.rss_peak', '<', 2048],
    ['harness.rss_peak<2048B', 'harness.rss_peak', '<', 2048],
    ['harness.cpu_avg<80%', 'harness.cpu_avg', '<', 80],
    ['stack.cpu_peak<=150%', 'stack.cpu_peak', '<=', 150],
    ['anvil.cpu_ms_per_flow<50ms', 'anvil.cpu_ms_per_flow', '<', 50],
    ['dropped_count==0', 'dropped_count', '==', 0],
    ['failed_count<=2', 'failed_count', '<=', 2],
    ['dropped_rate<1%', 'dropped_rate', '<', 0.01],
    ['event_loop_lag_max<200ms', 'event_loop_lag_max', '<', 200],
    ['funding_latency_p95<30s', 'funding_latency_p95', '<', 30_000],
  ])('parses %s', (expression, metric, op, value) => {
    expect(parsed(parseThreshold(expression, 'flag'))).toEqual([metric, op, value]);
  });

  it('keeps the trimmed expression as given and the source', () => {
    const t = parseThreshold('  e2e.p95 < 120s ', 'flag');
    expect(t).toEqual({ expression: 'e2e.p95 < 120s', metric: 'e2e.p95', op: '<', value: 120_000, source: 'flag' });
  });

  it.each<[string, string]>([
    ['e2e.p95<<3', "bad threshold 'e2e.p95<<3': operator '<<' is not one of < <= > >= =="],
    ['e2e.p95=3', "bad threshold 'e2e.p95=3': operator '=' is not one of < <= > >= =="],
    ['e2e.p95!=3', "bad threshold 'e2e.p95!=3': operator '!=' is not one of < <= > >= =="],
    ['e2e.p95 120s', "bad threshold 'e2e.p95 120s': no operator; expected <metric><op><value>, e.g. e2e.p95<120s (operators: < <= > >= ==)"],
    ['<120s', "bad threshold '<120s': missing metric before '<'; expected <metric><op><value>, e.g. e2e.p95<120s"],
    ['e2e.p95<', "bad threshold 'e2e.p95<': missing value after '<'; expected <metric><op><value>, e.g. e2e.p95<120s"],
    ['  ', "bad threshold '': empty expression; expected <metric><op><value>, e.g. e2e.p95<120s"],
    [
      'e2e.p96<3s',
      "bad threshold 'e2e.p96<3s': unknown stat 'p96' for e2e; valid stats: avg, min, max, p50, p90, p95, p99, p99.9, count",
    ],
    ['relay<3s', "bad threshold 'relay<3s': 'relay' needs a stat: relay.<stat>; valid stats: avg, min, max, p50, p90, p95, p99, p99.9, count"],
    [
      'harness.rss<3MB',
      "bad threshold 'harness.rss<3MB': unknown stat 'rss' for harness; valid stats: rss_peak, rss_growth, cpu_avg, cpu_peak, cpu_ms_per_flow",
    ],
    ['e2e.p95<3h', "bad threshold 'e2e.p95<3h': e2e.p95: unknown unit 'h'; valid units: ms, s, m (bare number = ms), e.g. 120s"],
    ['e2e.p95<3constructor', "bad threshold 'e2e.p95<3constructor': e2e.p95: unknown unit 'constructor'; valid units: ms, s, m (bare number = ms), e.g. 120s"],
    [
      'harness.rss_peak<3TB',
      "bad threshold 'harness.rss_peak<3TB': harness.rss_peak: unknown unit 'TB'; valid units: B, KB, MB, GB (1024-based; bare number = bytes), e.g. 300MB",
    ],
    ['success_rate>=90', "bad threshold 'success_rate>=90': success_rate: ratio 90 is above 1; for a percent write 90%"],
    ['success_rate>=120%', "bad threshold 'success_rate>=120%': success_rate: percent 120% is above 100%"],
    ['success_rate>=0.9s', "bad threshold 'success_rate>=0.9s': success_rate: unknown unit 's'; valid units: a ratio 0..1 or a percent, e.g. 0.9 or 90%"],
    ['harness.cpu_avg<0.8', "bad threshold 'harness.cpu_avg<0.8': harness.cpu_avg: expected a percent of one core, e.g. 80%, got '0.8'"],
    ['flows_per_s>2/h', "bad threshold 'flows_per_s>2/h': flows_per_s: unknown unit '/h'; valid units: flows per second, e.g. 2.5, 2.5/s or 150/m"],
    ['dropped_count<3s', "bad threshold 'dropped_count<3s': dropped_count: unknown unit 's'; expected a plain number, e.g. 0"],
    ['e2e.p95<-5', "bad threshold 'e2e.p95<-5': e2e.p95: value '-5' is not a non-negative number; expected ms, s, m (bare number = ms), e.g. 120s"],
    ['e2e.p95<fast', "bad threshold 'e2e.p95<fast': e2e.p95: value 'fast' is not a non-negative number; expected ms, s, m (bare number = ms), e.g. 120s"],
  ])('error: rejects %s', (expression, message) => {
    expect(problem(expression)).toBe(message);
  });

  it('error: lists every metric for an unknown one, also for names of Object.prototype', () => {
    const expected =
      "unknown metric 'MUST'; valid metrics: <step>.<stat> (step: encrypt, upload_data, upload_grant, identity, wrap_key, sign, relay, confirm, " +
      'inference_submit, inference_wait, verify, e2e; stat: avg, min, max, p50, p90, p95, p99, p99.9, count), <process>.<stat> (process: harness, ' +
      'stack, anvil; stat: rss_peak, rss_growth, cpu_avg, cpu_peak, cpu_ms_per_flow), success_rate, tx_success_rate, upload_success_rate, ' +
      'flows_per_s, achieved_rate, dropped_count, failed_count, dropped_rate, event_loop_lag_max, funding_latency_p95, throughput';
    expect([problem('latency<3s'), problem('constructor<3'), problem('stack.p95<3s')]).toEqual([
      `bad threshold 'latency<3s': ${expected.replace('MUST', 'latency')}`,
      `bad threshold 'constructor<3': ${expected.replace('MUST', 'constructor')}`,
      `bad threshold 'stack.p95<3s': unknown stat 'p95' for stack; valid stats: rss_peak, rss_growth, cpu_avg, cpu_peak, cpu_ms_per_flow`,
    ]);
  });

  it('error: throws a ConfigError that the CLI maps to exit code 2 and that names the source', () => {
    let caught: unknown;
    try {
      parseThreshold('e2e.p95<<3', 'flag');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect([(caught as ConfigError).code, (caught as ConfigError).metaMessages, exitCodeFor(caught)]).toEqual(['THRESHOLD_INVALID', ['source: flag'], 2]);
  });
});

describe('parseThresholds', () => {
  it('parses every expression with the one source', () => {
    expect(parseThresholds(['e2e.p95<120s', 'success_rate>=0.9'], 'flag').map((t) => [t.metric, t.source])).toEqual([
      ['e2e.p95', 'flag'],
      ['success_rate', 'flag'],
    ]);
  });

  it('error: stops at the first bad expression', () => {
    expect(() => parseThresholds(['e2e.p95<120s', 'e2e.p95<<3', 'nope<1'], 'flag')).toThrow("bad threshold 'e2e.p95<<3'");
  });
});

describe('mergeThresholds', () => {
  const defaults = parseThresholds(['success_rate>=90%', 'e2e.p95<120s', 'flows_per_s>1'], 'MS-03 README');

  it('replaces a default of the same metric in its place and appends new metrics', () => {
    const merged = mergeThresholds(defaults, parseThresholds(['dropped_count==0', 'e2e.p95<1ms'], 'flag'));
    expect(merged.map((t) => `${t.expression} (${t.source})`)).toEqual([
      'success_rate>=90% (MS-03 README)',
      'e2e.p95<1ms (flag)',
      'flows_per_s>1 (MS-03 README)',
      'dropped_count==0 (flag)',
    ]);
  });

  it('matches an alias to its metric and keeps several overrides of one metric', () => {
    const merged = mergeThresholds(defaults, parseThresholds(['throughput>2', 'e2e.p95>1s', 'e2e.p95<9s'], 'flag'));
    expect(merged.map((t) => t.expression)).toEqual(['success_rate>=90%', 'e2e.p95>1s', 'e2e.p95<9s', 'throughput>2']);
  });

  it('returns the defaults when nothing overrides them', () => {
    expect(mergeThresholds(defaults, [])).toEqual(defaults);
  });
});

describe('evaluateThresholds', () => {
  it.each<[string, boolean, boolean]>([
    // [op, pass at actual == value (100 ms), pass at actual == value - 1]
    ['<', false, true],
    ['<=', true, true],
    ['>', false, false],
    ['>=', true, false],
    ['==', true, false],
  ])('compares with %s exactly at the boundary', (op, atBoundary, below) => {
    const [t] = parseThresholds([`relay.p95${op}100ms`], 'flag');
    const verdict = (p95: number): boolean => evaluateThresholds([t!], subject({ steps: { relay: percentiles(p95) } }))[0]!.pass;
    expect([verdict(100), verdict(99)]).toEqual([atBoundary, below]);
  });

  it("fails --threshold 'e2e.p95<1ms' against a run with p95 = 5 ms", () => {
    const thresholds = mergeThresholds(MILESTONE_THRESHOLDS['ms-03'], parseThresholds(['e2e.p95<1ms'], 'flag'));
    const verdicts = evaluateThresholds(thresholds, subject({ steps: { e2e: percentiles(5, { mean: 3 }) } }));
    expect(verdicts.find((v) => v.metric === 'e2e.p95')).toEqual({
      expression: 'e2e.p95<1ms',
      metric: 'e2e.p95',
      actual: 5,
      actualText: '5.0ms',
      pass: false,
      source: 'flag',
    });
  });

  it('reads each kind of metric from the summary', () => {
    const s = subject({ counts: { started: 95, completed: 90, succeeded: 85, failed: 5, dropped: 5 }, funding: { latencyMs: percentiles(12_000) } });
    const exprs = [
      'e2e.avg<90s',
      'e2e.p99.9<90s',
      'relay.count>=25',
      'harness.rss_peak<300MB',
      'harness.rss_growth<100MB',
      'harness.cpu_avg<80%',
      'harness.cpu_peak<80%',
      'harness.cpu_ms_per_flow<50ms',
      'success_rate>=90%',
      'tx_success_rate>95%',
      'upload_success_rate>98%',
      'throughput>0.2',
      'failed_count<=5',
      'dropped_count==0',
      'dropped_rate<=5%',
      'event_loop_lag_max<50ms',
      'funding_latency_p95<30s',
    ];
    const verdicts = evaluateThresholds(parseThresholds(exprs, 'flag'), s);
    expect(verdicts.map((v) => `${v.expression} ${v.actualText} ${v.pass ? 'PASS' : 'FAIL'}`)).toEqual([
      'e2e.avg<90s 52.3s PASS',
      'e2e.p99.9<90s 81.7s PASS',
      'relay.count>=25 25 PASS',
      'harness.rss_peak<300MB 245 MB PASS',
      'harness.rss_growth<100MB 12 MB PASS',
      'harness.cpu_avg<80% 34% PASS',
      'harness.cpu_peak<80% 92% FAIL',
      'harness.cpu_ms_per_flow<50ms 35ms PASS',
      'success_rate>=90% 96.0% PASS',
      'tx_success_rate>95% 100.0% PASS',
      'upload_success_rate>98% 100.0% PASS',
      'throughput>0.2 0.21/s PASS',
      'failed_count<=5 5 PASS',
      'dropped_count==0 5 FAIL',
      'dropped_rate<=5% 5.0% PASS',
      'event_loop_lag_max<50ms 45ms PASS',
      'funding_latency_p95<30s 12.0s PASS',
    ]);
  });

  it('fails what the run did not measure with "not measured"', () => {
    const s = subject({ rates: { ...subject().rates, txSuccessRate: null, successRate: Number.NaN } });
    const exprs = ['verify.p95<1s', 'stack.cpu_avg<80%', 'anvil.cpu_ms_per_flow<5ms', 'tx_success_rate>95%', 'success_rate>=90%', 'funding_latency_p95<30s'];
    const verdicts = evaluateThresholds(parseThresholds(exprs, 'flag'), s);
    expect(verdicts.map((v) => [v.actual, v.actualText, v.pass])).toEqual(exprs.map(() => [null, 'not measured', false]));
  });

  it('passes an unmeasured optional threshold with its own text, and judges it once measured', () => {
    const funding = MILESTONE_THRESHOLDS['ms-05'].filter((t) => t.metric === 'funding_latency_p95');
    const relayed = evaluateThresholds(funding, subject());
    const direct = evaluateThresholds(funding, subject({ funding: { latencyMs: percentiles(40_000) } }));
    expect([relayed[0]?.actualText, relayed[0]?.pass, direct[0]?.actualText, direct[0]?.pass]).toEqual(['n/a (relayed mode)', true, '40.0s', false]);
  });
});

describe('MILESTONE_THRESHOLDS', () => {
  it('holds the MS-03 README success criteria (seed 004)', () => {
    expect(MILESTONE_THRESHOLDS['ms-03'].map(parsed)).toEqual([
      ['success_rate', '>=', 0.9],
      ['e2e.avg', '<', 90_000],
      ['e2e.p95', '<', 120_000],
      ['harness.cpu_avg', '<', 80],
      ['tx_success_rate', '>', 0.95],
      ['upload_success_rate', '>', 0.98],
      ['harness.rss_growth', '<', 100 * MB],
      ['harness.rss_peak', '<', 300 * MB],
    ]);
    expect(new Set(MILESTONE_THRESHOLDS['ms-03'].map((t) => t.source))).toEqual(new Set(['MS-03 README']));
  });

  it('holds MS-02 (one flow succeeds within 60 s) and MS-05 (streaming figures)', () => {
    expect(MILESTONE_THRESHOLDS['ms-02'].map(parsed)).toEqual([
      ['success_rate', '==', 1],
      ['e2e.max', '<', 60_000],
    ]);
    expect(MILESTONE_THRESHOLDS['ms-05'].map((t) => [...parsed(t), t.notMeasuredText])).toEqual([
      ['achieved_rate', '>=', 2.5, undefined],
      ['e2e.p95', '<=', 45_000, undefined],
      ['success_rate', '>=', 0.85, undefined],
      ['harness.rss_peak', '<', 1024 ** 3, undefined],
      ['funding_latency_p95', '<', 30_000, 'n/a (relayed mode)'],
    ]);
  });

  it('carries the MS-03 criteria except peak memory to MS-04, and has none for the MS-01 checks', () => {
    expect(MILESTONE_THRESHOLDS['ms-04'].map(parsed)).toEqual(MILESTONE_THRESHOLDS['ms-03'].map(parsed).filter(([m]) => m !== 'harness.rss_peak'));
    expect(MILESTONE_THRESHOLDS['ms-01']).toEqual([]);
  });

  it('passes the seed sample run of MS-03 (24/25 ok, avg 52.3 s, p95 68.1 s, 245 MB, 34% CPU)', () => {
    const verdicts = evaluateThresholds(MILESTONE_THRESHOLDS['ms-03'], subject());
    expect(verdicts.filter((v) => !v.pass)).toEqual([]);
  });
});

describe('formatValue', () => {
  it.each<[string, number, string]>([
    ['e2e.p95', 5, '5.0ms'],
    ['e2e.p95', 850, '850ms'],
    ['e2e.avg', 1_420, '1.42s'],
    ['e2e.avg', 52_300, '52.3s'],
    ['e2e.max', 121_000, '121s'],
    ['e2e.max', 725_000, '12m 05s'],
    ['success_rate', 0.96, '96.0%'],
    ['harness.rss_peak', 212 * MB, '212 MB'],
    ['harness.rss_peak', 1.5 * 1024 ** 3, '1.50 GB'],
    ['harness.rss_growth', -12 * MB, '-12 MB'],
    ['harness.rss_growth', -3.5 * MB, '-3.50 MB'],
    ['anvil.rss_peak', 512, '512 B'],
    ['harness.cpu_avg', 34.4, '34%'],
    ['harness.cpu_avg', 3.44, '3.4%'],
    ['throughput', 2.531, '2.53/s'],
    ['dropped_count', 3, '3'],
    ['unknown_metric', 3.5, '3.5'],
  ])('renders %s = %d as %s', (metric, value, text) => {
    expect(formatValue(metric, value)).toBe(text);
  });
});
