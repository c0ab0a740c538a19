/**
 * Reads one results directory for `vana-load compare`: `summary.json` (what the run was, its
 * throughput, CPU per flow and dropped arrivals) and `flows.jsonl` (the per-flow times the
 * statistics need). Everything wrong with either is a `ConfigError` (exit 2) with a one-line
 * message naming the file, since a comparison of half a run would mislead.
 *
 * What counts, as in the run's own summary (src/metrics/collector.ts): flows that ran (ok and
 * failed; dropped arrivals never ran and are counted apart); e2e over successful flows; a step's
 * time over the flows that got through that step (a failed step's time until failure is left out).
 */
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { ERROR_CLASSES, STEP_NAMES, type ErrorClass, type StepName } from '../flow.ts';
import { RESULT_FILES } from '../metrics/resultsWriter.ts';
import type { MetricStep, RunSummary } from '../metrics/types.ts';

export interface SuccessCount {
  attempts: number;
  successes: number;
}

export interface CompareRun {
  dir: string;
  summary: RunSummary;
  /** Ascending per-flow times in ms; a step no flow got through is absent. */
  times: Partial<Record<MetricStep, Float64Array>>;
  /** Flows that ran. */
  ok: number;
  failed: number;
  /** Arrivals not started (open models), from `summary.json`. */
  dropped: number;
  uploads: SuccessCount;
  transactions: SuccessCount;
  /** Failed flows by `<step>.<errorClass>`. */
  errors: Map<`${StepName}.${ErrorClass}`, number>;
}

/** The fields of a `flows.jsonl` line compare reads. */
interface FlowLine {
  success: boolean;
  e2eMs: number;
  steps: Partial<Record<StepName, number>>;
  error?: { step: StepName; errorClass: ErrorClass };
}

const STEPS: ReadonlySet<string> = new Set(STEP_NAMES);
const CLASSES: ReadonlySet<string> = new Set(ERROR_CLASSES);
const isDuration = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value) && value >= 0;

/**
 * What is wrong with a parsed line as a flow result, or undefined. By hand rather than with zod:
 * at 100k lines per run zod took twice as long as reading and parsing the file.
 */
function flowLineProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'expected an object';
  const flow = value as Record<string, unknown>;
  if (typeof flow.success !== 'boolean') return 'success: expected a boolean';
  if (!isDuration(flow.e2eMs)) return 'e2eMs: expected a duration in ms >= 0';
  if (typeof flow.steps !== 'object' || flow.steps === null) return 'steps: expected an object';
  for (const [step, ms] of Object.entries(flow.steps)) {
    if (!STEPS.has(step)) return `steps.${step}: not a step`;
    if (!isDuration(ms)) return `steps.${step}: expected a duration in ms >= 0`;
  }
  if (flow.error !== undefined) {
    const error = flow.error as Record<string, unknown> | null;
    if (typeof error?.step !== 'string' || !STEPS.has(error.step)) return 'error.step: not a step';
    if (typeof error.errorClass !== 'string' || !CLASSES.has(error.errorClass)) return 'error.errorClass: not an error class';
  }
  return undefined;
}

// The fields compare reads; the rest of summary.json passes through unchecked.
const summaryFile = z.looseObject({
  version: z.literal(1),
  runId: z.string(),
  milestone: z.string().nullable(),
  startedAt: z.number(),
  durationS: z.number().nonnegative(),
  config: z.record(z.string(), z.unknown()),
  environment: z.looseObject({ node: z.string(), target: z.string(), loadModel: z.string() }),
  counts: z.looseObject({ started: z.number(), completed: z.number(), dropped: z.number() }),
  rates: z.looseObject({ flowsPerS: z.number(), targetRate: z.number().nullable() }),
  resources: z.array(z.looseObject({ name: z.string(), cpuMsPerFlow: z.number().nullable() })),
});

function fail(message: string): never {
  throw new ConfigError(message, { code: 'COMPARE_INPUT_INVALID' });
}

/**
 * Reads `dir` for a comparison; see the module comment.
 *
 * @example
 * const baseline = await readCompareRun('results/cmp-a');
 * baseline.times.e2e; // Float64Array of successful flows' e2e ms, ascending
 */
export async function readCompareRun(dir: string): Promise<CompareRun> {
  const isDir = await stat(dir).then((s) => s.isDirectory(), () => false);
  if (!isDir) fail(`Not a results directory: ${dir} (no such directory)`);
  const summary = await readSummary(join(dir, RESULT_FILES.summary));
  const run: CompareRun = {
    dir,
    summary,
    times: {},
    ok: 0,
    failed: 0,
    dropped: summary.counts.dropped,
    uploads: { attempts: 0, successes: 0 },
    transactions: { attempts: 0, successes: 0 },
    errors: new Map(),
  };
  const collected = new Map<MetricStep, number[]>();
  const push = (step: MetricStep, ms: number): void => {
    const list = collected.get(step);
    if (list) list.push(ms);
    else collected.set(step, [ms]);
  };
  const count = (tally: SuccessCount, passed: boolean): void => {
    tally.attempts++;
    if (passed) tally.successes++;
  };

  const flowsPath = join(dir, RESULT_FILES.flows);
  const lines = await readFlowLines(flowsPath, (flow) => {
    const failedStep = flow.success ? undefined : flow.error?.step;
    if (flow.success) {
      run.ok++;
      push('e2e', flow.e2eMs);
    } else {
      run.failed++;
      if (flow.error) {
        const key = `${flow.error.step}.${flow.error.errorClass}` as const;
        run.errors.set(key, (run.errors.get(key) ?? 0) + 1);
      }
    }
    for (const step of STEP_NAMES) {
      const ms = flow.steps[step];
      if (ms !== undefined && step !== failedStep) push(step, ms);
    }
    const reached = (step: StepName): boolean => flow.steps[step] !== undefined || failedStep === step;
    const passed = (step: StepName): boolean => flow.steps[step] !== undefined && step !== failedStep;
    for (const step of ['upload_data', 'upload_grant'] as const) if (reached(step)) count(run.uploads, passed(step));
    if (reached('relay') || reached('confirm')) count(run.transactions, passed('confirm'));
  });
  if (lines !== summary.counts.completed) {
    fail(`${flowsPath} has ${lines} flows but ${RESULT_FILES.summary} counts ${summary.counts.completed} completed: the file is truncated or from another run`);
  }
  for (const [step, values] of collected) run.times[step] = Float64Array.from(values).sort();
  return run;
}

async function readSummary(path: string): Promise<RunSummary> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    return fail(missing ? `No ${RESULT_FILES.summary} in ${join(path, '..')}: rebuild it from flows.jsonl with \`vana-load report ${join(path, '..')}\`` : `Cannot read ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return fail(`Invalid JSON in ${path}: ${(err as Error).message}`);
  }
  const result = summaryFile.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    return fail(`Invalid ${path}: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'unexpected shape'}`);
  }
  return result.data as unknown as RunSummary;
}

/** Calls `onFlow` per line of `flows.jsonl` and returns the number of flows; any bad line, the last included, is an error. */
async function readFlowLines(path: string, onFlow: (flow: FlowLine) => void): Promise<number> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    return fail(missing ? `No ${RESULT_FILES.flows} in ${join(path, '..')}: compare needs the per-flow times` : `Cannot read ${path}: ${(err as Error).message}`);
  }
  let lineNumber = 0;
  let flows = 0;
  try {
    for await (const line of createInterface({ input: handle.createReadStream(), crlfDelay: Infinity })) {
      lineNumber++;
      if (line.trim() === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        fail(`${path}: line ${lineNumber} is not complete JSON (truncated by a crash or a partial copy?); compare needs every flow`);
      }
      const problem = flowLineProblem(parsed);
      if (problem !== undefined) fail(`${path}: line ${lineNumber} is not a flow result: ${problem}`);
      onFlow(parsed as FlowLine);
      flows++;
    }
  } finally {
    await handle.close();
  }
  return flows;
}
