/**
 * `vana-load compare <baseline> <candidate>`: did the candidate run get worse than the baseline?
 * Reads both results directories, refuses runs that are not comparable (other target or load model
 * kind; `--force` compares anyway, other differences are named loudly), compares them
 * (src/report/compare.ts), prints the table, writes `compare.html` into the candidate directory
 * (or `--out`) and judges the `--max-regression` rules.
 *
 * Without `--max-regression` the default gate judges (maxRegression.ts: e2e and every step's p95,
 * success and dropped rates, Bonferroni-corrected); `--figures-only` judges nothing.
 *
 * Exit code: 1 when a rule's metric is worse beyond its tolerance and significantly so (p < alpha);
 * 0 otherwise, and always 0 with `figuresOnly`; 2 for bad usage, unreadable or truncated results,
 * or runs that are not comparable.
 */
import { join } from 'node:path';
import { ConfigError } from '../errors.ts';
import { EXIT_CODES } from '../exitCodes.ts';
import { checkComparability, describeIssue } from '../report/comparability.ts';
import { compareRuns, type RunComparison } from '../report/compare.ts';
import { writeCompareHtml } from '../report/compareHtml.ts';
import { formatCompareReport } from '../report/compareTable.ts';
import { DEFAULT_REGRESSION_RULES, describeDefaultGate, judgeRegressions, parseMaxRegression, type RegressionVerdict } from '../report/maxRegression.ts';
import { readCompareRun } from '../report/readCompareRun.ts';
import { shouldUseColor, type OutputStream } from '../report/terminal.ts';

export interface RunCompareCommandParameters {
  baseline: string;
  candidate: string;
  /** `--max-regression` expressions, e.g. `e2e.p95:+10%`; none: the default gate. */
  maxRegressions?: readonly string[];
  /** Judge nothing (exit 0 whatever the figures); refused together with `maxRegressions`. */
  figuresOnly?: boolean;
  /** Two-sided significance level; default 0.05. */
  alpha?: number;
  /** Compare runs with another target or load model kind. */
  force?: boolean;
  /** Where to write compare.html; default `<candidate>/compare.html`. */
  out?: string;
  stdout?: OutputStream;
}

export interface RunCompareCommandResult {
  exitCode: number;
  comparison: RunComparison;
  verdicts: RegressionVerdict[];
  htmlPath: string;
}

/**
 * Runs the comparison; see the module comment. Throws a `ConfigError` (exit 2) for a bad rule or
 * alpha, a bad results directory, or runs that are not comparable without `force`.
 *
 * @example
 * const { exitCode } = await runCompareCommand({ baseline: 'results/a', candidate: 'results/b', maxRegressions: ['e2e.p95:+10%'] });
 */
export async function runCompareCommand({
  baseline: baselineDir,
  candidate: candidateDir,
  maxRegressions = [],
  figuresOnly = false,
  alpha = 0.05,
  force = false,
  out,
  stdout = process.stdout,
}: RunCompareCommandParameters): Promise<RunCompareCommandResult> {
  // Everything typed is checked before any file is read.
  const rules = maxRegressions.map(parseMaxRegression);
  if (!(alpha > 0 && alpha <= 0.5)) throw new ConfigError(`--alpha must be a number in (0, 0.5], got ${alpha}`, { code: 'COMPARE_ALPHA_INVALID' });
  if (figuresOnly && rules.length > 0) throw new ConfigError('--figures-only judges nothing: drop it or the --max-regression rules', { code: 'COMPARE_FLAGS_CONFLICT' });

  const [baseline, candidate] = await Promise.all([readCompareRun(baselineDir), readCompareRun(candidateDir)]);
  const refusing = checkComparability(baseline.summary, candidate.summary).filter((issue) => issue.severity === 'refuse');
  if (refusing.length > 0 && !force) {
    throw new ConfigError(`The runs are not comparable: ${refusing.map(describeIssue).join('; ')}; --force compares them anyway`, { code: 'COMPARE_NOT_COMPARABLE' });
  }
  const comparison = compareRuns(baseline, candidate, { alpha });

  const useDefaultGate = rules.length === 0 && !figuresOnly;
  const verdicts = useDefaultGate ? judgeRegressions(comparison, DEFAULT_REGRESSION_RULES, alpha / DEFAULT_REGRESSION_RULES.length) : judgeRegressions(comparison, rules);
  const gate = useDefaultGate ? describeDefaultGate(alpha) : undefined;
  const htmlPath = out ?? join(candidateDir, 'compare.html');
  await writeCompareHtml(htmlPath, { comparison, baselineTimes: baseline.times, candidateTimes: candidate.times, verdicts, ...(gate ? { gate } : {}) });
  stdout.write(formatCompareReport(comparison, { verdicts, color: shouldUseColor(stdout), htmlPath, ...(gate ? { gate } : {}) }));
  const exitCode = verdicts.some((v) => v.regressed) ? EXIT_CODES.thresholdFailed : EXIT_CODES.ok;
  return { exitCode, comparison, verdicts, htmlPath };
}
