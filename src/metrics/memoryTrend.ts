/**
 * Is a process's memory flat over a long run? Buckets `timeseries.jsonl` by time and fits a least
 * squares line of memory against flows completed, after a warm-up (V8 grows its heap for the
 * first minutes of any run). A slope near zero per 1000 flows is flat; a leak shows as a steady
 * positive slope whatever the bucket size.
 */
import { mean } from './summary.ts';
import type { TimeseriesSample } from './types.ts';

export interface MemoryBucket {
  /** Start of the bucket, seconds since the run began. */
  fromS: number;
  /** Flows completed by the end of the bucket. */
  completed: number;
  inFlightMean: number;
  rssMeanBytes: number;
  rssMaxBytes: number;
  /** undefined when the samples carry no heap figure for the process. */
  heapMeanBytes: number | undefined;
}

export interface MemoryTrend {
  process: string;
  buckets: MemoryBucket[];
  /** Least-squares slope over the samples after the warm-up, bytes per 1000 completed flows; undefined with < 2 samples or no flow progress. */
  rssSlopePer1000Flows: number | undefined;
  heapSlopePer1000Flows: number | undefined;
  warmupS: number;
}

function slope(points: ReadonlyArray<[number, number]>): number | undefined {
  if (points.length < 2) return undefined;
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const [x, y] of points) {
    sxx += (x - mx) ** 2;
    sxy += (x - mx) * (y - my);
  }
  return sxx === 0 ? undefined : sxy / sxx;
}

export function memoryTrend(samples: readonly TimeseriesSample[], { process = 'harness', bucketS = 300, warmupS = 300 } = {}): MemoryTrend {
  if (!(bucketS > 0)) throw new RangeError(`Expected bucketS > 0, got ${bucketS}`);
  const mine = samples.flatMap((s) => {
    const p = s.processes.find((q) => q.name === process);
    return p ? [{ s, p }] : [];
  });
  const groups = new Map<number, typeof mine>();
  for (const entry of mine) {
    const key = Math.floor(entry.s.elapsedS / bucketS);
    const group = groups.get(key);
    if (group) group.push(entry);
    else groups.set(key, [entry]);
  }
  const buckets = [...groups.entries()]
    .sort(([a], [b]) => a - b)
    .map(([key, group]): MemoryBucket => {
      const heaps = group.flatMap(({ p }) => (p.heapUsedBytes === undefined ? [] : [p.heapUsedBytes]));
      return {
        fromS: key * bucketS,
        completed: group[group.length - 1]!.s.completed,
        inFlightMean: mean(group.map(({ s }) => s.inFlight)),
        rssMeanBytes: mean(group.map(({ p }) => p.rssBytes)),
        rssMaxBytes: Math.max(...group.map(({ p }) => p.rssBytes)),
        heapMeanBytes: heaps.length > 0 ? mean(heaps) : undefined,
      };
    });
  const steady = mine.filter(({ s }) => s.elapsedS >= warmupS);
  const per1000 = (v: number | undefined) => (v === undefined ? undefined : v * 1000);
  return {
    process,
    buckets,
    warmupS,
    rssSlopePer1000Flows: per1000(slope(steady.map(({ s, p }) => [s.completed, p.rssBytes]))),
    heapSlopePer1000Flows: per1000(slope(steady.flatMap(({ s, p }) => (p.heapUsedBytes === undefined ? [] : [[s.completed, p.heapUsedBytes] as [number, number]])))),
  };
}
