/**
 * `report.html` of a capacity search (`results/capacity-<stamp>/`), drawn from capacity.json
 * alone, in the style of the run report: its stylesheet, uPlot and page script inlined under the
 * same Content-Security-Policy, so it opens offline. The curve is drawn over the target rate:
 * e2e p95, success and achieved rate, CPU per process (% of a core and ms per flow), the CPU limit,
 * the per-step p95 of the slowest flow steps and, when read, the chain's block fill; with the SLO
 * lines dashed and the sustainable rate marked. Above it: the sustainable rate, its ratio to the
 * CPU limit and the bottleneck named; below: every step, linked to its own run report.
 */
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { CapacityResult, CapacityStep } from '../capacity/types.ts';
import { STEP_NAMES } from '../flow.ts';
import { renderChart, renderPageHead } from './html.ts';
import { REPORT_COLORS, type HtmlChart, type HtmlChartSeries, type HtmlChartUnit } from './htmlCharts.ts';
import { HTML_CLIENT_SCRIPT } from './htmlClientScript.ts';
import { escapeHtml, formatMs, formatRate, formatRatio, jsonForScript } from './htmlFormat.ts';
import { renderStepTable, renderTable } from './htmlTables.ts';
import { readUplotAssets } from './htmlUplot.ts';

const STYLE = `.verdict.none { background: var(--muted); color: #fff; } .method { color: var(--muted); } tr.best td { background: #eaf5ec; }
.sentence { font-size: 15px; margin: 8px 0; } table.numeric td.verdict-cell { white-space: normal; text-align: left; min-width: 16em; } ul.evidence { color: var(--muted); margin: 4px 0 0; padding-left: 20px; }`;
const PROCESS_ORDER = ['harness', 'stack', 'anvil'];
/** Flow steps on the per-step p95 chart: the slowest at the highest rate, so the colors stay apart. */
const STEP_SERIES = 6;
const color = (i: number): string => REPORT_COLORS[i % REPORT_COLORS.length]!;
const MARKER_COLOR = '#d55e00';

function processNames(steps: readonly CapacityStep[]): string[] {
  const rank = (name: string): number => (PROCESS_ORDER.includes(name) ? PROCESS_ORDER.indexOf(name) : PROCESS_ORDER.length);
  return [...new Set(steps.flatMap((s) => Object.keys(s.cpu)))].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/**
 * The charts of the capacity report, over the target rate of the measured steps (interrupted ones
 * left out), in page order. With no measured step every chart is a note.
 *
 * @example
 * const charts = buildCapacityCharts(result);
 */
export function buildCapacityCharts(result: CapacityResult): HtmlChart[] {
  const steps = result.steps.filter((s) => !s.interrupted).sort((a, b) => a.rate - b.rate);
  const x = steps.map((s) => s.rate);
  const sustainable = result.result.sustainableRate;
  const chart = (id: string, title: string, unit: HtmlChartUnit, series: HtmlChartSeries[], yMax?: number): HtmlChart =>
    steps.length === 0
      ? { id, title, emptyNote: 'No step of the search was measured.' }
      : { id, title, unit, kind: 'line', x, xUnit: 'perS', xLabel: 'target rate', series, ...(yMax !== undefined ? { yMax } : {}) };
  const line = (label: string, i: number, values: Array<number | null>): HtmlChartSeries => ({ label, color: color(i), values });
  const level = (label: string, i: number, value: number): HtmlChartSeries => ({ label, color: color(i), dashed: true, values: x.map(() => value) });
  // The sustainable step as one point on a curve (uPlot marks lone points).
  const marker = (values: Array<number | null>): HtmlChartSeries[] =>
    sustainable === null ? [] : [{ label: `sustainable ${sustainable}/s`, color: MARKER_COLOR, values: x.map((r, i) => (r === sustainable ? values[i]! : null)) }];
  const { slo } = result.options;

  const p95 = steps.map((s) => s.e2eP95Ms);
  const success = steps.map((s) => s.successRate * 100);
  const names = processNames(steps);
  const slowest = STEP_NAMES.filter((n) => steps.at(-1)?.stepP95Ms[n] !== undefined)
    .sort((a, b) => steps.at(-1)!.stepP95Ms[b]! - steps.at(-1)!.stepP95Ms[a]!)
    .slice(0, STEP_SERIES);
  const charts: HtmlChart[] = [
    chart('capacity-p95', 'End-to-end latency by target rate', 'ms', [
      line('e2e p95', 0, p95),
      line('e2e p50', 2, steps.map((s) => s.e2eP50Ms)),
      level(`SLO p95 < ${formatMs(slo.p95Ms)}`, 4, slo.p95Ms),
      ...marker(p95),
    ]),
    chart('capacity-success', 'Success and achieved rate by target rate', 'percent', [
      line('success', 0, success),
      line('achieved ÷ target', 2, steps.map((s) => (s.achievedRate === null ? null : (s.achievedRate / s.rate) * 100))),
      level(`SLO success ≥ ${formatRatio(slo.success)}`, 4, slo.success * 100),
      level(`SLO achieved ≥ ${formatRatio(slo.achieved)}`, 6, slo.achieved * 100),
      ...marker(success),
    ]),
    chart('capacity-cpu', 'CPU per process by target rate (% of one core)', 'percent', [
      ...names.map((name, i) => line(name, i, steps.map((s) => s.cpu[name]?.avgPercent ?? null))),
      line('whole machine', 4, steps.map((s) => s.machineCpuPercent)),
      level('one core', 5, 100),
      level(`all ${result.environment.cpus} cores`, 6, result.environment.cpus * 100),
    ]),
    chart('capacity-cpu-per-flow', 'CPU per flow by process (ms of CPU per completed flow)', 'ms', [
      ...names.map((name, i) => line(name, i, steps.map((s) => s.cpu[name]?.msPerFlow ?? null))),
      line('sum (CPU limit)', 4, steps.map((s) => s.cpuLimit?.cpuMsPerFlow ?? null)),
    ]),
    chart('capacity-limit', 'Target and achieved rate against the CPU limit (cores ÷ CPU per flow)', 'perS', [
      line('CPU limit', 3, steps.map((s) => s.cpuLimit?.flowsPerS ?? null)),
      { label: 'target', color: color(0), dashed: true, values: x },
      line('achieved', 2, steps.map((s) => s.achievedRate)),
      ...marker(x),
    ]),
    chart('capacity-step-p95', `p95 of the ${slowest.length} slowest flow steps by target rate`, 'ms', slowest.map((name, i) => line(name, i, steps.map((s) => s.stepP95Ms[name] ?? null)))),
  ];
  if (steps.some((s) => s.chain !== null)) {
    charts.push(
      chart('capacity-chain', 'Block fill by target rate (gas used ÷ gas limit)', 'percent', [
        line('mean block fill', 0, steps.map((s) => (s.chain === null ? null : s.chain.meanGasUsedRatio * 100))),
        line('blocks over half full', 2, steps.map((s) => (s.chain === null ? null : s.chain.overHalfFullShare * 100))),
        level('half full', 4, 50),
      ], 100),
    );
  }
  return charts;
}

function verdictOf(result: CapacityResult): { cls: string; text: string } {
  const r = result.result;
  if (r.sustainableRate === null) return r.interrupted || r.error !== null ? { cls: 'none', text: 'NOT FOUND' } : { cls: 'fail', text: 'NO RATE MET THE SLO' };
  const rate = `${r.ceilingReached ? '≥ ' : ''}${r.sustainableRate} flows/s`;
  return { cls: r.interrupted ? 'none' : 'pass', text: r.interrupted ? `${rate} SO FAR` : rate };
}

function renderSteps(result: CapacityResult): string {
  if (result.steps.length === 0) return '<p class="empty">No step ran.</p>';
  const names = processNames(result.steps);
  const headers = ['#', 'run', 'phase', 'target', 'achieved', 'success', 'e2e p95', 'dropped', ...names.map((n) => `${n} CPU`), 'machine', 'CPU limit', 'verdict'];
  const rows = result.steps.map((s) => {
    const verdict = s.interrupted ? 'interrupted: not counted' : s.pass ? 'PASS' : `FAIL: ${s.breaches.join('; ')}`;
    return {
      best: !s.interrupted && s.pass && s.rate === result.result.sustainableRate,
      cells: [
        String(s.index),
        { html: `<a href="${escapeHtml(`${encodeURIComponent(basename(s.dir))}/report.html`)}">report</a>` },
        s.phase,
        formatRate(s.rate),
        formatRate(s.achievedRate),
        formatRatio(s.successRate),
        s.e2eP95Ms === null ? '—' : formatMs(s.e2eP95Ms),
        String(s.dropped),
        ...names.map((n) => (s.cpu[n] === undefined ? '—' : `${Math.round(s.cpu[n].avgPercent)}% · ${s.cpu[n].msPerFlow === null ? '—' : formatMs(s.cpu[n].msPerFlow)}/flow`)),
        `${Math.round(s.machineCpuPercent)}%`,
        s.cpuLimit === null ? '—' : formatRate(s.cpuLimit.flowsPerS),
        { html: s.interrupted ? escapeHtml(verdict) : `<span class="${s.pass ? 'pass' : 'fail'}">${escapeHtml(verdict)}</span>` },
      ],
    };
  });
  const cell = (c: string | { html: string }, i: number, all: readonly unknown[]): string =>
    `<td${i === all.length - 1 ? ' class="verdict-cell"' : ''}>${typeof c === 'string' ? escapeHtml(c) : c.html}</td>`;
  const body = rows.map((r) => `<tr${r.best ? ' class="best" data-sustainable' : ''}>${r.cells.map(cell).join('')}</tr>`).join('\n');
  return `<table class="numeric"><thead><tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function keyValues(rows: Array<[string, string]>): string {
  return renderTable(['', ''], rows, 'keyvalue');
}

/**
 * The capacity report page; see the module comment.
 *
 * @example
 * const html = renderCapacityHtml(JSON.parse(await readFile('results/capacity-…/capacity.json', 'utf8')));
 */
export function renderCapacityHtml(result: CapacityResult): string {
  const uplot = readUplotAssets();
  const r = result.result;
  const title = `vana-load capacity — ${result.date}`;
  const verdict = verdictOf(result);
  const charts = buildCapacityCharts(result);
  const measured = result.steps.filter((s) => !s.interrupted).length;
  const tiles: Array<[string, string]> = [
    ['sustainable rate', r.sustainableRate === null ? '—' : `${r.ceilingReached ? '≥ ' : ''}${r.sustainableRate}/s`],
    ['first failing', r.firstFailingRate === null ? '—' : `${r.firstFailingRate}/s`],
    ['CPU limit', r.cpuLimit === null ? '—' : formatRate(r.cpuLimit.flowsPerS)],
    ['of the CPU limit', r.ratioToCpuLimit === null ? '—' : r.ratioToCpuLimit.toFixed(2)],
    ['bottleneck', r.bottleneck.kind === 'none' ? '—' : r.bottleneck.kind === 'step' ? `${r.bottleneck.name} step` : r.bottleneck.name],
    ['steps measured', String(measured)],
    ['cores', String(result.environment.cpus)],
  ];
  const conditions: Array<[string, string]> = [
    ['command', result.command],
    ['date', result.date],
    ['vana-load', result.environment.vanaLoad],
    ['node', result.environment.node],
    ['platform', result.environment.platform],
    ['load average at start', result.environment.loadAverageAtStart.toFixed(2)],
    ...Object.entries(result.conditions).map(([k, v]): [string, string] => [k, String(v)]),
    ...Object.entries(result.options)
      .filter(([k]) => k !== 'slo')
      .map(([k, v]): [string, string] => [`option ${k}`, String(v)]),
  ];
  const slo = result.options.slo;
  const sloText = `success ≥ ${formatRatio(slo.success)}, e2e p95 < ${formatMs(slo.p95Ms)}, achieved ≥ ${formatRatio(slo.achieved)} of the target rate, at most ${slo.drops} dropped arrivals`;
  const best = result.best;

  return `${renderPageHead(title, uplot.css, STYLE)}
<body>
<main>
<header>
<h1>${escapeHtml(title)}</h1>
<span class="verdict ${verdict.cls}" data-verdict="${verdict.cls}">${escapeHtml(verdict.text)}</span>
<div class="meta">${escapeHtml(`${result.conditions.target} target · ${measured} steps measured · ${result.environment.cpus} cores · load ${result.environment.loadAverageAtStart.toFixed(1)} at start`)}</div>
</header>
${r.interrupted ? '<p class="warning">The search was interrupted: the figures cover the steps measured before it stopped.</p>' : ''}
${r.error !== null ? `<p class="warning">The search stopped on an error: <code>${escapeHtml(r.error)}</code></p>` : ''}
<section id="result">
<h2>Result</h2>
<div class="tiles">${tiles.map(([label, value]) => `<div class="tile"><span>${escapeHtml(label)}</span><b>${escapeHtml(value)}</b></div>`).join('')}</div>
<p class="sentence" data-ratio>${r.ratioText === null ? 'CPU limit: not measured (no sustainable step with CPU per flow).' : escapeHtml(r.ratioText)}</p>
<p class="sentence" data-bottleneck="${escapeHtml(r.bottleneck.kind)}"><b>Bottleneck:</b> ${escapeHtml(r.bottleneck.text)}</p>
${r.bottleneck.evidence.length === 0 ? '' : `<ul class="evidence">${r.bottleneck.evidence.map((e) => `<li>${escapeHtml(e)}</li>`).join('')}</ul>`}
<p class="method">SLO of every step: ${escapeHtml(sloText)}. CPU limit = cores ÷ CPU seconds per flow summed over the ${result.conditions.target === 'local' ? 'local processes (harness, stack, anvil)' : 'harness (a remote target\'s processes are not measured)'}, from the sustainable step. A process's own limit is one core, less what the rest of the machine uses.</p>
</section>
<section id="curve">
<h2>The curve</h2>
<div class="grid">
${charts.map(renderChart).join('\n')}
</div>
</section>
<section id="steps">
<h2>Steps, in the order they ran</h2>
<p class="method">CPU: mean over the step, % of one core · CPU ms per completed flow. Each step is a run of its own, with its report.</p>
<div class="table-wrap">${renderSteps(result)}</div>
</section>
<section id="best">
<h2>The sustainable step</h2>
${best === null ? '<p class="empty">No step met the SLO.</p>' : `<p class="method">Step #${best.step}: latency per flow step.</p><div class="table-wrap">${renderStepTable(best.steps)}</div>`}
</section>
<section id="conditions">
<h2>Conditions</h2>
<div class="table-wrap">${keyValues(conditions)}</div>
</section>
<footer>Capacity search by vana-load. Charts drawn with uPlot ${escapeHtml(uplot.version)}, inlined.</footer>
</main>
<script type="application/json" id="report-data">${jsonForScript({ charts: charts.filter((c) => !('emptyNote' in c)) })}</script>
<script>${uplot.script}</script>
<script>${HTML_CLIENT_SCRIPT}</script>
</body>
</html>
`;
}

/** Writes the capacity report to `path`; returns its size in bytes. */
export async function writeCapacityHtml(path: string, result: CapacityResult): Promise<number> {
  const html = renderCapacityHtml(result);
  await writeFile(path, html);
  return Buffer.byteLength(html);
}
