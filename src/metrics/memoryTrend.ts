/**
 * Is a process's memory flat over a long run? Buckets `timeseries.jsonl` by time and fits a least
 * squares line of memory against flows completed, after a warm-up (V8 grows its heap for the
 * first minutes of any run). A slope near zero per 1000 flows is flat; a leak shows as a steady
 * positive slope whatever the bucket size.
 *
 * Flows in flight hold memory too, and their number moves during a run (a stream that starts to
 * drop at its in-flight cap, a drain at the end), which the slope alone reads as growth or as
 * release. So memory is also fitted against both at once, `memory ≈ base + a × inFlight + b ×
 * completed`: `a` is what a flow in flight costs, `b` what a finished flow leaves behind (residue).
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
  /** `memory ≈ base + a × inFlight + b × completed` over the samples after the warm-up; see the module comment. */
  rssPerFlow: PerFlowBytes;
  heapPerFlow: PerFlowBytes;
  warmupS: number;
}

/** Bytes a flow in flight holds, and bytes a finished flow leaves behind; undefined when the samples cannot tell them apart. */
export interface PerFlowBytes {
  inFlight: number | undefined;
  finished: number | undefined;
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

/**
 * Least squares of y against two variables with an intercept. A variable that does not move
 * (in flight pinned at a cap) has no coefficient; the other is then fitted alone.
 */
function fitTwo(points: ReadonlyArray<[number, number, number]>): PerFlowBytes {
  const n = points.length;
  if (n < 3) return { inFlight: undefined, finished: undefined };
  const m1 = points.reduce((s, [x]) => s + x, 0) / n;
  const m2 = points.reduce((s, [, x]) => s + x, 0) / n;
  const my = points.reduce((s, [, , y]) => s + y, 0) / n;
  let s11 = 0;
  let s22 = 0;
  let s12 = 0;
  let s1y = 0;
  let s2y = 0;
  for (const [x1, x2, y] of points) {
    const d1 = x1 - m1;
    const d2 = x2 - m2;
    const dy = y - my;
    s11 += d1 * d1;
    s22 += d2 * d2;
    s12 += d1 * d2;
    s1y += d1 * dy;
    s2y += d2 * dy;
  }
  const det = s11 * s22 - s12 * s12;
  // Relative to the variances: below this the two move together and cannot be told apart.
  if (s11 > 0 && s22 > 0 && det > 1e-6 * s11 * s22) return { inFlight: (s1y * s22 - s2y * s12) / det, finished: (s2y * s11 - s1y * s12) / det };
  return { inFlight: s22 === 0 && s11 > 0 ? s1y / s11 : undefined, finished: s22 > 0 ? s2y / s22 : undefined };
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
  const heapSteady = steady.filter(({ p }) => p.heapUsedBytes !== undefined);
  return {
    process,
    buckets,
    warmupS,
    rssSlopePer1000Flows: per1000(slope(steady.map(({ s, p }) => [s.completed, p.rssBytes]))),
    heapSlopePer1000Flows: per1000(slope(steady.flatMap(({ s, p }) => (p.heapUsedBytes === undefined ? [] : [[s.completed, p.heapUsedBytes] as [number, number]])))),
    rssPerFlow: fitTwo(steady.map(({ s, p }) => [s.inFlight, s.completed, p.rssBytes])),
    heapPerFlow: fitTwo(heapSteady.map(({ s, p }) => [s.inFlight, s.completed, p.heapUsedBytes!])),
  };
}
