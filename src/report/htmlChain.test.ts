import { describe, expect, it } from 'vitest';
import { withChainTimeline } from '../../test/fixtures/chainFixture.ts';
import { exampleRun } from '../../test/fixtures/htmlFixture.ts';
import { attributeValues, reportData } from '../../test/fixtures/reportHtml.ts';
import { renderHtmlReport } from './html.ts';


describe('the chain section of report.html', () => {
  it('charts block fill against the half-full line and the base fee on the run clock, and names the chain in the verdict', () => {
    const { summary, samples } = withChainTimeline(exampleRun({ sampleCount: 60 }));
    const html = renderHtmlReport({ summary, samples });
    expect(attributeValues(html, '<section id')).toEqual(['verdict', 'throughput', 'chain', 'latency', 'errors', 'resources', 'environment']);
    expect(attributeValues(html, 'data-chart').filter((id) => id.startsWith('chain'))).toEqual(['chain-fill', 'chain-base-fee', 'chain-inclusion', 'chain-relayers', 'chain-ps-queue']);
    expect(html).toContain('<p class="warning" data-bottleneck="chain">Bottleneck: the chain — blocks 84 % full on average, base fee 0.83 gwei → 9.72 gwei</p>');

    const charts = reportData(html).charts;
    const fill = charts.find((c) => c.id === 'chain-fill')!;
    const fee = charts.find((c) => c.id === 'chain-base-fee')!;
    // Aligned with the load: the same x (seconds since the run began) as the throughput chart.
    expect(fill.x).toEqual(charts.find((c) => c.id === 'throughput')!.x);
    expect([fill.unit, fee.unit]).toEqual(['percent', 'gwei']);
    expect(fill.series.map((s) => [s.label, s.dashed ?? false])).toEqual([
      ['mean (or the newest block)', false],
      ['fullest', false],
      ['half full (base fee rises above)', true],
    ]);
    // An interval without a block (2 and 42) carries the newest block's fill; before the first block there is none.
    expect([0, 1, 2, 41, 42].map((i) => fill.series[0]!.values[i])).toEqual([null, 19, 19, 96, 96]);
    expect(fill.series[1]!.values[2]).toBeNull();
    const fees = fee.series[0]!.values as number[];
    expect(Math.max(...fees.slice(30))).toBeGreaterThan(Math.min(...fees.slice(0, 10)) * 5);
    expect(charts.find((c) => c.id === 'chain-inclusion')!.series.map((s) => [s.label, s.spanGaps])).toEqual([
      ['RPC accept p95', true],
      ['accepted → included p95', true],
    ]);
  });

  it('says which figures were not measured, and why, in place of their charts', () => {
    const notes = ['relayers: none (relay direct: each user sends and pays for its own transaction)', 'personal-server queue: not measured (the server at https://ps.example exposes none: GET https://ps.example/stats answered 404)'];
    const run = withChainTimeline(exampleRun({ sampleCount: 20 }), { congested: false, notes });
    const samples = run.samples.map(({ relayers: _r, personalServer: _p, ...sample }) => sample);
    const html = renderHtmlReport({ summary: { ...run.summary, chain: { ...run.summary.chain!, notes } }, samples });
    expect(attributeValues(html, 'data-empty')).toEqual(['chain-relayers', 'chain-ps-queue']);
    expect(html).toContain('<p class="empty" data-empty="chain-relayers">relayers: none (relay direct: each user sends and pays for its own transaction)</p>');
    expect(html).not.toContain('data-bottleneck');
    expect(html).toContain('<td>bottleneck</td><td>not the chain: blocks at most half full on average, base fee up by at most 10 %, inclusion p95 within 3 blocks (or 5 s)</td>');
  });

  it('leaves the section out of a report of a run from before the timeline', () => {
    const { summary, samples } = exampleRun({ sampleCount: 10 });
    const html = renderHtmlReport({ summary, samples });
    expect(attributeValues(html, '<section id')).not.toContain('chain');
    expect(reportData(html).charts.some((c) => c.id.startsWith('chain'))).toBe(false);
  });
});
