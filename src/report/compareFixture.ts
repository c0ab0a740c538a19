/**
 * Writes a results directory for the compare tests, as a run would: `flows.jsonl` line by line and
 * `summary.json` built by the real collector and summary builder. Step times are lognormal around
 * realistic medians from a seeded source, so the same parameters write the same bytes; `scale`
 * and `stepScale` stretch them to make a slower candidate.
 */
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { STEP_NAMES, type ErrorClass, type StepName } from '../errors.ts';
import type { FlowResult } from '../client/types.ts';
import { createMetricsCollector } from '../metrics/collector.ts';
import { RESULT_FILES, writeSummaryFile } from '../metrics/resultsWriter.ts';
import { buildSummary } from '../metrics/summary.ts';
import type { RunSummary } from '../metrics/types.ts';
import { createSeededRandom } from '../util/seededRandom.ts';

const STEP_MEDIANS_MS: Record<StepName, number> = {
  encrypt: 40,
  upload_data: 12,
  upload_grant: 9,
  identity: 4,
  wrap_key: 2,
  sign: 6,
  relay: 30,
  confirm: 210,
  inference_submit: 15,
  inference_wait: 900,
  verify: 1,
};

export interface CompareFixtureParameters {
  flows: number;
  /** Seed of the step times: the same seed and parameters give the same flows. */
  seed: number;
  /** Multiplies every step's time, and so e2e. Default 1. */
  scale?: number;
  /** Multiplies these steps' times (after `scale`). */
  stepScale?: Partial<Record<StepName, number>>;
  /** Every `every`-th flow fails at `step` with `errorClass`. */
  failEvery?: { every: number; step: StepName; errorClass: ErrorClass };
  /** Dropped arrivals (open models). */
  dropped?: number;
  /** Run length in seconds; default one flow every half second. */
  durationS?: number;
  environment?: Partial<RunSummary['environment']>;
  config?: Record<string, unknown>;
  /** CPU ms per flow per process; default harness 45, stack 60, anvil 12. */
  cpuMsPerFlow?: Record<string, number>;
}

export const FIXTURE_T0 = 1_800_000_000_000;

/** The config of an MS-03-like run, as `configForDisplay` groups it. */
export const FIXTURE_CONFIG: Record<string, unknown> = {
  target: { kind: 'local' },
  chain: { blockTimeSeconds: 0.2 },
  relay: { mode: 'api' },
  inference: { mode: 'proxy' },
  storage: { provider: 'local' },
  load: { model: 'closed', users: 10, concurrency: 10, seed: 7 },
  data: { size: 'small' },
  stack: { inferenceBackend: 'sim', simLatencyP50Ms: 0 },
};

/**
 * Writes `<dir>/flows.jsonl` and `<dir>/summary.json`; returns the summary and the flows.
 *
 * @example
 * await writeCompareFixture('/tmp/x/base', { flows: 200, seed: 1 });
 * await writeCompareFixture('/tmp/x/slow', { flows: 200, seed: 2, scale: 1.3 });
 */
export async function writeCompareFixture(dir: string, params: CompareFixtureParameters): Promise<{ summary: RunSummary; flows: FlowResult[] }> {
  const { flows: count, seed, scale = 1, stepScale = {}, failEvery, dropped = 0, durationS = count / 2 } = params;
  const random = createSeededRandom(seed);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const collector = createMetricsCollector({ now: () => FIXTURE_T0 });
  const flows: FlowResult[] = [];
  for (let flowId = 0; flowId < count; flowId++) {
    const scheduledAt = FIXTURE_T0 + Math.floor((flowId * durationS * 1_000) / Math.max(1, count));
    const failAt = failEvery !== undefined && flowId % failEvery.every === failEvery.every - 1 ? failEvery : undefined;
    const ran = failAt ? STEP_NAMES.slice(0, STEP_NAMES.indexOf(failAt.step) + 1) : STEP_NAMES;
    const steps: Partial<Record<StepName, number>> = {};
    for (const step of ran) steps[step] = Math.round(STEP_MEDIANS_MS[step] * Math.exp(0.35 * normal()) * scale * (stepScale[step] ?? 1) * 1_000) / 1_000;
    const e2eMs = Math.round(Object.values(steps).reduce((a, b) => a + b, 0) * 1.02 * 1_000) / 1_000;
    const flow: FlowResult = {
      flowId,
      userIndex: flowId,
      userAddress: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
      testId: 'fixture',
      dataSize: 'small',
      dataBytes: 1_024,
      scheduledAt,
      startedAt: scheduledAt,
      endedAt: scheduledAt + Math.round(e2eMs),
      success: failAt === undefined,
      steps,
      e2eMs,
      retries: 0,
    };
    if (failAt) flow.error = { step: failAt.step, errorClass: failAt.errorClass, code: 'FIXTURE', message: `${failAt.step} failed (${failAt.errorClass})` };
    collector.flowStarted(flowId, scheduledAt);
    collector.flowFinished(flow);
    flows.push(flow);
  }
  for (let i = 0; i < dropped; i++) collector.flowDropped(FIXTURE_T0);

  const endedAt = FIXTURE_T0 + durationS * 1_000;
  const summary = buildSummary({
    totals: collector.totals(endedAt),
    samples: [],
    runId: dir.split('/').at(-1) ?? 'fixture',
    milestone: 'MS-03',
    startedAt: FIXTURE_T0,
    endedAt,
    config: params.config ?? FIXTURE_CONFIG,
    environment: {
      chainId: 31337,
      target: 'local',
      loadModel: 'closed',
      node: 'v20.19.0',
      platform: 'linux',
      cpus: 2,
      seed: 7,
      loadModelParams: { kind: 'closed', users: 10, iterations: 1 },
      ...params.environment,
    },
  });
  const cpu = params.cpuMsPerFlow ?? { harness: 45, stack: 60, anvil: 12 };
  summary.resources = Object.entries(cpu).map(([name, cpuMsPerFlow], pid) => ({
    name, pid: pid + 100, cpuAvgPercent: 10, cpuPeakPercent: 20, rssAvgBytes: 1e8, rssPeakBytes: 2e8, rssGrowthBytes: 0, cpuMsPerFlow,
  }));
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, RESULT_FILES.flows), '');
  // Appended in chunks, as the results writer does.
  for (let i = 0; i < flows.length; i += 1_000) await appendFile(join(dir, RESULT_FILES.flows), flows.slice(i, i + 1_000).map((f) => `${JSON.stringify(f)}\n`).join(''));
  await writeSummaryFile(dir, summary);
  return { summary, flows };
}
