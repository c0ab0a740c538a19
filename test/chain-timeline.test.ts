/**
 * The chain-aware timeline of a run (issue 16) on the real local stack: MS-05 pushes 2 s blocks of
 * a 30M gas limit past half full (8 first flows/s × 2 s × 1.26M gas ≈ 20M a block), and the run
 * shows the base fee climbing and names the chain as the bottleneck, in timeseries.jsonl,
 * blocks.jsonl, summary.json, the terminal and report.html; a small MS-03 run on the default
 * chain (0.2 s blocks, 100M gas) does not. Real milestone processes in an empty temporary cwd
 * without VANA_* variables; each spawns and stops its own stack.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { FlowResult } from '../src/flow.ts';
import type { BlockRecord } from '../src/metrics/chainTypes.ts';
import { rebuildSummaryFromDir } from '../src/metrics/rebuildSummary.ts';
import type { RunSummary, TimeseriesSample } from '../src/metrics/types.ts';
import { TSX_LOADER_URL } from '../src/util/tsxLoader.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MS05 = join(ROOT, 'milestones/ms-05/test-streaming-load.ts');
const MS03 = join(ROOT, 'milestones/ms-03/test-multi-user.ts');
const ENV = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VANA_')));
const base = mkdtempSync(join(tmpdir(), 'vana-load-chain-'));
const resultsDir = join(base, 'results');
afterAll(() => rmSync(base, { recursive: true, force: true }));

function run(script: string, runId: string, args: readonly string[]): Promise<{ code: number | null; out: string; dir: string }> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER_URL, script, '--results-dir', resultsDir, '--run-id', runId, ...args], {
    cwd: base,
    env: ENV,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, dir: join(resultsDir, runId) })));
}

const jsonLines = <T>(path: string): T[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);

describe('the chain-aware timeline', () => {
  it('shows the base fee climbing and names the chain as the bottleneck when blocks run over half full', { timeout: 240_000 }, async () => {
    const { code, out, dir } = await run(MS05, 'congested', ['--block-time', '2', '--block-gas-limit', '30000000', '--rate', '8', '--users', '120', '--seed', '7']);
    expect(code, out).toBe(0);

    // Per block: some over half full, and the base fee rising after them as EIP-1559 says.
    const blocks = jsonLines<BlockRecord>(join(dir, 'blocks.jsonl'));
    const full = blocks.filter((b) => b.gasUsed / b.gasLimit > 0.5);
    expect(full.length, JSON.stringify(blocks)).toBeGreaterThanOrEqual(2);
    for (const block of full) {
      const next = blocks.find((b) => b.number === block.number + 1);
      if (next) expect(BigInt(next.baseFeeWei!), `block ${block.number + 1}`).toBeGreaterThan(BigInt(block.baseFeeWei!));
    }
    expect(blocks.map((b) => b.number)).toEqual(Array.from({ length: blocks.length }, (_, i) => blocks[0]!.number + i));

    // Per interval, aligned with the load: the base fee climbs while flows run.
    const samples = jsonLines<TimeseriesSample>(join(dir, 'timeseries.jsonl'));
    expect(samples.every((s) => s.chain !== undefined && s.relayers !== undefined && s.personalServer !== undefined)).toBe(true);
    const fees = samples.map((s) => s.chain!.baseFeeGwei!);
    const peakAt = fees.indexOf(Math.max(...fees));
    expect(fees[peakAt]!).toBeGreaterThan(Math.min(...fees.slice(0, peakAt + 1)) * 1.1);
    expect(samples.some((s) => (s.chain!.fill ?? 0) > 0.5 && s.inFlight > 0)).toBe(true);
    expect(samples.some((s) => s.relayers!.pending > 0)).toBe(true);

    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;
    expect(summary.chain?.bottleneck?.kind).toBe('chain');
    expect(summary.chain?.bottleneck?.text).toMatch(/^the chain — (blocks \d+ % full on average, base fee|base fee rising) [\d.]+ g?wei → [\d.]+ gwei$/);
    expect(summary.chain?.txs).toBeGreaterThanOrEqual(120);
    // Everything followed; a read the busy stack answered too late is counted, not a gap in what is measured.
    expect(summary.chain?.notes.filter((note) => !/^relayers: \d+ of \d+ reads failed/.test(note))).toEqual([]);
    const lines = out.trimEnd().split('\n');
    const verdict = lines.findIndex((l) => l.startsWith('VERDICT: '));
    expect(lines[verdict - 1]).toBe(`🧱 Bottleneck: ${summary.chain!.bottleneck!.text}`);
    expect(out).toMatch(/⛓️ {2}Chain timeline: blocks of chain 31337 \(blocks\.jsonl\) · 4 relayers \(the API server's \/stats\) · the personal server's queue/);
    expect(out).toMatch(/ block \d+ fill (\d+%|-) fee [\d.]+gwei incl \S+ relayers pend \d+ gap \d+ ps \d+\/\d+/);

    // Each flow's transaction joins its block.
    const flows = jsonLines<FlowResult>(join(dir, 'flows.jsonl'));
    const numbers = new Set(blocks.map((b) => b.number));
    expect(flows.filter((f) => f.txBlock === undefined || !numbers.has(f.txBlock))).toEqual([]);

    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain(`data-bottleneck="chain">Bottleneck: ${summary.chain!.bottleneck!.text}</p>`);
    expect(html).toContain('data-chart="chain-base-fee"');

    // `vana-load report` on the directory names it again, from the files alone.
    expect((await rebuildSummaryFromDir(dir)).chain?.bottleneck).toEqual(summary.chain?.bottleneck);
  });

  it('names no bottleneck for a run the chain carries easily', { timeout: 180_000 }, async () => {
    const { code, out, dir } = await run(MS03, 'healthy', ['--concurrent', '2']);
    expect(code, out).toBe(0);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;
    expect(summary.chain).toMatchObject({ bottleneck: null, notes: [] });
    expect(summary.chain!.load!.meanGasUsedRatio).toBeLessThan(0.1);
    expect(out).toContain('⛓️  Chain:');
    expect(out).not.toContain('Bottleneck');
  });
});
