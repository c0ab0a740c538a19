/**
 * Follows the chain's new blocks and reads each one once: its number, timestamp, transaction
 * count, gas used and limit, and base fee. One `eth_blockNumber` per poll, then one
 * `eth_getBlockByNumber` (hashes only) per new block; on the run's public client these batch into
 * one HTTP request. It starts at the head (a run's timeline, not the chain's history); after a
 * pause longer than `maxBlocksPerPoll` blocks it reads the newest ones and counts the rest as
 * skipped, so it never falls further behind.
 */
import type { PublicClient } from 'viem';
import type { Logger } from '../logger.ts';
import type { BlockRecord } from './chainTypes.ts';

export interface StartBlockWatcherParameters {
  logger: Logger;
  /** Default 250 ms: a 0.2 s local block is seen within about one block. */
  pollIntervalMs?: number;
  /** Most blocks read per poll. Default 64. */
  maxBlocksPerPoll?: number;
  /** Each new block, oldest first, once. */
  onBlock: (block: BlockRecord) => void;
  now?: () => number;
}

export interface BlockWatcherStats {
  /** Blocks read. */
  read: number;
  /** Blocks left unread after a pause (more new blocks than `maxBlocksPerPoll`). */
  skipped: number;
  /** Polls or block reads that failed (the next poll tries again). */
  errors: number;
}

/** Longest the last read on stop may take: a chain that is gone must not hold the run's end. */
export const FINAL_POLL_MS = 2_000;

export interface BlockWatcher {
  /** Newest block read; null before the first. */
  head(): number | null;
  stats(): BlockWatcherStats;
  /**
   * Stops polling: waits for a poll under way, then reads once more up to the head (at most
   * {@link FINAL_POLL_MS}), so the blocks of flows that just ended are read. Safe to call twice.
   */
  stop(): Promise<void>;
}

/**
 * Starts following `client`'s blocks on an unref'd timer.
 *
 * @example
 * const watcher = startBlockWatcher(publicClient, { logger, onBlock: (block) => blocks.push(block) });
 * // ... run ...
 * await watcher.stop();
 */
export function startBlockWatcher(client: PublicClient, { logger, pollIntervalMs = 250, maxBlocksPerPoll = 64, onBlock, now = Date.now }: StartBlockWatcherParameters): BlockWatcher {
  if (!(Number.isFinite(pollIntervalMs) && pollIntervalMs > 0)) throw new RangeError(`Expected pollIntervalMs > 0, got ${pollIntervalMs}`);
  if (!(Number.isSafeInteger(maxBlocksPerPoll) && maxBlocksPerPoll >= 1)) throw new RangeError(`Expected maxBlocksPerPoll >= 1, got ${maxBlocksPerPoll}`);
  const log = logger.child({ module: 'blockWatcher' });
  const counts: BlockWatcherStats = { read: 0, skipped: 0, errors: 0 };
  let last: bigint | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> = Promise.resolve();
  let warned = false;

  const fail = (err: unknown, what: string): void => {
    counts.errors++;
    // Once at warn, then debug: a chain that is gone says so every poll.
    if (!warned) log.warn({ err: (err as Error).message?.split('\n')[0] }, `block watcher: ${what} failed; retrying every poll`);
    else log.debug({ err: (err as Error).message?.split('\n')[0] }, `block watcher: ${what} failed`);
    warned = true;
  };

  const readBlock = async (number: bigint): Promise<BlockRecord> => {
    const block = await client.getBlock({ blockNumber: number, includeTransactions: false });
    const record: BlockRecord = {
      number: Number(block.number),
      timestamp: Number(block.timestamp) * 1_000,
      seenAt: now(),
      txs: block.transactions.length,
      gasUsed: Number(block.gasUsed),
      gasLimit: Number(block.gasLimit),
    };
    if (block.baseFeePerGas !== null && block.baseFeePerGas !== undefined) record.baseFeeWei = block.baseFeePerGas.toString();
    return record;
  };

  const poll = async (): Promise<void> => {
    let head: bigint;
    try {
      head = await client.getBlockNumber({ cacheTime: 0 });
    } catch (err) {
      return fail(err, 'eth_blockNumber');
    }
    // The first poll reads the head only; later ones every block after the last read.
    let from = last === undefined ? head : last + 1n;
    if (head < from) return;
    if (head - from + 1n > BigInt(maxBlocksPerPoll)) {
      const skip = head - from + 1n - BigInt(maxBlocksPerPoll);
      counts.skipped += Number(skip);
      from += skip;
    }
    const numbers: bigint[] = [];
    for (let n = from; n <= head; n++) numbers.push(n);
    const results = await Promise.allSettled(numbers.map(readBlock));
    for (const [i, result] of results.entries()) {
      if (result.status === 'rejected') {
        // Not read: the next poll starts at this block again.
        fail(result.reason, `eth_getBlockByNumber ${numbers[i]}`);
        return;
      }
      last = numbers[i]!;
      counts.read++;
      onBlock(result.value);
    }
  };

  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      polling = poll().finally(schedule);
    }, pollIntervalMs);
    timer.unref();
  };
  polling = poll().finally(schedule);

  let stopping: Promise<void> | undefined;
  return {
    head: () => (last === undefined ? null : Number(last)),
    stats: () => ({ ...counts }),
    stop: () =>
      (stopping ??= (async () => {
        stopped = true;
        clearTimeout(timer);
        await polling.catch(() => {});
        let bound: NodeJS.Timeout | undefined;
        await Promise.race([poll(), new Promise<void>((resolve) => (bound = setTimeout(resolve, FINAL_POLL_MS)))]).catch(() => {});
        clearTimeout(bound);
      })()),
  };
}
