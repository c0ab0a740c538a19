import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { runMemoryCommand } from './memoryCommand.ts';

const dir = mkdtempSync(join(tmpdir(), 'vana-load-memory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sample(s: number, heap: number) {
  return {
    t: 1_700_000_000_000 + s * 1000, elapsedS: s, started: 10 * s, completed: 10 * s, succeeded: 10 * s, failed: 0, dropped: 0,
    startedPerS: 10, completedPerS: 10, failedPerS: 0, inFlight: 50, e2e: null, rollingE2eP95: null, errors: {},
    eventLoopLagMs: { mean: 1, max: 1 },
    processes: [{ name: 'harness', pid: 1, cpuPercent: 20, rssBytes: 200e6 + heap, heapUsedBytes: heap }],
  };
}

describe('vana-load memory', () => {
  it('prints a row per bucket and the slope per 1000 flows', async () => {
    writeFileSync(join(dir, 'timeseries.jsonl'), Array.from({ length: 120 }, (_, s) => JSON.stringify(sample(s, 100e6 + s * 10_000))).join('\n') + '\n');
    const lines: string[] = [];
    const trend = await runMemoryCommand({ dir, bucketS: 60, warmupS: 0, print: (l) => lines.push(l) });
    expect(lines).toHaveLength(6);
    expect(lines[2]).toMatch(/^\s+0m\s+590\s+50\s+300\s+301\s+100$/);
    // 10 kB a second at 10 flows a second: 1 MB per 1000 flows.
    expect(lines[4]).toBe('slope after 0 s, per 1000 flows completed: RSS +1.00 MB, heap +1.00 MB');
    // In flight never moves here, so only the per-finished-flow term can be fitted.
    expect(lines[5]).toBe('fit after 0 s, memory = base + a × in flight + b × completed: per flow in flight RSS n/a, heap n/a; per finished flow RSS +1000 B, heap +1000 B');
    expect(trend.buckets).toHaveLength(2);
  });

  it('error: names the processes there are when asked for another', async () => {
    await expect(runMemoryCommand({ dir, process: 'anvil', print: () => {} })).rejects.toMatchObject({ code: 'MEMORY_PROCESS_UNKNOWN', metaMessages: ['processes sampled: harness'] });
  });

  it('error: garbage in timeseries.jsonl, a file for the directory and a bucket of 0 are ConfigErrors (exit 2), as in report', async () => {
    const garbage = join(dir, 'garbage');
    mkdirSync(garbage);
    writeFileSync(join(garbage, 'timeseries.jsonl'), 'not json\n{"t":1}\n');
    await expect(runMemoryCommand({ dir: garbage, print: () => {} })).rejects.toMatchObject({ name: 'ConfigError', code: 'RESULTS_LINE_INVALID' });
    const file = join(dir, 'timeseries.jsonl');
    await expect(runMemoryCommand({ dir: file, print: () => {} })).rejects.toMatchObject({
      name: 'ConfigError',
      message: `Results directory ${file} is a file: expected an existing directory`,
    });
    await expect(runMemoryCommand({ dir, bucketS: 0, print: () => {} })).rejects.toMatchObject({ name: 'ConfigError', message: '--bucket must be a duration above 0, got 0 s' });
  });

  it('error: a directory without samples is a ConfigError', async () => {
    await expect(runMemoryCommand({ dir: join(dir, 'absent'), print: () => {} })).rejects.toBeInstanceOf(ConfigError);
  });
});
