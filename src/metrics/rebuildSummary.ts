/**
 * A run's summary rebuilt from its results files (`vana-load report`): flows.jsonl and
 * timeseries.jsonl read line by line, each line checked, the summary.json the run wrote (if any)
 * supplying what only the live run measured.
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { STEP_NAMES } from '../flow.ts';
import type { FlowResult } from '../flow.ts';
import { checkReadableFile } from '../util/checkPath.ts';
import { createMetricsCollector } from './collector.ts';
import { DEFAULT_HEALTH_LIMITS, DEFAULT_HEALTH_SETTINGS, type HealthSettings } from './healthLimits.ts';
import { RESULT_FILES } from './resultsWriter.ts';
import { buildSummary, type ThresholdsInput } from './summary.ts';
import type { RunSummary, TimeseriesSample } from './types.ts';

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
