import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytesToHex } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserWallets, LOCAL_USERS_MNEMONIC } from '../src/client/userWallets.ts';
import type { FlowResult } from '../src/flow.ts';
import type { RunSummary, TimeseriesSample } from '../src/metrics/types.ts';
import { appAccount, deployerAccount, DEV_MNEMONIC, LOCAL_SERVER_MNEMONIC, relayerAccount } from '../src/stack/devAccounts.ts';
import { isProcessRunning } from '../src/util/processAlive.ts';
import { TSX_LOADER_URL } from '../src/util/tsxLoader.ts';

// MS-03 as a user runs it: a real process that spawns its own local stack, writes results/<run-id>/
// and exits with the code of ARCHITECTURE.md 7. The children run in an empty temporary cwd, so
// neither a developer's `.vana-load/stack.json` (an `npm run dev` stack they would attach to) nor
// their `.env` is picked up; VANA_* variables of this shell are dropped for the same reason.
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MS03 = join(ROOT, 'milestones/ms-03/test-multi-user.ts');
const CLI = join(ROOT, 'src/cli/main.ts');
const require = createRequire(import.meta.url);
const TSX_LOADER = TSX_LOADER_URL;
// What `npx tsx <script>` runs: tsx's CLI process, which relays signals to the script's process.
const TSX_CLI = require.resolve('tsx/cli');
const ENV = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VANA_')));

let cwd: string;
let resultsDir: string;

interface Exited {
  code: number | null;
  out: string;
  ms: number;
}

const children: ChildProcess[] = [];

// `node --import tsx <script>`, or `via: 'tsx-cli'` as `npx tsx <script>` minus npm. Each child
// leads its own process group, so `process.kill(-pid, 'SIGINT')` is a terminal's Ctrl-C.
function start(script: string, args: readonly string[], { via = 'node' }: { via?: 'node' | 'tsx-cli' } = {}): { child: ChildProcess; exited: Promise<Exited> } {
  const t0 = performance.now();
  const argv = via === 'node' ? ['--import', TSX_LOADER, script, ...args] : [TSX_CLI, script, ...args];
  const child = spawn(process.execPath, argv, { cwd, env: ENV, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<Exited>((resolve) => child.on('close', (code) => resolve({ code, out, ms: performance.now() - t0 })));
  return { child, exited };
}

const ms03 = (runId: string, args: readonly string[], options?: { via?: 'node' | 'tsx-cli' }): { child: ChildProcess; exited: Promise<Exited> } =>
  start(MS03, ['--results-dir', resultsDir, '--run-id', runId, ...args], options);

async function lines(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').filter((line) => line !== '');
}

const readSummary = async (dir: string): Promise<RunSummary> => JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as RunSummary;

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'vana-load-results-'));
  resultsDir = join(cwd, 'results');
});

afterAll(async () => {
  // Only after a failed test: a run still going stops its own stack on SIGTERM.
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await rm(cwd, { recursive: true, force: true });
});

describe('MS-03 results, thresholds and SIGINT', () => {
  // Run once, read by several tests below.
  let failedRun: Promise<Exited> | undefined;
  const thresholdRun = (): Promise<Exited> => (failedRun ??= ms03('threshold', ['--concurrent', '3', '--threshold', 'e2e.p95<1ms', '--log-level', 'debug']).exited);

  it('exits 1 naming the failed threshold, with per-step percentiles and anvil, stack and harness resources in summary.json', async () => {
    const { code, out } = await thresholdRun();
    expect(out).toMatch(/❌ e2e\.p95<1ms +\S+ +FAIL +flag/);
    expect(out).toContain('VERDICT: FAIL (1 of 8 thresholds failed)');
    expect(code).toBe(1);

    const summary = await readSummary(join(resultsDir, 'threshold'));
    expect(summary.counts).toMatchObject({ started: 3, completed: 3, succeeded: 3 });
    expect(summary.interrupted).toBe(false);
    for (const step of ['e2e', 'encrypt', 'upload_data', 'relay', 'confirm', 'inference_wait'] as const) {
      expect(Object.keys(summary.steps[step] ?? {}).sort(), step).toEqual(['count', 'max', 'mean', 'min', 'p50', 'p90', 'p95', 'p99', 'p999'].sort());
      expect(summary.steps[step]?.count, step).toBe(3);
    }
    expect(summary.resources.map((r) => r.name).sort()).toEqual(['anvil', 'harness', 'stack']);
    for (const r of summary.resources) expect(r.rssPeakBytes, r.name).toBeGreaterThan(0);
    expect(summary.thresholds.find((t) => t.expression === 'e2e.p95<1ms')).toMatchObject({ pass: false, source: 'flag' });
    expect((await readdir(join(resultsDir, 'threshold'))).sort()).toEqual(['blocks.jsonl', 'flows.jsonl', 'report.html', 'run.log', 'stack.log', 'summary.json', 'timeseries.jsonl']);
  });

  it("error: exits 2 with a syntax error for 'e2e.p95<<3' before starting a stack", async () => {
    const { code, out, ms } = await ms03('bad-threshold', ['--concurrent', '3', '--threshold', 'e2e.p95<<3']).exited;
    expect(out).toContain("Error [THRESHOLD_INVALID]: bad threshold 'e2e.p95<<3': operator '<<' is not one of < <= > >= ==");
    expect(out).not.toContain('Starting the local stack');
    expect(code).toBe(2);
    expect(ms).toBeLessThan(15_000);
    expect(await readdir(resultsDir).catch(() => [])).not.toContain('bad-threshold');
  });

  let interrupted: { dir: string; linesBefore: number; pids: Array<{ name: string; pid: number }> } | undefined;

  it('Ctrl-C halfway: drains the flows in flight, exits 130 with every finished flow in flows.jsonl, an interrupted summary.json and no stack process left', async () => {
    const dir = join(resultsDir, 'sigint');
    // Through tsx's CLI, as users run it: its signal relay must not kill the run before it drains.
    const { child, exited } = ms03('sigint', ['--concurrent', '4', '--duration', '60s'], { via: 'tsx-cli' });
    const flowsPath = join(dir, 'flows.jsonl');
    const linesBefore = await until('3 finished flows', 60_000, async () => {
      const n = (await lines(flowsPath)).length;
      return n >= 3 ? n : undefined;
    });
    const sentAt = performance.now();
    // To the whole group, as a terminal does: the stack must not get it, or flows in flight fail.
    process.kill(-child.pid!, 'SIGINT');
    const { code, out } = await exited;
    expect(out).toContain('SIGINT: no new flows');
    expect(out).not.toContain('aborting flows in flight');
    expect(code).toBe(130);
    expect(performance.now() - sentAt).toBeLessThan(30_000);

    const flows = (await lines(flowsPath)).map((line) => JSON.parse(line) as FlowResult);
    expect(flows.length).toBeGreaterThan(linesBefore);
    expect(flows.filter((f) => !f.success).map((f) => f.error)).toEqual([]);
    expect(new Set(flows.map((f) => f.flowId)).size).toBe(flows.length);
    const summary = await readSummary(dir);
    expect(summary.interrupted).toBe(true);
    expect(summary.counts.completed).toBe(flows.length);

    const samples = (await lines(join(dir, 'timeseries.jsonl'))).map((line) => JSON.parse(line) as TimeseriesSample);
    const pids = [...new Map(samples.flatMap((s) => s.processes).map((p) => [p.name, p])).values()].map(({ name, pid }) => ({ name, pid }));
    expect(pids.map((p) => p.name).sort()).toEqual(['anvil', 'harness', 'stack']);
    // tsx CLI → the script under tsx → the script again as `node --import tsx` (runMilestoneMain).
    expect(pids.find((p) => p.name === 'harness')?.pid).not.toBe(child.pid);
    // The harness waits for the stack to stop before it exits: nothing should be left by now.
    expect(pids.filter((p) => isProcessRunning(p.pid))).toEqual([]);
    interrupted = { dir, linesBefore, pids };
  });

  it('leaves no private key or mnemonic anywhere under the results directory', async () => {
    await thresholdRun();
    expect(interrupted, 'needs the SIGINT run').toBeDefined();
    const users = createUserWallets(LOCAL_USERS_MNEMONIC);
    const userKeys = Array.from({ length: 8 }, (_, i) => {
      const account = mnemonicToAccount(LOCAL_USERS_MNEMONIC, { addressIndex: i });
      expect(account.address).toBe(users.account(i).address);
      return bytesToHex(account.getHdKey().privateKey!);
    });
    const devKeys = [deployerAccount(), appAccount(), ...[0, 1, 2, 3].map(relayerAccount)].map((a) => bytesToHex(a.getHdKey().privateKey!));
    const secrets = [...userKeys, ...devKeys].flatMap((hex) => [hex.slice(2).toLowerCase(), hex.slice(2).toUpperCase()]);
    // The words in sequence, also as they would appear split over a JSON array.
    const phrases = [LOCAL_USERS_MNEMONIC, DEV_MNEMONIC, LOCAL_SERVER_MNEMONIC].flatMap((m) => [m, m.split(' ').join('","'), m.split(' ').slice(0, 4).join(' ')]);

    const files = (await readdir(resultsDir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
    expect(files.length).toBeGreaterThanOrEqual(10);
    const found: string[] = [];
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      for (const secret of [...secrets, ...phrases]) if (text.includes(secret)) found.push(`${file}: ${secret.slice(0, 12)}…`);
    }
    expect(found).toEqual([]);
  });

  it('vana-load report rebuilds summary.json and report.html of the interrupted run, exiting by its verdict', async () => {
    expect(interrupted, 'needs the SIGINT run').toBeDefined();
    const { dir } = interrupted!;
    const before = await readSummary(dir);
    await rm(join(dir, 'report.html'));
    const { code, out } = await start(CLI, ['report', dir]).exited;

    const rebuilt = await readSummary(dir);
    const flowCount = (await lines(join(dir, 'flows.jsonl'))).length;
    expect(rebuilt.counts.completed).toBe(flowCount);
    expect(rebuilt.counts.succeeded + rebuilt.counts.failed).toBe(flowCount);
    expect(rebuilt.steps.e2e?.count).toBe(flowCount);
    expect(rebuilt).toMatchObject({ runId: 'sigint', milestone: 'MS-03', interrupted: true, scheduler: before.scheduler });
    expect(rebuilt.thresholds.map((t) => t.expression)).toEqual(before.thresholds.map((t) => t.expression));
    expect((await readFile(join(dir, 'report.html'), 'utf8')).length).toBeGreaterThan(10_000);
    expect(out).toContain(`VERDICT: ${rebuilt.verdict.toUpperCase()}`);
    expect(code).toBe(rebuilt.verdict === 'pass' ? 0 : 1);
  });

  it("vana-load report rebuilds a run without summary.json and keeps the run's own --threshold verdict", async () => {
    await thresholdRun();
    const dir = join(resultsDir, 'copy');
    await cp(join(resultsDir, 'threshold'), dir, { recursive: true });
    const original = await readSummary(dir);

    // Old summary present: the run's flag threshold is judged again, and still fails.
    const kept = await start(CLI, ['report', dir]).exited;
    expect(kept.out).toMatch(/❌ e2e\.p95<1ms +\S+ +FAIL +flag/);
    expect(kept.code).toBe(1);
    expect((await readSummary(dir)).thresholds).toEqual(original.thresholds);

    // No summary.json (a crash): figures from flows.jsonl alone; a flag can judge them.
    await rm(join(dir, 'summary.json'));
    const rebuilt = await start(CLI, ['report', dir, '--threshold', 'success_rate>=1']).exited;
    const summary = await readSummary(dir);
    expect(summary.counts).toMatchObject({ completed: 3, succeeded: 3 });
    expect(summary.steps.e2e).toEqual(original.steps.e2e);
    expect(summary.thresholds.map((t) => [t.expression, t.pass])).toEqual([['success_rate>=1', true]]);
    expect(rebuilt.code).toBe(0);
  });

  it('error: vana-load report exits 2 for a directory that is not a results directory', async () => {
    const { code, out } = await start(CLI, ['report', join(cwd, 'nope')]).exited;
    expect(out).toContain(`Error [RESULTS_DIR_INVALID]: Not a results directory: ${join(cwd, 'nope')}`);
    expect(code).toBe(2);
  });
});
