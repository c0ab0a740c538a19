/**
 * What the harness measures of itself every interval, for the generator-health verdict
 * (generatorHealth.ts): its CPU time over wall time (`process.cpuUsage`, every thread of the
 * process, exact from the first interval on), the distribution of its event-loop lag, the
 * scheduler lag the load model reported, its open-files limit (sockets are files), and the
 * machine's load average against its CPUs (to tell a harness that saturated its core from one that
 * other processes starved).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { createLagRecorder, type LagDistribution, type LagRecorder } from './lagDistribution.ts';
import type { GeneratorSample } from './types.ts';

export interface GeneratorProbe {
  /** Fed by the sampler's event-loop timer. */
  eventLoopLag: LagRecorder;
  /** The figures since the last call. */
  take(schedulerLag: LagDistribution | undefined): GeneratorSample;
}

const round3 = (value: number): number => Math.round(value * 1_000) / 1_000;

/**
 * The soft limit of open files of this process (`ulimit -n`) from /proc/self/limits; undefined
 * off Linux or when unlimited.
 */
export function readOpenFilesLimit(path = '/proc/self/limits'): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const line = readFileSync(path, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    const limit = soft === undefined ? NaN : Number(soft);
    return Number.isSafeInteger(limit) && limit > 0 ? limit : undefined;
  } catch {
    return undefined; // the figure is optional: the fds check then says "not measured"
  }
}

/**
 * @example
 * const probe = createGeneratorProbe();
 * setInterval(() => probe.eventLoopLag.record(lagMs), 10);
 * const figures = probe.take(schedulerLag.take()); // once per sample
 */
export function createGeneratorProbe({ now = () => performance.now() }: { now?: () => number } = {}): GeneratorProbe {
  const eventLoopLag = createLagRecorder();
  const fdLimit = readOpenFilesLimit();
  const cpus = availableParallelism();
  let cpuBefore = process.cpuUsage();
  let at = now();
  return {
    eventLoopLag,
    take(schedulerLag) {
      const cpuNow = process.cpuUsage();
      const cpuMs = (cpuNow.user - cpuBefore.user + cpuNow.system - cpuBefore.system) / 1_000;
      cpuBefore = cpuNow;
      const t = now();
      const wallMs = t - at;
      at = t;
      const sample: GeneratorSample = {
        cpuPercent: wallMs > 0 ? round3((cpuMs / wallMs) * 100) : 0,
        eventLoopLag: eventLoopLag.take() ?? { max: 0, buckets: [] },
        loadAvg1: round3(loadavg()[0] ?? 0),
        cpus,
      };
      if (schedulerLag !== undefined) sample.schedulerLag = schedulerLag;
      if (fdLimit !== undefined) sample.fdLimit = fdLimit;
      return sample;
    },
  };
}
