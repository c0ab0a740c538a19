/**
 * One receipt watcher per process: flows register the hashes they wait for, and a single loop
 * follows new blocks and resolves every pending hash mined in them. With 1000 flows in flight
 * this is one `eth_blockNumber` per poll plus one `eth_getBlockReceipts` per block, instead of
 * 1000 polling loops. RPCs without `eth_getBlockReceipts` get one batched receipt lookup per
 * pending hash per new block.
 */
import { TransactionReceiptNotFoundError, type Hash, type PublicClient, type TransactionReceipt, formatTransactionReceipt, toHex, type RpcTransactionReceipt } from 'viem';
import type { Logger } from 'pino';
import { VanaLoadError } from '../errors.ts';
import { silentLogger } from '../logger.ts';

export interface ReceiptWatcherParameters {
  client: PublicClient;
  /** How often to look for a new block while something is pending. Default 50 ms. */
  pollIntervalMs?: number;
  /** Blocks to read one by one after a pause before falling back to per-hash lookups. Default 64. */
  maxCatchUpBlocks?: number;
  logger?: Logger;
}

export interface WaitForReceiptOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface ReceiptWatcherStats {
  pending: number;
  resolved: number;
  timedOut: number;
  blocksRead: number;
  rpcErrors: number;
  mode: 'blockReceipts' | 'perHash';
}

export interface ReceiptWatcher {
  waitForReceipt(hash: Hash, options: WaitForReceiptOptions): Promise<TransactionReceipt>;
  stats(): ReceiptWatcherStats;
  /** Rejects everything still pending and stops the loop. */
  stop(): void;
}

interface Waiter {
  resolve(receipt: TransactionReceipt): void;
  reject(err: unknown): void;
}

export function createReceiptWatcher({ client, pollIntervalMs = 50, maxCatchUpBlocks = 64, logger = silentLogger() }: ReceiptWatcherParameters): ReceiptWatcher {
  const log = logger.child({ module: 'receiptWatcher' });
  const waiters = new Map<Hash, Waiter[]>();
  let lastBlock: bigint | undefined;
  let mode: ReceiptWatcherStats['mode'] = 'blockReceipts';
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let stopped = false;
  const counters = { resolved: 0, timedOut: 0, blocksRead: 0, rpcErrors: 0 };

  function settle(receipt: TransactionReceipt): void {
    const list = waiters.get(receipt.transactionHash);
    if (!list) return;
    waiters.delete(receipt.transactionHash);
    counters.resolved += list.length;
    for (const w of list) w.resolve(receipt);
  }

  async function lookupEach(hashes: Hash[]): Promise<void> {
    await Promise.all(
      hashes.map(async (hash) => {
        try {
          settle(await client.getTransactionReceipt({ hash }));
        } catch (err) {
          if (!(err instanceof TransactionReceiptNotFoundError)) counters.rpcErrors += 1;
        }
      }),
    );
  }

  async function readBlock(n: bigint): Promise<void> {
    const raw = (await client.request({ method: 'eth_getBlockReceipts' as 'eth_getTransactionReceipt', params: [toHex(n)] as never })) as unknown as RpcTransactionReceipt[] | null;
    counters.blocksRead += 1;
    for (const r of raw ?? []) {
      if (waiters.has(r.transactionHash)) settle(formatTransactionReceipt(r));
    }
  }

  async function tick(): Promise<void> {
    if (running || stopped || waiters.size === 0) return;
    running = true;
    try {
      const head = await client.getBlockNumber({ cacheTime: 0 });
      if (lastBlock === undefined || head - lastBlock > BigInt(maxCatchUpBlocks)) {
        // First block seen, or a long pause: look the pending hashes up directly, then follow from here.
        lastBlock = head;
        await lookupEach([...waiters.keys()]);
        return;
      }
      let cursor: bigint = lastBlock;
      while (cursor < head && waiters.size > 0) {
        const next: bigint = cursor + 1n;
        if (mode === 'blockReceipts') {
          try {
            await readBlock(next);
          } catch (err) {
            log.info({ err: (err as Error).message }, 'eth_getBlockReceipts unavailable; looking receipts up per hash');
            mode = 'perHash';
          }
        }
        if (mode === 'perHash') {
          await lookupEach([...waiters.keys()]);
          cursor = head;
          break;
        }
        cursor = next;
      }
      lastBlock = cursor;
      if (waiters.size === 0) lastBlock = head;
    } catch (err) {
      counters.rpcErrors += 1;
      log.warn({ err: (err as Error).message }, 'receipt watcher poll failed');
    } finally {
      running = false;
      schedule();
    }
  }

  function schedule(): void {
    if (stopped || timer || waiters.size === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      void tick();
    }, pollIntervalMs);
  }

  return {
    waitForReceipt(hash, { timeoutMs, signal }) {
      if (stopped) return Promise.reject(new VanaLoadError('receipt watcher is stopped', { code: 'WATCHER_STOPPED', step: 'confirm' }));
      return new Promise<TransactionReceipt>((resolve, reject) => {
        const cleanup = (): void => {
          clearTimeout(deadline);
          signal?.removeEventListener('abort', onAbort);
          const list = waiters.get(hash);
          if (!list) return;
          const rest = list.filter((w) => w !== waiter);
          if (rest.length === 0) waiters.delete(hash);
          else waiters.set(hash, rest);
        };
        const waiter: Waiter = {
          resolve: (receipt) => {
            clearTimeout(deadline);
            signal?.removeEventListener('abort', onAbort);
            resolve(receipt);
          },
          reject: (err) => {
            cleanup();
            reject(err);
          },
        };
        const deadline = setTimeout(() => {
          counters.timedOut += 1;
          waiter.reject(
            new VanaLoadError(`no receipt for ${hash} after ${timeoutMs} ms`, { code: 'CONFIRM_TIMEOUT', errorClass: 'timeout', step: 'confirm' }),
          );
        }, timeoutMs);
        const onAbort = (): void => waiter.reject(new VanaLoadError('waiting for the receipt was aborted', { code: 'ABORTED', step: 'confirm', cause: signal?.reason }));
        if (signal?.aborted) return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        const list = waiters.get(hash);
        if (list) list.push(waiter);
        else waiters.set(hash, [waiter]);
        // The tx may be mined already (fast chains, or a pause): one direct look-up covers that.
        void lookupEach([hash]);
        schedule();
      });
    },
    stats: () => ({ pending: waiters.size, mode, ...counters }),
    stop() {
      stopped = true;
      clearTimeout(timer);
      for (const [, list] of waiters) for (const w of list) w.reject(new VanaLoadError('receipt watcher stopped', { code: 'WATCHER_STOPPED', step: 'confirm' }));
      waiters.clear();
    },
  };
}
