/**
 * A run whose infrastructure goes away stops promptly with exit 3, says why, and keeps everything
 * it measured: relayer keys that cannot pay (relay mode keys), and a stack process (anvil) that
 * dies mid-run. Real milestone processes on their own local stacks; no process is left behind.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, describe, expect, it } from 'vitest';
import type { FlowResult } from '../src/flow.ts';
import type { RunSummary } from '../src/metrics/types.ts';
import { isProcessRunning } from '../src/util/processAlive.ts';
import { TSX_LOADER_URL } from '../src/util/tsxLoader.ts';
import { descendants } from './fixtures/descendants.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MS03 = join(ROOT, 'milestones/ms-03/test-multi-user.ts');
const BASE_ENV = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VANA_')));
const base = mkdtempSync(join(tmpdir(), 'vana-load-run-stops-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

function runMilestone(args: readonly string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', TSX_LOADER_URL, MS03, ...args], { cwd: base, env: { ...BASE_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<{ code: number | null; out: string; at: number }>((resolve) => child.on('close', (code) => resolve({ code, out, at: Date.now() })));
  return { child, exited, output: () => out };
}

function resultsOf(out: string): { summary: RunSummary; flows: FlowResult[] } {
  const dir = /📁 (\S+)\/:/.exec(out)?.[1];
  expect(dir, out).toBeDefined();
  const flows = readFileSync(join(dir!, 'flows.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as FlowResult);
  return { summary: JSON.parse(readFileSync(join(dir!, 'summary.json'), 'utf8')) as RunSummary, flows };
}

describe('a run stops with exit 3 when its infrastructure goes away', () => {
  it('error: relayer keys that cannot pay for a transaction stop the run, naming the key and what it needs, results written', async () => {
    const key = generatePrivateKey(); // never funded
    const { exited } = runMilestone(['--concurrent', '3', '--results-dir', join(base, 'results')], { VANA_RELAY: 'keys', VANA_RELAYER_PRIVATE_KEYS: key });
    const { code, out } = await exited;
    expect(code, out).toBe(3);
    const address = privateKeyToAccount(key).address;
    expect(out).toContain('Relayer keys ran dry: none can pay for one more transaction');
    expect(out).toMatch(new RegExp(`${address}: balance 0 ETH, needs [0-9.]+ ETH more`));
    expect(out).not.toContain(key.slice(2));
    const { summary, flows } = resultsOf(out);
    expect(summary.stopped?.code).toBe('RELAYER_KEYS_DRY');
    expect(summary.counts.succeeded).toBe(0);
    expect(flows).toHaveLength(3);
    expect(flows.every((f) => f.error?.step === 'relay')).toBe(true);
  }, 120_000);

  it('error: anvil dying mid-run ends the run within seconds, flows in flight counted as infra failures, no process left', async () => {
    // Flows back to back for a minute; a slow inference keeps flows in flight when anvil dies.
    const run = runMilestone(['--concurrent', '2', '--duration', '60s', '--results-dir', join(base, 'results')], {
      VANA_SIM_LATENCY_P50: '1s',
      VANA_SIM_LATENCY_P95: '2s',
    });
    let anvil: { pid: number } | undefined;
    const deadline = Date.now() + 60_000;
    while (!anvil && Date.now() < deadline) {
      // The anvil that mines: it forks the empty upstream anvil (src/stack/localChain.ts).
      if (/Launching/.test(run.output())) anvil = descendants(run.child.pid!).find((p) => p.name === 'anvil' && readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').includes('--fork-url'));
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(anvil, run.output()).toBeDefined();
    // Kill it once some flows are done (flows.jsonl has lines) and others are in flight.
    const flowsFile = join(/results:\s+(\S+)\//.exec(run.output())![1]!, 'flows.jsonl');
    const lines = (): number => (existsSync(flowsFile) ? readFileSync(flowsFile, 'utf8').split('\n').filter(Boolean).length : 0);
    while (lines() < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    const family = descendants(run.child.pid!);
    const killedAt = Date.now();
    process.kill(anvil!.pid, 'SIGKILL');
    const { code, out, at } = await run.exited;
    expect(code, out).toBe(3);
    // Before, flows waited out the 2-minute confirm timeout; a loose bound keeps a loaded machine from failing it.
    expect(at - killedAt).toBeLessThan(30_000);
    expect(out).toMatch(/the local stack process exited during the run \(anvil \(pid \d+\) is gone\)/);
    const { summary, flows } = resultsOf(out);
    expect(summary.stopped?.code).toBe('STACK_EXITED');
    expect(flows.some((f) => f.success), out).toBe(true);
    expect(flows.filter((f) => !f.success).map((f) => f.error?.errorClass)).toEqual(flows.filter((f) => !f.success).map(() => 'infra'));
    // Nothing the run started outlives it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(family.filter((p) => isProcessRunning(p.pid)).map((p) => p.name)).toEqual([]);
  }, 180_000);
});
