import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeHtmlReport } from '../src/report/html.ts';
import { exampleRun } from './fixtures/htmlFixture.ts';
import { launchChromium, type LaunchChromiumReturnType } from './launchChromium.ts';
import { compareRuns } from '../src/report/compare.ts';
import { writeCompareFixture } from './fixtures/compareFixture.ts';
import { writeCompareHtml } from '../src/report/compareHtml.ts';
import { readCompareRun } from '../src/report/readCompareRun.ts';
import { exampleCapacityResult } from '../src/capacity/capacityFixture.ts';
import { writeCapacityHtml } from '../src/report/capacityHtml.ts';

// The report must draw whatever the reader's locale. Chromium takes its language from LANG; under a
// POSIX locale it reports `en-US@posix`, a tag Intl refuses (uPlot once failed to load on it).
const LOCALES = [
  { name: 'a POSIX locale as on CI (LANG=C.UTF-8)', lang: 'C.UTF-8', navigatorLanguage: 'en-US@posix' },
  { name: 'a German desktop locale (LANG=de_DE.UTF-8)', lang: 'de_DE.UTF-8', navigatorLanguage: 'de-DE' },
] as const;

interface ChartInspection {
  id: string;
  canvasPixels: number;
  /** Canvas pixels close to one of the chart's series colors: drawn data, not axes or grid. */
  seriesPixels: number;
  svgBars: number;
}

// Runs in the page, as a string so the test transpiler cannot inject helpers into it.
const INSPECT_CHARTS = `(() => {
  const specs = JSON.parse(document.getElementById('report-data').textContent).charts;
  const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return [...document.querySelectorAll('[data-chart]')].map((el) => {
    const id = el.getAttribute('data-chart');
    const spec = specs.find((c) => c.id === id);
    const colors = spec ? spec.series.map((s) => rgb(s.color)) : [];
    let canvasPixels = 0, seriesPixels = 0;
    const canvas = el.querySelector('canvas');
    if (canvas) {
      const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 0; i < px.length; i += 4) {
        if (px[i + 3] === 0) continue;
        canvasPixels++;
        if (colors.some((c) => Math.abs(c[0] - px[i]) + Math.abs(c[1] - px[i + 1]) + Math.abs(c[2] - px[i + 2]) < 40)) seriesPixels++;
      }
    }
    const svgBars = [...el.querySelectorAll('svg rect')].filter((r) => r.getBoundingClientRect().width > 0).length;
    return { id, canvasPixels, seriesPixels, svgBars };
  });
})()`;

// Runs in the page: in the error chart's column with the most error kinds, how many pixels each
// series' color covers. Stacked right, the shares follow the counts of that interval.
const INSPECT_STACK = `(() => {
  const spec = JSON.parse(document.getElementById('report-data').textContent).charts.find((c) => c.id === 'errors');
  const el = document.querySelector('[data-chart="errors"]');
  const canvas = el.querySelector('canvas');
  const over = el.querySelector('.u-over');
  const kinds = (i) => spec.series.filter((s) => s.values[i] > 0).length;
  let index = 0;
  spec.x.forEach((_, i) => { if (kinds(i) > kinds(index)) index = i; });
  const ratio = canvas.width / canvas.getBoundingClientRect().width;
  const min = spec.x[0] - 0.5, max = spec.x[spec.x.length - 1] + 0.5;
  const left = (over.offsetLeft + ((spec.x[index] - min) / (max - min)) * over.clientWidth) * ratio;
  const top = over.offsetTop * ratio, bottom = (over.offsetTop + over.clientHeight) * ratio;
  const column = canvas.getContext('2d').getImageData(Math.round(left), Math.round(top), 1, Math.round(bottom - top)).data;
  const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const pixels = spec.series.map((s) => {
    const c = rgb(s.color);
    let n = 0;
    for (let i = 0; i < column.length; i += 4) {
      if (Math.abs(c[0] - column[i]) + Math.abs(c[1] - column[i + 1]) + Math.abs(c[2] - column[i + 2]) < 12) n++;
    }
    return n;
  });
  return { counts: spec.series.map((s) => s.values[index]), pixels };
})()`;

interface OpenedReport {
  page: Page;
  requests: string[];
  consoleErrors: string[];
  /** `navigator.language`: shows which locale the page really ran under. */
  language: string;
}

async function openReport(browser: Browser, file: string, width: number): Promise<OpenedReport> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const requests: string[] = [];
  const consoleErrors: string[] = [];
  // Block and count everything that is not the report file itself.
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (url.startsWith('file://')) return await route.continue();
    requests.push(url);
    await route.abort();
  });
  const page = await context.newPage();
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith('file://') && !requests.includes(url)) requests.push(url);
  });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(err.message));
  await page.goto(pathToFileURL(file).href);
  await page.waitForSelector('body[data-report-ready]', { timeout: 30_000 }); // generous: a busy 2-core machine starves chromium
  const language = (await page.evaluate('navigator.language')) as string;
  return { page, requests, consoleErrors, language };
}

for (const { name, lang, navigatorLanguage } of LOCALES) describe(`HTML report in headless Chromium under ${name}`, () => {
  let launched: Promise<LaunchChromiumReturnType> | undefined;
  let dir: string;
  // Launched by the first test that needs it, so a browser that cannot start fails each test, with
  // the reason, instead of skipping it.
  const launchBrowser = async (): Promise<Browser> => (await (launched ??= launchChromium({ lang }))).browser;

  beforeAll(async () => {
    // Kept after the run: it holds the screenshots the tests print.
    dir = await mkdtemp(join(tmpdir(), 'vana-load-report-'));
  });
  afterAll(async () => {
    // A failed launch has already failed the tests that asked for it.
    await launched?.then(({ browser }) => browser.close(), () => undefined);
  });

  it('draws every chart of a 60-second run with errors, offline and without console errors', async () => {
    const { summary, samples } = exampleRun({ sampleCount: 60 });
    await writeFile(join(dir, 'summary.json'), JSON.stringify(summary, null, 2));
    // A crash mid-write leaves half a line at the end: the report must still build.
    await writeFile(join(dir, 'timeseries.jsonl'), `${samples.map((s) => JSON.stringify(s)).join('\n')}\n{"t":17950000610`);
    const written = await writeHtmlReport(dir);
    expect([written.samples, written.skippedTruncatedLine]).toEqual([60, true]);

    const { page, requests, consoleErrors, language } = await openReport(await launchBrowser(), written.path, 1280);
    const charts = (await page.evaluate(INSPECT_CHARTS)) as ChartInspection[];
    const screenshot = join(dir, 'report.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`report: ${written.path} (${(written.bytes / 1024).toFixed(1)} KB), screenshot: ${screenshot}`);

    expect(language, `navigator.language under LANG=${lang}`).toBe(navigatorLanguage);
    expect(requests).toEqual([]);
    expect(consoleErrors).toEqual([]);
    expect(charts.map((c) => c.id)).toEqual(['throughput', 'in-flight', 'e2e', 'step-latency', 'errors', 'cpu', 'rss']);
    for (const chart of charts) {
      if (chart.id === 'step-latency') {
        expect(chart.svgBars, chart.id).toBe(11 * 3);
      } else {
        expect(chart.seriesPixels, `${chart.id} draws its series`).toBeGreaterThan(200);
      }
    }
    expect(await page.locator('[data-empty]').count()).toBe(0);
    expect(await page.locator('[data-verdict]').getAttribute('data-verdict')).toBe(summary.verdict);

    const stack = (await page.evaluate(INSPECT_STACK)) as { counts: number[]; pixels: number[] };
    expect(stack.counts.filter((c) => c > 0).length, 'an interval with several error kinds').toBeGreaterThan(1);
    const share = (values: number[]) => values.map((v) => v / values.reduce((a, b) => a + b, 0));
    share(stack.pixels).forEach((s, i) => expect(s, `share of ${stack.counts.join('/')} drawn as ${stack.pixels.join('/')} px`).toBeCloseTo(share(stack.counts)[i]!, 1));

    // Narrowing the window shrinks the charts with it: nothing sticks out of the page.
    await page.setViewportSize({ width: 700, height: 900 });
    // Polled with page.evaluate: waitForFunction evaluates a string predicate with eval() in the
    // page, which the report's CSP (no 'unsafe-eval') refuses whenever the first check is false.
    const chartsFit = '[...document.querySelectorAll("[data-chart] .plot")].every((p) => p.querySelector("canvas").getBoundingClientRect().width <= p.clientWidth)';
    await expect.poll(() => page.evaluate(chartsFit), { timeout: 15_000, interval: 100 }).toBe(true);
    expect(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'), 'page wider than the window').toBeLessThanOrEqual(0);
    await page.context().close();
  });

  it('draws a one-sample run without errors on a phone screen, with a note in place of the error chart', async () => {
    const { summary, samples } = exampleRun({ sampleCount: 30, withErrors: false });
    const oneDir = await mkdtemp(join(dir, 'one-sample-'));
    await writeFile(join(oneDir, 'timeseries.jsonl'), `${JSON.stringify(samples.at(-1))}\n`);
    // No summary.json on disk: the summary is passed in, as `vana-load report` does after rebuilding it.
    const written = await writeHtmlReport(oneDir, { summary });

    const { page, requests, consoleErrors, language } = await openReport(await launchBrowser(), written.path, 390);
    const charts = (await page.evaluate(INSPECT_CHARTS)) as ChartInspection[];
    const screenshot = join(oneDir, 'report.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`one-sample screenshot: ${screenshot}`);

    expect(language, `navigator.language under LANG=${lang}`).toBe(navigatorLanguage);
    expect(requests).toEqual([]);
    expect(consoleErrors).toEqual([]);
    expect(charts.map((c) => c.id)).toEqual(['throughput', 'in-flight', 'e2e', 'step-latency', 'cpu', 'rss']);
    for (const chart of charts.filter((c) => c.id !== 'step-latency')) {
      expect(chart.seriesPixels, `${chart.id} marks its one sample`).toBeGreaterThan(20);
    }
    expect(await page.locator('[data-empty="errors"]').textContent()).toMatch(/^No errors/);
    const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
    expect(overflow, 'page wider than the screen').toBeLessThanOrEqual(0);
    await page.context().close();
  });

  it('draws compare.html: both runs\' latency distribution per step, offline and without console errors', async () => {
    const [a, b] = [join(dir, 'compare-a'), join(dir, 'compare-b')];
    await writeCompareFixture(a, { flows: 150, seed: 1 });
    await writeCompareFixture(b, { flows: 150, seed: 2, stepScale: { inference_wait: 1.4 } });
    const [baseline, candidate] = [await readCompareRun(a), await readCompareRun(b)];
    const path = join(b, 'compare.html');
    await writeCompareHtml(path, { comparison: compareRuns(baseline, candidate), baselineTimes: baseline.times, candidateTimes: candidate.times });

    const { page, requests, consoleErrors } = await openReport(await launchBrowser(), path, 1280);
    const charts = (await page.evaluate(INSPECT_CHARTS)) as ChartInspection[];
    const screenshot = join(dir, 'compare.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`compare: ${path}, screenshot: ${screenshot}`);

    expect(requests).toEqual([]);
    expect(consoleErrors).toEqual([]);
    expect(charts.map((c) => c.id)).toEqual(['e2e', 'encrypt', 'upload_data', 'upload_grant', 'identity', 'wrap_key', 'sign', 'relay', 'confirm', 'inference_submit', 'inference_wait', 'verify'].map((s) => `cdf-${s}`));
    for (const chart of charts) expect(chart.seriesPixels, `${chart.id} draws both runs`).toBeGreaterThan(200);
    // Under the cursor, the legend reads x as a latency (ms, s), not as the run clock's m:ss.
    await page.locator('[data-chart="cdf-e2e"] .u-over').hover();
    const legend = page.locator('[data-chart="cdf-e2e"] .u-legend .u-series');
    expect(await legend.first().textContent()).toMatch(/^time:?\s*\d+(\.\d+)? m?s$/);
    expect(await legend.nth(2).textContent()).toMatch(/^candidate \(n 150\):?\s*\d+(\.\d+)?%$/);
    await page.context().close();
  });

  it("draws a capacity search's report: the curve over the target rate, offline and without console errors", async () => {
    const path = join(dir, 'capacity.html');
    await writeCapacityHtml(path, exampleCapacityResult());

    const { page, requests, consoleErrors } = await openReport(await launchBrowser(), path, 1280);
    const charts = (await page.evaluate(INSPECT_CHARTS)) as ChartInspection[];
    const screenshot = join(dir, 'capacity.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`capacity: ${path}, screenshot: ${screenshot}`);

    expect(requests).toEqual([]);
    expect(consoleErrors).toEqual([]);
    expect(charts.map((c) => c.id)).toEqual(['capacity-p95', 'capacity-success', 'capacity-cpu', 'capacity-cpu-per-flow', 'capacity-limit', 'capacity-step-p95', 'capacity-chain']);
    for (const chart of charts) expect(chart.seriesPixels, `${chart.id} draws its curve`).toBeGreaterThan(200);
    // Under the cursor, the legend reads x as a rate, not as the run clock's m:ss.
    await page.locator('[data-chart="capacity-p95"] .u-over').hover();
    expect(await page.locator('[data-chart="capacity-p95"] .u-legend .u-series').first().textContent()).toMatch(/^target rate:?\s*\d+(\.\d+)?\/s$/);
    await page.context().close();
  });
});
