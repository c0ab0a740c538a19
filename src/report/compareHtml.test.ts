import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareRuns } from './compare.ts';
import { writeCompareFixture } from '../../test/fixtures/compareFixture.ts';
import { buildCdfChart, renderCompareHtml } from './compareHtml.ts';
import type { HtmlTimeChart } from './htmlCharts.ts';
import { judgeRegressions, parseMaxRegression } from './maxRegression.ts';
import { readCompareRun } from './readCompareRun.ts';

const HOSTILE = '</script><script>alert(1)</script><!--';
let root: string;
beforeAll(async () => void (root = await mkdtemp(join(tmpdir(), 'compare-html-'))));
afterAll(async () => rm(root, { recursive: true, force: true }));

function chartsOf(html: string): HtmlTimeChart[] {
  const match = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  return (JSON.parse(match![1]!) as { charts: HtmlTimeChart[] }).charts;
}

describe('buildCdfChart', () => {
  it('puts every flow on the chart when there are few, at the exact share done by then', () => {
    const chart = buildCdfChart('relay', Float64Array.from([10, 20, 30, 40]), Float64Array.from([20, 40]));
    expect(chart).toMatchObject({ id: 'cdf-relay', unit: 'percent', xUnit: 'ms', yMax: 100, x: [10, 20, 30, 40] });
    expect(chart.series.map((s) => [s.label, s.values])).toEqual([
      ['baseline (n 4)', [25, 50, 75, 100]],
      ['candidate (n 2)', [0, 50, 50, 100]],
    ]);
  });

  it('keeps a large run to a few hundred rising points, cut at the 99.5th percentile', () => {
    const a = Float64Array.from({ length: 50_000 }, (_, i) => i);
    const b = Float64Array.from({ length: 20_000 }, (_, i) => 2 * i);
    const chart = buildCdfChart('e2e', a, b);
    expect(chart.x.length).toBeLessThanOrEqual(402);
    // The larger of the two 99.5th percentiles: the baseline's.
    expect(chart.x.at(-1)).toBe(49_750);
    for (const series of chart.series) expect(series.values).toEqual([...(series.values as number[])].sort((x, y) => x - y));
    expect(chart.series.map((s) => s.values.at(-1))).toEqual([99.502, 100]);
  });
});

describe('renderCompareHtml', () => {
  it('is one offline page: the report’s CSP, no network reference, a distribution chart per step with e2e first, the verdict', async () => {
    await writeCompareFixture(join(root, 'a'), { flows: 80, seed: 1 });
    await writeCompareFixture(join(root, HOSTILE.replaceAll('/', '_')), { flows: 80, seed: 1, scale: 1.4, environment: { node: HOSTILE } });
    const a = await readCompareRun(join(root, 'a'));
    const b = await readCompareRun(join(root, HOSTILE.replaceAll('/', '_')));
    const comparison = compareRuns(a, b);
    const verdicts = judgeRegressions(comparison, [parseMaxRegression('e2e.p95:+10%')]);
    const html = renderCompareHtml({ comparison, baselineTimes: a.times, candidateTimes: b.times, verdicts });

    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">`);
    expect(html.match(/\b(?:src|href|action|srcset)\s*=\s*["']?\s*(?:https?:)?\/\//gi)).toBeNull();
    expect([html.match(/<script/g)?.length, html.match(/<\/script>/g)?.length]).toEqual([3, 3]);
    expect(html).not.toContain('<!--');
    expect(html).toContain('<span class="verdict fail" data-verdict="fail">REGRESSION</span>');
    expect(html).toContain('node version: baseline v20.19.0, candidate &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;!--');
    const charts = chartsOf(html);
    expect(charts.map((c) => c.id)).toEqual([
      'cdf-e2e', 'cdf-encrypt', 'cdf-upload_data', 'cdf-upload_grant', 'cdf-identity', 'cdf-wrap_key', 'cdf-sign', 'cdf-relay', 'cdf-confirm',
      'cdf-inference_submit', 'cdf-inference_wait', 'cdf-verify',
    ]);
    const containers = [...html.slice(0, html.indexOf('<script')).matchAll(/data-chart="([^"]*)"/g)].map((m) => m[1]);
    expect(containers).toEqual(charts.map((c) => c.id));
    expect(html).toMatch(/<td><code>e2e\.p95:\+10%<\/code><\/td><td><span class="fail">REGRESSED<\/span><\/td><td>\+\d+ms \(\+40\.0%\), 95% CI \[/);
  });

  it('says the settings match and that nothing is judged with --figures-only', async () => {
    const a = await readCompareRun(join(root, 'a'));
    const html = renderCompareHtml({ comparison: compareRuns(a, a), baselineTimes: a.times, candidateTimes: a.times });
    expect(html).toContain('<span class="verdict none" data-verdict="none">FIGURES ONLY</span>');
    expect(html).toContain('data-comparability="match"');
    expect(html).toContain('Figures only (--figures-only)');
  });
});
