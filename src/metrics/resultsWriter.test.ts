import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { flowResultFixture } from '../../test/fixtures/flowResultFixture.ts';
import { createResultsWriter, makeRunId } from './resultsWriter.ts';
import type { RunSummary } from './types.ts';

const readLines = (path: string): unknown[] =>
  readFileSync(path, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as unknown);
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('makeRunId', () => {
  it('starts with the UTC time, then the milestone, then 4 random hex digits', () => {
    const id = makeRunId('MS-03', new Date('2026-11-23T11:40:00.123Z'));
    expect(id).toMatch(/^2026-11-23T11-40-00Z-ms03-[0-9a-f]{4}$/);
    expect(makeRunId(null, new Date('2026-11-23T11:40:00Z'))).toMatch(/^2026-11-23T11-40-00Z-run-[0-9a-f]{4}$/);
  });
});

describe('createResultsWriter', () => {
  it('appends one line per finished flow by the end of the event-loop turn, before close', async () => {
    const writer = createResultsWriter({ resultsDir: mkdtempSync(join(tmpdir(), 'results-')), runId: 'run-a' });
    const first = flowResultFixture({ flowId: 0 });
    const second = flowResultFixture({ flowId: 1, failAt: { step: 'relay', errorClass: 'nonce' } });
    writer.writeFlow(first);
    expect(readFileSync(writer.flowsPath, 'utf8')).toBe(''); // batched within the turn...
    await nextTurn();
    expect(readLines(writer.flowsPath)).toEqual([first]); // ...written at its end
    writer.writeFlow(second);
    await writer.flush();
    expect(readLines(writer.flowsPath)).toEqual([first, second]);
    await writer.close();
    expect(readdirSync(writer.dir).sort()).toEqual(['flows.jsonl', 'timeseries.jsonl']);
    expect(writer.runLogPath).toBe(join(writer.dir, 'run.log'));
  });

  it('writes a batch at once when it reaches maxPendingBytes', async () => {
    const writer = createResultsWriter({ resultsDir: mkdtempSync(join(tmpdir(), 'results-')), runId: 'run-b', maxPendingBytes: 1 });
    const flow = flowResultFixture();
    writer.writeFlow(flow);
    expect(readLines(writer.flowsPath)).toEqual([flow]);
    await writer.close();
  });

  it('keeps the flows of a process that crashes in the same turn, via flushSync in an exit handler', async () => {
    const resultsDir = mkdtempSync(join(tmpdir(), 'results-'));
    const script = `
      import { createResultsWriter } from './src/metrics/resultsWriter.ts';
      const writer = createResultsWriter({ resultsDir: ${JSON.stringify(resultsDir)}, runId: 'crash' });
      process.on('exit', () => writer.flushSync());
      for (let flowId = 0; flowId < 3; flowId++) writer.writeFlow({ flowId });
      throw new Error('crash');
    `;
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
    });
    await expect(run).rejects.toMatchObject({ code: 1 });
    expect(readLines(join(resultsDir, 'crash', 'flows.jsonl'))).toEqual([{ flowId: 0 }, { flowId: 1 }, { flowId: 2 }]);
  });

  it('replaces summary.json atomically: a new file renamed over the old, no temp file left', async () => {
    const writer = createResultsWriter({ resultsDir: mkdtempSync(join(tmpdir(), 'results-')), runId: 'run-c' });
    const summary = { version: 1, runId: 'run-c', verdict: 'pass' } as RunSummary;
    await writer.writeSummary(summary);
    const before = statSync(writer.summaryPath).ino;
    await writer.writeSummary({ ...summary, verdict: 'fail' });
    expect(statSync(writer.summaryPath).ino).not.toBe(before);
    expect(JSON.parse(readFileSync(writer.summaryPath, 'utf8'))).toEqual({ ...summary, verdict: 'fail' });
    expect(readdirSync(writer.dir).sort()).toEqual(['flows.jsonl', 'summary.json', 'timeseries.jsonl']);
    await writer.close();
  });

  it('error: a write after close throws', async () => {
    const writer = createResultsWriter({ resultsDir: mkdtempSync(join(tmpdir(), 'results-')), runId: 'run-d' });
    await writer.close();
    expect(() => writer.writeFlow(flowResultFixture())).toThrow(/^Expected an open results writer, got a write after close: .*flows\.jsonl$/);
  });

  it('error: refuses a second writer with the same run id, leaving the first run\'s files untouched', async () => {
    const resultsDir = mkdtempSync(join(tmpdir(), 'results-'));
    const first = createResultsWriter({ resultsDir, runId: 'same' });
    const flow = flowResultFixture({ flowId: 7 });
    first.writeFlow(flow);
    expect(() => createResultsWriter({ resultsDir, runId: 'same' })).toThrow(
      expect.objectContaining({
        name: 'ConfigError',
        message: `Run directory ${join(resultsDir, 'same')} exists already: expected a run id (--run-id) not used before in ${resultsDir}, or none for a fresh one`,
      }),
    );
    await first.close();
    // A later run is refused too: the directory is never appended to by another run.
    expect(() => createResultsWriter({ resultsDir, runId: 'same' })).toThrow(expect.objectContaining({ code: 'RESULTS_DIR_EXISTS' }));
    expect(readLines(first.flowsPath)).toEqual([flow]);
  });

  it('error: an empty directory of the same name is refused as well (another run may be creating it)', () => {
    const resultsDir = mkdtempSync(join(tmpdir(), 'results-'));
    mkdirSync(join(resultsDir, 'empty'));
    expect(() => createResultsWriter({ resultsDir, runId: 'empty' })).toThrow(expect.objectContaining({ code: 'RESULTS_DIR_EXISTS' }));
  });

  it('error: a results directory that is a file or on /proc is refused before anything is created', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'results-')), 'file');
    writeFileSync(file, '');
    expect(() => createResultsWriter({ resultsDir: file, runId: 'r' })).toThrow(
      `Results directory (--results-dir) ${file} is a file: expected a directory this user can write to, or a path where one can be created`,
    );
    if (process.platform === 'linux') {
      expect(() => createResultsWriter({ resultsDir: '/proc/vana-load-results', runId: 'r' })).toThrow(expect.objectContaining({ code: 'PATH_PSEUDO_FILE_SYSTEM' }));
    }
  });

  it('error: rejects a run id that is not a plain name', () => {
    expect(() => createResultsWriter({ runId: '../escape' })).toThrowErrorMatchingInlineSnapshot(
      `[RangeError: Expected a run id of letters, digits, '.', '_' or '-', got "../escape"]`,
    );
  });
});
