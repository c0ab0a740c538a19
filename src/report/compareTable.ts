/**
 * The terminal output of `vana-load compare`: plain aligned columns that read well in a CI log,
 * colored only when asked (a TTY). Ends with one line, `COMPARE: ...`, that says what the exit
 * code says.
 */
import { formatDuration } from '../util/format.ts';
import { describeIssue } from './comparability.ts';
import type { ProportionDifference, RunComparison, RunFacts } from './compare.ts';
import type { DifferenceEstimate } from './compareStats.ts';
import type { RegressionMetricKind, RegressionVerdict } from './maxRegression.ts';
import { table } from './terminal.ts';

export interface FormatCompareReportOptions {
  color?: boolean;
  verdicts?: readonly RegressionVerdict[];
  /** Set when the verdicts are the default gate's: the line that says what it checks. */
  gate?: string;
  /** Where compare.html was written, for the last lines. */
  htmlPath?: string;
}

const SHOWN_STATS = ['p50', 'p95', 'p99', 'avg'] as const;
const ESC = '\u001b[';

/** `<0.001`, `0.047`, `1.000`. */
export const formatP = (p: number): string => (p < 0.001 ? '<0.001' : p.toFixed(3));
// A difference that rounds to zero reads `0.0ms`, not `-0.0ms` or `+0.0ms`.
const plus = (value: number, text: string): string => {
  const zero = /^-?0(\.0+)?[^\d.]*$/.test(text);
  return zero ? text.replace(/^-/, '') : value > 0 ? `+${text}` : text;
};
const percent = (ratio: number | null): string => (ratio === null ? 'n/a' : plus(ratio, `${(ratio * 100).toFixed(1)}%`));
const points = (ratio: number): string => plus(ratio, `${(ratio * 100).toFixed(1)}pp`);
const rate = (perS: number): string => `${perS.toFixed(perS < 1 ? 3 : 2)}/s`;

/** A value of a metric kind as text; `signed` for differences. */
export function formatMetricValue(kind: RegressionMetricKind, value: number, signed = false): string {
  if (kind === 'latency') return signed ? plus(value, formatDuration(value)) : formatDuration(value);
  if (kind === 'ratio') return signed ? points(value) : `${(value * 100).toFixed(1)}%`;
  return signed ? plus(value, rate(value)) : rate(value);
}

const interval = (kind: RegressionMetricKind, ci: readonly [number, number]): string =>
  `[${formatMetricValue(kind, ci[0], true)}, ${formatMetricValue(kind, ci[1], true)}]`;

/** `+370ms (+30.6%), 95% CI [+290ms, +452ms], p <0.001`. */
export function describeDifference(kind: RegressionMetricKind, estimate: DifferenceEstimate, alpha: number): string {
  const relative = kind === 'ratio' ? '' : ` (${percent(estimate.relative)})`;
  const level = `${Math.round((1 - alpha) * 1000) / 10}%`;
  return `${formatMetricValue(kind, estimate.difference, true)}${relative}, ${level} CI ${interval(kind, estimate.ci)}, p ${formatP(estimate.pValue)}`;
}

function describeRun(label: string, run: RunFacts): string {
  const parts = [`run ${run.runId}`, run.milestone ?? 'no milestone', `${run.ok} ok / ${run.failed} failed / ${run.dropped} dropped`, `${run.durationS.toFixed(1)}s`];
  if (run.seed !== null) parts.push(`seed ${run.seed}`);
  return `  ${label.padEnd(9)}  ${run.dir}  (${parts.join(' · ')})`;
}

/**
 * The whole comparison as text; see the module comment.
 *
 * @example
 * process.stdout.write(formatCompareReport(comparison, { verdicts, color: shouldUseColor(process.stdout) }));
 */
export function formatCompareReport(comparison: RunComparison, { color = false, verdicts, htmlPath, gate }: FormatCompareReportOptions = {}): string {
  const paint = (code: string, text: string): string => (color ? `${ESC}${code}m${text}${ESC}0m` : text);
  const bold = (text: string): string => paint('1', text);
  const { alpha } = comparison;
  const level = `${Math.round((1 - alpha) * 1000) / 10}%`;
  const out: string[] = [bold('vana-load compare'), describeRun('baseline', comparison.baseline), describeRun('candidate', comparison.candidate), ''];

  if (comparison.comparability.length === 0) out.push('Comparability: every recorded setting matches (target, load model and its users/rate, data, S2K, block time, relay/inference/storage modes, backend, versions, machine)');
  else {
    out.push(paint('1;33', `⚠️  The runs differ in ${comparison.comparability.length} setting(s); differences below may come from these:`));
    for (const issue of comparison.comparability) out.push(paint('33', `  ${issue.severity === 'refuse' ? '✋' : '⚠️ '} ${describeIssue(issue)}`));
  }

  out.push('', bold(`Latency: Δ = candidate − baseline, ${level} CI of Δ by bootstrap (${comparison.resamples} resamples, seeded); p = larger of bootstrap and Mann-Whitney; * = p < ${alpha}`));
  out.push('  P(slower): share of (candidate, baseline) flow pairs in which the candidate flow took longer (0.5 = no shift)');
  const rows: string[][] = [['step', 'n', 'P(slower)', 'stat', 'baseline', 'candidate', 'Δ', 'Δ%', `${level} CI of Δ`, 'p']];
  for (const s of comparison.steps) {
    const n = `${s.baselineCount}/${s.candidateCount}`;
    if (s.stats === null) {
      rows.push([s.step, n, '', '', '', '', `fewer than 2 flows in a run: not compared`, '', '', '']);
      continue;
    }
    SHOWN_STATS.forEach((stat, i) => {
      const e = s.stats![stat];
      rows.push([
        i === 0 ? s.step : '',
        i === 0 ? n : '',
        i === 0 ? s.mannWhitney!.probabilityCandidateLarger.toFixed(2) : '',
        stat,
        formatDuration(e.baseline),
        formatDuration(e.candidate),
        formatMetricValue('latency', e.difference, true),
        percent(e.relative),
        interval('latency', e.ci),
        `${formatP(e.pValue)}${e.pValue < alpha ? ' *' : '  '}`,
      ]);
    });
  }
  out.push(...(comparison.steps.length === 0 ? ['  no step was measured in either run'] : table(rows, 'lrrlrrrrlr')));

  out.push('', bold('Success and throughput (success over flows that ran; dropped arrivals apart)'));
  const rateRows: string[][] = [['metric', 'baseline', 'candidate', 'Δ', `${level} CI of Δ`, 'p', 'test']];
  const proportionRow = (name: string, d: ProportionDifference | null): void => {
    if (d === null) return void rateRows.push([name, 'n/a', 'n/a', '', '', '', 'no attempts in a run']);
    const count = (c: { successes: number; attempts: number }): string => `(${c.successes}/${c.attempts})`;
    rateRows.push([name, `${formatMetricValue('ratio', d.baseline)} ${count(d.baselineCount)}`, `${formatMetricValue('ratio', d.candidate)} ${count(d.candidateCount)}`, points(d.difference), interval('ratio', d.ci), formatP(d.pValue), d.test === 'z' ? 'two-proportion z' : 'Fisher exact']);
  };
  proportionRow('success_rate', comparison.successRate);
  proportionRow('tx_success_rate', comparison.txSuccessRate);
  proportionRow('upload_success_rate', comparison.uploadSuccessRate);
  proportionRow('dropped_rate', comparison.droppedRate);
  const t = comparison.throughput;
  if (t === null) rateRows.push(['flows_per_s', 'n/a', 'n/a', '', '', '', 'a run of no duration']);
  else rateRows.push(['flows_per_s', rate(t.baseline), rate(t.candidate), `${plus(t.difference, rate(t.difference))} (${percent(t.relative)})`, interval('rate', t.ci), formatP(t.pValue), 'Poisson rate']);
  out.push(...table(rateRows, 'lrrrlrl'));

  out.push('', bold('Errors: failed flows by step × class'));
  if (comparison.errors.length === 0) out.push('  none in either run');
  else out.push(...table([['step.class', 'baseline', 'candidate'], ...comparison.errors.map((e) => [e.key, String(e.baseline), String(e.candidate)])]));

  out.push('', bold('CPU per flow (ms of CPU per completed flow, from summary.json; one figure per run, not tested)'));
  if (comparison.cpuMsPerFlow.length === 0) out.push('  not measured');
  else {
    const ms = (v: number | null): string => (v === null ? 'n/a' : v.toFixed(1));
    const delta = (a: number | null, b: number | null): string => (a === null || b === null ? '' : `${plus(b - a, (b - a).toFixed(1))} (${percent(a === 0 ? null : (b - a) / a)})`);
    out.push(...table([['process', 'baseline', 'candidate', 'Δ'], ...comparison.cpuMsPerFlow.map((c) => [c.process, ms(c.baseline), ms(c.candidate), delta(c.baseline, c.candidate)])]));
  }

  out.push('');
  if (verdicts === undefined || verdicts.length === 0) {
    out.push('COMPARE: figures only (--figures-only): exit 0');
  } else {
    const judgedAt = verdicts[0]!.alpha;
    out.push(bold(gate === undefined ? `Regression checks (--max-regression; regressed = beyond the tolerance and p < ${judgedAt})` : `Regression checks, ${gate}`));
    const checkRows = verdicts.map((v) => {
      if (v.estimate === null) return ['⚠️ ', v.rule.expression, 'NOT JUDGED', 'not measured in both runs (fewer than 2 samples in one)'];
      const why = v.regressed ? 'beyond the tolerance and significant' : !v.beyondTolerance ? 'within the tolerance' : 'beyond the tolerance but not significant';
      return [v.regressed ? '❌' : '✅', v.rule.expression, v.regressed ? 'REGRESSED' : 'ok', `${describeDifference(v.rule.kind, v.estimate, alpha)}: ${why}`];
    });
    out.push(...table(checkRows, 'llll').map((line, i) => (verdicts[i]!.regressed ? paint('31', line) : line)));
    const regressed = verdicts.filter((v) => v.regressed);
    out.push('');
    if (regressed.length === 0) out.push(paint('1;32', `COMPARE: NO REGRESSION (${verdicts.length} rule(s) checked): exit 0`));
    else {
      const names = regressed.map((v) => `${v.rule.metric} ${formatMetricValue(v.rule.kind, v.estimate!.difference, true)}${v.rule.kind === 'ratio' ? '' : ` (${percent(v.estimate!.relative)})`}`);
      out.push(paint('1;31', `COMPARE: REGRESSION in ${names.join(', ')}: exit 1`));
    }
  }
  if (htmlPath !== undefined) out.push(`📊 ${htmlPath}`);
  return `${out.join('\n')}\n`;
}
