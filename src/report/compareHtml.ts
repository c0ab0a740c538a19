/**
 * `compare.html`: the comparison of two runs as one self-contained page in the style of
 * report.html (its stylesheet, uPlot and page script, inlined under the same Content-Security-
 * Policy, so it opens offline from a CI artifact): the verdict of the `--max-regression` rules,
 * what differs between the runs' settings, the latency table and one chart per step with both
 * runs' latency distributions overlaid (CDFs), success and throughput, errors, CPU per flow.
 */
import { writeFile } from 'node:fs/promises';
import { STEP_NAMES } from '../flow.ts';
import type { MetricStep } from '../metrics/types.ts';
import { describeIssue } from './comparability.ts';
import type { ProportionDifference, RunComparison, RunFacts } from './compare.ts';
import { describeDifference, formatMetricValue, formatP } from './compareTable.ts';
import { renderPageHead } from './html.ts';
import { readUplotAssets } from './htmlUplot.ts';
import { REPORT_COLORS, type HtmlTimeChart } from './htmlCharts.ts';
import { HTML_CLIENT_SCRIPT } from './htmlClientScript.ts';
import { escapeHtml, jsonForScript } from './htmlFormat.ts';
import { renderTable } from './htmlTables.ts';
import type { RegressionVerdict } from './maxRegression.ts';

/** Points per distribution chart at most; below it, every flow's time is a point. */
const CDF_POINTS = 400;
/** The x axis ends at this quantile of the two runs, so one outlier does not squash the chart. */
const CDF_TOP = 0.995;
const STYLE = `.verdict.none { background: var(--muted); color: #fff; } td.sig { font-weight: 700; } .method { color: var(--muted); }`;

export interface RenderCompareHtmlParameters {
  comparison: RunComparison;
  /** Ascending per-flow times of each run by step (`CompareRun.times`). */
  baselineTimes: Partial<Record<MetricStep, Float64Array>>;
  candidateTimes: Partial<Record<MetricStep, Float64Array>>;
  verdicts?: readonly RegressionVerdict[];
  /** Set when the verdicts are the default gate's: the line that says what it checks. */
  gate?: string;
}

/** Index of the first value above `x` in an ascending array: how many are <= x. */
function countAtMost(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * One step's latency distributions as a chart: the share of flows (percent) done within x ms, for
 * each run, on x values common to both (every time when few, else evenly spaced quantiles of both).
 */
export function buildCdfChart(step: MetricStep, baseline: Float64Array, candidate: Float64Array): HtmlTimeChart {
  const at = (sorted: Float64Array, q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const top = Math.max(at(baseline, CDF_TOP), at(candidate, CDF_TOP));
  let xs: number[];
  if (baseline.length + candidate.length <= CDF_POINTS) xs = [...baseline, ...candidate];
  else {
    const per = CDF_POINTS / 2;
    xs = Array.from({ length: per + 1 }, (_, i) => [at(baseline, (i / per) * CDF_TOP), at(candidate, (i / per) * CDF_TOP)]).flat();
  }
  const x = [...new Set(xs.filter((v) => v <= top))].sort((a, b) => a - b);
  const cdf = (sorted: Float64Array): number[] => x.map((v) => Math.round((countAtMost(sorted, v) / sorted.length) * 100_000) / 1_000);
  return {
    id: `cdf-${step}`,
    title: `${step}: share of flows done within a time (to the ${CDF_TOP * 100}th percentile)`,
    unit: 'percent',
    kind: 'line',
    x,
    xUnit: 'ms',
    xLabel: 'time',
    yMax: 100,
    series: [
      { label: `baseline (n ${baseline.length})`, color: REPORT_COLORS[0], values: cdf(baseline) },
      { label: `candidate (n ${candidate.length})`, color: REPORT_COLORS[1], values: cdf(candidate) },
    ],
  };
}

const runLine = (label: string, run: RunFacts): string =>
  `${label} ${run.runId} (${run.dir}): ${run.ok} ok, ${run.failed} failed, ${run.dropped} dropped, ${run.durationS.toFixed(1)} s${run.seed === null ? '' : `, seed ${run.seed}`}`;

function verdictOf(verdicts: readonly RegressionVerdict[] | undefined): { cls: string; text: string } {
  if (verdicts === undefined || verdicts.length === 0) return { cls: 'none', text: 'FIGURES ONLY' };
  return verdicts.some((v) => v.regressed) ? { cls: 'fail', text: 'REGRESSION' } : { cls: 'pass', text: 'NO REGRESSION' };
}

function renderVerdicts(comparison: RunComparison, verdicts: readonly RegressionVerdict[] | undefined, gate: string | undefined): string {
  if (verdicts === undefined || verdicts.length === 0) return '<p class="empty">Figures only (--figures-only): the figures below are for reading, not judging.</p>';
  const rows = verdicts.map((v) => [
    { html: `<code>${escapeHtml(v.rule.expression)}</code>` },
    { html: v.estimate === null ? 'NOT JUDGED' : v.regressed ? '<span class="fail">REGRESSED</span>' : '<span class="pass">ok</span>' },
    v.estimate === null ? 'not measured in both runs' : describeDifference(v.rule.kind, v.estimate, comparison.alpha),
    v.estimate === null ? '' : v.regressed ? 'beyond the tolerance and significant' : v.beyondTolerance ? 'beyond the tolerance, not significant' : 'within the tolerance',
  ]);
  const table = renderTable(['rule', 'result', 'difference', 'why'], rows, 'verdicts');
  return gate === undefined ? table : `<p class="method">${escapeHtml(gate)}</p>\n${table}`;
}

function renderLatencyTable(comparison: RunComparison): string {
  const { alpha } = comparison;
  const rows = comparison.steps.flatMap((s) => {
    if (s.stats === null) return [[s.step, `${s.baselineCount} / ${s.candidateCount}`, '—', '—', '—', '—', '—', 'fewer than 2 flows in a run', '—']];
    return (['p50', 'p95', 'p99', 'avg'] as const).map((stat, i) => {
      const e = s.stats![stat];
      const significant = e.pValue < alpha;
      return [
        i === 0 ? s.step : '',
        i === 0 ? `${s.baselineCount} / ${s.candidateCount}` : '',
        stat,
        formatMetricValue('latency', e.baseline),
        formatMetricValue('latency', e.candidate),
        { html: `<span${significant ? ' class="sig"' : ''}>${escapeHtml(formatMetricValue('latency', e.difference, true))}</span>` },
        e.relative === null ? 'n/a' : `${e.relative > 0 ? '+' : ''}${(e.relative * 100).toFixed(1)}%`,
        `[${formatMetricValue('latency', e.ci[0], true)}, ${formatMetricValue('latency', e.ci[1], true)}]`,
        `${formatP(e.pValue)}${significant ? ' *' : ''}`,
      ];
    });
  });
  if (rows.length === 0) return '<p class="empty">No step was measured in either run.</p>';
  return renderTable(['step', 'n', 'stat', 'baseline', 'candidate', 'Δ', 'Δ %', `${Math.round((1 - alpha) * 1000) / 10}% CI of Δ`, 'p'], rows, 'numeric');
}

function renderRatesTable(comparison: RunComparison): string {
  const row = (name: string, d: ProportionDifference | null): string[] =>
    d === null
      ? [name, 'n/a', 'n/a', '', '', '', 'no attempts in a run']
      : [name, `${formatMetricValue('ratio', d.baseline)} (${d.baselineCount.successes}/${d.baselineCount.attempts})`, `${formatMetricValue('ratio', d.candidate)} (${d.candidateCount.successes}/${d.candidateCount.attempts})`, formatMetricValue('ratio', d.difference, true), `[${formatMetricValue('ratio', d.ci[0], true)}, ${formatMetricValue('ratio', d.ci[1], true)}]`, formatP(d.pValue), d.test === 'z' ? 'two-proportion z' : 'Fisher exact'];
  const t = comparison.throughput;
  const rows = [
    row('success_rate', comparison.successRate),
    row('tx_success_rate', comparison.txSuccessRate),
    row('upload_success_rate', comparison.uploadSuccessRate),
    row('dropped_rate', comparison.droppedRate),
    t === null
      ? ['flows_per_s', 'n/a', 'n/a', '', '', '', '']
      : ['flows_per_s', formatMetricValue('rate', t.baseline), formatMetricValue('rate', t.candidate), formatMetricValue('rate', t.difference, true), `[${formatMetricValue('rate', t.ci[0], true)}, ${formatMetricValue('rate', t.ci[1], true)}]`, formatP(t.pValue), 'Poisson rate'],
  ];
  return renderTable(['metric', 'baseline', 'candidate', 'Δ', 'CI of Δ', 'p', 'test'], rows, 'numeric');
}

/**
 * The compare page; see the module comment.
 *
 * @example
 * const html = renderCompareHtml({ comparison, baselineTimes: a.times, candidateTimes: b.times, verdicts });
 */
export function renderCompareHtml({ comparison, baselineTimes, candidateTimes, verdicts, gate }: RenderCompareHtmlParameters): string {
  const uplot = readUplotAssets();
  const { baseline, candidate } = comparison;
  const title = `vana-load compare — ${baseline.runId} → ${candidate.runId}`;
  const verdict = verdictOf(verdicts);
  const charts = ([...STEP_NAMES, 'e2e'] as MetricStep[]).flatMap((step) => {
    const a = baselineTimes[step];
    const b = candidateTimes[step];
    return a !== undefined && b !== undefined && a.length > 0 && b.length > 0 ? [buildCdfChart(step, a, b)] : [];
  });
  // e2e first: the chart most readers want.
  charts.sort((x, y) => Number(y.id === 'cdf-e2e') - Number(x.id === 'cdf-e2e'));
  const chartDivs = charts.map((c) => `<div class="chart" data-chart="${escapeHtml(c.id)}"><h3>${escapeHtml(c.title)}</h3><div class="plot"></div></div>`).join('\n');
  const issues = comparison.comparability.map((issue) => `<li>${escapeHtml(describeIssue(issue))}${issue.severity === 'refuse' ? ' (compared with --force)' : ''}</li>`).join('');
  const errorRows = comparison.errors.map((e) => [{ html: `<code>${escapeHtml(e.key)}</code>` }, String(e.baseline), String(e.candidate)]);
  const cpuRows = comparison.cpuMsPerFlow.map((c) => [c.process, c.baseline === null ? '—' : `${c.baseline.toFixed(1)} ms`, c.candidate === null ? '—' : `${c.candidate.toFixed(1)} ms`]);

  return `${renderPageHead(title, uplot.css, STYLE)}
<body>
<main>
<header>
<h1>${escapeHtml(title)}</h1>
<span class="verdict ${verdict.cls}" data-verdict="${verdict.cls}">${verdict.text}</span>
<div class="meta">${escapeHtml(runLine('baseline', baseline))}<br>${escapeHtml(runLine('candidate', candidate))}</div>
</header>
${issues === '' ? '<p class="method" data-comparability="match">Every recorded setting of the two runs matches (target, load model and its users/rate, data, S2K, block time, relay/inference/storage modes, backend, versions, machine).</p>' : `<div class="warning" data-comparability="differ"><b>The runs differ in these settings; differences below may come from them:</b><ul>${issues}</ul></div>`}
<section id="verdict">
<h2>Regression checks (alpha ${comparison.alpha})</h2>
<div class="table-wrap">${renderVerdicts(comparison, verdicts, gate)}</div>
</section>
<section id="latency">
<h2>Latency per step</h2>
<p class="method">Δ = candidate − baseline. Intervals: percentile bootstrap, ${comparison.resamples} seeded resamples per run and step. p: the larger of the bootstrap p-value and the Mann-Whitney test of the step's distribution; * = p &lt; ${comparison.alpha}.</p>
<div class="table-wrap">${renderLatencyTable(comparison)}</div>
<div class="grid">
${chartDivs === '' ? '<p class="empty">No step was measured in both runs.</p>' : chartDivs}
</div>
</section>
<section id="rates">
<h2>Success and throughput</h2>
<p class="method">Success over the flows that ran (ok and failed); dropped arrivals apart, as dropped_rate.</p>
<div class="table-wrap">${renderRatesTable(comparison)}</div>
</section>
<section id="errors">
<h2>Errors by step × class</h2>
${errorRows.length === 0 ? '<p class="empty">No flow failed in either run.</p>' : `<div class="table-wrap">${renderTable(['step.class', 'baseline', 'candidate'], errorRows, 'numeric')}</div>`}
</section>
<section id="resources">
<h2>CPU per flow</h2>
${cpuRows.length === 0 ? '<p class="empty">No process was sampled.</p>' : `<div class="table-wrap">${renderTable(['process', 'baseline', 'candidate'], cpuRows, 'numeric')}</div>`}
</section>
<footer>Comparison by vana-load. Charts drawn with uPlot ${escapeHtml(uplot.version)}, inlined.</footer>
</main>
<script type="application/json" id="report-data">${jsonForScript({ charts })}</script>
<script>${uplot.script}</script>
<script>${HTML_CLIENT_SCRIPT}</script>
</body>
</html>
`;
}

/** Writes the compare page to `path`; returns its size in bytes. */
export async function writeCompareHtml(path: string, params: RenderCompareHtmlParameters): Promise<number> {
  const html = renderCompareHtml(params);
  await writeFile(path, html);
  return Buffer.byteLength(html);
}
