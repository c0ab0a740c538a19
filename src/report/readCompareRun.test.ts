import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { writeCompareFixture } from '../../test/fixtures/compareFixture.ts';
import { quantileSorted } from './compareStats.ts';
import { readCompareRun } from './readCompareRun.ts';

let root: string;
beforeAll(async () => void (root = await mkdtemp(join(tmpdir(), 'compare-read-'))));
afterAll(async () => rm(root, { recursive: true, force: true }));

/** The one-line message of the ConfigError `promise` rejects with. */
async function failure(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(() => undefined, (err: unknown) => err);
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).code).toBe('COMPARE_INPUT_INVALID');
  return (error as ConfigError).message;
}

describe('readCompareRun', () => {
  it('keeps what the run’s own summary counts: e2e of successful flows, steps that passed, failures by step × class', async () => {
    const dir = join(root, 'mixed');
    const { summary } = await writeCompareFixture(dir, { flows: 200, seed: 3, failEvery: { every: 10, step: 'confirm', errorClass: 'timeout' }, dropped: 4 });
    const run = await readCompareRun(dir);
    expect([run.ok, run.failed, run.dropped]).toEqual([180, 20, 4]);
    expect(run.times.e2e?.length).toBe(summary.steps.e2e?.count);
    expect(run.times.confirm?.length).toBe(summary.steps.confirm?.count);
    expect(run.times.relay?.length).toBe(200);
    expect(run.times.inference_wait?.length).toBe(180);
    expect([...run.errors]).toEqual([['confirm.timeout', 20]]);
    expect(run.transactions).toEqual({ attempts: 200, successes: 180 });
    expect(run.uploads).toEqual({ attempts: 400, successes: 400 });
    // Exact quantiles of the flows; summary.json's come from HDR histograms (3 significant digits).
    expect(quantileSorted(run.times.e2e!, 0.95) / summary.steps.e2e!.p95).toBeCloseTo(1, 2);
    expect([...run.times.e2e!]).toEqual([...run.times.e2e!].sort((a, b) => a - b));
  });

  it('error: a directory that does not exist', async () => {
    expect(await failure(readCompareRun(join(root, 'nope')))).toBe(`Not a results directory: ${join(root, 'nope')} (no such directory)`);
  });

  it('error: a directory without summary.json', async () => {
    const dir = join(root, 'no-summary');
    await writeCompareFixture(dir, { flows: 3, seed: 1 });
    await rm(join(dir, 'summary.json'));
    expect(await failure(readCompareRun(dir))).toBe(`No summary.json in ${dir}: rebuild it from flows.jsonl with \`vana-load report ${dir}\``);
  });

  it('error: flows.jsonl cut short in its last line', async () => {
    const dir = join(root, 'cut');
    await writeCompareFixture(dir, { flows: 5, seed: 1 });
    const path = join(dir, 'flows.jsonl');
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.slice(0, text.length - 40));
    expect(await failure(readCompareRun(dir))).toBe(`${path}: line 5 is not complete JSON (truncated by a crash or a partial copy?); compare needs every flow`);
  });

  it('error: flows.jsonl with fewer flows than summary.json counts', async () => {
    const dir = join(root, 'short');
    await writeCompareFixture(dir, { flows: 5, seed: 1 });
    const path = join(dir, 'flows.jsonl');
    const lines = (await readFile(path, 'utf8')).split('\n');
    await writeFile(path, `${lines.slice(0, 3).join('\n')}\n`);
    expect(await failure(readCompareRun(dir))).toBe(`${path} has 3 flows but summary.json counts 5 completed: the file is truncated or from another run`);
  });

  it('error: a line that is not a flow result', async () => {
    const dir = join(root, 'bad-line');
    await writeCompareFixture(dir, { flows: 2, seed: 1 });
    await appendFile(join(dir, 'flows.jsonl'), '{"success":true,"e2eMs":-1,"steps":{}}\n');
    expect(await failure(readCompareRun(dir))).toBe(`${join(dir, 'flows.jsonl')}: line 3 is not a flow result: e2eMs: expected a duration in ms >= 0`);
  });

  it('error: a summary.json of another shape', async () => {
    const dir = join(root, 'bad-summary');
    await writeCompareFixture(dir, { flows: 2, seed: 1 });
    await writeFile(join(dir, 'summary.json'), JSON.stringify({ version: 2 }));
    expect(await failure(readCompareRun(dir))).toMatch(new RegExp(`^Invalid ${join(dir, 'summary.json')}: version: `));
  });
});
