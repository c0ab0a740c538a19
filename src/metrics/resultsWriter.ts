/**
 * Writes a run's results directory (`results/<run-id>/`, ARCHITECTURE.md 6): `flows.jsonl` and
 * `timeseries.jsonl` appended line by line as flows finish and samples are taken, `summary.json`
 * replaced atomically, and the path of `run.log` for the caller's pino logger.
 *
 * Lines are batched per event-loop turn and appended with synchronous writes to a file opened for
 * appending. A write stream would keep the batch in its own buffer, out of reach of an 'exit'
 * handler; here nothing but the current turn's lines is ever unwritten, and `flushSync()` can
 * write those from an 'exit' handler, so a crash loses at most the lines of the turn it happened
 * in. A batch is a few kB into the page cache: microseconds, not worth a worker.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FlowResult } from '../flow.ts';
import { ConfigError } from '../errors.ts';
import { checkWritableDir, checkWritableFile } from '../util/checkPath.ts';
import type { RunSummary, TimeseriesSample } from './types.ts';

export const RESULT_FILES = {
  flows: 'flows.jsonl',
  timeseries: 'timeseries.jsonl',
  summary: 'summary.json',
  runLog: 'run.log',
} as const;

export interface CreateResultsWriterParameters {
  /** See `makeRunId`. */
  runId: string;
  /** Parent of the run directory. */
  resultsDir?: string;
  /** A batch this large is written at once instead of at the end of the turn. */
  maxPendingBytes?: number;
}

export interface ResultsWriter {
  readonly runId: string;
  readonly dir: string;
  readonly flowsPath: string;
  readonly timeseriesPath: string;
  readonly summaryPath: string;
  /** For the caller's pino destination; the writer never opens it. */
  readonly runLogPath: string;
  writeFlow(result: FlowResult): void;
  writeSample(sample: TimeseriesSample): void;
  /** Replaces `summary.json` atomically (temp file + rename): a reader sees the old or the new one. */
  writeSummary(summary: RunSummary): Promise<void>;
  /** Writes every pending line. */
  flush(): Promise<void>;
  /** Writes every pending line synchronously: for `process.on('exit', ...)`. */
  flushSync(): void;
  /** Flushes and closes the files; later writes throw. */
  close(): Promise<void>;
}

/**
 * A run id that sorts by start time and says which milestone ran, e.g.
 * `2026-11-23T11-40-00Z-ms03-ab12`.
 *
 * @example
 * makeRunId('MS-03'); // '2026-11-23T11-40-00Z-ms03-9f1c'
 */
export function makeRunId(milestone: string | null, date: Date = new Date()): string {
  const stamp = date.toISOString().replace(/\.\d{3}Z$/, 'Z').replaceAll(':', '-');
  const label = (milestone ?? 'run').toLowerCase().replace(/[^a-z0-9]/g, '') || 'run';
  return `${stamp}-${label}-${randomBytes(2).toString('hex')}`;
}

/**
 * Replaces `<dir>/summary.json` atomically (temp file + rename): a reader sees the old file or the
 * new one, never half of one. Returns its path.
 *
 * @example
 * await writeSummaryFile('results/2026-11-23T11-40-00Z-ms03-ab12', summary);
 */
export async function writeSummaryFile(dir: string, summary: RunSummary, tmpSuffix = `${process.pid}-${randomBytes(4).toString('hex')}`): Promise<string> {
  const path = join(dir, RESULT_FILES.summary);
  checkWritableFile(path, 'Summary file');
  const tmp = `${path}.${tmpSuffix}.tmp`;
  await writeFile(tmp, `${JSON.stringify(summary, null, 2)}\n`);
  await rename(tmp, path);
  return path;
}

interface JsonLinesFile {
  path: string;
  fd: number;
  lines: string[];
  bytes: number;
}

/**
 * Creates `<resultsDir>/<runId>/` and opens its line files for appending. The run directory is
 * created exclusively: a directory belongs to one run, so an existing one (an earlier run, or
 * another run started at the same moment with the same id) is refused with a `ConfigError`
 * (exit 2), as is a results directory that is a file, unwritable or on a pseudo file system.
 *
 * @example
 * const writer = createResultsWriter({ runId: makeRunId('ms-03') });
 * process.on('exit', () => writer.flushSync());
 * writer.writeFlow(result);
 * await writer.writeSummary(summary);
 * await writer.close();
 */
export function createResultsWriter({
  runId,
  resultsDir = 'results',
  maxPendingBytes = 64 * 1024,
}: CreateResultsWriterParameters): ResultsWriter {
  if (!/^[\w-][\w.-]*$/.test(runId)) {
    throw new RangeError(`Expected a run id of letters, digits, '.', '_' or '-', got ${JSON.stringify(runId)}`);
  }
  const dir = join(resultsDir, runId);
  checkWritableDir(resultsDir, 'Results directory (--results-dir)');
  mkdirSync(resultsDir, { recursive: true });
  try {
    // Not recursive: mkdir is atomic, so of two runs with one id exactly one gets the directory.
    mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    throw new ConfigError(`Run directory ${dir} exists already: expected a run id (--run-id) not used before in ${resultsDir}, or none for a fresh one`, {
      code: 'RESULTS_DIR_EXISTS',
      cause: err,
    });
  }
  const open = (name: string): JsonLinesFile => {
    const path = join(dir, name);
    // 'ax': the directory is new, so a file already there was put there by someone else.
    return { path, fd: openSync(path, 'ax'), lines: [], bytes: 0 };
  };
  const files = [open(RESULT_FILES.flows), open(RESULT_FILES.timeseries)] as const;
  const [flows, timeseries] = files;
  let closed = false;
  let flushQueued = false;
  let summaryWrites = 0;

  const writeOut = (file: JsonLinesFile): void => {
    if (file.lines.length === 0) return;
    const buffer = Buffer.from(file.lines.join(''), 'utf8');
    file.lines = [];
    file.bytes = 0;
    let offset = 0;
    while (offset < buffer.length) offset += writeSync(file.fd, buffer, offset);
  };
  const flushSync = (): void => {
    if (closed) return;
    for (const file of files) writeOut(file);
  };
  const append = (file: JsonLinesFile, value: unknown): void => {
    if (closed) throw new Error(`Expected an open results writer, got a write after close: ${file.path}`);
    const line = `${JSON.stringify(value)}\n`;
    file.lines.push(line);
    file.bytes += line.length;
    if (file.bytes >= maxPendingBytes) writeOut(file);
    else if (!flushQueued) {
      flushQueued = true;
      setImmediate(() => {
        flushQueued = false;
        flushSync();
      });
    }
  };

  const summaryPath = join(dir, RESULT_FILES.summary);
  return {
    runId,
    dir,
    flowsPath: flows.path,
    timeseriesPath: timeseries.path,
    summaryPath,
    runLogPath: join(dir, RESULT_FILES.runLog),
    writeFlow: (result) => append(flows, result),
    writeSample: (sample) => append(timeseries, sample),
    async writeSummary(summary) {
      await writeSummaryFile(dir, summary, `${process.pid}-${summaryWrites++}`);
    },
    async flush() {
      flushSync();
    },
    flushSync,
    async close() {
      if (closed) return;
      flushSync();
      closed = true;
      for (const file of files) closeSync(file.fd);
    },
  };
}
