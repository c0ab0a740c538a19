/**
 * Issue 17: a finished flow leaves nothing behind. The fixture runs flows through the scheduler,
 * breaker, collector, results writer, signals, storage uploads and httpJson in a child process
 * with `--expose-gc` (only there), and counts the flows' objects a FinalizationRegistry did not see
 * collected. No timing and no heap-size assertion: a count of objects.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TSX_LOADER_URL } from '../src/util/tsxLoader.ts';

const run = promisify(execFile);
const FIXTURE = join(import.meta.dirname, 'fixtures', 'flowResidue.ts');

interface Residue {
  flows: number;
  succeeded: number;
  tracked: number;
  alive: number;
  heapUsedBytes: number;
}

async function residue(args: string[]): Promise<Residue> {
  const { stdout } = await run(process.execPath, ['--expose-gc', '--import', TSX_LOADER_URL, FIXTURE, ...args], { timeout: 120_000 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Residue;
}

describe('flow residue', () => {
  it('keeps none of the results, signals and payloads of 2000 finished flows', async () => {
    const r = await residue(['--flows=2000']);
    expect(r.flows).toBe(2000);
    expect(r.succeeded).toBe(2000);
    expect(r.tracked).toBe(3 * 2000);
    // The last flows' objects may still be referenced from the stack of the final turn.
    expect(r.alive).toBeLessThanOrEqual(10);
  }, 150_000);

  it('error: sees every flow kept by an abort listener left on the run-long signal', async () => {
    const r = await residue(['--flows=500', '--leak']);
    expect(r.flows).toBe(500);
    // The leaked listener holds each flow's payload; results and signals still go.
    expect(r.alive).toBeGreaterThanOrEqual(500);
  }, 150_000);
});
