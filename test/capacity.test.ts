import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { registerCapacityCommand } from '../src/capacity/capacityCommand.ts';
import type { CapacityResult } from '../src/capacity/types.ts';
import { exitCodeFor, formatError } from '../src/cli/errorOutput.ts';
import { EXIT_CODES } from '../src/exitCodes.ts';
import { TSX_LOADER_URL } from '../src/util/tsxLoader.ts';

// `vana-load capacity` as a user runs it: the flags through the command main.ts registers, and real
// processes of the CLI (and of the `npm run bench -- capacity` alias) in an empty temporary cwd
// without VANA_* variables, so no developer's .env or running stack is used.
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'src/cli/main.ts');
const BENCH_ALIAS = join(ROOT, 'scripts/bench-capacity.ts');
const ENV = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VANA_')));

const base = mkdtempSync(join(tmpdir(), 'vana-load-capacity-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

interface Exited {
  code: number | null;
  out: string;
}

interface Running {
  child: ReturnType<typeof spawn>;
  output: () => string;
  exited: Promise<Exited>;
}

function start(script: string, args: readonly string[]): Running {
  const child = spawn(process.execPath, ['--import', TSX_LOADER_URL, script, ...args], { cwd: base, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<Exited>((resolve) => child.on('close', (code) => resolve({ code, out })));
  return { child, output: () => out, exited };
}

const run = (args: readonly string[], script = CLI): Promise<Exited> => start(script, script === CLI ? ['capacity', ...args] : args).exited;

const resultsDirs = (parent: string): string[] => (existsSync(parent) ? readdirSync(parent).filter((name) => name.startsWith('capacity-')) : []);

/**
 * The capacity command as main.ts registers it, parsing in this process: spawning the CLI costs
 * ~3 s of CPU per case (it loads the whole harness), too much for 19 cases on 2 cores; the
 * spawned cases below show the process around it (exit 2, one line, the alias).
 */
async function parseInProcess(args: readonly string[]): Promise<string> {
  const program = new Command('vana-load').exitOverride((err) => {
    throw err;
  });
  program.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerCapacityCommand(program);
  try {
    await program.parseAsync(['capacity', ...args], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) return `${err.exitCode === 0 ? 0 : EXIT_CODES.usage} ${err.message}`;
    return `${exitCodeFor(err)} ${formatError(err)}`;
  }
  throw new Error(`capacity ${args.join(' ')} was accepted`);
}

describe('vana-load capacity flags', () => {
  it('error: every bad flag is a usage error (exit 2) with one line naming it and what it accepts, before anything starts', async () => {
    const file = join(base, 'a-file');
    writeFileSync(file, '');
    const cases: Array<[string[], string]> = [
      [['--slo-success', '1.5'], `error: option '--slo-success <ratio>' argument '1.5' is invalid. --slo-success must be a number in [0, 1], got "1.5"`],
      [['--slo-p95', 'fast'], `error: option '--slo-p95 <duration>' argument 'fast' is invalid. --slo-p95 must be a duration (e.g. 500ms, 90s, 2m) in [1ms, 1h], got "fast"`],
      [['--slo-achieved', '0'], `error: option '--slo-achieved <ratio>' argument '0' is invalid. --slo-achieved must be a number in (0, 1], got "0"`],
      [['--slo-drops', '-1'], `error: option '--slo-drops <n>' argument '-1' is invalid. --slo-drops must be an integer in [0, 1000000000], got "-1"`],
      [['--start-rate', '0'], `error: option '--start-rate <per-second>' argument '0' is invalid. --start-rate must be a number in [0.1, 10000], got "0"`],
      [['--step', '1x'], `error: option '--step <step>' argument '1x' is invalid. --step must be a factor above 1 such as "1.5x" or an increment such as "+5", got "1x"`],
      [['--max-rate', 'lots'], `error: option '--max-rate <per-second>' argument 'lots' is invalid. --max-rate must be a number in [0.1, 10000], got "lots"`],
      [['--step-duration', '500ms'], `error: option '--step-duration <duration>' argument '500ms' is invalid. --step-duration must be a duration (e.g. 500ms, 90s, 2m) in [1s, 1h], got "500ms"`],
      [['--bisect-steps', '2.5'], `error: option '--bisect-steps <n>' argument '2.5' is invalid. --bisect-steps must be an integer in [0, 20], got "2.5"`],
      [['--block-time', '-1'], `error: option '--block-time <seconds>' argument '-1' is invalid. --block-time must be a number in [0, 3600], got "-1"`],
      [['--s2k-count-byte', '256'], `error: option '--s2k-count-byte <n>' argument '256' is invalid. --s2k-count-byte must be an integer in [0, 255], got "256"`],
      [['--max-in-flight', '0'], `error: option '--max-in-flight <n>' argument '0' is invalid. --max-in-flight must be an integer in [1, 1000000], got "0"`],
      [['--seed', 'x'], `error: option '--seed <n>' argument 'x' is invalid. --seed must be an integer in [0, 2147483648], got "x"`],
      [['--target', 'mainnet'], `error: option '--target <kind>' argument 'mainnet' is invalid. --target must be local or remote, got "mainnet"`],
      [['--start-rate', '10', '--max-rate', '5'], 'Error [CAPACITY_FLAG_INVALID]: --max-rate must be at least --start-rate (10), got 5'],
      [['--start-rate', '0.1', '--step-duration', '2s'], 'Error [CAPACITY_FLAG_INVALID]: --start-rate × --step-duration must give at least one arrival per step, got 0.1/s × 2s'],
      [['--target', 'remote', '--reuse-stack'], "Error [CAPACITY_FLAG_INVALID]: --reuse-stack applies to the local stack only; the remote target's chain and services are its own (--target remote)"],
      [['--results-dir', file], `Error [PATH_NOT_A_DIRECTORY]: Results directory (--results-dir) ${file} is a file: expected a directory this user can write to, or a path where one can be created`],
      [['--quick', '--sprint'], "error: unknown option '--sprint'"],
      [['--quick', 'now'], "error: too many arguments for 'capacity'. Expected 0 arguments but got 1."],
    ];
    for (const [args, line] of cases) expect(await parseInProcess(args), args.join(' ')).toBe(`2 ${line}`);
    expect(resultsDirs(join(base, 'results'))).toEqual([]);
  });

  it('error: the process exits 2 with that one line and starts nothing, also as npm run bench -- capacity; a remote target names the settings it misses', async () => {
    const [parser, crossFlags, remote] = await Promise.all([
      run(['--seed', 'x']),
      run(['--start-rate', '10', '--max-rate', '5'], BENCH_ALIAS),
      run(['--target', 'remote']),
    ]);
    expect([parser.code, parser.out.trim()]).toEqual([2, `error: option '--seed <n>' argument 'x' is invalid. --seed must be an integer in [0, 2147483648], got "x"`]);
    expect([crossFlags.code, crossFlags.out.trim()]).toEqual([2, 'Error [CAPACITY_FLAG_INVALID]: --max-rate must be at least --start-rate (10), got 5']);
    expect(remote.out).toMatch(/^Error \[CONFIG_MISSING\]: Missing required settings: VANA_RPC_URLS \(--rpc-urls\), VANA_PERMISSIONS_ADDRESS/);
    expect(remote.code).toBe(2);
    expect(resultsDirs(join(base, 'results'))).toEqual([]);
  });
});

// A real search on the local stack, kept short: two steps of 3 s on one automine stack (~15 s).
// The SLO p95 is loose so a busy shared machine does not fail it; the search's logic is unit-tested.
describe('vana-load capacity on the local stack', () => {
  it('finds the highest rate within the SLO, prints it with the ratio to the CPU limit and the bottleneck, and writes capacity.json and report.html', async () => {
    const resultsDir = join(base, 'search');
    const { code, out } = await run(['--start-rate', '2', '--step', '+2', '--max-rate', '4', '--step-duration', '3s', '--bisect-steps', '0', '--reuse-stack', '--slo-p95', '20s', '--results-dir', resultsDir]);
    expect(out).toContain('🏁 Highest sustainable rate: ≥ 4 flows/s (the search ceiling --max-rate 4 held)');
    expect(out).toMatch(/⚙️ {2}4 flows\/s = \d\.\d\d of the CPU limit [\d.]+ flows\/s \(\d+ cores? ÷ [\d.]+ ms CPU per flow: harness [\d.]+ \+ stack [\d.]+ \+ anvil [\d.]+\)/);
    expect(out).toMatch(/🔎 Bottleneck: not reached up to 4\/s \(no step failed\); nearest: /);
    expect(code, out).toBe(0);

    const [dirName] = resultsDirs(resultsDir);
    const dir = join(resultsDir, dirName!);
    const result = JSON.parse(readFileSync(join(dir, 'capacity.json'), 'utf8')) as CapacityResult;
    expect(result.steps.map((s) => [s.index, s.phase, s.rate, s.arrivals, s.pass, s.interrupted])).toEqual([
      [1, 'ramp', 2, 6, true, false],
      [2, 'ramp', 4, 12, true, false],
    ]);
    expect(result.result).toMatchObject({ sustainableRate: 4, ceilingReached: true, firstFailingRate: null, interrupted: false, error: null });
    expect(result.result.cpuLimit?.processes.map((p) => p.name)).toEqual(['harness', 'stack', 'anvil']);
    expect(result.result.ratioToCpuLimit).toBeCloseTo(4 / result.result.cpuLimit!.flowsPerS, 10);
    // Automine: one block per relayed transaction, read back with eth_feeHistory.
    expect(result.steps[1]!.chain?.blocks).toBeGreaterThanOrEqual(12);
    for (const step of result.steps) expect(existsSync(join(step.dir, 'summary.json')), step.dir).toBe(true);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('"x":[2,4],"xUnit":"perS","xLabel":"target rate"');
    expect(html).toContain(`data-bottleneck="${result.result.bottleneck.kind}"`);
    // The stack this search started is gone with it.
    expect(existsSync(join(dir, 'stack.json'))).toBe(false);
  });

  it('stops on Ctrl-C after writing what was measured, and exits 130', async () => {
    const resultsDir = join(base, 'interrupted');
    const search = start(CLI, ['capacity', '--start-rate', '2', '--step', '+2', '--max-rate', '20', '--step-duration', '3s', '--reuse-stack', '--slo-p95', '20s', '--results-dir', resultsDir]);
    await expect.poll(() => /#1 +ramp +2\/s +achieved/.test(search.output()), { timeout: 90_000, interval: 200 }).toBe(true);
    search.child.kill('SIGINT');
    const { code, out } = await search.exited;
    expect(out).toContain('⚠️  Interrupted: the figures below are what was measured so far.');
    expect(code, out).toBe(130);

    const [dirName] = resultsDirs(resultsDir);
    const result = JSON.parse(readFileSync(join(resultsDir, dirName!, 'capacity.json'), 'utf8')) as CapacityResult;
    expect(result.result.interrupted).toBe(true);
    expect(result.steps[0]).toMatchObject({ rate: 2, pass: true, interrupted: false });
    // Step 2 was under way: drained and recorded as interrupted, or never started.
    expect(result.steps.slice(1).every((s) => s.interrupted)).toBe(true);
    expect(result.result.sustainableRate).toBe(2);
    expect(existsSync(join(resultsDir, dirName!, 'report.html'))).toBe(true);
  });
});
