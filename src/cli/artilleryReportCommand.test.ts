import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { artilleryOutputOf, runArtilleryReportCommand } from './artilleryReportCommand.ts';

const t0 = 1_800_000_000_000;
const e2e = { min: 800, max: 2_000, count: 4, mean: 1_200, p50: 1_000, median: 1_000, p75: 1_500, p90: 1_900, p95: 2_000, p99: 2_000, p999: 2_000 };
const counters = {
  'vusers.created': 5,
  'vusers.completed': 4,
  'vusers.failed': 1,
  'vana.flows.started': 5,
  'vana.flows.completed': 5,
  'vana.flows.succeeded': 4,
  'vana.flows.failed': 1,
  'vana.errors.confirm.timeout': 1,
  'errors.vana.confirm.timeout.RECEIPT_TIMEOUT': 1,
  'vana.tx.attempts': 5,
  'vana.tx.successes': 4,
  'vana.uploads.attempts': 10,
  'vana.uploads.successes': 10,
  'vana.plan.arrivals': 5,
  'vana.workers.target_local': 2,
  'vana.workers.chain_31337': 2,
  'vana.flows.waited_for_startup': 1,
};
const output = {
  aggregate: {
    counters,
    summaries: { 'vana.e2e': e2e, 'vana.plan.duration_ms': { ...e2e, min: 10_000, max: 10_000, mean: 10_000 } },
    firstMetricAt: t0 + 100,
    lastMetricAt: t0 + 14_000,
    // The last flow finished at 12 s; the workers' lag samples went on until 14 s.
    firstCounterAt: t0 + 100,
    lastCounterAt: t0 + 12_100,
    period: t0,
  },
  intermediate: [
    { counters, summaries: { 'vana.e2e': e2e }, firstMetricAt: t0 + 100, lastMetricAt: t0 + 9_900, period: t0 },
    { counters: { 'vusers.created': 0 }, summaries: {}, firstMetricAt: t0 + 10_000, lastMetricAt: t0 + 14_000, period: t0 + 10_000 },
  ],
};
const quiet = () => Object.assign(new Writable({ write: (_c, _e, done) => done() }), { isTTY: false });

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function outputFile(content: unknown): Promise<{ dir: string; path: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'vana-artillery-report-'));
  dirs.push(dir);
  const path = join(dir, 'out.json');
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return { dir, path };
}

describe('runArtilleryReportCommand', () => {
  it('writes summary.json and report.html of the merged run, saying what a distributed run cannot show, and passes', async () => {
    const { dir, path } = await outputFile(output);
    const result = await runArtilleryReportCommand({ output: path, thresholds: ['e2e.p95<5s', 'tx_success_rate>=0.8'], dir: join(dir, 'report'), stdout: quiet() });
    expect(result.exitCode).toBe(0);
    const summary = JSON.parse(await readFile(result.summaryPath, 'utf8'));
    expect(summary.counts).toEqual({ started: 5, completed: 5, succeeded: 4, failed: 1, dropped: 0 });
    expect({ durationS: summary.durationS, flowsPerS: summary.rates.flowsPerS }).toEqual({ durationS: 12, flowsPerS: 0.417 });
    expect(summary.rates).toMatchObject({ targetRate: 0.5, achievedRate: 0.5, txSuccessRate: 0.8, uploadSuccessRate: 1 });
    expect(summary.environment).toMatchObject({ chainId: 31337, target: 'local', loadModel: 'artillery' });
    expect(summary.errors).toEqual([{ step: 'confirm', errorClass: 'timeout', count: 1, example: 'codes: RECEIPT_TIMEOUT ×1 (Artillery keeps no messages)' }]);
    expect(summary.runner).toMatchObject({ kind: 'artillery', workers: 2, periodS: 10, periods: 2, startupWaits: 1 });
    expect(summary.runner.limitations).toHaveLength(4);
    const html = await readFile(result.reportPath, 'utf8');
    expect(html).toContain('<section id="artillery">');
    expect(html).toContain('1 virtual user arrived before its worker had opened its environment');
    expect(html).toContain('data-verdict="pass"');
    expect(artilleryOutputOf(join(dir, 'report'))).toBe(path);
    expect(artilleryOutputOf(dir)).toBeUndefined();
  });

  it('fails the verdict (exit 1) on a breached threshold, and reads harness thresholds as n/a', async () => {
    const { dir, path } = await outputFile(output);
    const result = await runArtilleryReportCommand({ output: path, milestone: 'ms-03', thresholds: ['e2e.p95<1s'], dir: join(dir, 'report'), stdout: quiet() });
    expect(result.exitCode).toBe(1);
    const verdicts = Object.fromEntries(result.summary.thresholds.map((t) => [t.expression, `${t.actualText} ${t.pass ? 'pass' : 'fail'}`]));
    expect(verdicts).toMatchObject({
      'e2e.p95<1s': '2.00s fail',
      'success_rate>=90%': '80.0% fail',
      'harness.cpu_avg<80%': 'n/a (Artillery: no per-process resources) pass',
      'tx_success_rate>95%': '80.0% fail',
    });
  });

  it('error: refuses a missing file, a file that is not Artillery output, and output without vana flows', async () => {
    const { dir } = await outputFile(output);
    await expect(runArtilleryReportCommand({ output: join(dir, 'nope.json'), stdout: quiet() })).rejects.toMatchObject({ code: 'ARTILLERY_OUTPUT_MISSING' });
    const notJson = await outputFile('{');
    await expect(runArtilleryReportCommand({ output: notJson.path, stdout: quiet() })).rejects.toMatchObject({ code: 'ARTILLERY_OUTPUT_INVALID' });
    const notArtillery = await outputFile({ aggregate: {} });
    await expect(runArtilleryReportCommand({ output: notArtillery.path, stdout: quiet() })).rejects.toMatchObject({ code: 'ARTILLERY_OUTPUT_INVALID', metaMessages: [expect.stringContaining('intermediate'), expect.any(String)] });
    const http = await outputFile({ aggregate: { counters: { 'vusers.created': 3 } }, intermediate: [] });
    await expect(runArtilleryReportCommand({ output: http.path, stdout: quiet() })).rejects.toMatchObject({ code: 'ARTILLERY_OUTPUT_NO_FLOWS' });
  });
});
