/**
 * `summary.json` of a run: built live from the collector's totals and the samples, or rebuilt
 * after the fact from `flows.jsonl` + `timeseries.jsonl` (`vana-load report <dir>`), which also
 * works for a run that crashed half-way. Both paths feed the same collector, so they agree.
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { STEP_NAMES } from '../flow.ts';
import { checkReadableFile } from '../util/checkPath.ts';
import type { FlowResult } from '../flow.ts';
import { createMetricsCollector, type CollectorTotals } from './collector.ts';
import { evaluateGeneratorHealth } from './generatorHealth.ts';
import { DEFAULT_HEALTH_LIMITS, DEFAULT_HEALTH_SETTINGS, type HealthSettings } from './healthLimits.ts';
import { RESULT_FILES } from './resultsWriter.ts';
import { summarizeChain } from './summarizeChain.ts';
import type { ProcessResourceSummary, RunSummary, ThresholdVerdict, TimeseriesSample } from './types.ts';

export type SummaryWithoutVerdict = Omit<RunSummary, 'thresholds' | 'verdict'>;

/** Verdicts already evaluated, or the evaluator (src/metrics/thresholds.ts) to run on the summary. */
export type ThresholdsInput = readonly ThresholdVerdict[] | ((summary: SummaryWithoutVerdict) => ThresholdVerdict[]);

export interface BuildSummaryParameters {
  /** `collector.totals(endedAt)`. */
  totals: CollectorTotals;
  /** Every sample of the run, in order (about 0.5 kB each: 2 MB for an hour). */
  samples: readonly TimeseriesSample[];
  runId: string;
  milestone: string | null;
  startedAt: number;
  endedAt: number;
  interrupted?: boolean;
  /** Why the run stopped before its end, when its infrastructure failed (exit 3). */
  stopped?: RunSummary['stopped'];
  /** `configForDisplay(config)`: never the raw config. */
  config: Record<string, unknown>;
  /** `node`, `platform`, `cpus` and `vanaLoad` default to this process's. */
  environment: Pick<RunSummary['environment'], 'chainId' | 'target' | 'loadModel'> & Partial<RunSummary['environment']>;
  /** Defaults to the mean `targetRate` of the samples, null when they have none. */
  targetRate?: number | null;
  /**
   * Flows started per second of the arrival schedule, as the load model counted it (open models).
   * Default: started over the whole run, which includes the drain after the last arrival.
   */
  achievedRate?: number | null;
  /** Direct mode: wallets funded in the background and their latency; null when none were. */
  funding?: RunSummary['funding'];
  /** What the load model did against its plan (`LoadRunStats`). */
  scheduler?: RunSummary['scheduler'];
  /** What the chain timeline could not measure, and why (`summary.chain.notes`). */
  chainNotes?: readonly string[];
  thresholds?: ThresholdsInput;
  /**
   * Judge the load generator from the samples (generatorHealth.ts); an unhealthy one makes the
   * verdict `invalid`. Unset: no `generatorHealth` block (an Artillery run judges no harness of ours).
   */
  health?: HealthSettings;
}

/** This checkout's vana-load version, recorded in every new summary (`environment.vanaLoad`). */
export const VANA_LOAD_VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

const round3 = (value: number): number => Math.round(value * 1_000) / 1_000;
export const mean = (values: readonly number[]): number => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);
const ratio = (part: number, whole: number): number | null => (whole === 0 ? null : part / whole);

/**
 * Per-process CPU and memory over the run. RSS growth compares the mean of the last quarter of
 * the samples with the first quarter: the "memory is stable" figure.
 */
export function summarizeResources(
  samples: readonly TimeseriesSample[],
  { durationMs, completed }: { durationMs: number; completed: number },
): ProcessResourceSummary[] {
  const byName = new Map<string, { pid: number; cpu: number[]; rss: number[]; fdsPeak?: number }>();
  for (const sample of samples) {
    for (const { name, pid, cpuPercent, rssBytes, fds } of sample.processes) {
      let series = byName.get(name);
      if (!series) byName.set(name, (series = { pid, cpu: [], rss: [] }));
      series.pid = pid;
      series.cpu.push(cpuPercent);
      series.rss.push(rssBytes);
      if (fds !== undefined) series.fdsPeak = Math.max(series.fdsPeak ?? 0, fds);
    }
  }
  return [...byName].map(([name, { pid, cpu, rss, fdsPeak }]) => {
    const quarter = Math.max(1, Math.floor(rss.length / 4));
    const cpuAvg = mean(cpu);
    const summary: ProcessResourceSummary = {
      name,
      pid,
      cpuAvgPercent: round3(cpuAvg),
      cpuPeakPercent: round3(Math.max(...cpu)),
      rssAvgBytes: Math.round(mean(rss)),
      rssPeakBytes: Math.max(...rss),
      rssGrowthBytes: Math.round(mean(rss.slice(-quarter)) - mean(rss.slice(0, quarter))),
      cpuMsPerFlow: completed === 0 ? null : round3((cpuAvg * durationMs) / 100 / completed),
    };
    if (fdsPeak !== undefined) summary.fdsPeak = fdsPeak;
    return summary;
  });
}

/**
 * Builds a run's `summary.json`; `verdict` is `pass` when every threshold passes.
 *
 * @example
 * const summary = buildSummary({
 *   totals: collector.totals(endedAt), samples, runId, milestone: 'ms-03', startedAt, endedAt,
 *   config: configForDisplay(config), environment: { chainId: 31337, target: 'local', loadModel: 'closed' },
 *   thresholds: (summary) => evaluateThresholds(summary, thresholds),
 * });
 */
export function buildSummary({
  totals,
  samples,
  runId,
  milestone,
  startedAt,
  endedAt,
  interrupted = false,
  stopped,
  config,
  environment,
  targetRate,
  achievedRate,
  funding,
  scheduler,
  chainNotes,
  thresholds = [],
  health,
}: BuildSummaryParameters): RunSummary {
  const durationMs = Math.max(0, endedAt - startedAt);
  const durationS = durationMs / 1_000;
  const { counts } = totals;
  const sampledTargets = samples.flatMap((sample) => (sample.targetRate === undefined ? [] : [sample.targetRate]));
  const target = targetRate ?? (sampledTargets.length > 0 ? round3(mean(sampledTargets)) : null);
  const perSecond = (count: number): number => (durationS > 0 ? round3(count / durationS) : 0);
  const chain = summarizeChain({ samples, steps: totals.steps, ...(chainNotes ? { notes: chainNotes } : {}) });

  const summary: SummaryWithoutVerdict = {
    version: 1,
    runId,
    milestone,
    startedAt,
    endedAt,
    durationS: round3(durationS),
    interrupted,
    ...(stopped ? { stopped } : {}),
    config,
    environment: { node: process.version, platform: process.platform, cpus: availableParallelism(), vanaLoad: VANA_LOAD_VERSION, ...environment },
    counts: { ...counts },
    rates: {
      successRate: ratio(counts.succeeded, counts.completed + counts.dropped) ?? 0,
      txSuccessRate: ratio(totals.transactions.successes, totals.transactions.attempts),
      uploadSuccessRate: ratio(totals.uploads.successes, totals.uploads.attempts),
      flowsPerS: perSecond(counts.completed),
      targetRate: target,
      achievedRate: target === null ? null : achievedRate != null ? round3(achievedRate) : perSecond(counts.started),
    },
    steps: totals.steps,
    errors: totals.errors,
    resources: summarizeResources(samples, { durationMs, completed: counts.completed }),
    eventLoopLagMs: {
      mean: round3(mean(samples.map((sample) => sample.eventLoopLagMs.mean))),
      max: samples.reduce((max, sample) => Math.max(max, sample.eventLoopLagMs.max), 0),
    },
    retries: totals.retries,
    breaker: totals.breaker,
    phases: totals.phases,
    ...(funding !== undefined ? { funding } : {}),
    ...(scheduler !== undefined ? { scheduler } : {}),
    ...(chain !== undefined ? { chain } : {}),
    ...(health !== undefined ? { generatorHealth: evaluateGeneratorHealth({ samples, settings: health, ...(scheduler ? { droppedBy: scheduler.droppedBy } : {}) }) } : {}),
  };
  const verdicts = typeof thresholds === 'function' ? thresholds(summary) : [...thresholds];
  // A generator that fell behind measured itself: the thresholds are not judged. A run its
  // infrastructure stopped is never a pass, whatever the figures until then say.
  const verdict = summary.generatorHealth?.status === 'invalid' ? 'invalid' : !stopped && verdicts.every((v) => v.pass) ? 'pass' : 'fail';
  return { ...summary, thresholds: verdicts, verdict };
}

// What the rebuild reads from each line: enough to trust it, loose so added fields pass through.
const flowLine = z.looseObject({
  flowId: z.number(),
  scheduledAt: z.number(),
  endedAt: z.number(),
  success: z.boolean(),
  e2eMs: z.number().nonnegative(),
  retries: z.number(),
  steps: z.partialRecord(z.enum(STEP_NAMES), z.number().nonnegative()),
  phase: z.string().optional(),
  error: z.looseObject({ step: z.enum(STEP_NAMES), errorClass: z.string(), message: z.string() }).optional(),
});
const lagLine = z.object({ max: z.number().nonnegative(), buckets: z.array(z.tuple([z.number().positive(), z.number().int().nonnegative()])) });
const sampleLine = z.looseObject({
  t: z.number(),
  elapsedS: z.number(),
  started: z.number(),
  dropped: z.number(),
  eventLoopLagMs: z.object({ mean: z.number(), max: z.number() }),
  processes: z.array(z.looseObject({ name: z.string(), pid: z.number(), cpuPercent: z.number(), rssBytes: z.number() })),
  // Generator health is judged from these: checked like the rest.
  generator: z
    .looseObject({
      cpuPercent: z.number().nonnegative(),
      eventLoopLag: lagLine,
      schedulerLag: lagLine.optional(),
      fdLimit: z.number().int().positive().optional(),
      loadAvg1: z.number().nonnegative().optional(),
      cpus: z.number().int().positive().optional(),
    })
    .optional(),
});

/** A last line of a JSON-lines file that was left out as a write cut short (see `readJsonLines`). */
export interface SkippedLine {
  path: string;
  /** 1-based. */
  lineNumber: number;
  reason: string;
}

/** Line numbers listed in an error before "and N more". */
const LISTED_LINES = 10;

/**
 * Calls `onValue` with each line of a JSON-lines file, checked by `schema`, and returns whether
 * the file exists. A bad last line after good ones is a write cut short by a crash: it is left
 * out and returned as `skipped`, for the caller to report. Any other bad line is corruption: a
 * `ConfigError` (exit 2) says how many lines are bad and which; a file of bad lines only is
 * refused too, so it is never read as a run of no flows.
 */
async function readJsonLines<T>(
  path: string,
  schema: z.ZodType<T>,
  what: string,
  onValue: (value: T) => void,
): Promise<{ found: boolean; skipped?: SkippedLine }> {
  if (!checkReadableFile(path, 'Results file')) return { found: false };
  const handle: FileHandle = await open(path, 'r');
  let lineNumber = 0;
  let lastContentLine = 0;
  let valid = 0;
  let first: { lineNumber: number; reason: string } | undefined;
  const invalid: number[] = [];
  let invalidCount = 0;
  try {
    for await (const line of createInterface({ input: handle.createReadStream(), crlfDelay: Infinity })) {
      lineNumber++;
      if (line.trim() === '') continue;
      lastContentLine = lineNumber;
      let reason: string | undefined;
      let value: T | undefined;
      try {
        const result = schema.safeParse(JSON.parse(line));
        if (result.success) value = result.data;
        else reason = `${result.error.issues[0]?.path.join('.') || '(line)'}: ${result.error.issues[0]?.message}`;
      } catch (err) {
        reason = (err as Error).message;
      }
      if (reason !== undefined) {
        invalidCount++;
        first ??= { lineNumber, reason };
        if (invalid.length < LISTED_LINES) invalid.push(lineNumber);
        continue;
      }
      valid++;
      // After a bad line the file is refused below: nothing more is counted.
      if (invalidCount === 0) onValue(value as T);
    }
  } finally {
    await handle.close();
  }
  if (first === undefined) return { found: true };
  if (invalidCount === 1 && first.lineNumber === lastContentLine && valid > 0) return { found: true, skipped: { path, ...first } };
  const more = invalidCount > invalid.length ? ` and ${invalidCount - invalid.length} more` : '';
  const which = `${invalidCount === 1 ? 'line' : 'lines'} ${invalid.join(', ')}${more}`;
  const head = valid === 0 ? `No valid line in ${path} (${invalidCount} invalid: ${which})` : `${invalidCount} invalid ${invalidCount === 1 ? 'line' : 'lines'} in ${path} (${which})`;
  throw new ConfigError(`${head}: line ${first.lineNumber}: ${first.reason}; expected one JSON ${what} per line`, { code: 'RESULTS_LINE_INVALID' });
}

// The fields of an old summary.json the rebuild reuses.
const previousSummary = z.looseObject({
  version: z.literal(1),
  runId: z.string(),
  milestone: z.string().nullable(),
  startedAt: z.number(),
  endedAt: z.number(),
  interrupted: z.boolean(),
  config: z.record(z.string(), z.unknown()),
  environment: z.looseObject({ chainId: z.number().nullable(), target: z.enum(['local', 'remote']), loadModel: z.string() }),
  rates: z.looseObject({ targetRate: z.number().nullable(), achievedRate: z.number().nullable().optional() }),
  phases: z.array(z.looseObject({ name: z.string(), startedAt: z.number() })),
  thresholds: z.array(z.looseObject({ expression: z.string(), pass: z.boolean() })),
});

/**
 * The `summary.json` of a results directory, checked for the fields a rebuild reuses; undefined
 * when there is none. A summary that is not JSON or lacks those fields is a `ConfigError` (exit 2).
 */
export async function readSummaryFile(dir: string): Promise<RunSummary | undefined> {
  return readPreviousSummary(join(dir, RESULT_FILES.summary));
}

async function readPreviousSummary(path: string): Promise<RunSummary | undefined> {
  if (!checkReadableFile(path, 'Summary file')) return undefined;
  const text = await readFile(path, 'utf8');
  let result: ReturnType<typeof previousSummary.safeParse>;
  try {
    result = previousSummary.safeParse(JSON.parse(text));
  } catch (err) {
    throw new ConfigError(`Invalid JSON in ${path}`, { code: 'RESULTS_SUMMARY_INVALID', cause: err });
  }
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ConfigError(`Invalid ${path}`, {
      code: 'RESULTS_SUMMARY_INVALID',
      metaMessages: [`field: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? ''}`],
    });
  }
  return result.data as unknown as RunSummary;
}

/**
 * The samples of `<dir>/timeseries.jsonl` (checked line by line); `found` false when there is no
 * such file, `skipped` a last line cut short by a crash.
 */
export async function readTimeseries(dir: string): Promise<{ samples: TimeseriesSample[]; found: boolean; skipped?: SkippedLine }> {
  const samples: TimeseriesSample[] = [];
  const read = await readJsonLines(join(dir, RESULT_FILES.timeseries), sampleLine, 'sample', (sample) => {
    samples.push(sample as unknown as TimeseriesSample);
  });
  return { samples, ...read };
}

export interface RebuildSummaryOptions {
  /** Defaults to the verdicts of the existing `summary.json`, if any. */
  thresholds?: ThresholdsInput;
  /** Called with each last line left out as a write cut short (of `timeseries.jsonl`, `flows.jsonl`). */
  onSkippedLine?: (skipped: SkippedLine) => void;
  /** The old `summary.json`, when the caller read it already (`readSummaryFile`); null for none. */
  previous?: RunSummary | null;
  /**
   * Limits the generator is judged by. Default: those of the old `summary.json`, else the
   * defaults (a crash before it was written).
   */
  health?: HealthSettings;
}

/**
 * Rebuilds `summary.json` from a results directory: percentiles, counts and errors from
 * `flows.jsonl`; resources, dropped arrivals, phases, retries and the breaker from
 * `timeseries.jsonl`; run id, config and environment from the old `summary.json` when there is
 * one. `interrupted` is true when there was none or it said so. Reads flows as a stream, so a
 * 100k-flow run takes no more memory than a small one. Bad input is a `ConfigError` (exit 2).
 *
 * @example
 * const summary = await rebuildSummaryFromDir('results/2026-11-23T11-40-00Z-ms03-ab12');
 */
export async function rebuildSummaryFromDir(dir: string, { thresholds, onSkippedLine, previous: given, health }: RebuildSummaryOptions = {}): Promise<RunSummary> {
  const previous = given === undefined ? await readSummaryFile(dir) : (given ?? undefined);
  const { samples, found: hasSamples, skipped: skippedSample } = await readTimeseries(dir);
  if (skippedSample) onSkippedLine?.(skippedSample);

  const runStartedAt = previous?.startedAt ?? (samples[0] ? samples[0].t - samples[0].elapsedS * 1_000 : undefined);
  const collector = createMetricsCollector({ now: () => runStartedAt ?? 0 });
  // Phase boundaries come from the old summary when it has them. Otherwise a phase began between
  // the sample before it and its first sample. Drops and the breaker are only in the samples;
  // drops are attributed to the phase of the sample that counted them.
  const phasesKnown = (previous?.phases.length ?? 0) > 0;
  for (const phase of previous?.phases ?? []) collector.phaseStarted(phase.name, phase.startedAt);
  let before: TimeseriesSample | undefined;
  for (const sample of samples) {
    if (!phasesKnown && sample.phase !== undefined && sample.phase !== before?.phase) {
      collector.phaseStarted(sample.phase, before?.t ?? runStartedAt);
    }
    if (sample.breaker !== undefined) collector.breakerChanged(sample.breaker);
    for (let i = before?.dropped ?? 0; i < sample.dropped; i++) collector.flowDropped(sample.t, sample.phase);
    before = sample;
  }

  let firstScheduledAt = Infinity;
  let lastEndedAt = -Infinity;
  const { found: hasFlows, skipped: skippedFlow } = await readJsonLines(join(dir, RESULT_FILES.flows), flowLine, 'flow result', (line) => {
    const flow = line as unknown as FlowResult;
    collector.flowStarted(flow.flowId, flow.scheduledAt, flow.phase);
    collector.flowFinished(flow);
    firstScheduledAt = Math.min(firstScheduledAt, flow.scheduledAt);
    lastEndedAt = Math.max(lastEndedAt, flow.endedAt);
  });
  if (skippedFlow) onSkippedLine?.(skippedFlow);
  if (!previous && !hasSamples && !hasFlows) {
    throw new ConfigError(`Not a results directory: ${dir}`, {
      code: 'RESULTS_DIR_INVALID',
      metaMessages: [`expected: ${Object.values(RESULT_FILES).slice(0, 3).join(', ')}`],
    });
  }

  const last = samples.at(-1);
  const startedAt = runStartedAt ?? (Number.isFinite(firstScheduledAt) ? firstScheduledAt : 0);
  const interrupted = !previous || previous.interrupted;
  const endedAt = previous && !previous.interrupted ? previous.endedAt : Math.max(last?.t ?? startedAt, lastEndedAt);
  const totals = collector.totals(endedAt);
  // Flows still in flight when the run stopped were counted as started by the sampler only.
  totals.counts.started = Math.max(totals.counts.started, last?.started ?? 0);
  totals.inFlight = totals.counts.started - totals.counts.completed;
  if (last?.retriesByStep) totals.retries.byStep = last.retriesByStep;
  // Transitions counted live are exact; replaying the sampled states misses the quick ones.
  if (totals.breaker && last?.breakerTransitions) totals.breaker = { ...last.breakerTransitions, finalState: totals.breaker.finalState };

  return buildSummary({
    totals,
    samples,
    runId: previous?.runId ?? basename(dir),
    milestone: previous?.milestone ?? null,
    startedAt,
    endedAt,
    interrupted,
    config: previous?.config ?? {},
    // A rebuild cannot know which version wrote the flows: an old summary's own value, else none.
    environment: { vanaLoad: undefined, ...(previous?.environment ?? { chainId: null, target: 'local', loadModel: 'unknown' }) },
    targetRate: previous?.rates.targetRate,
    achievedRate: previous?.rates.achievedRate,
    // Only the live run measured these; a rebuild keeps them rather than dropping them.
    ...(previous?.funding !== undefined ? { funding: previous.funding } : {}),
    ...(previous?.scheduler !== undefined ? { scheduler: previous.scheduler } : {}),
    ...(previous?.chain !== undefined ? { chainNotes: previous.chain.notes } : {}),
    thresholds: thresholds ?? previous?.thresholds ?? [],
    health: health ?? healthSettingsOfSummary(previous),
  });
}

/** The generator-health settings a run was judged by, from its `summary.json`; the defaults when it has none. */
export function healthSettingsOfSummary(summary: Pick<RunSummary, 'generatorHealth'> | undefined): HealthSettings {
  const recorded = summary?.generatorHealth;
  if (recorded === undefined) return DEFAULT_HEALTH_SETTINGS;
  return { enabled: recorded.status !== 'not_judged', limits: { ...DEFAULT_HEALTH_LIMITS, ...recorded.limits } };
}
