/**
 * `vana-load memory <dir>`: was a process's memory flat over a run? Prints RSS and heap per time
 * bucket from `timeseries.jsonl`, with flows done and in flight, and the least-squares slope of
 * memory against flows completed after a warm-up (src/metrics/memoryTrend.ts). For soak runs:
 * a leak is a steady slope in bytes per 1000 flows; a flat process stays near zero. Then the fit
 * against flows in flight and completed together: what a flow in flight costs, and what a finished
 * flow leaves behind.
 */
import { ConfigError } from '../errors.ts';
import { memoryTrend, type MemoryTrend } from '../metrics/memoryTrend.ts';
import { RESULT_FILES } from '../metrics/resultsWriter.ts';
import { readTimeseries } from '../metrics/rebuildSummary.ts';
import { checkReadableDir } from '../util/checkPath.ts';

export interface RunMemoryCommandParameters {
  dir: string;
  /** `harness` (default), `stack` or `anvil`. */
  process?: string;
  bucketS?: number;
  warmupS?: number;
  print?: (line: string) => void;
}

const mb = (bytes: number | undefined): string => (bytes === undefined ? '-' : (bytes / 1e6).toFixed(0));
const signedBytes = (bytes: number | undefined): string => (bytes === undefined ? 'n/a' : `${bytes >= 0 ? '+' : '-'}${Math.abs(bytes) >= 1e4 ? `${(Math.abs(bytes) / 1e3).toFixed(1)} kB` : `${Math.abs(bytes).toFixed(0)} B`}`);
const signedMb = (bytes: number | undefined): string => (bytes === undefined ? 'n/a' : `${bytes >= 0 ? '+' : ''}${(bytes / 1e6).toFixed(2)} MB`);

/**
 * Prints the memory table of a run and returns the trend. Bad input (not a directory, a corrupt
 * `timeseries.jsonl`, an unknown process, a bucket of 0) is a `ConfigError`: exit 2, as `report`.
 *
 * @example
 * await runMemoryCommand({ dir: 'results/stream-100k-r25', process: 'anvil', bucketS: 600 });
 */
export async function runMemoryCommand({ dir, process = 'harness', bucketS = 300, warmupS = 300, print = (l) => globalThis.process.stdout.write(`${l}\n`) }: RunMemoryCommandParameters): Promise<MemoryTrend> {
  if (!(bucketS > 0)) throw new ConfigError(`--bucket must be a duration above 0, got ${bucketS} s`, { code: 'USAGE' });
  if (!(warmupS >= 0)) throw new ConfigError(`--warmup must be a duration of 0 or more, got ${warmupS} s`, { code: 'USAGE' });
  checkReadableDir(dir, 'Results directory', 'RESULTS_DIR_INVALID');
  const { samples, found, skipped } = await readTimeseries(dir);
  if (skipped) print(`note: left out line ${skipped.lineNumber} of ${skipped.path}, cut short or invalid (${skipped.reason})`);
  if (!found || samples.length === 0) {
    throw new ConfigError(`No samples in ${dir}/${RESULT_FILES.timeseries}`, { code: 'RESULTS_DIR_INVALID', metaMessages: ['expected: a results/<run-id> directory of a run that sampled at least once'] });
  }
  const trend = memoryTrend(samples, { process, bucketS, warmupS });
  if (trend.buckets.length === 0) {
    const names = [...new Set(samples.flatMap((s) => s.processes.map((p) => p.name)))].join(', ');
    throw new ConfigError(`No process named ${JSON.stringify(process)} in ${dir}/${RESULT_FILES.timeseries}`, { code: 'MEMORY_PROCESS_UNKNOWN', metaMessages: [`processes sampled: ${names}`] });
  }
  print(`${process} memory, ${dir} (buckets of ${bucketS} s)`);
  print('   from  flows done  in flight  RSS mean MB  RSS max MB  heap mean MB');
  for (const b of trend.buckets) {
    print(
      `${`${Math.round(b.fromS / 60)}m`.padStart(7)}  ${String(b.completed).padStart(10)}  ${b.inFlightMean.toFixed(0).padStart(9)}  ${mb(b.rssMeanBytes).padStart(11)}  ${mb(b.rssMaxBytes).padStart(10)}  ${mb(b.heapMeanBytes).padStart(12)}`,
    );
  }
  print(`slope after ${warmupS} s, per 1000 flows completed: RSS ${signedMb(trend.rssSlopePer1000Flows)}, heap ${signedMb(trend.heapSlopePer1000Flows)}`);
  print(
    `fit after ${warmupS} s, memory = base + a × in flight + b × completed: per flow in flight RSS ${signedBytes(trend.rssPerFlow.inFlight)}, heap ${signedBytes(trend.heapPerFlow.inFlight)}; ` +
      `per finished flow RSS ${signedBytes(trend.rssPerFlow.finished)}, heap ${signedBytes(trend.heapPerFlow.finished)}`,
  );
  return trend;
}
