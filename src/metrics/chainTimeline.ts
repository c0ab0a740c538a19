/**
 * The chain-aware timeline of a run while it runs: a block watcher (blockWatcher.ts), our
 * relayers' nonces and the personal server's queue read every second, and the `relay` / `confirm`
 * steps of the flows as they end. The sampler takes its figures once per interval (`take`, sync)
 * into each `TimeseriesSample`, so the chain lines up with the load in `timeseries.jsonl`, the
 * live view, Prometheus and report.html.
 */
import type { PublicClient, Address } from 'viem';
import type { StepName } from '../flow.ts';
import type { Logger } from '../logger.ts';
import { startBlockWatcher, type BlockWatcherStats } from './blockWatcher.ts';
import type { BlockRecord, ChainSample, PersonalServerQueueSample, RelayersSample } from './chainTypes.ts';
import { foldBlocks, type FoldedHead } from './foldBlocks.ts';
import { readRelayers, type RelayerNonce } from './readRelayers.ts';

export interface StartChainTimelineParameters {
  logger: Logger;
  /** Our relayers, when known: their addresses and, from their pool, the next nonces it hands out. */
  relayers?: { addresses: readonly Address[]; next?: () => Promise<readonly RelayerNonce[]> };
  /** The personal server's queue, where it tells. */
  personalServerQueue?: () => Promise<PersonalServerQueueSample>;
  /** Each block as it is read, oldest first (for `blocks.jsonl`). */
  onBlock?: (block: BlockRecord) => void;
  blockPollIntervalMs?: number;
  /** How often the relayers and the personal server are read. Default 1000 ms. */
  readIntervalMs?: number;
}

/** What one interval adds to a `TimeseriesSample`. */
export interface ChainTimelineFields {
  chain: ChainSample;
  relayers?: RelayersSample;
  personalServer?: PersonalServerQueueSample;
}

/** Reads of one source (our relayers, the personal server's queue): how many, and how many failed. */
export interface SourceReads {
  reads: number;
  failed: number;
}

export interface ChainTimeline {
  /** A flow step ended: `relay` (RPC accept) and `confirm` (inclusion) make the interval's p95s. */
  observeStep(step: StepName, ms: number): void;
  /** The figures since the last call. Sync: the sampler calls it every interval. */
  take(): ChainTimelineFields;
  blockStats(): BlockWatcherStats;
  /** Reads of the relayers and of the personal server's queue; a source the run does not follow is absent. */
  readStats(): { relayers?: SourceReads; personalServer?: SourceReads };
  /** Stops every poll. Safe to call twice. */
  stop(): Promise<void>;
}

/** Nearest-rank p95 of `values` (sorted in place); null for none. */
function p95(values: number[]): number | null {
  if (values.length === 0) return null;
  values.sort((a, b) => a - b);
  return Math.round(values[Math.ceil(values.length * 0.95) - 1]! * 1_000) / 1_000;
}

/**
 * Starts the timeline on the run's public client.
 *
 * @example
 * const timeline = startChainTimeline(env.publicClient, { logger, relayers: { addresses } });
 * startSampler(collector, { logger, extras: () => ({ ...timeline.take() }) });
 * await timeline.stop();
 */
export function startChainTimeline(
  client: PublicClient,
  { logger, relayers, personalServerQueue, onBlock, blockPollIntervalMs, readIntervalMs = 1_000 }: StartChainTimelineParameters,
): ChainTimeline {
  const log = logger.child({ module: 'chainTimeline' });
  let blocks: BlockRecord[] = [];
  let accept: number[] = [];
  let inclusion: number[] = [];
  let head: FoldedHead = { head: null, headFill: null, baseFeeGwei: null };
  let lastRelayers: RelayersSample | undefined;
  let lastQueue: PersonalServerQueueSample | undefined;
  const warned = new Set<string>();
  const reads = { relayers: { reads: 0, failed: 0 }, personalServer: { reads: 0, failed: 0 } };

  const watcher = startBlockWatcher(client, {
    logger,
    ...(blockPollIntervalMs !== undefined ? { pollIntervalMs: blockPollIntervalMs } : {}),
    onBlock: (block) => {
      blocks.push(block);
      onBlock?.(block);
    },
  });

  // A source that fails is left out of the samples until it answers again; warned about once.
  const read = async <T>(what: string, counts: SourceReads, fn: () => Promise<T>): Promise<T | undefined> => {
    counts.reads++;
    try {
      return await fn();
    } catch (err) {
      counts.failed++;
      if (!warned.has(what)) log.warn({ err: (err as Error).message?.split('\n')[0] }, `chain timeline: reading ${what} failed; left out until it answers`);
      warned.add(what);
      return undefined;
    }
  };
  let reading: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const readAll = async (): Promise<void> => {
    const [r, q] = await Promise.all([
      relayers && relayers.addresses.length > 0 ? read('relayer nonces', reads.relayers, () => readRelayers(client, relayers.addresses, relayers.next)) : undefined,
      personalServerQueue ? read('the personal server queue', reads.personalServer, personalServerQueue) : undefined,
    ]);
    lastRelayers = r;
    lastQueue = q;
  };
  const schedule = (): void => {
    if (stopped || (!relayers && !personalServerQueue)) return;
    timer = setTimeout(() => {
      reading = readAll().finally(schedule);
    }, readIntervalMs);
    timer.unref();
  };
  reading = readAll().finally(schedule);

  let stopping: Promise<void> | undefined;
  return {
    observeStep(step, ms) {
      if (step === 'relay') accept.push(ms);
      else if (step === 'confirm') inclusion.push(ms);
    },
    take() {
      const folded = foldBlocks(blocks, head);
      head = { head: folded.head, headFill: folded.headFill, baseFeeGwei: folded.baseFeeGwei };
      const fields: ChainTimelineFields = { chain: { ...folded, acceptP95Ms: p95(accept), inclusionP95Ms: p95(inclusion) } };
      blocks = [];
      accept = [];
      inclusion = [];
      if (lastRelayers) fields.relayers = lastRelayers;
      if (lastQueue) fields.personalServer = lastQueue;
      return fields;
    },
    blockStats: () => watcher.stats(),
    readStats: () => ({
      ...(relayers && relayers.addresses.length > 0 ? { relayers: { ...reads.relayers } } : {}),
      ...(personalServerQueue ? { personalServer: { ...reads.personalServer } } : {}),
    }),
    stop: () =>
      (stopping ??= (async () => {
        stopped = true;
        clearTimeout(timer);
        await Promise.all([watcher.stop(), reading.catch(() => {})]);
      })()),
  };
}
