import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors.ts';
import type { RunSummary, TimeseriesSample } from '../metrics/types.ts';
import { buildChainCharts, hasChainTimeline, renderChainBottleneck, renderChainSection } from './htmlChain.ts';
import { buildHtmlCharts, type HtmlChart } from './htmlCharts.ts';
import { buildHealthCharts, HEALTH_STYLE, healthBands, healthStatusText, renderHealthBanner, renderHealthTable } from './htmlHealth.ts';
import { HTML_CLIENT_SCRIPT } from './htmlClientScript.ts';
import { escapeHtml, formatMs, jsonForScript } from './htmlFormat.ts';
import { renderStepBars } from './htmlStepBars.ts';
import { HTML_STYLE } from './htmlStyle.ts';
import {
  renderConfigTable,
  renderEnvironmentTable,
  renderErrorTable,
  renderHeadline,
  renderResourceTable,
  renderStepTable,
  renderVerdictTable,
} from './htmlTables.ts';
import { readUplotAssets } from './htmlUplot.ts';

export interface RenderHtmlReportParameters {
  summary: RunSummary;
  samples: readonly TimeseriesSample[];
  /** Defaults to `vana-load <milestone or "run"> — <run id>`. */
  title?: string;
}

// Nothing may leave the page: the report is read offline, often from a CI artifact.
const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

/**
 * The HTML report of a run as one self-contained page: uPlot, its stylesheet, the page script
 * and the data are inlined, and a Content-Security-Policy forbids any network request.
 *
 * @example
 * const html = renderHtmlReport({ summary, samples });
 * await writeFile(join(dir, 'report.html'), html);
 */
export function renderHtmlReport({ summary, samples, title }: RenderHtmlReportParameters): string {
  const uplot = readUplotAssets();
  const pageTitle = title ?? `vana-load ${summary.milestone ?? 'run'} — ${summary.runId}`;
  const health = summary.generatorHealth;
  const chainCharts = hasChainTimeline(summary, samples) ? buildChainCharts(samples, summary.chain?.notes) : [];
  const charts = [...buildHtmlCharts(samples), ...(health ? buildHealthCharts(samples, health) : []), ...chainCharts];
  const chart = (id: string): string => renderChart(charts.find((c) => c.id === id)!);
  const verdictClass = summary.verdict;
  const env = summary.environment;
  const meta = [
    `run ${summary.runId}`,
    summary.milestone ?? 'no milestone',
    `started ${new Date(summary.startedAt).toISOString()}`,
    `duration ${formatMs(summary.durationS * 1000)}`,
    `${env.loadModel} load`,
    `${env.target} target`,
    `${samples.length} samples`,
  ].join(' · ');

  return `${renderPageHead(pageTitle, uplot.css, HEALTH_STYLE)}
<body>
<main>
<header>
<h1>${escapeHtml(pageTitle)}</h1>
<span class="verdict ${verdictClass}" data-verdict="${verdictClass}">${verdictClass.toUpperCase()}</span>
<div class="meta">${escapeHtml(meta)}</div>
</header>
${summary.interrupted ? '<p class="warning">This run was interrupted before it completed: figures cover only the part that ran.</p>' : ''}
${renderHealthBanner(summary)}
<section id="verdict">
<h2>Verdict</h2>
${renderHeadline(summary)}
${renderChainBottleneck(summary)}
${summary.verdict === 'invalid' ? '<p class="method">The thresholds below are not judged: the generator fell behind, so they measured the harness.</p>' : ''}
<div class="table-wrap">${renderVerdictTable(summary)}</div>
</section>
${
  health
    ? `<section id="generator-health" data-health-status="${health.status}">
<h2>Generator health</h2>
<p>${escapeHtml(healthStatusText(health))}</p>
<div class="table-wrap">${renderHealthTable(health)}</div>
<div class="grid">
${chart('generator-lag')}
${chart('generator-cpu')}
</div>
</section>`
    : ''
}
<section id="throughput">
<h2>Throughput</h2>
<div class="grid">
${chart('throughput')}
${chart('in-flight')}
</div>
</section>
${chainCharts.length > 0 ? renderChainSection(summary, chainCharts.map(renderChart)) : ''}
<section id="latency">
<h2>Latency</h2>
${chart('e2e')}
${renderStepBars(summary.steps)}
<div class="table-wrap">${renderStepTable(summary.steps)}</div>
</section>
<section id="errors">
<h2>Errors</h2>
${chart('errors')}
<div class="table-wrap">${renderErrorTable(summary)}</div>
</section>
<section id="resources">
<h2>Resources</h2>
<div class="grid">
${chart('cpu')}
${chart('rss')}
</div>
<div class="table-wrap">${renderResourceTable(summary)}</div>
</section>
<section id="environment">
<h2>Environment and config</h2>
<div class="split">
<div><h3>Environment</h3>${renderEnvironmentTable(summary)}</div>
<div><h3>Config (secrets redacted)</h3>${renderConfigTable(summary.config)}</div>
</div>
</section>
<footer>Report of run ${escapeHtml(summary.runId)} by vana-load. Charts drawn with uPlot ${escapeHtml(uplot.version)}, inlined.</footer>
</main>
<script type="application/json" id="report-data">${jsonForScript({ charts: charts.filter(isDrawn), bands: healthBands(health) })}</script>
<script>${uplot.script}</script>
<script>${HTML_CLIENT_SCRIPT}</script>
</body>
</html>
`;
}

/**
 * The start of a report page up to `</head>`: the CSP that keeps it offline, uPlot's stylesheet
 * and the report's own (plus `extraStyle`). report.html and compare.html share it.
 */
export function renderPageHead(title: string, uplotCss: string, extraStyle = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<title>${escapeHtml(title)}</title>
<style>${uplotCss}</style>
<style>${HTML_STYLE}${extraStyle}</style>
</head>`;
}

function isDrawn(chart: HtmlChart): boolean {
  return !('emptyNote' in chart);
}

/** A chart's container (drawn by the page script from `#report-data`), or its note when it has nothing to draw. */
export function renderChart(chart: HtmlChart): string {
  const title = `<h3>${escapeHtml(chart.title)}</h3>`;
  if ('emptyNote' in chart) {
    return `<div class="chart" data-chart-empty="${chart.id}">${title}<p class="empty" data-empty="${chart.id}">${escapeHtml(chart.emptyNote)}</p></div>`;
  }
  return `<div class="chart" data-chart="${chart.id}">${title}<div class="plot"></div></div>`;
}

export interface WriteHtmlReportOptions {
  /** Used instead of `summary.json` (e.g. one just rebuilt from `flows.jsonl`); required when the file is missing. */
  summary?: RunSummary;
  title?: string;
}

export interface WriteHtmlReportReturnType {
  path: string;
  bytes: number;
  samples: number;
  /** True when the last line of `timeseries.jsonl` was cut short (a crash mid-write) and was left out. */
  skippedTruncatedLine: boolean;
}

/**
 * Reads `summary.json` and `timeseries.jsonl` from a results directory and writes
 * `report.html` beside them. A missing timeseries gives a report with notes in place of charts.
 *
 * @example
 * const { path } = await writeHtmlReport('results/2026-11-23T10-00-00Z');
 */
export async function writeHtmlReport(dir: string, options: WriteHtmlReportOptions = {}): Promise<WriteHtmlReportReturnType> {
  const summary = options.summary ?? (await readSummary(dir));
  const { samples, skippedTruncatedLine } = await readTimeseries(join(dir, 'timeseries.jsonl'));
  const html = renderHtmlReport({ summary, samples, ...(options.title === undefined ? {} : { title: options.title }) });
  const path = join(dir, 'report.html');
  await writeFile(path, html);
  return { path, bytes: Buffer.byteLength(html), samples: samples.length, skippedTruncatedLine };
}

async function readSummary(dir: string): Promise<RunSummary> {
  const path = join(dir, 'summary.json');
  if (!existsSync(path)) {
    throw new ConfigError(`Cannot write the HTML report: ${path} does not exist`, {
      code: 'REPORT_INPUT_MISSING',
      metaMessages: [`directory: ${dir}`, 'fix: rebuild it from flows.jsonl with `vana-load report <dir>`, or pass the summary'],
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new ConfigError(`Cannot write the HTML report: ${path} is not valid JSON`, { code: 'REPORT_INPUT_INVALID', cause });
  }
  const version = (parsed as { version?: unknown } | null)?.version;
  if (version !== 1) {
    throw new ConfigError(`Expected summary.json version 1, got ${JSON.stringify(version)}`, {
      code: 'REPORT_INPUT_INVALID',
      metaMessages: [`file: ${path}`],
    });
  }
  return parsed as RunSummary;
}

async function readTimeseries(path: string): Promise<{ samples: TimeseriesSample[]; skippedTruncatedLine: boolean }> {
  if (!existsSync(path)) return { samples: [], skippedTruncatedLine: false };
  const lines = (await readFile(path, 'utf8')).split('\n');
  const lastIndex = lines.findLastIndex((line) => line.trim() !== '');
  const samples: TimeseriesSample[] = [];
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    try {
      samples.push(JSON.parse(line) as TimeseriesSample);
    } catch (cause) {
      if (index === lastIndex) return { samples, skippedTruncatedLine: true };
      throw new ConfigError(`Cannot write the HTML report: line ${index + 1} of ${path} is not valid JSON`, {
        code: 'REPORT_INPUT_INVALID',
        metaMessages: [`line: ${line.slice(0, 120)}`],
        cause,
      });
    }
  }
  return { samples, skippedTruncatedLine: false };
}
