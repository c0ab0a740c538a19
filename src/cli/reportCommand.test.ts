import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { flowResultFixture } from '../../test/fixtures/flowResultFixture.ts';
import type { RunSummary } from '../metrics/types.ts';
import { runReportCommand } from './reportCommand.ts';

const base = mkdtempSync(join(tmpdir(), 'vana-load-report-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

let dirs = 0;
/** A results directory with `flows` flows in flows.jsonl and nothing else. */
function resultsDir(flows: number): string {
  const dir = join(base, `run-${dirs++}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'flows.jsonl'), Array.from({ length: flows }, (_, flowId) => `${JSON.stringify(flowResultFixture({ flowId, scheduledAt: 1_800_000_000_000 + flowId }))}\n`).join(''));
  return dir;
}

function capture(): { stream: { write: (chunk: string) => boolean }; text: () => string } {
  let text = '';
  return { stream: { write: (chunk: string) => ((text += chunk), true) }, text: () => text };
}

const completed = (dir: string): number => (JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary).counts.completed;

describe('vana-load report', () => {
  it('leaves out a last line cut short by a crash, saying which line of which file', async () => {
    const dir = resultsDir(3);
    appendFileSync(join(dir, 'flows.jsonl'), '{"flowId":3,"userIndex":3,"sched');
    const out = capture();
    const err = capture();
    const { exitCode, skipped } = await runReportCommand({ dir, stdout: out.stream, stderr: err.stream });
    expect(exitCode).toBe(0);
    expect(skipped).toMatchObject([{ path: join(dir, 'flows.jsonl'), lineNumber: 4 }]);
    expect(err.text()).toMatch(new RegExp(`^⚠️  left out line 4 of ${join(dir, 'flows.jsonl')}, cut short or invalid \\(.+\\)\\n$`));
    expect(out.text()).toContain(`from 3 flows in flows.jsonl; left out: line 4 of flows.jsonl`);
    expect(completed(dir)).toBe(3);
  });

  it('error: refuses to replace a summary.json with one of fewer flows, and with --force replaces it saying so', async () => {
    const dir = resultsDir(25);
    await runReportCommand({ dir, stdout: capture().stream, stderr: capture().stream });
    expect(completed(dir)).toBe(25);
    const before = readFileSync(join(dir, 'summary.json'), 'utf8');
    // The last line loses its end: 24 whole flows and a cut-short line.
    const text = readFileSync(join(dir, 'flows.jsonl'), 'utf8');
    writeFileSync(join(dir, 'flows.jsonl'), text.slice(0, text.length - 20));

    await expect(runReportCommand({ dir, stdout: capture().stream, stderr: capture().stream })).rejects.toMatchObject({
      name: 'ConfigError',
      code: 'RESULTS_SUMMARY_WOULD_SHRINK',
      message: `Not replacing ${join(dir, 'summary.json')}: summary.json counts 25 flows, flows.jsonl gives 24 (line 25 of flows.jsonl left out); expected at least as many flows, or --force to replace it anyway`,
    });
    expect(readFileSync(join(dir, 'summary.json'), 'utf8')).toBe(before);

    const err = capture();
    const forced = await runReportCommand({ dir, force: true, stdout: capture().stream, stderr: err.stream });
    expect(forced.summary.counts.completed).toBe(24);
    expect(completed(dir)).toBe(24);
    expect(err.text()).toContain(`⚠️  --force: replacing ${join(dir, 'summary.json')} although summary.json counts 25 flows, flows.jsonl gives 24 (line 25 of flows.jsonl left out)\n`);
  });

  it('error: a flows.jsonl whose only line fails the schema is refused, not judged as a run of no flows', async () => {
    const dir = resultsDir(0);
    writeFileSync(join(dir, 'flows.jsonl'), '{"flowId":0,"success":"yes"}\n');
    await expect(runReportCommand({ dir, stdout: capture().stream, stderr: capture().stream })).rejects.toMatchObject({ name: 'ConfigError', code: 'RESULTS_LINE_INVALID' });
    expect(existsSync(join(dir, 'summary.json'))).toBe(false);
  });

  it('error: a summary.json that is a directory is named before any work', async () => {
    const dir = resultsDir(2);
    mkdirSync(join(dir, 'summary.json'));
    await expect(runReportCommand({ dir, stdout: capture().stream, stderr: capture().stream })).rejects.toMatchObject({
      name: 'ConfigError',
      message: `Summary file ${join(dir, 'summary.json')} is a directory: expected a file`,
    });
  });

  it('error: a file is not a results directory', async () => {
    const file = join(base, 'a-file');
    writeFileSync(file, '');
    await expect(runReportCommand({ dir: file, stdout: capture().stream, stderr: capture().stream })).rejects.toMatchObject({
      code: 'RESULTS_DIR_INVALID',
      metaMessages: ['reason: a file', 'expected: a results/<run-id> directory with flows.jsonl'],
    });
  });
});
