/**
 * `vana-load report --from-artillery out.json`: turns Artillery's `--output` JSON of a run of
 * artillery-engine-vana into our `summary.json` and `report.html` (in `results/<run-id>/` unless
 * `--dir`), judges the milestone's thresholds and the `--threshold` flags, and prints the final
 * report. Exit code: 0 pass, 1 a threshold failed, 2 bad input.
 */
import { MILESTONE_THRESHOLDS } from '../milestones/thresholds.ts';
import { readFileSync } from 'node:fs';
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors.ts';
import { exitCodeOfVerdict } from '../exitCodes.ts';
import { writeSummaryFile } from '../metrics/resultsWriter.ts';
import { evaluateThresholds } from '../metrics/thresholds.ts';
import { type MilestoneId } from '../milestones/milestoneIds.ts';
import { renderArtilleryHtmlReport } from '../report/artilleryHtml.ts';
import { buildArtillerySummary, parseArtilleryOutput, type ArtilleryRunSummary } from '../report/artillerySummary.ts';
import { thresholdsForArtillery } from '../report/artilleryThresholds.ts';
import { formatFinalReport, shouldUseColor, type OutputStream } from '../report/terminal.ts';
import { checkReadableFile, checkWritableDir } from '../util/checkPath.ts';

export interface RunArtilleryReportCommandParameters {
  /** Artillery's `--output` file. */
  output: string;
  /** Judge by this milestone's default thresholds too. */
  milestone?: MilestoneId | null;
  thresholds?: readonly string[];
  /** Where summary.json and report.html go; default `<resultsDir>/<run id>`. */
  dir?: string;
  resultsDir?: string;
  stdout?: OutputStream;
}

export interface RunArtilleryReportCommandResult {
  exitCode: number;
  summary: ArtilleryRunSummary;
  summaryPath: string;
  reportPath: string;
}

/**
 * Builds, judges and writes the report of an Artillery run; see the module comment.
 *
 * @example
 * const { exitCode } = await runArtilleryReportCommand({ output: 'out.json', milestone: 'ms-05' });
 */
export async function runArtilleryReportCommand({
  output,
  milestone = null,
  thresholds: flags = [],
  dir,
  resultsDir = 'results',
  stdout = process.stdout,
}: RunArtilleryReportCommandParameters): Promise<RunArtilleryReportCommandResult> {
  const thresholds = thresholdsForArtillery(milestone ? MILESTONE_THRESHOLDS[milestone as MilestoneId] : [], flags);
  if (!checkReadableFile(output, 'Artillery output')) {
    throw new ConfigError(`No such Artillery output file: ${output}`, { code: 'ARTILLERY_OUTPUT_MISSING', metaMessages: ['expected: the file of `artillery run --output <file>`'] });
  }
  let json: unknown;
  try {
    json = JSON.parse(await readFile(output, 'utf8'));
  } catch (err) {
    throw new ConfigError(`Invalid JSON in the Artillery output ${output}`, { code: 'ARTILLERY_OUTPUT_INVALID', cause: err });
  }
  const parsed = parseArtilleryOutput(json, output);
  const firstAt = parsed.aggregate.firstMetricAt ?? Date.now();
  const runId = `${new Date(firstAt).toISOString().replace(/\.\d{3}Z$/, 'Z').replaceAll(':', '-')}-artillery${milestone ? `-${milestone.replace('-', '')}` : ''}`;
  const { summary, samples } = buildArtillerySummary({
    output: parsed,
    source: output,
    runId,
    milestone: milestone ? milestone.toUpperCase() : null,
    thresholds: (subject) => evaluateThresholds(thresholds, { ...subject, funding: null }),
  });

  const target = dir ?? join(resultsDir, runId);
  checkWritableDir(target, 'Report directory');
  await mkdir(target, { recursive: true });
  const summaryPath = await writeSummaryFile(target, summary);
  const reportPath = join(target, 'report.html');
  await writeFile(reportPath, renderArtilleryHtmlReport({ summary, samples }));

  const print = (line = ''): void => void stdout.write(`${line}\n`);
  const workers = summary.runner.workers === null ? 'Artillery workers' : `${summary.runner.workers} Artillery worker(s)`;
  print(formatFinalReport(summary, { color: shouldUseColor(stdout), title: `${summary.milestone ?? 'vana-load run'} on ${workers}` }));
  print('');
  print('ℹ️  Merged by Artillery; against a single-process run this report lacks:');
  for (const line of summary.runner.limitations) print(`   - ${line}`);
  if (summary.runner.startupWaits > 0) {
    print(`⚠️  ${summary.runner.startupWaits} virtual user(s) arrived before their worker was ready: their e2e includes the wait (add a warm-up pause phase)`);
  }
  print(`\n📁 ${summaryPath} and ${reportPath} from ${summary.counts.completed} flows in ${output}`);
  return { exitCode: exitCodeOfVerdict(summary.verdict), summary, summaryPath, reportPath };
}

/**
 * The Artillery output a results directory was built from, when it holds the report of an
 * Artillery run (it has no flows.jsonl to rebuild from), else undefined.
 *
 * @example
 * artilleryOutputOf('results/2026-12-05T19-24-14Z-artillery-ms05'); // 'out.json'
 */
export function artilleryOutputOf(dir: string): string | undefined {
  try {
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { runner?: { kind?: unknown; output?: unknown } };
    return summary.runner?.kind === 'artillery' && typeof summary.runner.output === 'string' ? summary.runner.output : undefined;
  } catch {
    return undefined;
  }
}
