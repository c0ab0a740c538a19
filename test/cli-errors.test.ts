import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { flowResultFixture } from './fixtures/flowResultFixture.ts';
import { TSX_LOADER_URL } from '../src/util/tsxLoader.ts';

// Mistakes a user can make, as a user makes them: real processes of the milestone scripts and of
// `vana-load`, each of which must exit 2 at once with one line naming the thing and what is
// accepted, no stack trace, and (for the milestones) before any stack starts. The children run in
// an empty temporary cwd without VANA_* variables, so no developer's .env or running stack is used.
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MS01 = join(ROOT, 'milestones/ms-01/test-milestone1.ts');
const MS03 = join(ROOT, 'milestones/ms-03/test-multi-user.ts');
const CLI = join(ROOT, 'src/cli/main.ts');
const ENV = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VANA_')));

const base = mkdtempSync(join(tmpdir(), 'vana-load-cli-errors-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

interface Exited {
  code: number | null;
  out: string;
}

function run(script: string, args: readonly string[], { cwd = base }: { cwd?: string } = {}): Promise<Exited> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER_URL, script, ...args], { cwd, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

/** Exit 2, the expected line, and nothing that looks like a crash. */
function expectUsageError({ code, out }: Exited, line: string): void {
  expect(out).toContain(line);
  expect(out).not.toContain('Unexpected error');
  expect(out).not.toMatch(/^\s+at /m);
  expect(code).toBe(2);
}

function writeFlows(dir: string, count: number): void {
  mkdirSync(dir, { recursive: true });
  const lines = Array.from({ length: count }, (_, flowId) => `${JSON.stringify(flowResultFixture({ flowId, scheduledAt: 1_800_000_000_000 + flowId }))}\n`);
  writeFileSync(join(dir, 'flows.jsonl'), lines.join(''));
}

describe('a results directory belongs to one run', () => {
  it('error: a milestone run with the --run-id of an existing directory exits 2 before any stack starts, leaving that directory as it was', async () => {
    const resultsDir = join(base, 'results');
    mkdirSync(join(resultsDir, 'taken'), { recursive: true });
    writeFileSync(join(resultsDir, 'taken', 'flows.jsonl'), '{"flowId":0}\n');
    const exited = await run(MS03, ['--results-dir', resultsDir, '--run-id', 'taken']);
    expectUsageError(
      exited,
      `Error [RESULTS_DIR_EXISTS]: Run directory ${join(resultsDir, 'taken')} exists already: expected a run id (--run-id) not used before in ${resultsDir}, or none for a fresh one`,
    );
    expect(exited.out).not.toContain('Starting the local stack');
    expect(readFileSync(join(resultsDir, 'taken', 'flows.jsonl'), 'utf8')).toBe('{"flowId":0}\n');
  });

  it('error: a results directory that is a file, or under /proc, exits 2 at once', async () => {
    const file = join(base, 'results-file');
    writeFileSync(file, '');
    const [isFile, proc] = await Promise.all([
      run(MS03, ['--results-dir', file, '--run-id', 'r']),
      process.platform === 'linux' ? run(MS03, ['--results-dir', '/proc/vana-load-results']) : undefined,
    ]);
    expectUsageError(isFile, `Error [PATH_NOT_A_DIRECTORY]: Results directory (--results-dir) ${file} is a file: expected a directory`);
    if (proc) expectUsageError(proc, 'Error [PATH_PSEUDO_FILE_SYSTEM]: Results directory (--results-dir) /proc/vana-load-results is on the proc pseudo file system');
  });
});

describe('MS-01 validates like the other milestones', () => {
  it('error: a bad --preset, --block-time or --duration exits 2 before any check runs', async () => {
    const [preset, blockTime, duration] = await Promise.all([
      run(MS01, ['--preset', 'turbo']),
      run(MS01, ['--block-time', '-1']),
      run(MS01, ['--duration', '5x']),
    ]);
    expectUsageError(preset, 'VANA_PRESET (--preset) must be one of burst, conservative, debug, moksha, got "turbo"');
    expectUsageError(blockTime, 'VANA_BLOCK_TIME (--block-time) must be a number in [0, 3600], got "-1"');
    expectUsageError(duration, 'VANA_DURATION (--duration) must be a duration (e.g. 500ms, 90s, 2m) in [1s, 7d], got "5x"');
    for (const { out } of [preset, blockTime, duration]) expect(out).not.toContain('MS-01: Core Components Validation');
  });

  it('error: --threshold is refused, well-formed or not: MS-01 has no thresholds', async () => {
    const exited = await run(MS01, ['--threshold', 'e2e.p95<<3']);
    expectUsageError(exited, 'MS-01 has no thresholds: its verdict is every check passing (--threshold applies to MS-02 to MS-05)');
    expect(exited.out).not.toContain('MS-01: Core Components Validation');
  });
});

describe('.env syntax', () => {
  it('error: a line that is not KEY=VALUE, and a binary .env, exit 2 with the file and line number', async () => {
    const text = join(base, 'env-text');
    const binary = join(base, 'env-binary');
    mkdirSync(text);
    mkdirSync(binary);
    writeFileSync(join(text, '.env'), '# load settings\nVANA_USERS=3\nVANA_BLOCK_TIME -1\n');
    writeFileSync(join(binary, '.env'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x00]));
    const [badLine, badFile] = await Promise.all([run(MS01, ['--skip-typecheck'], { cwd: text }), run(MS01, ['--skip-typecheck'], { cwd: binary })]);
    expectUsageError(badLine, 'Error [CONFIG_ENV_FILE_SYNTAX]: Line 3 of the .env file .env (it starts with VANA_BLOCK_TIME) is not a setting: expected KEY=VALUE, a # comment or a blank line');
    expectUsageError(badFile, 'Error [CONFIG_ENV_FILE_SYNTAX]: The .env file .env is not text (a NUL byte on line 1)');
  });
});

describe('vana-load report and memory on bad input', () => {
  it('error: report refuses to replace summary.json with fewer flows when the last line is cut short, and refuses a file of invalid lines', async () => {
    const dir = join(base, 'report-run');
    writeFlows(dir, 25);
    const first = await run(CLI, ['report', dir]);
    expect(first.code).toBe(0);
    const summary = readFileSync(join(dir, 'summary.json'), 'utf8');
    const flows = readFileSync(join(dir, 'flows.jsonl'), 'utf8');
    writeFileSync(join(dir, 'flows.jsonl'), flows.slice(0, flows.length - 30));

    const invalidOnly = join(base, 'report-invalid');
    mkdirSync(invalidOnly);
    writeFileSync(join(invalidOnly, 'flows.jsonl'), '{"flowId":0}\n');
    const [truncated, invalid] = await Promise.all([run(CLI, ['report', dir]), run(CLI, ['report', invalidOnly])]);
    expectUsageError(truncated, `⚠️  left out line 25 of ${join(dir, 'flows.jsonl')}, cut short or invalid`);
    expectUsageError(
      truncated,
      `Error [RESULTS_SUMMARY_WOULD_SHRINK]: Not replacing ${join(dir, 'summary.json')}: summary.json counts 25 flows, flows.jsonl gives 24 (line 25 of flows.jsonl left out); expected at least as many flows, or --force to replace it anyway`,
    );
    expect(readFileSync(join(dir, 'summary.json'), 'utf8')).toBe(summary);
    expectUsageError(invalid, `Error [RESULTS_LINE_INVALID]: No valid line in ${join(invalidOnly, 'flows.jsonl')} (1 invalid: line 1): line 1: `);
    expect(invalid.out).not.toContain('VERDICT');
    expect(existsSync(join(invalidOnly, 'summary.json'))).toBe(false);
  });

  it('error: memory exits 2 on garbage, on a file and for --bucket 0', async () => {
    const dir = join(base, 'memory-garbage');
    mkdirSync(dir);
    writeFileSync(join(dir, 'timeseries.jsonl'), 'garbage\nmore garbage\n');
    const file = join(dir, 'timeseries.jsonl');
    const [garbage, onFile, bucket] = await Promise.all([run(CLI, ['memory', dir]), run(CLI, ['memory', file]), run(CLI, ['memory', dir, '--bucket', '0'])]);
    expectUsageError(garbage, `Error [RESULTS_LINE_INVALID]: No valid line in ${file} (2 invalid: lines 1, 2)`);
    expectUsageError(onFile, `Error [RESULTS_DIR_INVALID]: Results directory ${file} is a file: expected an existing directory`);
    expectUsageError(bucket, `error: option '--bucket <duration>' argument '0' is invalid. --bucket must be a duration (e.g. 500ms, 90s, 2m) in [1s, 7d], got "0"`);
  });
});

describe('npm run dev flags', () => {
  // Ports 0: should a check let the stack start after all, it must not take the fixed dev ports.
  const ports = ['--anvil-port', '0', '--api-port', '0', '--storage-port', '0', '--personal-server-port', '0'];

  it('error: --log-level verbose and a --manifest that cannot be written exit 2 before anvil starts', async () => {
    const file = join(base, 'manifest-parent');
    writeFileSync(file, '');
    const [level, underFile, proc] = await Promise.all([
      run(CLI, ['stack', ...ports, '--log-level', 'verbose']),
      run(CLI, ['stack', ...ports, '--manifest', join(file, 'stack.json')]),
      process.platform === 'linux' ? run(CLI, ['stack', ...ports, '--manifest', '/proc/vana-load/stack.json']) : undefined,
    ]);
    expectUsageError(level, `--log-level must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"`);
    expectUsageError(underFile, `Error [PATH_NOT_A_DIRECTORY]: Stack manifest (--manifest) ${join(file, 'stack.json')}: its directory ${file} is a file`);
    if (proc) expectUsageError(proc, 'Error [PATH_PSEUDO_FILE_SYSTEM]: Stack manifest (--manifest) /proc/vana-load/stack.json: its directory /proc/vana-load is on the proc pseudo file system');
    for (const { out } of [level, underFile, proc ?? level]) expect(out).not.toContain('local stack ready');
  });
});
