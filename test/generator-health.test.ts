/**
 * Generator health end to end: a real MS-03 run whose harness is pushed past its own capacity
 * (the test-only VANA_LOAD_TEST_CPU_BURN holds its event loop 900 ms of every second) ends INVALID
 * with the reason and exit 5, never PASS; `vana-load report` reaches the same verdict from the
 * files alone; a small healthy run stays PASS with every check ok. One local stack
 * (`vana-load stack` on free ports) serves every run; each run is its own process.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../src/metrics/types.ts';
import { TSX_LOADER_URL } from '../src/util/tsxLoader.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MS03 = join(ROOT, 'milestones/ms-03/test-multi-user.ts');
const CLI = join(ROOT, 'src/cli/main.ts');
// Under vitest NODE_ENV is `test`, which the children inherit: the burn switch applies to them.
const BASE_ENV = { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VANA_'))), NODE_ENV: 'test' };
const cwd = mkdtempSync(join(tmpdir(), 'vana-load-health-'));
const resultsDir = join(cwd, 'results');

interface Exited {
  code: number | null;
  out: string;
}

function run(script: string, args: readonly string[], env: Record<string, string> = {}): Promise<Exited> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER_URL, script, ...args], { cwd, env: { ...BASE_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

const readSummary = (dir: string): RunSummary => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;
const checkOf = (summary: RunSummary, name: string) => summary.generatorHealth?.checks.find((c) => c.name === name);

let stack: ReturnType<typeof spawn> | undefined;
let stackOut = '';
beforeAll(async () => {
  const ports = ['--anvil-port', '0', '--api-port', '0', '--storage-port', '0', '--personal-server-port', '0'];
  stack = spawn(process.execPath, ['--import', TSX_LOADER_URL, CLI, 'stack', ...ports], { cwd, env: BASE_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  stack.stdout!.on('data', (chunk: Buffer) => (stackOut += chunk.toString()));
  stack.stderr!.on('data', (chunk: Buffer) => (stackOut += chunk.toString()));
  const manifest = join(cwd, '.vana-load', 'stack.json');
  const deadline = Date.now() + 100_000;
  while (!existsSync(manifest)) {
    if (Date.now() > deadline || stack.exitCode !== null) throw new Error(`the stack did not start:\n${stackOut}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}, 120_000);

afterAll(async () => {
  if (stack && stack.exitCode === null) {
    const exited = new Promise((resolve) => stack!.on('close', resolve));
    stack.kill('SIGINT');
    await exited;
  }
  rmSync(cwd, { recursive: true, force: true });
});

describe('generator health of a real run', () => {
  let burnt: Promise<Exited> | undefined;
  const burntRun = (): Promise<Exited> =>
    // Flows back to back for 12 s: long enough for the event-loop p99 to be judged (a p99 needs 10 s).
    (burnt ??= run(MS03, ['--concurrent', '2', '--duration', '12s', '--results-dir', resultsDir, '--run-id', 'burnt'], { VANA_LOAD_TEST_CPU_BURN: '900' }));

  it('error: a run whose harness is held 900 ms of every second ends INVALID with the reason and exit 5, never PASS', async () => {
    const { code, out } = await burntRun();
    expect(out).toContain('VANA_LOAD_TEST_CPU_BURN=900: the harness burns 900 ms of every second on its event loop (test-only)');
    expect(code, out).toBe(5);
    expect(out).toContain('🩺 Generator health: INVALID: the harness fell behind');
    // The value is ms or s (1.52s): formatDuration's.
    expect(out).toMatch(/❌ event_loop_lag\.p99 +[\d.]+m?s +≤ 500ms +OVER +\d:\d\d–\d:\d\d/);
    expect(out).toMatch(/VERDICT: INVALID \(the load generator fell behind: [^)]*event-loop lag p99 [\d.]+m?s over the 500ms limit at \d:\d\d–\d:\d\d/);
    expect(out).not.toContain('VERDICT: PASS');
    // The thresholds are still shown, with their figures, as not judged.
    expect(out).toContain('🎯 Thresholds (not judged: the generator fell behind, so these figures describe the harness):');
    expect(out).toMatch(/e2e\.p95<120s +\S+ +\((pass|fail): not judged\)/);
    expect(out).toContain('🩺 Generator health: INVALID');

    const summary = readSummary(join(resultsDir, 'burnt'));
    expect(summary.verdict).toBe('invalid');
    expect(summary.generatorHealth?.status).toBe('invalid');
    const loop = checkOf(summary, 'event_loop_lag.p99')!;
    expect(loop.ok).toBe(false);
    expect(loop.note).toBeUndefined();
    expect(loop.value).toBeGreaterThanOrEqual(800);
    expect(loop.windows.length).toBeGreaterThan(0);
    expect(summary.generatorHealth?.reasons.some((r) => r.startsWith('event-loop lag p99 '))).toBe(true);
    // Why: the burn holds the loop whatever CPU the busy machine lends it, so which of the three it is depends on the machine.
    expect(summary.generatorHealth?.diagnosis).toMatch(/^the (harness saturated its core|machine was oversubscribed|harness used)/);
    expect(out).toContain(`💡 Why: ${summary.generatorHealth!.diagnosis!}`);
    expect(summary.thresholds.length).toBeGreaterThan(0);

    const html = readFileSync(join(resultsDir, 'burnt', 'report.html'), 'utf8');
    expect(html).toContain('data-verdict="invalid">INVALID<');
    expect(html).toContain('<div class="invalid-banner" data-health="invalid"><b>INVALID: the load generator fell behind.</b>');
    const data = JSON.parse(/<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)![1]!) as { bands: Array<{ fromS: number; toS: number; label: string }> };
    expect(data.bands.length).toBeGreaterThan(0);
    expect(data.bands.some((b) => b.label.includes('event_loop_lag.p99'))).toBe(true);
  }, 180_000);

  it('vana-load report reaches the same INVALID verdict from the files, with or without summary.json, and not under --no-health-check', async () => {
    await burntRun();
    const dir = join(resultsDir, 'burnt');
    const live = readSummary(dir);
    const rebuilt = await run(CLI, ['report', dir]);
    expect(rebuilt.code, rebuilt.out).toBe(5);
    expect(readSummary(dir).generatorHealth).toEqual(live.generatorHealth);
    expect(rebuilt.out).toContain(`VERDICT: INVALID (the load generator fell behind: ${live.generatorHealth!.reasons.join('; ')})`);

    const unjudged = await run(CLI, ['report', dir, '--no-health-check']);
    expect(unjudged.out).toContain('🩺 Generator health: not judged (--health-check false)');
    expect(unjudged.out).not.toContain('VERDICT: INVALID');
    expect([0, 1]).toContain(unjudged.code);
    expect(readSummary(dir).generatorHealth?.status).toBe('not_judged');

    // A crash before summary.json: the samples alone, judged by the default limits.
    rmSync(join(dir, 'summary.json'));
    const crashed = await run(CLI, ['report', dir]);
    expect(crashed.code, crashed.out).toBe(5);
    expect(readSummary(dir).generatorHealth?.checks).toEqual(live.generatorHealth!.checks);
  }, 180_000);

  it('a small healthy run stays PASS with every check ok', async () => {
    const { code, out } = await run(MS03, ['--concurrent', '2', '--results-dir', resultsDir, '--run-id', 'healthy']);
    expect(code, out).toBe(0);
    expect(out).toContain('🩺 Generator health: OK: the harness kept up');
    expect(out).toContain('VERDICT: PASS');
    const summary = readSummary(join(resultsDir, 'healthy'));
    expect(summary.verdict).toBe('pass');
    expect(summary.generatorHealth?.status).toBe('ok');
    expect(summary.generatorHealth?.checks.map((c) => [c.name, c.ok])).toEqual([
      ['scheduler_lag.p99', true],
      ['scheduler_lag.max', true],
      ['event_loop_lag.p99', true],
      ['event_loop_lag.max', true],
      ['harness_cpu', true],
      ['harness_fds', true],
    ]);
    // Every check measured something: the run is judged on figures, not on their absence.
    expect(summary.generatorHealth?.checks.every((c) => c.value !== null)).toBe(true);
  }, 180_000);

  it('error: a bad limit exits 2 naming the flag and the accepted values, before anything starts', async () => {
    const { code, out } = await run(MS03, ['--concurrent', '2', '--results-dir', resultsDir, '--max-harness-cpu', 'ninety']);
    expect(code, out).toBe(2);
    expect(out).toContain('VANA_MAX_HARNESS_CPU (--max-harness-cpu) must be a percentage (e.g. 90%) in [1%, 6400%], got "ninety"');
    expect(out).not.toContain('Starting');
  }, 60_000);
});
