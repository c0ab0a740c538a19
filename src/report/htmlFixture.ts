import { STEP_NAMES, type ErrorClass, type StepName } from '../errors.ts';
import type { MetricStep, Percentiles, RunSummary, TimeseriesSample } from '../metrics/types.ts';
import { createSeededRandom } from '../util/seededRandom.ts';

/**
 * A made-up but realistic run for the report tests: a Poisson load ramping to ~2.5 flows/s,
 * latencies that grow with load, three error kinds and three processes. Deterministic.
 */
export interface ExampleRunParameters {
  /** Number of one-second samples. */
  sampleCount?: number;
  withErrors?: boolean;
  startedAt?: number;
}

// Typical step medians in ms: the personal server's inference dominates, then confirmation.
const STEP_MEDIANS_MS: Record<StepName, number> = {
  encrypt: 3.2,
  upload_data: 180,
  upload_grant: 95,
  identity: 40,
  wrap_key: 1.1,
  sign: 2.4,
  relay: 260,
  confirm: 1900,
  inference_submit: 120,
  inference_wait: 7400,
  verify: 6,
};
const ERROR_KINDS: Array<{ key: `${StepName}.${ErrorClass}`; every: number; example: string }> = [
  { key: 'inference_wait.timeout', every: 7, example: 'operation op_7f3a not finished after 120000 ms' },
  { key: 'upload_data.http_5xx', every: 11, example: 'PUT http://127.0.0.1:4101/objects/u42 → 503 Service Unavailable' },
  { key: 'relay.nonce', every: 17, example: 'nonce too low: next nonce 88, tx nonce 87' },
];

function percentiles(median: number, count: number): Percentiles {
  return { count, min: median * 0.4, mean: median * 1.15, p50: median, p90: median * 1.9, p95: median * 2.4, p99: median * 3.6, p999: median * 5, max: median * 6 };
}

/** A `RunSummary` and its `TimeseriesSample`s, consistent with each other. */
export function exampleRun({ sampleCount = 60, withErrors = true, startedAt = 1_795_000_000_000 }: ExampleRunParameters = {}): {
  summary: RunSummary;
  samples: TimeseriesSample[];
} {
  const random = createSeededRandom(42);
  const samples: TimeseriesSample[] = [];
  const totals = { started: 0, completed: 0, succeeded: 0, failed: 0 };
  const errorTotals = new Map<string, number>();
  for (let i = 0; i < sampleCount; i++) {
    const load = Math.min(1, (i + 1) / 20);
    const startedPerS = Math.round(2.5 * load + random() * 2 - 0.5) || 0;
    const completedPerS = i < 8 ? 0 : Math.max(0, Math.round(2.5 * load + random() * 2 - 1));
    const errors: Record<string, number> = {};
    if (withErrors) {
      for (const kind of ERROR_KINDS) {
        if ((i + 3) % kind.every === 0) errors[kind.key] = 1 + Math.floor(random() * 2);
      }
      // A stall of the personal server: timeouts and upload failures pile up for a few seconds.
      if (i >= 36 && i < 42) {
        errors['inference_wait.timeout'] = (errors['inference_wait.timeout'] ?? 0) + 1 + Math.floor(random() * 3);
        errors['upload_data.http_5xx'] = (errors['upload_data.http_5xx'] ?? 0) + Math.floor(random() * 2);
      }
    }
    const failedPerS = Math.min(completedPerS, Object.values(errors).reduce((a, b) => a + b, 0));
    for (const [key, count] of Object.entries(errors)) errorTotals.set(key, (errorTotals.get(key) ?? 0) + count);
    totals.started += startedPerS;
    totals.completed += completedPerS;
    totals.failed += failedPerS;
    totals.succeeded += completedPerS - failedPerS;
    const p50 = 9_000 + load * 4_000 + random() * 1_500;
    samples.push({
      t: startedAt + (i + 1) * 1000,
      elapsedS: i + 1,
      ...totals,
      dropped: 0,
      startedPerS,
      completedPerS,
      failedPerS,
      inFlight: Math.max(0, totals.started - totals.completed),
      e2e: completedPerS === 0 ? null : { p50, p95: p50 * 1.7, p99: p50 * 2.3 },
      rollingE2eP95: completedPerS === 0 ? null : p50 * 1.7,
      errors,
      eventLoopLagMs: { mean: 1.2 + random(), max: 4 + random() * 10 },
      processes: [
        { name: 'harness', pid: 4100, cpuPercent: 8 + 30 * load + random() * 6, rssBytes: (140 + i * 0.6) * 2 ** 20 },
        { name: 'stack', pid: 4101, cpuPercent: 12 + 45 * load + random() * 10, rssBytes: (210 + i * 0.9) * 2 ** 20 },
        { name: 'anvil', pid: 4102, cpuPercent: 3 + 10 * load + random() * 3, rssBytes: (60 + i * 0.2) * 2 ** 20 },
      ],
      targetRate: 2.5 * load,
      schedulerLagMs: random() * 3,
      breaker: 'closed',
      phase: i < 20 ? 'ramp_up' : 'sustain',
    });
  }

  const steps: Partial<Record<MetricStep, Percentiles>> = {};
  for (const step of STEP_NAMES) steps[step] = percentiles(STEP_MEDIANS_MS[step], totals.completed);
  steps.e2e = percentiles(11_200, totals.completed);
  const endedAt = startedAt + sampleCount * 1000;
  const successRate = totals.completed === 0 ? 1 : totals.succeeded / totals.completed;
  const summary: RunSummary = {
    version: 1,
    runId: '2026-11-23T10-00-00Z-ms05',
    milestone: 'MS-05',
    startedAt,
    endedAt,
    durationS: sampleCount,
    interrupted: false,
    config: {
      load: { model: 'poisson', arrivalRate: 2.5, rampUpS: 20, durationS: sampleCount, maxInFlight: 200 },
      target: { mode: 'local', rpcUrl: 'http://127.0.0.1:8545', apiUrl: 'http://127.0.0.1:4100' },
      wallets: { mnemonic: '[redacted]', relayerPrivateKeys: ['[redacted]', '[redacted]'], fundingAmountWei: '10000000000000000' },
    },
    environment: { node: 'v20.19.5', platform: 'linux-x64', cpus: 2, chainId: 31337, target: 'local', loadModel: 'poisson' },
    counts: { ...totals, dropped: 0 },
    rates: {
      successRate,
      txSuccessRate: 0.981,
      uploadSuccessRate: 0.992,
      flowsPerS: totals.completed / sampleCount,
      targetRate: 2.5,
      achievedRate: totals.started / sampleCount,
    },
    steps,
    errors: ERROR_KINDS.filter((k) => errorTotals.has(k.key)).map((k) => {
      const [step, errorClass] = k.key.split('.') as [StepName, ErrorClass];
      return { step, errorClass, count: errorTotals.get(k.key)!, example: k.example };
    }),
    resources: [
      { name: 'harness', pid: 4100, cpuAvgPercent: 31.5, cpuPeakPercent: 44.1, rssAvgBytes: 158 * 2 ** 20, rssPeakBytes: 176 * 2 ** 20, rssGrowthBytes: 27 * 2 ** 20, cpuMsPerFlow: 142 },
      { name: 'stack', pid: 4101, cpuAvgPercent: 47.9, cpuPeakPercent: 66.8, rssAvgBytes: 236 * 2 ** 20, rssPeakBytes: 263 * 2 ** 20, rssGrowthBytes: 40 * 2 ** 20, cpuMsPerFlow: 215 },
      { name: 'anvil', pid: 4102, cpuAvgPercent: 10.8, cpuPeakPercent: 16.2, rssAvgBytes: 66 * 2 ** 20, rssPeakBytes: 72 * 2 ** 20, rssGrowthBytes: 9 * 2 ** 20, cpuMsPerFlow: 48 },
    ],
    eventLoopLagMs: { mean: 1.7, max: 13.9 },
    retries: { total: 6, byStep: { relay: 4, upload_data: 2 } },
    breaker: { opened: 0, halfOpened: 0, closed: 0, finalState: 'closed' },
    phases: [],
    thresholds: [
      { expression: 'rate>=2.5', metric: 'achievedRate', actual: totals.started / sampleCount, actualText: `${(totals.started / sampleCount).toFixed(2)}/s`, pass: totals.started / sampleCount >= 2.5, source: 'MS-05 README' },
      { expression: 'e2e.p95<=45s', metric: 'e2e.p95', actual: 26_880, actualText: '26.9s', pass: true, source: 'MS-05 README' },
      { expression: 'success>=85%', metric: 'successRate', actual: successRate, actualText: `${(successRate * 100).toFixed(1)}%`, pass: successRate >= 0.85, source: 'MS-05 README' },
      { expression: 'memory<1GB', metric: 'rssPeakBytes', actual: 263 * 2 ** 20, actualText: '263 MiB', pass: true, source: 'MS-05 README' },
    ],
    verdict: 'pass',
  };
  summary.verdict = summary.thresholds.every((t) => t.pass) ? 'pass' : 'fail';
  return { summary, samples };
}
