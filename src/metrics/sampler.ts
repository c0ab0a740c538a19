/**
 * The once-per-interval sampler: reads the collector's interval snapshot, the event-loop lag of
 * the harness and the CPU, memory and open files of the harness and of every stack process, and
 * hands one `TimeseriesSample` to `onSample` (which appends it to `timeseries.jsonl` and feeds
 * the terminal).
 */
import { readdir } from 'node:fs/promises';
import pidusage from 'pidusage';
import type { Logger } from '../logger.ts';
import { isProcessRunning } from '../util/processAlive.ts';
import type { MetricsCollector } from './collector.ts';
import type { BreakerState } from '../load/circuitBreaker.ts';
import type { ChainTimelineFields } from './chainTimeline.ts';
import { createGeneratorProbe } from './generatorProbe.ts';
import type { LagDistribution } from './lagDistribution.ts';
import type { ProcessSample, TimeseriesSample } from './types.ts';

export interface SampledProcess {
  /** `stack`, `anvil`, ...: the name the samples and the summary use. */
  name: string;
  pid: number;
}

/** Figures only the load model (and the chain timeline) knows, read at every sample. */
export interface SamplerExtras extends Partial<ChainTimelineFields> {
  targetRate?: number;
  schedulerLagMs?: number;
  /** The scheduler lags of the interval (generator health). */
  schedulerLag?: LagDistribution;
  breaker?: BreakerState;
  phase?: string;
}

export interface StartSamplerParameters {
  logger: Logger;
  intervalMs?: number;
  /** Processes besides the harness itself, which is always sampled as `harness`. */
  processes?: readonly SampledProcess[];
  /** Epoch ms the run started at, for `elapsedS`; defaults to now. */
  startedAt?: number;
  extras?: () => SamplerExtras;
  onSample?: (sample: TimeseriesSample) => void;
  now?: () => number;
}

export interface Sampler {
  /** Stops the timer, takes one final sample (also passed to `onSample`) and returns it. */
  stop(): Promise<TimeseriesSample>;
}

const LAG_RESOLUTION_MS = 10;
const round3 = (value: number): number => Math.round(value * 1_000) / 1_000;

/** Open file descriptors of `pid` (Linux /proc), or undefined when the platform does not tell. */
async function countFds(pid: number): Promise<number | undefined> {
  if (process.platform !== 'linux') return undefined;
  try {
    return (await readdir(`/proc/${pid}/fd`)).length;
  } catch {
    return undefined; // not ours to read, or gone: the field is optional
  }
}

/**
 * Event-loop lag: how late a 10 ms timer fires, as mean and max per interval. Not
 * `monitorEventLoopDelay`: its `reset()` also forgets when its timer last fired, so a stall that
 * begins right after a reset (right after a sample) is never recorded. Here only the figures reset.
 */
function monitorEventLoopLag(onLag: (ms: number) => void): { take(): { mean: number; max: number }; stop(): void } {
  let last = performance.now();
  let sum = 0;
  let count = 0;
  let max = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    const lag = Math.max(0, now - last - LAG_RESOLUTION_MS);
    last = now;
    onLag(lag);
    sum += lag;
    count++;
    if (lag > max) max = lag;
  }, LAG_RESOLUTION_MS);
  timer.unref();
  return {
    take() {
      const figures = count === 0 ? { mean: 0, max: 0 } : { mean: round3(sum / count), max: round3(max) };
      sum = 0;
      count = 0;
      max = 0;
      return figures;
    },
    stop: () => clearInterval(timer),
  };
}

/**
 * Starts sampling every `intervalMs` (1 s by default) on an unref'd timer: it never keeps the
 * process alive. A sampled process that exits is reported in `missingProcesses` and not sampled
 * again (its pid could be reused).
 *
 * @example
 * const sampler = startSampler(collector, {
 *   logger,
 *   processes: [{ name: 'stack', pid: manifest.pids.stack }, { name: 'anvil', pid: manifest.pids.anvil }],
 *   onSample: (sample) => writer.writeSample(sample),
 * });
 * // ... run ...
 * const last = await sampler.stop();
 */
export function startSampler(
  collector: MetricsCollector,
  { logger, intervalMs = 1_000, processes = [], startedAt, extras, onSample, now = Date.now }: StartSamplerParameters,
): Sampler {
  if (!(Number.isFinite(intervalMs) && intervalMs > 0)) {
    throw new RangeError(`Expected intervalMs > 0, got ${intervalMs}`);
  }
  const log = logger.child({ module: 'sampler' });
  const runStartedAt = startedAt ?? now();
  const live: SampledProcess[] = [{ name: 'harness', pid: process.pid }, ...processes];
  const missing: string[] = [];
  const unreadable = new Set<string>();
  const generator = createGeneratorProbe();
  const lag = monitorEventLoopLag((ms) => generator.eventLoopLag.record(ms));

  const markMissing = (target: SampledProcess): void => {
    const index = live.indexOf(target);
    if (index >= 0) live.splice(index, 1);
    missing.push(target.name);
    log.warn({ name: target.name, pid: target.pid }, 'sampled process has exited; no longer sampled');
  };

  const sampleProcess = async (target: SampledProcess): Promise<ProcessSample | undefined> => {
    let stats: pidusage.Status;
    try {
      stats = await pidusage(target.pid);
    } catch (err) {
      if (!isProcessRunning(target.pid)) markMissing(target);
      else if (!unreadable.has(target.name)) {
        unreadable.add(target.name); // once per process, not once per second
        log.warn({ err, name: target.name, pid: target.pid }, 'could not sample process; will keep trying');
      }
      return undefined;
    }
    // A killed but unreaped child is a zombie: readable, zero memory, gone for our purposes.
    if (stats.memory === 0 && !isProcessRunning(target.pid)) {
      markMissing(target);
      return undefined;
    }
    const fds = await countFds(target.pid);
    const sample: ProcessSample = { name: target.name, pid: target.pid, cpuPercent: round3(stats.cpu), rssBytes: stats.memory };
    if (fds !== undefined) sample.fds = fds;
    if (target.pid === process.pid) {
      const { heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
      Object.assign(sample, { heapUsedBytes: heapUsed, heapTotalBytes: heapTotal, externalBytes: external, arrayBuffersBytes: arrayBuffers });
    }
    return sample;
  };

  const takeSample = async (): Promise<TimeseriesSample> => {
    const t = now();
    const snapshot = collector.snapshotInterval(t);
    const eventLoopLagMs = lag.take();
    const extra = extras?.() ?? {};
    // Taken with the lag figures above, before the processes are read: the same interval.
    const generatorFigures = generator.take(extra.schedulerLag);
    const sampled = await Promise.all([...live].map(sampleProcess));
    const seconds = snapshot.intervalMs / 1_000;
    const perSecond = (count: number): number => (seconds > 0 ? round3(count / seconds) : 0);
    const sample: TimeseriesSample = {
      t,
      elapsedS: round3((t - runStartedAt) / 1_000),
      ...snapshot.counts,
      startedPerS: perSecond(snapshot.interval.started),
      completedPerS: perSecond(snapshot.interval.completed),
      failedPerS: perSecond(snapshot.interval.failed),
      inFlight: snapshot.inFlight,
      e2e: snapshot.e2e,
      rollingE2eP95: snapshot.rollingE2eP95,
      errors: snapshot.errors,
      eventLoopLagMs,
      processes: sampled.filter((entry): entry is ProcessSample => entry !== undefined),
      generator: generatorFigures,
    };
    if (extra.targetRate !== undefined) sample.targetRate = extra.targetRate;
    if (extra.schedulerLagMs !== undefined) sample.schedulerLagMs = extra.schedulerLagMs;
    const breaker = extra.breaker ?? snapshot.breaker;
    if (breaker !== null) sample.breaker = breaker;
    const phase = extra.phase ?? snapshot.phase;
    if (phase !== null) sample.phase = phase;
    if (Object.keys(snapshot.retriesByStep).length > 0) sample.retriesByStep = snapshot.retriesByStep;
    if (snapshot.breakerTransitions) sample.breakerTransitions = snapshot.breakerTransitions;
    if (missing.length > 0) sample.missingProcesses = [...missing];
    if (extra.chain) sample.chain = extra.chain;
    if (extra.relayers) sample.relayers = extra.relayers;
    if (extra.personalServer) sample.personalServer = extra.personalServer;
    onSample?.(sample);
    return sample;
  };

  let timer: NodeJS.Timeout | undefined;
  let pending: Promise<unknown> = Promise.resolve();
  let stopping: Promise<TimeseriesSample> | undefined;
  let due = performance.now() + intervalMs;

  const schedule = (): void => {
    timer = setTimeout(tick, Math.max(0, due - performance.now()));
    timer.unref();
  };
  const tick = (): void => {
    pending = takeSample()
      .catch((err: unknown) => log.error({ err }, 'sample failed'))
      .finally(() => {
        if (stopping) return;
        // Keep the cadence; after a stall, skip the missed ticks rather than bunching them.
        due = Math.max(due + intervalMs, performance.now() + 1);
        schedule();
      });
  };
  schedule();

  return {
    stop() {
      stopping ??= (async () => {
        clearTimeout(timer);
        await pending;
        try {
          return await takeSample();
        } finally {
          lag.stop();
          pidusage.clear();
        }
      })();
      return stopping;
    },
  };
}
