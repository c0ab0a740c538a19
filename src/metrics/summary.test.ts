import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.ts';
import { DEFAULT_HEALTH_LIMITS } from './healthLimits.ts';
import { createMetricsCollector, type MetricsCollector } from './collector.ts';
import { flowResultFixture } from '../../test/fixtures/flowResultFixture.ts';
import { createResultsWriter, type ResultsWriter } from './resultsWriter.ts';
import { startSampler } from './sampler.ts';
import { rebuildSummaryFromDir } from './rebuildSummary.ts';
import { buildSummary, summarizeResources } from './summary.ts';
import type { ProcessSample, ThresholdVerdict, TimeseriesSample } from './types.ts';

const T0 = 1_800_000_000_000;
const ENVIRONMENT = { chainId: 31337, target: 'local', loadModel: 'poisson' } as const;

function sampleAt(t: number, processes: ProcessSample[], extra: Partial<TimeseriesSample> = {}): TimeseriesSample {
  return {
    t, elapsedS: (t - T0) / 1_000, started: 0, completed: 0, succeeded: 0, failed: 0, dropped: 0,
    startedPerS: 0, completedPerS: 0, failedPerS: 0, inFlight: 0, e2e: null, rollingE2eP95: null,
    errors: {}, eventLoopLagMs: { mean: 1, max: 2 }, processes, ...extra,
  };
}

/** Runs `count` flows (every 10th fails at relay, e2e 100..) through a collector and a writer, with a sampler writing samples. */
async function recordRun(writer: ResultsWriter, count: number): Promise<{ collector: MetricsCollector; samples: TimeseriesSample[] }> {
  const collector = createMetricsCollector();
  const samples: TimeseriesSample[] = [];
  const sampler = startSampler(collector, {
    logger: silentLogger(),
    intervalMs: 60_000,
    onSample: (sample) => {
      samples.push(sample);
      writer.writeSample(sample);
    },
  });
  collector.breakerChanged('closed');
  for (let flowId = 0; flowId < count; flowId++) {
    const failAt = flowId % 10 === 9 ? ({ step: 'relay', errorClass: flowId % 20 === 9 ? 'nonce' : 'timeout' } as const) : undefined;
    const flow = flowResultFixture({ flowId, scheduledAt: T0 + flowId, e2eMs: 100 + flowId * 3.7, stepMs: 1 + (flowId % 7), failAt, retries: flowId % 3 });
    collector.flowStarted(flowId, flow.scheduledAt);
    collector.flowFinished(flow);
    writer.writeFlow(flow);
    if (flowId % 50 === 0) collector.flowDropped(flow.scheduledAt);
    if (flowId % 2 === 0) collector.stepRetried('confirm');
  }
  collector.flowStarted(count, T0 + count); // still in flight at the end
  collector.breakerChanged('open');
  await sampler.stop();
  await writer.flush();
  return { collector, samples };
}

describe('summarizeResources', () => {
  it('gives avg and peak CPU and RSS, RSS growth of last vs first quarter, fds peak and CPU ms per flow', () => {
    const samples = [10, 20, 30, 40, 50, 60, 70, 80].map((cpu, i) =>
      sampleAt(T0 + i * 1_000, [{ name: 'stack', pid: 7, cpuPercent: cpu, rssBytes: (i + 1) * 100, fds: 20 + (i % 3) }]),
    );
    expect(summarizeResources(samples, { durationMs: 8_000, completed: 40 })).toEqual([
      {
        name: 'stack', pid: 7, cpuAvgPercent: 45, cpuPeakPercent: 80, rssAvgBytes: 450, rssPeakBytes: 800,
        rssGrowthBytes: 750 - 150, fdsPeak: 22, cpuMsPerFlow: 90,
      },
    ]);
    expect(summarizeResources(samples, { durationMs: 8_000, completed: 0 })[0]?.cpuMsPerFlow).toBeNull();
  });
});

describe('buildSummary', () => {
  const verdict = (pass: boolean): ThresholdVerdict => ({ expression: 'x', metric: 'x', actual: 1, actualText: '1', pass, source: 'flag' });

  it('computes rates from the totals (dropped arrivals count as failures) and the verdict from the thresholds', () => {
    const collector = createMetricsCollector();
    for (let flowId = 0; flowId < 8; flowId++) {
      collector.flowStarted(flowId, T0);
      collector.flowFinished(flowResultFixture({ flowId, failAt: flowId < 2 ? { step: 'confirm', errorClass: 'revert' } : undefined }));
    }
    collector.flowDropped(T0);
    collector.flowDropped(T0);
    const base = {
      samples: [sampleAt(T0 + 2_000, [], { targetRate: 4 }), sampleAt(T0 + 4_000, [], { targetRate: 6 })],
      runId: 'r', milestone: 'ms-05', startedAt: T0, endedAt: T0 + 4_000, config: { load: { rate: 5 } }, environment: ENVIRONMENT,
    };
    let seen: unknown;
    const summary = buildSummary({ ...base, totals: collector.totals(), thresholds: (s) => ((seen = s.rates), [verdict(true)]) });
    expect(summary.rates).toEqual({
      successRate: 0.6, txSuccessRate: 0.75, uploadSuccessRate: 1, flowsPerS: 2, targetRate: 5, achievedRate: 2,
    });
    expect(seen).toEqual(summary.rates);
    expect(summary).toMatchObject({ counts: { started: 8, completed: 8, succeeded: 6, failed: 2, dropped: 2 }, durationS: 4, verdict: 'pass' });
    expect(summary.eventLoopLagMs).toEqual({ mean: 1, max: 2 });
    expect(buildSummary({ ...base, totals: collector.totals(), thresholds: [verdict(true), verdict(false)] }).verdict).toBe('fail');
  });

  it("records the vana-load version of this checkout, which compare checks", () => {
    const summary = buildSummary({
      totals: createMetricsCollector().totals(), samples: [], runId: 'r', milestone: null, startedAt: T0, endedAt: T0, config: {}, environment: ENVIRONMENT,
    });
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(summary.environment.vanaLoad).toBe(version);
  });
});

describe('rebuildSummaryFromDir', () => {
  it('rebuilds exactly the live summary from flows.jsonl, timeseries.jsonl and the old summary.json', async () => {
    const writer = createResultsWriter({ resultsDir: mkdtempSync(join(tmpdir(), 'results-')), runId: 'run-live' });
    const { collector, samples } = await recordRun(writer, 500);
    const endedAt = samples.at(-1)?.t as number;
    const live = buildSummary({
      totals: collector.totals(endedAt), samples, runId: writer.runId, milestone: 'ms-05', startedAt: T0, endedAt,
      config: { load: { model: 'poisson' } }, environment: ENVIRONMENT, thresholds: [],
      health: { enabled: true, limits: { ...DEFAULT_HEALTH_LIMITS, eventLoopLagMaxMs: 60_000 } },
    });
    await writer.writeSummary(live);
    await writer.close();

    expect(live.steps.e2e?.count).toBe(450);
    // The run's own limits are read back from its summary.json, not replaced by the defaults.
    expect(live.generatorHealth?.limits.eventLoopLagMaxMs).toBe(60_000);
    expect(live.counts).toEqual({ started: 501, completed: 500, succeeded: 450, failed: 50, dropped: 10 });
    const rebuilt = await rebuildSummaryFromDir(writer.dir);
    expect(rebuilt).toEqual(live);
  });

  it('keeps the version of an old summary.json that did not record one unknown, rather than stamping its own', async () => {
    const writer = createResultsWriter({ resultsDir: mkdtempSync(join(tmpdir(), 'results-')), runId: 'run-old' });
    const { collector, samples } = await recordRun(writer, 20);
    const endedAt = samples.at(-1)?.t as number;
    const old = buildSummary({
      totals: collector.totals(endedAt), samples, runId: writer.runId, milestone: null, startedAt: T0, endedAt, config: {}, environment: ENVIRONMENT,
    });
    delete old.environment.vanaLoad;
    await writer.writeSummary(old);
    await writer.close();
    const rebuilt = JSON.parse(JSON.stringify(await rebuildSummaryFromDir(writer.dir))) as typeof old;
    expect(rebuilt.environment).toEqual(old.environment);
  });

  it('rebuilds a crashed run (no summary.json, cut-off last line) as interrupted, with the same percentiles', async () => {
    const writer = createResultsWriter({ resultsDir: mkdtempSync(join(tmpdir(), 'results-')), runId: 'run-crash' });
    const { collector } = await recordRun(writer, 200);
    await writer.close();
    appendFileSync(writer.flowsPath, '{"flowId":200,"userIndex":200,"scheduledAt":18000');

    const skipped: unknown[] = [];
    const rebuilt = await rebuildSummaryFromDir(writer.dir, { onSkippedLine: (line) => skipped.push(line) });
    const live = collector.totals();
    expect(skipped).toEqual([{ path: writer.flowsPath, lineNumber: 201, reason: expect.stringMatching(/JSON/) }]);
    expect(rebuilt.interrupted).toBe(true);
    expect(rebuilt.runId).toBe('run-crash');
    expect(rebuilt.steps).toEqual(live.steps);
    expect(rebuilt.errors).toEqual(live.errors);
    expect(rebuilt.counts).toEqual(live.counts);
    expect(rebuilt.retries).toEqual(live.retries);
    expect(rebuilt.breaker).toEqual({ opened: 1, halfOpened: 0, closed: 0, finalState: 'open' });
  });

  it('takes phases and drops per phase from the samples', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'results-'));
    const lines = (values: unknown[]) => values.map((value) => `${JSON.stringify(value)}\n`).join('');
    writeFileSync(join(dir, 'timeseries.jsonl'), lines([
      sampleAt(T0 + 1_000, [], { phase: 'ramp_up', started: 1, dropped: 0 }),
      sampleAt(T0 + 2_000, [], { phase: 'sustain', started: 2, dropped: 3 }),
      sampleAt(T0 + 3_000, [], { phase: 'sustain', started: 2, dropped: 4 }),
    ]));
    writeFileSync(join(dir, 'flows.jsonl'), lines([
      flowResultFixture({ flowId: 0, scheduledAt: T0 + 500, e2eMs: 100, phase: 'ramp_up' }),
      flowResultFixture({ flowId: 1, scheduledAt: T0 + 1_500, e2eMs: 200 }),
    ]));
    const { phases, counts } = await rebuildSummaryFromDir(dir);
    expect(counts).toEqual({ started: 2, completed: 2, succeeded: 2, failed: 0, dropped: 4 });
    expect(phases.map(({ e2e, ...phase }) => ({ ...phase, e2eMax: e2e?.max }))).toEqual([
      { name: 'ramp_up', startedAt: T0, endedAt: T0 + 1_000, started: 1, succeeded: 1, failed: 0, dropped: 0, e2eMax: 100 },
      { name: 'sustain', startedAt: T0 + 1_000, endedAt: T0 + 3_000, started: 1, succeeded: 1, failed: 0, dropped: 4, e2eMax: 200 },
    ]);
  });

  it('error: a bad line before the last is corruption, not a crash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'results-'));
    writeFileSync(join(dir, 'flows.jsonl'), `${JSON.stringify(flowResultFixture())}\n{"flowId":\n${JSON.stringify(flowResultFixture())}\n`);
    await expect(rebuildSummaryFromDir(dir)).rejects.toMatchObject({
      name: 'ConfigError',
      code: 'RESULTS_LINE_INVALID',
      shortMessage: `1 invalid line in ${join(dir, 'flows.jsonl')} (line 2): line 2: Unexpected end of JSON input; expected one JSON flow result per line`,
    });
  });

  it('error: counts every bad line and lists their numbers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'results-'));
    const good = JSON.stringify(flowResultFixture());
    writeFileSync(join(dir, 'flows.jsonl'), [good, 'x', good, '{"flowId":"7"}', good, 'y'].join('\n'));
    await expect(rebuildSummaryFromDir(dir)).rejects.toMatchObject({
      shortMessage: expect.stringMatching(new RegExp(`^3 invalid lines in ${join(dir, 'flows.jsonl')} \\(lines 2, 4, 6\\): line 2: .*; expected one JSON flow result per line$`)),
    });
  });

  it('error: a flows.jsonl whose only line fails the schema is refused, never read as a run of no flows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'results-'));
    writeFileSync(join(dir, 'flows.jsonl'), '{"flowId":1}\n');
    await expect(rebuildSummaryFromDir(dir)).rejects.toMatchObject({
      name: 'ConfigError',
      code: 'RESULTS_LINE_INVALID',
      shortMessage: expect.stringMatching(new RegExp(`^No valid line in ${join(dir, 'flows.jsonl')} \\(1 invalid: line 1\\): line 1: `)),
    });
  });

  it('error: a flows.jsonl or summary.json that is a directory is named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'results-'));
    mkdirSync(join(dir, 'summary.json'));
    await expect(rebuildSummaryFromDir(dir)).rejects.toMatchObject({ name: 'ConfigError', shortMessage: `Summary file ${join(dir, 'summary.json')} is a directory: expected a readable file` });
    const other = mkdtempSync(join(tmpdir(), 'results-'));
    mkdirSync(join(other, 'flows.jsonl'));
    await expect(rebuildSummaryFromDir(other)).rejects.toMatchObject({ name: 'ConfigError', shortMessage: `Results file ${join(other, 'flows.jsonl')} is a directory: expected a readable file` });
  });

  it('error: a directory without results', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'results-'));
    await expect(rebuildSummaryFromDir(dir)).rejects.toMatchObject({ name: 'ConfigError', code: 'RESULTS_DIR_INVALID' });
  });
});
