import { describe, expect, it } from 'vitest';
import { capacityStepFixture, exampleCapacityResult, exampleCapacitySteps } from '../capacity/capacityFixture.ts';
import { buildCapacityCharts, renderCapacityHtml } from './capacityHtml.ts';
import type { HtmlTimeChart } from './htmlCharts.ts';

const HOSTILE = '</script><script>alert(1)</script><!--';

function chartsOf(html: string): HtmlTimeChart[] {
  const match = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  return (JSON.parse(match![1]!) as { charts: HtmlTimeChart[] }).charts;
}
const series = (chart: HtmlTimeChart | undefined, label: string) => chart?.series.find((s) => s.label === label)?.values;

describe('renderCapacityHtml', () => {
  it('holds the curve over the target rate: p95, success, CPU per process, the SLO lines and the sustainable rate marked', () => {
    const result = exampleCapacityResult();
    const charts = chartsOf(renderCapacityHtml(result));
    expect(charts.map((c) => c.id)).toEqual(['capacity-p95', 'capacity-success', 'capacity-cpu', 'capacity-cpu-per-flow', 'capacity-limit', 'capacity-step-p95', 'capacity-chain']);
    const rates = [5, 7.5, 11.3, 17, 25.5, 31.9, 33.5, 35.1, 38.3];
    for (const chart of charts) expect([chart.id, chart.x, chart.xUnit, chart.xLabel]).toEqual([chart.id, rates, 'perS', 'target rate']);

    const p95 = charts.find((c) => c.id === 'capacity-p95');
    expect(series(p95, 'e2e p95')).toEqual([420, 450, 520, 640, 910, 1_240, 1_630, 2_830, 3_620]);
    expect(series(p95, 'SLO p95 < 2.00 s')).toEqual(rates.map(() => 2_000));
    expect(p95?.series.find((s) => s.label === 'SLO p95 < 2.00 s')?.dashed).toBe(true);
    expect(series(p95, 'sustainable 33.5/s')).toEqual([null, null, null, null, null, null, 1_630, null, null]);

    const success = charts.find((c) => c.id === 'capacity-success');
    expect(series(success, 'success')).toEqual([100, 100, 100, 100, 100, 100, 100, 99.8, 99.8]);
    expect(series(success, 'SLO success ≥ 99.0%')).toEqual(rates.map(() => 99));
    expect(series(success, 'SLO achieved ≥ 97.0%')).toEqual(rates.map(() => 97));

    const cpu = charts.find((c) => c.id === 'capacity-cpu');
    expect(cpu?.series.map((s) => s.label)).toEqual(['harness', 'stack', 'anvil', 'whole machine', 'one core', 'all 2 cores']);
    expect(series(cpu, 'stack')?.[6]).toBeCloseTo(33.5 * 2.12, 10);
    const perFlow = charts.find((c) => c.id === 'capacity-cpu-per-flow');
    expect(series(perFlow, 'sum (CPU limit)')?.[6]).toBeCloseTo(51.9, 10);
    expect(series(charts.find((c) => c.id === 'capacity-limit'), 'CPU limit')?.[6]).toBeCloseTo(2000 / 51.9, 10);
  });

  it('names the sustainable rate, its ratio to the CPU limit and the bottleneck, and links every step to its own report', () => {
    const html = renderCapacityHtml(exampleCapacityResult());
    expect(html).toContain('<span class="verdict pass" data-verdict="pass">33.5 flows/s</span>');
    expect(html).toContain(
      '<p class="sentence" data-ratio>33.5 flows/s = 0.87 of the CPU limit 38.5 flows/s (2 cores ÷ 51.9 ms CPU per flow: harness 11.8 + stack 21.2 + anvil 18.9)</p>',
    );
    expect(html).toContain(
      '<p class="sentence" data-bottleneck="process"><b>Bottleneck:</b> stack process at 87 % of the CPU it could get at 35.1/s (74 % of one core; machine 189 % of 200 %)</p>',
    );
    expect(html).toContain('<li>p95 growth 33.5/s → 35.1/s: confirm +960 ms, inference_submit +8.0 ms, relay +3.2 ms</li>');
    const sustainableRows = html.match(/<tr class="best" data-sustainable><td>9<\/td><td><a href="step-09-33.5rps\/report.html">report<\/a><\/td><td>bisect<\/td><td>33.50\/s<\/td>/g);
    expect(sustainableRows?.length).toBe(1);
    expect(html.match(/<a href="step-\d\d-[\d.]+rps\/report.html">report<\/a>/g)?.length).toBe(9);
    expect(html).toContain('<td class="verdict-cell"><span class="fail">FAIL: e2e.p95&lt;2000ms (got 2.83s)</span></td>');
  });

  it('is one offline page: the CSP of the run report, no network reference, and nothing typed can break out of it', () => {
    const result = exampleCapacityResult();
    result.command = `vana-load capacity --results-dir '${HOSTILE}'`;
    result.steps[0]!.breaches = [HOSTILE];
    const html = renderCapacityHtml(result);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">`);
    expect(html.match(/\b(?:src|href|action|srcset)\s*=\s*["']?\s*(?:https?:)?\/\//gi)).toBeNull();
    expect([html.match(/<script/g)?.length, html.match(/<\/script>/g)?.length]).toEqual([3, 3]);
    expect(html).not.toContain('<!--');
    expect(html).toContain('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;!--');
    const containers = [...html.slice(0, html.indexOf('<script')).matchAll(/data-chart="([^"]*)"/g)].map((m) => m[1]);
    expect(containers).toEqual(chartsOf(html).map((c) => c.id));
  });

  it('leaves an interrupted step off the curve but lists it, and says so when the search was interrupted', () => {
    const steps = [...exampleCapacitySteps().slice(0, 3), capacityStepFixture({ index: 4, rate: 17, interrupted: true })];
    const result = exampleCapacityResult({ steps, interrupted: true });
    const html = renderCapacityHtml(result);
    expect(buildCapacityCharts(result)[0]).toMatchObject({ x: [5, 7.5, 11.3] });
    expect(html).toContain('<span class="verdict none" data-verdict="none">11.3 flows/s SO FAR</span>');
    expect(html).toContain('The search was interrupted');
    expect(html).toContain('<td class="verdict-cell">interrupted: not counted</td>');
  });

  it('puts notes in place of the charts when no step was measured', () => {
    const result = exampleCapacityResult({ steps: [] });
    const html = renderCapacityHtml(result);
    expect(chartsOf(html)).toEqual([]);
    expect([...html.matchAll(/data-empty="([^"]*)"/g)].map((m) => m[1])).toEqual([
      'capacity-p95',
      'capacity-success',
      'capacity-cpu',
      'capacity-cpu-per-flow',
      'capacity-limit',
      'capacity-step-p95',
    ]);
    expect(html).toContain('<span class="verdict fail" data-verdict="fail">NO RATE MET THE SLO</span>');
    expect(html).toContain('<p class="sentence" data-bottleneck="none"><b>Bottleneck:</b> no step was measured</p>');
  });
});
