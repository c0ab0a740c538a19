/**
 * Generator health in `report.html`: the INVALID banner with its reasons, a section with the
 * checks and two time charts (the harness's lags, its CPU) against their limits, and the spans
 * where a check was over its limit, which the page script shades on every time chart.
 */
import { formatElapsed } from '../metrics/generatorHealth.ts';
import { lagQuantile } from '../metrics/lagDistribution.ts';
import type { GeneratorHealth, RunSummary, TimeseriesSample } from '../metrics/types.ts';
import { REPORT_COLORS, type HtmlChart, type HtmlChartSeries } from './htmlCharts.ts';
import { escapeHtml } from './htmlFormat.ts';
import { renderTable } from './htmlTables.ts';

/** Extra stylesheet of the report for the health parts. */
export const HEALTH_STYLE = `
.verdict.invalid { background: #6a1b9a; color: #fff; }
.invalid-banner { background: #f6edf9; border: 2px solid #6a1b9a; padding: 10px 14px; border-radius: 6px; margin-top: 12px; }
.invalid-banner ul { margin: 6px 0 0; padding-left: 20px; }
.band-key { display: inline-block; width: 14px; height: 12px; background: rgba(198, 40, 40, 0.18); border: 1px solid rgba(198, 40, 40, 0.5); vertical-align: -1px; margin-right: 4px; }
`;

/** A span of the run (seconds since it began) shaded on the time charts. */
export interface HealthBand {
  fromS: number;
  toS: number;
  /** The checks over their limit in it. */
  label: string;
}

/** Every span where any check was over its limit, overlapping ones merged; none when the generator was healthy. */
export function healthBands(health: GeneratorHealth | undefined): HealthBand[] {
  if (health === undefined) return [];
  const spans = health.checks.flatMap((c) => c.windows.map((w) => ({ fromS: w.fromS, toS: w.toS, label: c.name })));
  spans.sort((a, b) => a.fromS - b.fromS);
  const merged: HealthBand[] = [];
  for (const span of spans) {
    const last = merged.at(-1);
    if (last && span.fromS <= last.toS + 1e-6) {
      last.toS = Math.max(last.toS, span.toS);
      if (!last.label.split(', ').includes(span.label)) last.label += `, ${span.label}`;
    } else merged.push({ ...span });
  }
  return merged;
}

/** The banner under the header of a run whose generator fell behind (or would have, unjudged). */
export function renderHealthBanner(summary: RunSummary): string {
  const health = summary.generatorHealth;
  if (health === undefined || health.reasons.length === 0) return '';
  const why = health.diagnosis !== undefined ? `<p data-health-diagnosis>Why: ${escapeHtml(health.diagnosis)}.</p>` : '';
  const reasons = `<ul>${health.reasons.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}</ul>${why}`;
  const key = '<span class="band-key"></span>shaded on the charts below.';
  if (health.status === 'invalid') {
    return `<div class="invalid-banner" data-health="invalid"><b>INVALID: the load generator fell behind.</b> The figures below measured the harness, not the system, so the thresholds are not judged. ${key}${reasons}</div>`;
  }
  return `<p class="warning" data-health="not_judged"><b>The load generator went over its limits</b>, but the health check was off (--health-check false). ${key}${reasons}</p>`;
}

const SERIES_COLORS = { scheduler: REPORT_COLORS[0], loopP99: REPORT_COLORS[1], loopMax: REPORT_COLORS[3], cpu: REPORT_COLORS[0], cpuAvg: REPORT_COLORS[2], limit: REPORT_COLORS[4] };

/**
 * The two charts of the health section: lags per interval (scheduler max, event-loop p99 and max)
 * with the max limits, and harness CPU per interval with its limit.
 */
export function buildHealthCharts(samples: readonly TimeseriesSample[], health: GeneratorHealth): HtmlChart[] {
  const lagTitle = 'Harness lag per interval';
  const cpuTitle = 'Harness CPU (% of one core)';
  const measured = samples.filter((s) => s.generator !== undefined);
  if (measured.length === 0) {
    const note = 'This run recorded no generator figures (timeseries.jsonl of an older vana-load).';
    return [
      { id: 'generator-lag', title: lagTitle, emptyNote: note },
      { id: 'generator-cpu', title: cpuTitle, emptyNote: note },
    ];
  }
  const x = samples.map((s) => s.elapsedS);
  const flat = (value: number): Array<number | null> => samples.map(() => value);
  const lag: HtmlChartSeries[] = [
    { label: 'scheduler lag max', color: SERIES_COLORS.scheduler, values: samples.map((s) => s.generator?.schedulerLag?.max ?? null) },
    { label: 'event-loop lag p99', color: SERIES_COLORS.loopP99, values: samples.map((s) => (s.generator ? lagQuantile(s.generator.eventLoopLag, 0.99) : null)) },
    { label: 'event-loop lag max', color: SERIES_COLORS.loopMax, values: samples.map((s) => s.eventLoopLagMs.max) },
    { label: 'max limit', color: SERIES_COLORS.limit, dashed: true, values: flat(Math.max(health.limits.eventLoopLagMaxMs, health.limits.schedulerLagMaxMs)) },
  ];
  const cpu: HtmlChartSeries[] = [
    { label: 'harness CPU', color: SERIES_COLORS.cpu, values: samples.map((s) => s.generator?.cpuPercent ?? null) },
    { label: 'limit', color: SERIES_COLORS.limit, dashed: true, values: flat(health.limits.harnessCpuPercent) },
  ];
  return [
    { id: 'generator-lag', title: lagTitle, unit: 'ms', kind: 'line', x, series: lag },
    { id: 'generator-cpu', title: `${cpuTitle}; the check averages it over ${health.cpuWindowS} s`, unit: 'percent', kind: 'line', x, series: cpu },
  ];
}

/** The checks as a table: value, limit, result and where each one was over. */
export function renderHealthTable(health: GeneratorHealth): string {
  const rows = health.checks.map((c) => [
    { html: `<code>${escapeHtml(c.name)}</code>` },
    c.valueText,
    `≤ ${c.limitText}`,
    { html: c.note !== undefined ? 'not judged' : c.ok ? '<span class="pass">ok</span>' : '<span class="fail">OVER</span>' },
    c.note ?? c.windows.map((w) => `${formatElapsed(w.fromS)}–${formatElapsed(w.toS)}`).join(', '),
  ]);
  const table = renderTable(['check', 'value', 'limit', 'result', 'where (elapsed) / why not judged'], rows, 'health');
  const { byHarness, bySystem, inUnhealthyWindows } = health.dropped;
  const system = Object.entries(bySystem).map(([reason, n]) => `${reason} ${n}`).join(', ');
  const drops = `<p class="method">Dropped arrivals: ${byHarness} by the harness (a late arrival is started late, counted as scheduler lag, never dropped); by the system: ${escapeHtml(system === '' ? 'none' : system)}${inUnhealthyWindows > 0 ? `; ${inUnhealthyWindows} of them while the harness was over a limit` : ''}.</p>`;
  return `${table}${drops}`;
}

/** Status line of the section. */
export function healthStatusText(health: GeneratorHealth): string {
  if (health.status === 'ok') return 'The load generator kept up: every check is within its limit.';
  if (health.status === 'invalid') return 'The load generator fell behind: the run is INVALID.';
  return health.reasons.length > 0 ? 'Not judged (--health-check false); checks over their limit are marked.' : 'Not judged (--health-check false); every check is within its limit.';
}
