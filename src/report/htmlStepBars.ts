import { STEP_NAMES } from '../flow.ts';
import type { RunSummary } from '../metrics/types.ts';
import { escapeHtml, formatMs } from './htmlFormat.ts';

/** Bar shades, darkest for the median: p99 is drawn first, p95 and p50 over it. */
export const STEP_BAR_COLORS = { p99: '#b3d4ec', p95: '#56a0d3', p50: '#0072b2' } as const;
const VIEW_WIDTH = 1000;
const TITLE = 'Latency per step: where the time goes (p50 / p95 / p99)';

/**
 * Where the time goes: one horizontal bar per step (in execution order) with its p50, p95 and
 * p99 nested, on a shared linear scale. Rendered as HTML + SVG on the server, so it needs no
 * script and scales with the page. Holds an `empty` note instead when no step was measured.
 */
export function renderStepBars(steps: RunSummary['steps']): string {
  const rows = STEP_NAMES.flatMap((step) => {
    const p = steps[step];
    return p === undefined || p.count === 0 ? [] : [{ step, p50: p.p50, p95: p.p95, p99: p.p99 }];
  });
  if (rows.length === 0) {
    return `<div class="chart" data-chart-empty="step-latency"><h3>${TITLE}</h3><p class="empty" data-empty="step-latency">No step latencies were recorded for this run.</p></div>`;
  }
  const { ticks, max } = niceTicks(Math.max(...rows.map((r) => r.p99)));
  const at = (ms: number): number => (max === 0 ? 0 : (ms / max) * VIEW_WIDTH);
  const gridLines = ticks
    .map((t) => `<line x1="${at(t).toFixed(1)}" x2="${at(t).toFixed(1)}" y1="0" y2="20" stroke="#e3e3e3" vector-effect="non-scaling-stroke"/>`)
    .join('');
  const bar = (key: keyof typeof STEP_BAR_COLORS, ms: number): string =>
    `<rect class="${key}" x="0" y="2" height="16" width="${Math.max(at(ms), 1.5).toFixed(1)}" fill="${STEP_BAR_COLORS[key]}"/>`;

  const body = rows
    .map((r) => {
      const values = `${formatMs(r.p50)} · ${formatMs(r.p95)} · ${formatMs(r.p99)}`;
      return (
        `<span class="bar-label">${escapeHtml(r.step)}</span>` +
        `<svg class="bar" viewBox="0 0 ${VIEW_WIDTH} 20" preserveAspectRatio="none" role="img" aria-label="${escapeHtml(`${r.step}: p50 · p95 · p99 = ${values}`)}">` +
        `${gridLines}${bar('p99', r.p99)}${bar('p95', r.p95)}${bar('p50', r.p50)}</svg>` +
        `<span class="bar-values">${escapeHtml(values)}</span>`
      );
    })
    .join('\n');
  const axis = ticks
    .map((t) => `<span class="tick" style="left:${((at(t) / VIEW_WIDTH) * 100).toFixed(2)}%">${escapeHtml(formatMs(t))}</span>`)
    .join('');
  const legend = (['p50', 'p95', 'p99'] as const)
    .map((key) => `<span><i style="background:${STEP_BAR_COLORS[key]}"></i>${key}</span>`)
    .join('');
  return (
    `<div class="chart" data-chart="step-latency"><h3>${TITLE}</h3>` +
    `<div class="bar-legend">${legend}</div>` +
    `<div class="bars">\n${body}\n<span></span><div class="bar-axis">${axis}</div><span></span></div></div>`
  );
}

/** Round tick values (1-2-5 steps) from 0 covering `max`, and the scale's upper end. */
export function niceTicks(max: number): { ticks: number[]; max: number } {
  if (!(max > 0)) return { ticks: [0], max: 0 };
  const magnitude = 10 ** Math.floor(Math.log10(max / 4));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => max / s <= 5) ?? 10 * magnitude;
  const top = Math.ceil(max / step - 1e-9) * step;
  const ticks = Array.from({ length: Math.round(top / step) + 1 }, (_, i) => i * step);
  return { ticks, max: top };
}
