/**
 * Signals as a user and a supervisor send them, to the documented command `npx tsx …`: to the
 * harness, to the whole process group, and to the npx wrapper (which npm does not pass on).
 * Whatever gets the signal, the run writes summary.json marked interrupted, stops its stack and
 * leaves no process behind; the harness exits 128 + the signal's number.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../src/metrics/types.ts';
import { isProcessRunning } from '../src/util/processAlive.ts';
import { TSX_LOADER_URL } from '../src/util/tsxLoader.ts';
import { descendants } from './fixtures/descendants.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MS03 = join(ROOT, 'milestones/ms-03/test-multi-user.ts');
const NPX_CLI = findNpxCli();
const BASE_ENV = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VANA_')));
const base = mkdtempSync(join(tmpdir(), 'vana-load-signals-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

/**
 * npm's npx script: next to this Node when npm came with it, else the `npx` on PATH (a Node
 * installed from the npm package `node` brings no npm of its own).
 */
function findNpxCli(): string {
  const besideNode = join(process.execPath, '..', '..', 'lib', 'node_modules', 'npm', 'bin', 'npx-cli.js');
  if (existsSync(besideNode)) return besideNode;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'npx');
    if (dir && existsSync(candidate)) return realpathSync(candidate);
  }
  throw new Error('no npx: neither beside this Node nor on PATH');
}

interface Launched {
  child: ChildProcess;
  exited: Promise<number | null>;
  output: () => string;
  /** The harness: the node process running the milestone script itself. */
  harness: () => number | undefined;
}

/** Starts MS-03 for a minute in its own process group, through `npx tsx` or plain node. */
function launch(via: 'npx' | 'node'): Launched {
  const args = [MS03, '--concurrent', '2', '--duration', '60s', '--results-dir', join(base, 'results')];
  const argv = via === 'npx' ? [NPX_CLI, '--no-install', 'tsx', ...args] : ['--import', TSX_LOADER_URL, ...args];
  const child = spawn(process.execPath, argv, { cwd: ROOT, env: BASE_ENV, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const harness = (): number | undefined => {
    if (via === 'node') return child.pid;
    // The script's own process: the deepest node that runs the milestone without tsx's preflight.
    const all = descendants(child.pid!);
    return all.find((p) => p.name === 'node' && readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').includes('test-multi-user.ts') && !readFileSync(`/proc/${p.pid}/cmdline`, 'utf8').includes('preflight'))?.pid;
  };
  return { child, exited: new Promise((resolve) => child.on('close', (code) => resolve(code))), output: () => out, harness };
}

/** Resolves once flows have finished (the run is under way), with every process of the run. */
async function underWay(run: Launched): Promise<Array<{ pid: number; name: string }>> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const dir = /results:\s+(\S+)\//.exec(run.output())?.[1];
    if (dir && existsSync(join(dir, 'flows.jsonl')) && readFileSync(join(dir, 'flows.jsonl'), 'utf8').length > 0) break;
    if (Date.now() > deadline || run.child.exitCode !== null) throw new Error(`the run did not get under way:\n${run.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return [{ pid: run.child.pid!, name: 'launched' }, ...descendants(run.child.pid!)];
}

async function allGone(family: ReadonlyArray<{ pid: number; name: string }>, withinMs: number): Promise<string[]> {
  const deadline = Date.now() + withinMs;
  let alive = family.filter((p) => isProcessRunning(p.pid));
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    alive = alive.filter((p) => isProcessRunning(p.pid));
  }
  return alive.map((p) => `${p.name} ${p.pid}`);
}

function summaryOf(output: string): RunSummary {
  const dir = /results:\s+(\S+)\//.exec(output)?.[1];
  expect(dir, output).toBeDefined();
  return JSON.parse(readFileSync(join(dir!, 'summary.json'), 'utf8')) as RunSummary;
}

describe.concurrent('signals to the documented command', () => {
  it('SIGINT to the harness drains, writes summary.json marked interrupted, stops the stack, exit 130', async () => {
    const run = launch('node');
    const family = await underWay(run);
    process.kill(run.harness()!, 'SIGINT');
    expect(await run.exited, run.output()).toBe(130);
    expect(summaryOf(run.output()).interrupted).toBe(true);
    expect(await allGone(family, 5_000)).toEqual([]);
  }, 150_000);

  it('SIGTERM to the harness does the same, exit 143', async () => {
    const run = launch('node');
    const family = await underWay(run);
    process.kill(run.harness()!, 'SIGTERM');
    expect(await run.exited, run.output()).toBe(143);
    expect(summaryOf(run.output()).interrupted).toBe(true);
    expect(await allGone(family, 5_000)).toEqual([]);
  }, 150_000);

  it('SIGTERM to the whole group of `npx tsx …` (a supervisor): summary.json written, nothing left running', async () => {
    const run = launch('npx');
    const family = await underWay(run);
    process.kill(-run.child.pid!, 'SIGTERM');
    await run.exited; // npm itself returns at once; the harness goes on to write its results
    expect(await allGone(family, 40_000)).toEqual([]);
    const summary = summaryOf(run.output());
    expect(summary.interrupted).toBe(true);
    expect(summary.counts.completed).toBeGreaterThan(0);
  }, 150_000);

  it('SIGKILL to the npx wrapper: the harness notices its launcher is gone, writes summary.json and stops the stack', async () => {
    const run = launch('npx');
    const family = await underWay(run);
    process.kill(run.child.pid!, 'SIGKILL');
    // Nothing the command started outlives it for long: the harness drains for 5 s at most.
    expect(await allGone(family, 30_000)).toEqual([]);
    const summary = summaryOf(run.output());
    expect(summary.interrupted).toBe(true);
    expect(summary.counts.completed).toBeGreaterThan(0);
  }, 150_000);
});
