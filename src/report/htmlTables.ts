import { STEP_NAMES } from '../flow.ts';
import type { MetricStep, RunSummary } from '../metrics/types.ts';
import { escapeHtml, flattenConfig, formatBytes, formatMs, formatRate, formatRatio } from './htmlFormat.ts';

type Cell = string | { html: string };

/** A table from header texts and rows of cells; text cells are escaped, `{ html }` cells are not. */
export function renderTable(headers: readonly string[], rows: readonly Cell[][], className = ''): string {
  const cell = (tag: 'td' | 'th', c: Cell): string => `<${tag}>${typeof c === 'string' ? escapeHtml(c) : c.html}</${tag}>`;
  const head = `<tr>${headers.map((h) => cell('th', h)).join('')}</tr>`;
  const body = rows.map((row) => `<tr>${row.map((c) => cell('td', c)).join('')}</tr>`).join('\n');
  return `<table${className === '' ? '' : ` class="${className}"`}><thead>${head}</thead><tbody>\n${body}\n</tbody></table>`;
}

const badge = (pass: boolean): Cell => ({ html: pass ? '<span class="pass">PASS</span>' : '<span class="fail">FAIL</span>' });

/** Headline figures of the run, one tile each. */
export function renderHeadline(summary: RunSummary): string {
  const { counts, rates } = summary;
  const tiles: Array<[string, string]> = [
    ['duration', formatMs(summary.durationS * 1000)],
    ['flows started', String(counts.started)],
    ['succeeded', String(counts.succeeded)],
    ['failed', String(counts.failed)],
    ['dropped', String(counts.dropped)],
    ['success rate', formatRatio(rates.successRate)],
    ['completed flows/s', formatRate(rates.flowsPerS)],
    ['e2e p95', summary.steps.e2e === undefined ? '—' : formatMs(summary.steps.e2e.p95)],
  ];
  if (rates.targetRate !== null) tiles.push(['target rate', formatRate(rates.targetRate)]);
  return `<div class="tiles">${tiles
    .map(([label, value]) => `<div class="tile"><span>${escapeHtml(label)}</span><b>${escapeHtml(value)}</b></div>`)
    .join('')}</div>`;
}

/** Every threshold with its measured value and verdict; a note when the run had none. */
export function renderVerdictTable(summary: RunSummary): string {
  if (summary.thresholds.length === 0) return '<p class="empty">No thresholds were set for this run.</p>';
  return renderTable(
    ['threshold', 'metric', 'actual', 'result', 'source'],
    summary.thresholds.map((t) => [{ html: `<code>${escapeHtml(t.expression)}</code>` }, t.metric, t.actualText, badge(t.pass), t.source]),
    'verdicts',
  );
}

/** Count and percentiles of every measured step, in execution order, then e2e. */
export function renderStepTable(steps: RunSummary['steps']): string {
  const order: MetricStep[] = [...STEP_NAMES, 'e2e'];
  const rows = order.flatMap((step) => {
    const p = steps[step];
    if (p === undefined) return [];
    const name: Cell = step === 'e2e' ? { html: '<b>e2e</b>' } : step;
    return [[name, String(p.count), ...[p.p50, p.p90, p.p95, p.p99, p.max].map(formatMs)]];
  });
  if (rows.length === 0) return '';
  return renderTable(['step', 'count', 'p50', 'p90', 'p95', 'p99', 'max'], rows, 'numeric');
}

/** Error counts by step and class with one example message each; a note when there were none. */
export function renderErrorTable(summary: RunSummary): string {
  if (summary.errors.length === 0) return '<p class="empty" data-empty="error-table">No flow failed on an error.</p>';
  const rows = [...summary.errors]
    .sort((a, b) => b.count - a.count)
    .map((e): Cell[] => [e.step, e.errorClass, String(e.count), { html: `<code>${escapeHtml(e.example)}</code>` }]);
  return renderTable(['step', 'class', 'count', 'example'], rows);
}

/** Average and peak CPU and RSS per process, RSS growth and CPU cost per flow. */
export function renderResourceTable(summary: RunSummary): string {
  if (summary.resources.length === 0) return '';
  const rows = summary.resources.map((r) => [
    r.name,
    String(r.pid),
    `${r.cpuAvgPercent.toFixed(1)}%`,
    `${r.cpuPeakPercent.toFixed(1)}%`,
    formatBytes(r.rssAvgBytes),
    formatBytes(r.rssPeakBytes),
    `${r.rssGrowthBytes < 0 ? '−' : '+'}${formatBytes(Math.abs(r.rssGrowthBytes))}`,
    r.cpuMsPerFlow === null ? '—' : formatMs(r.cpuMsPerFlow),
  ]);
  return renderTable(['process', 'pid', 'CPU avg', 'CPU peak', 'RSS avg', 'RSS peak', 'RSS growth', 'CPU per flow'], rows, 'numeric');
}

/** Node, platform, CPUs, chain, target and load model, plus when the run happened. */
export function renderEnvironmentTable(summary: RunSummary): string {
  const env = summary.environment;
  const rows: Array<[string, string]> = [
    ['run id', summary.runId],
    ['milestone', summary.milestone ?? '—'],
    ['started', new Date(summary.startedAt).toISOString()],
    ['ended', new Date(summary.endedAt).toISOString()],
    ['node', env.node],
    ['platform', env.platform],
    ['cpus', String(env.cpus)],
    ['chain id', env.chainId === null ? '—' : String(env.chainId)],
    ['target', env.target],
    ['load model', env.loadModel],
    ['event-loop lag', `mean ${formatMs(summary.eventLoopLagMs.mean)}, max ${formatMs(summary.eventLoopLagMs.max)}`],
    ['retries', String(summary.retries.total)],
  ];
  if (summary.breaker !== null) {
    const b = summary.breaker;
    rows.push(['circuit breaker', `opened ${b.opened}×, half-open ${b.halfOpened}×, closed ${b.closed}×, final ${b.finalState}`]);
  }
  return renderTable(['', ''], rows, 'keyvalue');
}

/** The redacted config of `summary.json`, one dotted key per row. */
export function renderConfigTable(config: Record<string, unknown>): string {
  const rows = flattenConfig(config).map(([key, value]): Cell[] => [{ html: `<code>${escapeHtml(key)}</code>` }, value]);
  if (rows.length === 0) return '<p class="empty">The summary holds no config.</p>';
  return renderTable(['key', 'value'], rows, 'keyvalue config');
}
