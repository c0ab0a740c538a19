import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VanaLoadError } from '../errors.ts';
import { renderHtmlReport, writeHtmlReport } from './html.ts';
import { buildHtmlCharts, type HtmlTimeChart } from './htmlCharts.ts';
import { exampleRun } from '../../test/fixtures/htmlFixture.ts';
import { attributeValues, reportData } from '../../test/fixtures/reportHtml.ts';
import { flattenConfig, formatBytes, formatMs, jsonForScript } from './htmlFormat.ts';
import { niceTicks } from './htmlStepBars.ts';

const HOSTILE = '</script><script>alert(1)</script><!-- \u2028';


describe('renderHtmlReport', () => {
  it('keeps </script> and <!-- in config values and series labels from breaking out of the page', () => {
    const { summary, samples } = exampleRun({ sampleCount: 5 });
    summary.config = { load: { phaseName: HOSTILE } };
    samples[2]!.errors[`relay.${HOSTILE}`] = 3;
    samples[1]!.processes.push({ name: HOSTILE, pid: 1, cpuPercent: 1, rssBytes: 1 });
    const html = renderHtmlReport({ summary, samples });

    // Exactly the three script elements of the template: data, uPlot, page script.
    expect([html.match(/<script/g)?.length, html.match(/<\/script>/g)?.length]).toEqual([3, 3]);
    expect(html).not.toContain('<!--');
    expect(html).toContain('<td>&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;!-- \u2028</td>');
    const charts = reportData(html).charts;
    expect(charts.find((c) => c.id === 'errors')?.series.map((s) => s.label)).toEqual([`relay.${HOSTILE}`, 'inference_wait.timeout']);
    expect(charts.find((c) => c.id === 'cpu')?.series.map((s) => s.label)).toEqual(['harness', 'stack', 'anvil', HOSTILE]);
  });

  it('references nothing on the network: no http(s) src or href, no imports, and a CSP that forbids requests', () => {
    const { summary, samples } = exampleRun({ sampleCount: 5 });
    const html = renderHtmlReport({ summary, samples });
    expect(html).toContain('<td>http://127.0.0.1:8545</td>');
    expect(html.match(/\b(?:src|href|action|srcset)\s*=\s*["']?\s*(?:https?:)?\/\//gi)).toBeNull();
    expect(html.match(/@import|url\(\s*["']?(?:https?:)?\/\//gi)).toBeNull();
    expect(html).toContain(
      `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">`,
    );
    expect(html).toContain('var uPlot=function(){');
  });

  it('has every section in order, a container per chart and the overall verdict', () => {
    const { summary, samples } = exampleRun({ sampleCount: 60 });
    const html = renderHtmlReport({ summary, samples, title: 'MS-05 nightly' });
    expect(attributeValues(html, '<section id')).toEqual(['verdict', 'throughput', 'latency', 'errors', 'resources', 'environment']);
    expect(attributeValues(html, 'data-chart')).toEqual(['throughput', 'in-flight', 'e2e', 'step-latency', 'errors', 'cpu', 'rss']);
    expect(reportData(html).charts.map((c) => c.id)).toEqual(['throughput', 'in-flight', 'e2e', 'errors', 'cpu', 'rss']);
    expect(attributeValues(html, 'data-empty')).toEqual([]);
    expect(html).toContain('<title>MS-05 nightly</title>');
    expect(html).toContain(`<span class="verdict fail" data-verdict="fail">FAIL</span>`);
    expect(html).toContain('<td><code>success&gt;=85%</code></td><td>successRate</td><td>73.3%</td><td><span class="fail">FAIL</span></td>');
    expect(html).toContain('<td><code>load.arrivalRate</code></td><td>2.5</td>');
    expect(html).toContain('<td><code>wallets.relayerPrivateKeys</code></td><td>[redacted], [redacted]</td>');
    expect(html).toContain('<td>chain id</td><td>31337</td>');
  });

  it('puts notes in place of charts when there are no samples, errors or step latencies', () => {
    const { summary } = exampleRun({ sampleCount: 1, withErrors: false });
    summary.steps = {};
    summary.thresholds = [];
    const html = renderHtmlReport({ summary, samples: [] });
    expect(attributeValues(html, 'data-chart')).toEqual([]);
    expect(attributeValues(html, 'data-empty')).toEqual(['throughput', 'in-flight', 'e2e', 'step-latency', 'errors', 'error-table', 'cpu', 'rss']);
    expect(reportData(html).charts).toEqual([]);
    expect(html).toContain('<p class="empty">No thresholds were set for this run.</p>');
  });

  it('says "no errors" instead of drawing an empty error chart when every interval was clean', () => {
    const { summary, samples } = exampleRun({ sampleCount: 20, withErrors: false });
    const html = renderHtmlReport({ summary, samples });
    expect(attributeValues(html, 'data-empty')).toEqual(['errors', 'error-table']);
    expect(html).toContain('No errors: every step of every flow succeeded in every interval.');
  });
});

describe('buildHtmlCharts', () => {
  it('draws the six most frequent error kinds and groups the rest as "other errors"', () => {
    const { samples } = exampleRun({ sampleCount: 2, withErrors: false });
    samples[0]!.errors = { 'a.x': 9, 'b.x': 8, 'c.x': 7, 'd.x': 6, 'e.x': 5, 'f.x': 4, 'g.x': 3 };
    samples[1]!.errors = { 'h.x': 2, 'a.x': 1 };
    const errors = buildHtmlCharts(samples).find((c) => c.id === 'errors') as HtmlTimeChart;
    expect(errors.kind).toBe('stackedBars');
    expect(errors.series.map((s) => [s.label, s.values])).toEqual([
      ['a.x', [9, 1]],
      ['b.x', [8, 0]],
      ['c.x', [7, 0]],
      ['d.x', [6, 0]],
      ['e.x', [5, 0]],
      ['f.x', [4, 0]],
      ['other errors (2 kinds)', [3, 2]],
    ]);
  });

  it('leaves a gap where a process was not sampled and adds the target rate only for open models', () => {
    const { samples } = exampleRun({ sampleCount: 3 });
    samples[1]!.processes = samples[1]!.processes.filter((p) => p.name !== 'anvil');
    const charts = buildHtmlCharts(samples) as HtmlTimeChart[];
    const rss = charts.find((c) => c.id === 'rss')!;
    expect(rss.series.map((s) => s.values.map((v) => (v === null ? null : Math.round(v / 2 ** 20))))).toEqual([
      [140, 141, 141],
      [210, 211, 212],
      [60, null, 60],
    ]);
    expect(charts[0]!.series.map((s) => s.label)).toEqual(['started/s', 'completed/s', 'failed/s', 'target/s']);
    for (const sample of samples) delete sample.targetRate;
    expect((buildHtmlCharts(samples)[0] as HtmlTimeChart).series.map((s) => s.label)).toEqual(['started/s', 'completed/s', 'failed/s']);
  });
});

describe('report formatting', () => {
  it('renders durations, sizes, ticks and config rows for people', () => {
    expect([0, 0.42, 4.21, 850.4, 1420, 12_345, 125_000, 3_725_000].map(formatMs)).toEqual([
      '0',
      '0.42 ms',
      '4.2 ms',
      '850 ms',
      '1.42 s',
      '12.3 s',
      '2m 05s',
      '1h 02m',
    ]);
    expect([512, 12_288, 215.3 * 2 ** 20, 1.2 * 2 ** 30].map(formatBytes)).toEqual(['512 B', '12.0 KiB', '215.3 MiB', '1.20 GiB']);
    expect([niceTicks(26_600), niceTicks(0.9), niceTicks(0)]).toEqual([
      { ticks: [0, 10_000, 20_000, 30_000], max: 30_000 },
      { ticks: [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1], max: 1 },
      { ticks: [0], max: 0 },
    ]);
    expect(flattenConfig({ load: { rate: 2, phases: ['a', 'b'], empty: [] }, secret: undefined })).toEqual([
      ['load.rate', '2'],
      ['load.phases', 'a, b'],
      ['load.empty', '[]'],
      ['secret', '—'],
    ]);
    expect(JSON.parse(jsonForScript({ s: HOSTILE }))).toEqual({ s: HOSTILE });
    expect(jsonForScript({ s: '</script>&' })).toBe('{"s":"\\u003c/script\\u003e\\u0026"}');
  });
});

describe('writeHtmlReport', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vana-load-html-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads summary.json and timeseries.jsonl, skips a truncated last line and writes report.html', async () => {
    const { summary, samples } = exampleRun({ sampleCount: 4 });
    const run = await mkdtemp(join(dir, 'run-'));
    await writeFile(join(run, 'summary.json'), JSON.stringify(summary));
    await writeFile(join(run, 'timeseries.jsonl'), `${samples.map((s) => JSON.stringify(s)).join('\n')}\n{"t":179500`);
    const written = await writeHtmlReport(run);
    const html = await readFile(join(run, 'report.html'), 'utf8');
    expect({ ...written, bytes: written.bytes === Buffer.byteLength(html) }).toEqual({
      path: join(run, 'report.html'),
      bytes: true,
      samples: 4,
      skippedTruncatedLine: true,
    });
    expect(reportData(html).charts[0]?.x).toEqual([1, 2, 3, 4]);
  });

  it('uses the summary passed in when summary.json is missing, and no timeseries gives notes', async () => {
    const { summary } = exampleRun({ sampleCount: 2 });
    const run = await mkdtemp(join(dir, 'run-'));
    const written = await writeHtmlReport(run, { summary, title: 'rebuilt' });
    expect([written.samples, written.skippedTruncatedLine]).toEqual([0, false]);
    expect(await readFile(written.path, 'utf8')).toContain('<title>rebuilt</title>');
  });

  it('error: names the missing summary.json when none is passed in', async () => {
    const run = await mkdtemp(join(dir, 'run-'));
    const error = await writeHtmlReport(run).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(VanaLoadError);
    expect([(error as VanaLoadError).code, (error as VanaLoadError).shortMessage]).toEqual([
      'REPORT_INPUT_MISSING',
      `Cannot write the HTML report: ${join(run, 'summary.json')} does not exist`,
    ]);
  });

  it('error: names the line of timeseries.jsonl that is corrupt before the end', async () => {
    const { summary, samples } = exampleRun({ sampleCount: 3 });
    const run = await mkdtemp(join(dir, 'run-'));
    await writeFile(join(run, 'timeseries.jsonl'), [JSON.stringify(samples[0]), '{"t":', JSON.stringify(samples[2]), ''].join('\n'));
    const error = (await writeHtmlReport(run, { summary }).catch((err: unknown) => err)) as VanaLoadError;
    expect([error.code, error.shortMessage]).toEqual([
      'REPORT_INPUT_INVALID',
      `Cannot write the HTML report: line 2 of ${join(run, 'timeseries.jsonl')} is not valid JSON`,
    ]);
  });

  it('error: refuses a summary.json of another version', async () => {
    const run = await mkdtemp(join(dir, 'run-'));
    await writeFile(join(run, 'summary.json'), JSON.stringify({ version: 2 }));
    const error = (await writeHtmlReport(run).catch((err: unknown) => err)) as VanaLoadError;
    expect([error.code, error.shortMessage]).toEqual(['REPORT_INPUT_INVALID', 'Expected summary.json version 1, got 2']);
  });
});
