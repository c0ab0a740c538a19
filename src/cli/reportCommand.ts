/**
 * `vana-load report <dir>`: rebuilds a run's `summary.json` from `flows.jsonl` + `timeseries.jsonl`
 * (so a crashed or interrupted run loses nothing already measured), judges it again by its
 * milestone's default thresholds and the run's own `--threshold` flags, judges the load
 * generator again from the samples (the run's own health limits, or the defaults, under the
 * health flags given), rewrites `report.html` and prints the final report. Exit code: 0 pass, 1 a
 * threshold failed, 5 invalid (the generator fell behind), 2 bad input: not a results directory, a
 * corrupt line, or a rebuild that would count fewer flows than the `summary.json` it replaces
 * (refused unless `force`).
 *
 * A last line cut short by a crash is left out and said so: which line of which file.
 */
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ConfigError, VanaLoadError } from '../errors.ts';
import { exitCodeOfVerdict } from '../exitCodes.ts';
import { RESULT_FILES, writeSummaryFile } from '../metrics/resultsWriter.ts';
import { healthSettingsOfSummary, readSummaryFile, rebuildSummaryFromDir, type SkippedLine } from '../metrics/rebuildSummary.ts';
import { evaluateThresholds, mergeThresholds, parseThreshold, parseThresholds, type Threshold } from '../metrics/thresholds.ts';
import { MILESTONE_IDS, type MilestoneId } from '../milestones/milestoneIds.ts';
import { MILESTONE_THRESHOLDS } from '../milestones/thresholds.ts';
import type { RunSummary, ThresholdVerdict } from '../metrics/types.ts';
import { writeHtmlReport } from '../report/html.ts';
import { formatFinalReport, shouldUseColor, type OutputStream } from '../report/terminal.ts';
import { checkWritableFile } from '../util/checkPath.ts';
import { applyHealthOverrides, type HealthOverrides } from './healthFlags.ts';

export interface RunReportCommandParameters {
  /** A results directory, `results/<run-id>`. */
  dir: string;
  /** `--threshold` expressions: add to or override the ones the run was judged by. */
  thresholds?: readonly string[];
  /** Replace `summary.json` even when the rebuild counts fewer flows than it (`--force`). */
  force?: boolean;
  /** Health flags given (`--max-event-loop-lag 1s`, `--no-health-check`): over the run's own limits. */
  health?: HealthOverrides;
  stdout?: OutputStream;
  /** Warnings: skipped lines, a replaced summary with more flows. */
  stderr?: OutputStream;
}

export interface RunReportCommandResult {
  exitCode: number;
  summary: RunSummary;
  summaryPath: string;
  reportPath: string;
  /** Last lines left out as writes cut short. */
  skipped: SkippedLine[];
}

/** What this command reads of the old `summary.json`: its milestone, its verdicts, its flow count. */
type PreviousSummary = Partial<Pick<RunSummary, 'milestone' | 'thresholds'>> & {
  /** Flows the old summary counted, to refuse replacing it with fewer. */
  completed?: number;
};

/**
 * Rebuilds and re-judges a results directory; see the module comment. Throws a `ConfigError`
 * (exit 2) for a bad `--threshold`, a directory that is not, or no longer is, a results directory,
 * and a rebuild with fewer flows than the old `summary.json` unless `force`.
 *
 * @example
 * const { exitCode } = await runReportCommand({ dir: 'results/2026-11-23T11-40-00Z-ms03-ab12' });
 */
export async function runReportCommand({
  dir,
  thresholds: flags = [],
  force = false,
  health = { limits: {} },
  stdout = process.stdout,
  stderr = process.stderr,
}: RunReportCommandParameters): Promise<RunReportCommandResult> {
  const flagThresholds = parseThresholds(flags, 'flag');
  const dirStats = await stat(dir).catch(() => undefined);
  if (!dirStats?.isDirectory()) {
    throw new ConfigError(`Not a results directory: ${dir}`, {
      code: 'RESULTS_DIR_INVALID',
      metaMessages: [`reason: ${dirStats ? 'a file' : 'no such directory'}`, `expected: a results/<run-id> directory with ${RESULT_FILES.flows}`],
    });
  }
  // Both are replaced at the end: checked now, before the work.
  checkWritableFile(join(dir, RESULT_FILES.summary), 'Summary file');
  checkWritableFile(join(dir, 'report.html'), 'HTML report');

  const read = await readSummaryFile(dir);
  // Without summary.json (a crash), the milestone is in the default run id (`makeRunId`).
  const milestone = read?.milestone ?? milestoneFromRunId(basename(dir));
  const previous: PreviousSummary = { ...(read ? { thresholds: read.thresholds, completed: read.counts?.completed } : {}), milestone };
  const thresholds = thresholdsForReport(previous, flagThresholds);
  const skipped: SkippedLine[] = [];
  // The rebuild carries the live run's funding and scheduler figures over from the old summary.
  const summary = await rebuildSummaryFromDir(dir, {
    thresholds: (subject) => evaluateThresholds(thresholds, subject),
    onSkippedLine: (line) => skipped.push(line),
    previous: read ?? null,
    health: applyHealthOverrides(healthSettingsOfSummary(read), health),
  });
  summary.milestone ??= milestone;

  const warn = (line: string): void => void stderr.write(`⚠️  ${line}\n`);
  for (const line of skipped) warn(`left out line ${line.lineNumber} of ${line.path}, cut short or invalid (${line.reason})`);
  const lost = previous.completed !== undefined ? previous.completed - summary.counts.completed : 0;
  if (lost > 0) {
    const why = `${RESULT_FILES.summary} counts ${previous.completed} flows, ${RESULT_FILES.flows} gives ${summary.counts.completed}${skipped.length > 0 ? ` (${skipped.map((l) => `line ${l.lineNumber} of ${basename(l.path)} left out`).join(', ')})` : ''}`;
    if (!force) {
      throw new ConfigError(`Not replacing ${join(dir, RESULT_FILES.summary)}: ${why}; expected at least as many flows, or --force to replace it anyway`, {
        code: 'RESULTS_SUMMARY_WOULD_SHRINK',
      });
    }
    warn(`--force: replacing ${join(dir, RESULT_FILES.summary)} although ${why}`);
  }

  const summaryPath = await writeSummaryFile(dir, summary);
  const { path: reportPath } = await writeHtmlReport(dir, { summary });

  const print = (line = ''): void => void stdout.write(`${line}\n`);
  print(formatFinalReport(summary, { color: shouldUseColor(stdout) }));
  const left = skipped.length > 0 ? `; left out: ${skipped.map((l) => `line ${l.lineNumber} of ${basename(l.path)}`).join(', ')}` : '';
  print(`\n📁 Rebuilt ${summaryPath} and ${reportPath} from ${summary.counts.completed} flows in ${RESULT_FILES.flows}${left}`);
  return { exitCode: exitCodeOfVerdict(summary.verdict), summary, summaryPath, reportPath, skipped };
}

/**
 * The thresholds a rebuilt run is judged by: its milestone's current defaults with the run's own
 * `--threshold` flags (kept as `flag` verdicts in the old summary) over them; for a run of no known
 * milestone, the old summary's thresholds. New flags override either.
 */
export function thresholdsForReport(previous: PreviousSummary | undefined, flags: readonly Threshold[]): Threshold[] {
  const id = previous?.milestone?.toLowerCase();
  const old = previous?.thresholds ?? [];
  if (isMilestoneId(id)) {
    return mergeThresholds(mergeThresholds(MILESTONE_THRESHOLDS[id], reparse(old.filter((v) => v.source === 'flag'))), flags);
  }
  return mergeThresholds(reparse(old), flags);
}

/** `MS-03` for a default run id such as `2026-11-23T11-40-00Z-ms03-ab12`, else null. */
export function milestoneFromRunId(runId: string): string | null {
  const label = /-ms(\d\d)-[0-9a-f]{4}$/.exec(runId)?.[1];
  return label !== undefined && isMilestoneId(`ms-${label}`) ? `MS-${label}` : null;
}

function isMilestoneId(id: string | undefined): id is MilestoneId {
  return (MILESTONE_IDS as readonly string[]).includes(id ?? '');
}

function reparse(verdicts: readonly ThresholdVerdict[]): Threshold[] {
  return verdicts.map((verdict) => {
    let threshold: Threshold;
    try {
      threshold = parseThreshold(verdict.expression, verdict.source);
    } catch (err) {
      throw new ConfigError(`Cannot re-evaluate threshold '${verdict.expression}' of ${RESULT_FILES.summary}`, {
        code: 'RESULTS_SUMMARY_INVALID',
        metaMessages: [`reason: ${(err as VanaLoadError).shortMessage ?? String(err)}`, 'fix: override it with --threshold, or remove it from summary.json'],
        cause: err,
      });
    }
    // A threshold that passed as "not measured" (e.g. funding in relayed mode) keeps passing so.
    return verdict.pass && verdict.actual === null ? { ...threshold, notMeasuredText: verdict.actualText } : threshold;
  });
}
