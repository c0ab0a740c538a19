import { describe, expect, it } from 'vitest';
import type { FlowResult } from '../flow.ts';
import { evaluateThresholds, mergeThresholds, parseThresholds } from '../metrics/thresholds.ts';
import { MILESTONE_THRESHOLDS } from '../milestones/thresholds.ts';
import type { Percentiles, RunSummary, TimeseriesSample } from '../metrics/types.ts';
import { createLiveView, formatFinalReport, formatFlowLine, formatLiveLine, shouldUseColor, type OutputStream } from './terminal.ts';

const MB = 1024 ** 2;
const ESC = '\u001b[';

function fakeStream(isTTY: boolean): OutputStream & { writes: string[] } {
  const writes: string[] = [];
  return { isTTY, writes, write: (chunk: string) => writes.push(chunk) };
}

function sample(elapsedS: number, extra: Partial<TimeseriesSample> = {}): TimeseriesSample {
  return {
    t: 1_700_000_000_000 + elapsedS * 1_000,
    elapsedS,
    started: 237,
    completed: 212,
    succeeded: 210,
    failed: 2,
    dropped: 0,
    startedPerS: 8,
    completedPerS: 7.1,
    failedPerS: 0,
    inFlight: 25,
    e2e: { p50: 1_200, p95: 1_840, p99: 2_000 },
    rollingE2eP95: 1_840,
    errors: {},
    eventLoopLagMs: { mean: 1, max: 3 },
    processes: [
      { name: 'harness', pid: 1, cpuPercent: 23, rssBytes: 142 * MB },
      { name: 'stack', pid: 2, cpuPercent: 61.4, rssBytes: 310 * MB },
      { name: 'anvil', pid: 3, cpuPercent: 12, rssBytes: 95 * MB },
    ],
    ...extra,
  };
}

const percentiles = (p50: number, p95: number, mean: number, count = 25): Percentiles => ({
  count,
  min: p50 / 2,
  mean,
  p50,
  p90: p95 * 0.9,
  p95,
  p99: p95 * 1.05,
  p999: p95 * 1.1,
  max: p95 * 1.1,
});

function runSummary(extraThresholds: readonly string[] = [], overrides: Partial<RunSummary> = {}): RunSummary {
  const base: Omit<RunSummary, 'thresholds' | 'verdict'> = {
    version: 1,
    runId: 'ms03-test',
    milestone: 'ms-03',
    startedAt: Date.UTC(2026, 10, 23, 10, 0, 0),
    endedAt: Date.UTC(2026, 10, 23, 10, 2, 14),
    durationS: 134,
    interrupted: false,
    config: {},
    environment: { node: 'v20.19.0', platform: 'linux', cpus: 2, chainId: 31337, target: 'local', loadModel: 'closed' },
    counts: { started: 25, completed: 25, succeeded: 24, failed: 1, dropped: 0 },
    rates: { successRate: 0.96, txSuccessRate: 1, uploadSuccessRate: 1, flowsPerS: 0.19, targetRate: null, achievedRate: null },
    steps: { encrypt: percentiles(120, 210, 120), relay: percentiles(180, 300, 180), inference_wait: percentiles(45_000, 60_000, 45_000), e2e: percentiles(50_000, 68_100, 52_300) },
    errors: [{ step: 'relay', errorClass: 'timeout', count: 1, example: 'POST /api/relay timed out after 30s' }],
    resources: [
      { name: 'harness', pid: 1, cpuAvgPercent: 34, cpuPeakPercent: 92, rssAvgBytes: 180 * MB, rssPeakBytes: 245 * MB, rssGrowthBytes: 12 * MB, cpuMsPerFlow: 35, fdsPeak: 156 },
      { name: 'anvil', pid: 3, cpuAvgPercent: 12, cpuPeakPercent: 40, rssAvgBytes: 90 * MB, rssPeakBytes: 95 * MB, rssGrowthBytes: 0, cpuMsPerFlow: null },
    ],
    eventLoopLagMs: { mean: 2.1, max: 45 },
    retries: { total: 0, byStep: {} },
    breaker: null,
    phases: [],
    ...overrides,
  };
  const thresholds = evaluateThresholds(mergeThresholds(MILESTONE_THRESHOLDS['ms-03'], parseThresholds(extraThresholds, 'flag')), base);
  return { ...base, thresholds, verdict: thresholds.every((t) => t.pass) && !base.interrupted ? 'pass' : 'fail', ...overrides };
}

function flow(userIndex: number, success: boolean): FlowResult {
  return {
    flowId: userIndex,
    userIndex,
    userAddress: '0x0000000000000000000000000000000000000001',
    testId: `multi-user-${userIndex}`,
    dataSize: 'small',
    dataBytes: 1_024,
    scheduledAt: 0,
    startedAt: 0,
    endedAt: 42_100,
    success,
    steps: {},
    e2eMs: 42_100,
    retries: 0,
    ...(success ? {} : { error: { step: 'relay', errorClass: 'timeout', code: 'TIMEOUT', message: 'POST /api/relay timed out after 30s' } }),
  };
}

describe('shouldUseColor', () => {
  it('colors a TTY only when NO_COLOR is unset or empty', () => {
    expect([
      shouldUseColor({ isTTY: true, write: () => true }, {}),
      shouldUseColor({ isTTY: true, write: () => true }, { NO_COLOR: '' }),
      shouldUseColor({ isTTY: true, write: () => true }, { NO_COLOR: '1' }),
      shouldUseColor({ isTTY: false, write: () => true }, {}),
      shouldUseColor({ write: () => true }, {}),
    ]).toEqual([true, true, false, false, false]);
  });
});

describe('formatLiveLine', () => {
  it('prints the compact CI line', () => {
    expect(formatLiveLine(sample(30))).toBe(
      '[  30s] done 212 ok 210 fail 2 drop 0 inflight 25 rate 7.1/s p95 1.84s cpu h 23% s 61% a 12% rss h 142MB s 310MB a 95MB',
    );
  });

  it('adds target rate, exited processes, a breaker that is not closed and the phase when the sample has them', () => {
    const line = formatLiveLine(sample(630, { targetRate: 8, breaker: 'open', phase: 'sustain', rollingE2eP95: null, processes: [], missingProcesses: ['anvil'] }));
    expect(line).toBe('[ 630s] done 212 ok 210 fail 2 drop 0 inflight 25 rate 7.1/s target 8.0/s p95 - exited anvil breaker open phase sustain');
  });
});

describe('createLiveView', () => {
  it('prints one plain line per 10 s when the stream is not a TTY, and the last sample on stop', () => {
    const stream = fakeStream(false);
    const view = createLiveView({ stream });
    for (let s = 1; s <= 25; s++) view.update(sample(s));
    view.stop();
    view.stop();
    view.update(sample(26));
    expect(stream.writes.map((w) => w.slice(0, 8))).toEqual(['[  10s] ', '[  20s] ', '[  25s] ']);
    expect(stream.writes.every((w) => w.endsWith('\n') && !w.includes('\u001b'))).toBe(true);
  });

  it('takes the plain interval from its options and prints nothing more on stop when the last sample was shown', () => {
    const stream = fakeStream(false);
    const view = createLiveView({ stream, plainIntervalS: 5 });
    for (let s = 1; s <= 15; s++) view.update(sample(s));
    view.stop();
    expect(stream.writes.map((w) => w.slice(0, 8))).toEqual(['[   5s] ', '[  10s] ', '[  15s] ']);
  });

  it('redraws a block in place every 2 s on a TTY: cursor up over the last frame, then clear each line', () => {
    const stream = fakeStream(true);
    const view = createLiveView({ stream, color: false, durationS: 300 });
    for (let s = 1; s <= 5; s++) view.update(sample(s, { targetRate: 8, phase: 'sustain', breaker: 'closed' }));
    view.stop();
    // Samples at 1, 2, 4 s are drawn on their interval; 5 s is drawn by stop() and left on screen.
    expect(stream.writes.map((w) => w.startsWith(`${ESC}6A`))).toEqual([false, true, true, true]);
    expect(stream.writes[3]!.split('\n').filter((l) => l !== '')).toEqual([
      `${ESC}6A${ESC}2Krun     5s elapsed · eta 4m 55s · phase sustain · breaker closed`,
      `${ESC}2Kflows   done 212  ok 210  fail 2  drop 0  in-flight 25`,
      `${ESC}2Krate    now 7.1/s  target 8.0/s  started 8.0/s  p95 (30 s) 1.84s  loop lag 3.0ms`,
      `${ESC}2Kcpu     harness 23%   stack 61%   anvil 12%`,
      `${ESC}2Krss     harness 142 MB   stack 310 MB   anvil 95 MB`,
      `${ESC}2Kerrors  none`,
    ]);
  });

  it('sums errors over the run and shows the eta from planned flows on a TTY', () => {
    const stream = fakeStream(true);
    const view = createLiveView({ stream, color: false, plannedFlows: 283 });
    view.update(sample(1, { errors: { 'relay.timeout': 1 } }));
    view.update(sample(2, { errors: { 'relay.timeout': 2, 'upload_data.http_5xx': 1 } }));
    const frame = stream.writes[1]!;
    expect([frame.includes('eta 10s'), frame.includes('errors  relay.timeout 3  upload_data.http_5xx 1')]).toEqual([true, true]);
  });

  it('colors a failure count on a TTY unless told not to', () => {
    const colored = fakeStream(true);
    const plain = fakeStream(true);
    createLiveView({ stream: colored, color: true }).update(sample(1));
    createLiveView({ stream: plain, color: false }).update(sample(1));
    expect([colored.writes[0]!.includes(`fail ${ESC}31m2${ESC}0m`), plain.writes[0]!.includes(`${ESC}31m`)]).toEqual([true, false]);
  });
});

describe('formatFlowLine', () => {
  it('numbers users from 1 and says where a flow failed', () => {
    expect([formatFlowLine(flow(0, true)), formatFlowLine(flow(6, false))]).toEqual([
      '[User 01] ✅ Flow completed in 42.1s',
      '[User 07] ❌ Failed at relay (timeout) after 42.1s: POST /api/relay timed out after 30s',
    ]);
  });
});

describe('formatFinalReport', () => {
  it('renders the MS-03 style report, ending with the verdict table and VERDICT line', () => {
    const report = formatFinalReport(runSummary(), { title: 'Milestone 3: Multi-User Validation', flowLines: [formatFlowLine(flow(0, true)), formatFlowLine(flow(1, false))] });
    expect(report).toMatchInlineSnapshot(`
      "🚀 Milestone 3: Multi-User Validation — run ms03-test
         closed model · local target · chain 31337 · node v20.19.0 · linux · 2 CPUs
         2m 14s (2026-11-23 10:00:00 UTC → 2026-11-23 10:02:14 UTC)

      🔄 Flows:
        [User 01] ✅ Flow completed in 42.1s
        [User 02] ❌ Failed at relay (timeout) after 42.1s: POST /api/relay timed out after 30s

      📊 Performance Results:
        ⚠️  Success Rate: 24/25 (96.0%)
        ⏱️  Average Duration: 52.3s
        📈 e2e p50 50.0s · p95 68.1s · p99 71.5s · max 74.9s
        🚀 Throughput: 0.19 flows/s (11.4 flows/min)
        🔗 Transaction Success: 100.0%
        📤 Upload Success: 100.0%

      ⏱️  Where Time Goes:
        step            count    p50    p95    max  share
        encrypt            25  120ms  210ms  231ms   0.3%
        relay              25  180ms  300ms  330ms   0.4%
        inference_wait     25  45.0s  60.0s  66.0s  99.3%
        e2e                25  50.0s  68.1s  74.9s

      📊 Resource Usage:
        process  cpu avg  cpu peak  rss avg  rss peak  rss growth  cpu/flow  fds peak
        harness      34%       92%   180 MB    245 MB      +12 MB      35ms       156
        anvil        12%       40%    90 MB     95 MB        +0 B         -         -
        🐢 Event loop lag: mean 2.1ms · max 45ms

      ❌ Errors (step × class):
        step   class    count  example
        relay  timeout      1  POST /api/relay timed out after 30s

      🎯 Thresholds:
        ✅ success_rate>=90%          96.0%  PASS  MS-03 README
        ✅ e2e.avg<90s                52.3s  PASS  MS-03 README
        ✅ e2e.p95<120s               68.1s  PASS  MS-03 README
        ✅ harness.cpu_avg<80%          34%  PASS  MS-03 README
        ✅ tx_success_rate>95%       100.0%  PASS  MS-03 README
        ✅ upload_success_rate>98%   100.0%  PASS  MS-03 README
        ✅ harness.rss_growth<100MB   12 MB  PASS  MS-03 README
        ✅ harness.rss_peak<300MB    245 MB  PASS  MS-03 README

      VERDICT: PASS
      "
    `);
  });

  it('counts the failed thresholds in the VERDICT line', () => {
    const report = formatFinalReport(runSummary(['e2e.p95<1ms', 'dropped_count==0']));
    const lines = report.trimEnd().split('\n');
    expect(lines.filter((l) => l.includes('e2e.p95') || l.startsWith('VERDICT'))).toEqual([
      '  ❌ e2e.p95<1ms                68.1s  FAIL  flag',
      'VERDICT: FAIL (1 of 9 thresholds failed)',
    ]);
    expect(lines.at(-1)).toBe('VERDICT: FAIL (1 of 9 thresholds failed)');
  });

  it('fails an interrupted run even when every threshold passed', () => {
    const report = formatFinalReport(runSummary([], { interrupted: true }));
    expect([report.includes('⚠️  Interrupted'), report.trimEnd().split('\n').at(-1)]).toEqual([true, 'VERDICT: FAIL (run interrupted)']);
  });

  it('omits per-flow lines above 50 flows and says where to find them', () => {
    const lines = Array.from({ length: 51 }, (_, i) => formatFlowLine(flow(i, true)));
    const report = formatFinalReport(runSummary(), { flowLines: lines });
    expect([report.includes('[User 01]'), report.includes('  51 flows: per-flow lines are shown up to 50; see flows.jsonl.')]).toEqual([false, true]);
  });

  it('shows open-model rates, retries, breaker and phases when the run has them', () => {
    const phase = { startedAt: 0, endedAt: 60_000, started: 60, succeeded: 58, failed: 2, dropped: 0, e2e: percentiles(30_000, 40_000, 30_000) };
    const report = formatFinalReport(
      runSummary([], {
        rates: { successRate: 106 / 121, txSuccessRate: 1, uploadSuccessRate: 1, flowsPerS: 2.4, targetRate: 2.5, achievedRate: 2.46 },
        counts: { started: 120, completed: 118, succeeded: 106, failed: 12, dropped: 3 },
        retries: { total: 3, byStep: { relay: 2, upload_data: 1 } },
        breaker: { opened: 1, halfOpened: 1, closed: 1, finalState: 'closed' },
        phases: [
          { name: 'ramp_up', ...phase },
          { name: 'sustain', ...phase, startedAt: 60_000, endedAt: 180_000 },
        ],
      }),
    );
    const wanted = [
      '  ⚠️  Success Rate: 106/121 (87.6%)',
      '  🎯 Arrival Rate: 2.46/s of 2.50/s target',
      '  🚫 Dropped Arrivals: 3 (in-flight cap reached)',
      '🔁 Retries: 3 (relay 2, upload_data 1)',
      '🔌 Circuit breaker: opened 1× · half-open 1× · closed 1× · ended closed',
      '  ramp_up  1m 00s       60  58     2     0    40.0s',
      '  sustain  2m 00s       60  58     2     0    40.0s',
    ];
    expect(wanted.filter((line) => !report.split('\n').includes(line))).toEqual([]);
  });

  it('uses colors only when asked', () => {
    const summary = runSummary(['e2e.p95<1ms']);
    expect([formatFinalReport(summary).includes('\u001b'), formatFinalReport(summary, { color: true }).includes(`${ESC}1;31mVERDICT: FAIL`)]).toEqual([false, true]);
  });
});
