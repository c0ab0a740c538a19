import type { TimeseriesSample } from '../metrics/types.ts';

/** How the page script formats a chart's y values. */
export type HtmlChartUnit = 'perS' | 'count' | 'ms' | 'bytes' | 'percent' | 'gwei';

export interface HtmlChartSeries {
  label: string;
  color: string;
  values: Array<number | null>;
  /** Drawn dashed: a reference line such as the target rate. */
  dashed?: boolean;
  /** Joins the points across nulls: a figure measured only in some intervals (a p95 of steps that end with each block). */
  spanGaps?: boolean;
}

/**
 * One chart of the report, embedded as JSON and drawn with uPlot by the page script: over time
 * by default, over another quantity with `xUnit` (compare.html's latency distributions).
 */
export interface HtmlTimeChart {
  /** The chart container's `data-chart` value. */
  id: string;
  title: string;
  unit: HtmlChartUnit;
  /** `stackedBars`: one bar per sample, the first series on top of the stack. */
  kind: 'line' | 'stackedBars';
  /** Seconds since the run began, or values in `xUnit`. */
  x: number[];
  series: HtmlChartSeries[];
  /** Unit of x when it is not time since the run began; the chart then has its own cursor. */
  xUnit?: HtmlChartUnit;
  /** Legend label of x; default `elapsed`. */
  xLabel?: string;
  /** Fixed top of the y axis (e.g. 100 for a CDF in percent); default 10 % above the largest value. */
  yMax?: number;
}

/** A chart that has nothing to draw is replaced by this note. */
export interface HtmlEmptyChart {
  id: string;
  title: string;
  emptyNote: string;
}

export type HtmlChart = HtmlTimeChart | HtmlEmptyChart;

/**
 * A few colors that stay apart for the colour-blind (mostly Okabe–Ito), in order of use. No grey:
 * greys are the axes' and text's, and the browser test tells series from axes by color.
 */
export const REPORT_COLORS = ['#0072b2', '#e69f00', '#009e73', '#d55e00', '#cc79a7', '#56b4e9', '#8c6d00', '#7b3294'] as const;
const color = (index: number): string => REPORT_COLORS[index % REPORT_COLORS.length]!;
const PROCESS_ORDER = ['harness', 'stack', 'anvil'];
/** More error series than this and the smallest are drawn together as `other errors`. */
const MAX_ERROR_SERIES = 7;

const E2E_TITLE = 'End-to-end latency of flows finished in each interval';
const NO_SAMPLES = 'No timeseries samples were recorded for this run.';

/**
 * The time charts of the report, in page order: throughput, in-flight, e2e percentiles, errors
 * by step × class, CPU and RSS per process. A chart with nothing to show becomes an
 * `HtmlEmptyChart` saying why (no samples, no errors).
 */
export function buildHtmlCharts(samples: readonly TimeseriesSample[]): HtmlChart[] {
  const x = samples.map((s) => s.elapsedS);
  const line = (id: string, title: string, unit: HtmlChartUnit, series: HtmlChartSeries[]): HtmlChart => {
    if (samples.length === 0) return { id, title, emptyNote: NO_SAMPLES };
    if (series.length === 0) return { id, title, emptyNote: 'No process was sampled during this run.' };
    return { id, title, unit, kind: 'line', x, series };
  };

  const throughput: HtmlChartSeries[] = [
    { label: 'started/s', color: color(0), values: samples.map((s) => s.startedPerS) },
    { label: 'completed/s', color: color(2), values: samples.map((s) => s.completedPerS) },
    { label: 'failed/s', color: color(3), values: samples.map((s) => s.failedPerS) },
  ];
  if (samples.some((s) => s.targetRate !== undefined)) {
    throughput.push({ label: 'target/s', color: color(4), dashed: true, values: samples.map((s) => s.targetRate ?? null) });
  }

  return [
    line('throughput', 'Throughput (flows per second)', 'perS', throughput),
    line('in-flight', 'Flows in flight', 'count', [{ label: 'in flight', color: color(0), values: samples.map((s) => s.inFlight) }]),
    samples.every((s) => s.e2e === null)
      ? { id: 'e2e', title: E2E_TITLE, emptyNote: samples.length === 0 ? NO_SAMPLES : 'No flow finished during the run: no end-to-end latency to show.' }
      : line('e2e', E2E_TITLE, 'ms', [
      { label: 'p50', color: color(0), values: samples.map((s) => s.e2e?.p50 ?? null) },
      { label: 'p95', color: color(1), values: samples.map((s) => s.e2e?.p95 ?? null) },
      { label: 'p99', color: color(3), values: samples.map((s) => s.e2e?.p99 ?? null) },
    ]),
    errorChart(samples, x),
    line('cpu', 'CPU per process (% of one core)', 'percent', processSeries(samples, (p) => p.cpuPercent)),
    line('rss', 'Resident memory per process', 'bytes', processSeries(samples, (p) => p.rssBytes)),
  ];
}

function errorChart(samples: readonly TimeseriesSample[], x: number[]): HtmlChart {
  const id = 'errors';
  const title = 'Errors per interval by step and class';
  if (samples.length === 0) return { id, title, emptyNote: NO_SAMPLES };
  const totals = new Map<string, number>();
  for (const sample of samples) {
    for (const [key, count] of Object.entries(sample.errors)) totals.set(key, (totals.get(key) ?? 0) + count);
  }
  const keys = [...totals].filter(([, total]) => total > 0).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([key]) => key);
  if (keys.length === 0) return { id, title, emptyNote: 'No errors: every step of every flow succeeded in every interval.' };
  const shown = keys.length > MAX_ERROR_SERIES ? keys.slice(0, MAX_ERROR_SERIES - 1) : keys;
  const rest = keys.slice(shown.length);
  const series: HtmlChartSeries[] = shown.map((key, i) => ({
    label: key,
    color: color(i),
    values: samples.map((s) => s.errors[key] ?? 0),
  }));
  if (rest.length > 0) {
    series.push({
      label: `other errors (${rest.length} kinds)`,
      color: color(MAX_ERROR_SERIES),
      values: samples.map((s) => rest.reduce((sum, key) => sum + (s.errors[key] ?? 0), 0)),
    });
  }
  return { id, title, unit: 'count', kind: 'stackedBars', x, series };
}

function processSeries(
  samples: readonly TimeseriesSample[],
  value: (process: TimeseriesSample['processes'][number]) => number,
): HtmlChartSeries[] {
  const names = [...new Set(samples.flatMap((s) => s.processes.map((p) => p.name)))];
  names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return names.map((name, i) => ({
    label: name,
    color: color(i),
    values: samples.map((s) => {
      const process = s.processes.find((p) => p.name === name);
      return process === undefined ? null : value(process);
    }),
  }));
}

function rank(name: string): number {
  const index = PROCESS_ORDER.indexOf(name);
  return index === -1 ? PROCESS_ORDER.length : index;
}
