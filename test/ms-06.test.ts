/**
 * MS-06 as a user runs it: real milestone processes, each with its own private local stack behind
 * fault proxies; the survival table, the verdict, survival.json and the exit codes are checked, and
 * no process is left behind.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { FlowResult } from '../src/flow.ts';
import type { RunSummary } from '../src/metrics/types.ts';
import { isProcessRunning } from '../src/util/processAlive.ts';
import { TSX_LOADER_URL } from '../src/util/tsxLoader.ts';
import { descendants } from './fixtures/descendants.ts';
import { unreachableRemote } from './fixtures/unreachableRemote.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MS06 = join(ROOT, 'milestones/ms-06/test-resilience.ts');
const SCENARIOS = join(ROOT, 'milestones/ms-06/scenarios');
const BASE_ENV = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VANA_')));
// Its own working directory: no developer .env, results in a temporary folder.
const base = mkdtempSync(join(tmpdir(), 'vana-load-ms06-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

interface Exited {
  code: number | null;
  out: string;
  ms: number;
  /** Every process the milestone started, seen while it ran. */
  family: Array<{ pid: number; name: string }>;
}

function runMs06(args: readonly string[], env: Record<string, string> = {}): Promise<Exited> {
  const t0 = Date.now();
  const child = spawn(process.execPath, ['--import', TSX_LOADER_URL, MS06, ...args], { cwd: base, env: { ...BASE_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const family = new Map<number, string>();
  const watch = setInterval(() => {
    for (const p of descendants(child.pid!)) family.set(p.pid, p.name);
  }, 250);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearInterval(watch);
      resolve({ code, out, ms: Date.now() - t0, family: [...family].map(([pid, name]) => ({ pid, name })) });
    }),
  );
}

interface SurvivalDocument {
  runId: string;
  verdict: 'pass' | 'fail';
  scenarios: Array<{
    name: string;
    verdict: 'pass' | 'fail';
    dir: string;
    expectations: Array<{ expression: string; actualText: string; pass: boolean }>;
    survival: { flows: { scheduled: number; started: number; ok: number; failed: number; dropped: number; unaccounted: number }; injected: number; recovery: { ms: number | null } };
    proxies: Array<{ boundary: string; injected: number }>;
    processFaults: Array<{ kind: string; injected: number; beganAt: number | null; endedAt: number | null }>;
  }>;
}

const readSurvival = (runId: string): SurvivalDocument => JSON.parse(readFileSync(join(base, 'results', runId, 'survival.json'), 'utf8')) as SurvivalDocument;

/** Nothing the milestone started outlives it (a moment for the exits to land). */
async function expectNoneLeft(family: Exited['family']): Promise<void> {
  expect(family.some((p) => p.name === 'anvil')).toBe(true);
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(family.filter((p) => isProcessRunning(p.pid))).toEqual([]);
}

describe('MS-06 resilience', () => {
  it('survives storage 503s and a personal server restart, printing the survival table and writing survival.json', async () => {
    const { code, out, family } = await runMs06([
      '--fault', 'storage:status=503,rate=0.2,from=1s,until=5s',
      '--fault', 'personal_server:personal_server_restart,from=2s,until=3s',
      '--expect', 'success_rate>=0.5',
      '--expect', 'recovery<10s',
      '--expect', 'unaccounted==0',
      '--expect', 'injected>0',
      '--duration', '12s',
      '--rate', '4',
      '--results-dir', 'results',
      '--run-id', 'survives',
    ]);
    expect(code, out).toBe(0);
    expect(out).toMatch(/^scenario +verdict +flows +ok +retried +failed +dropped +success +failures \(step\.class\) +breaker o\/h\/c +recovery +unaccounted +injected$/m);
    expect(out).toMatch(/^flags +PASS +\d+ +\d+ +\d+ +\d+ +0 +\d+\.\d% +.+ +\d+\/\d+\/\d+ +\d+(\.\d+)?m?s +0 +\d+$/m);
    expect(out).toContain('VERDICT: PASS — all 1 scenarios survived');

    const survival = readSurvival('survives');
    expect(survival.verdict).toBe('pass');
    const [scenario] = survival.scenarios;
    expect(scenario!.name).toBe('flags');
    expect(scenario!.expectations.map((e) => [e.expression, e.pass])).toEqual([
      ['success_rate>=0.5', true],
      ['recovery<10s', true],
      ['unaccounted==0', true],
      ['injected>0', true],
    ]);
    const { flows } = scenario!.survival;
    expect(flows.unaccounted).toBe(0);
    expect(flows.ok + flows.failed + flows.dropped).toBe(flows.scheduled);
    expect(scenario!.proxies.map((p) => p.boundary)).toEqual(['storage']);
    expect(scenario!.proxies[0]!.injected).toBeGreaterThan(0);
    expect(scenario!.processFaults).toEqual([expect.objectContaining({ kind: 'personal_server_restart', injected: 1 })]);
    const restart = scenario!.processFaults[0]!;
    // Down until its window (2s–3s) ended, not undone at once: beganAt is stamped when the stop has
    // completed, which a busy machine may take a few hundred ms into the 1 s window.
    expect(restart.endedAt! - restart.beganAt!).toBeGreaterThanOrEqual(300);
    expect(scenario!.survival.injected).toBe(scenario!.proxies[0]!.injected + 1);

    // The run's own files, in its directory under the MS-06 run; survival agrees with them.
    const dir = join(base, 'results', 'survives', '1-flags');
    expect(readdirSync(dir).sort()).toEqual(['blocks.jsonl', 'faults.json', 'faults.log', 'flows.jsonl', 'report.html', 'run.log', 'stack.log', 'summary.json', 'timeseries.jsonl']);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;
    const lines = readFileSync(join(dir, 'flows.jsonl'), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as FlowResult);
    expect([summary.counts.started, lines.length, lines.filter((f) => f.success).length]).toEqual([flows.started, flows.ok + flows.failed, flows.ok]);
    const stackLog = readFileSync(join(dir, 'stack.log'), 'utf8');
    expect(stackLog).toContain('personal server stopped (fault injected)');
    expect(stackLog).toContain('personal server started again (fault ended)');
    await expectNoneLeft(family);
  }, 240_000);

  it('error: exits 1 naming the scenario the stack cannot survive (every relay refused)', async () => {
    const { code, out, family } = await runMs06(['--quick', '--scenario', join(SCENARIOS, 'unsurvivable/relay-down.json'), '--results-dir', 'results', '--run-id', 'unsurvivable']);
    expect(code, out).toBe(1);
    expect(out).toMatch(/^relay-down +FAIL +\d+ +0 +0 +\d+ +\d+ +0\.0% +relay\.http_5xx×\d+/m);
    expect(out).toMatch(/✗ success_rate>=0\.95: 0\.0% \(.*relay-down\.json\)/);
    expect(out).toContain('VERDICT: FAIL — 1/1 scenarios did not survive: relay-down');
    const survival = readSurvival('unsurvivable');
    expect([survival.verdict, survival.scenarios[0]!.name, survival.scenarios[0]!.verdict]).toEqual(['fail', 'relay-down', 'fail']);
    expect(survival.scenarios[0]!.survival.flows.unaccounted).toBe(0);
    await expectNoneLeft(family);
  }, 240_000);

  it('error: exits 2 at once on a bad scenario file, naming the field, and starts nothing', async () => {
    const file = join(base, 'bad.json');
    writeFileSync(file, JSON.stringify({ name: 'bad', boundary: 'storage', faults: [{ kind: 'status', status: 503, rate: 2 }] }));
    const { code, out, family } = await runMs06(['--scenario', file, '--results-dir', 'results']);
    expect(code, out).toBe(2);
    expect(out).toContain(`${file}: faults[0].rate must be a probability in [0, 1] (e.g. 0.1) or a percent (10%), got 2`);
    expect(family.filter((p) => p.name === 'anvil')).toEqual([]);
    expect(existsSync(join(base, 'results')) && readdirSync(join(base, 'results')).some((d) => d.includes('ms06'))).toBe(false);
  }, 60_000);

  describe('a remote target', () => {
    const remoteEnv = async (): Promise<Record<string, string>> => ({ VANA_TARGET: 'remote', ...(await unreachableRemote()).env });

    it('error: refuses a process fault with exit 2, naming it', async () => {
      const { code, out } = await runMs06(['--fault', 'rpc:chain_pause,from=1s,until=2s'], await remoteEnv());
      expect(code, out).toBe(2);
      expect(out).toContain(
        'Scenario flags (flags) cannot run here: rpc:chain_pause#0: chain_pause is a process fault of the local stack; a remote target refuses it (run it with --target local)',
      );
    }, 60_000);

    it('error: exits 3 naming the scenario when the target cannot be reached through the proxies', async () => {
      const { code, out } = await runMs06(['--fault', 'rpc:latency=10ms', '--results-dir', 'results', '--run-id', 'unreachable'], await remoteEnv());
      expect(code, out).toBe(3);
      expect(out).toMatch(/❌ Scenario flags: cannot reach RPC http:\/\/127\.0\.0\.1:\d+/);
      expect(out).toContain('VERDICT: FAIL — stopped at flags');
      expect(out).not.toContain('test junk');
    }, 60_000);
  });

  it('explains itself with --help', async () => {
    const { code, out } = await runMs06(['--help']);
    expect(code).toBe(0);
    for (const text of ['--scenario <file>', '--fault <spec>', '--quick', 'personal_server_restart, relayer_drain, chain_pause', 'unaccounted = scheduled', 'Exit codes: 0']) expect(out).toContain(text);
  }, 60_000);
});
