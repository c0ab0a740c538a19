/**
 * Background funding for direct-transaction streaming runs (MS-05): users arrive at a rate, each
 * needs a wallet that can pay gas, and funding one per arrival would put a funding transaction on
 * every user's critical path. The worker keeps a buffer of funded wallets ahead of demand instead:
 * when the wallets ready or on their way drop below a low-water mark it sends BatchFunder batches
 * (up to `workers` transactions in flight) until the buffer is full again.
 *
 * Wallet indices are handed out in order from `firstIndex`; wallets `firstIndex..stats().nextIndex-1`
 * may hold funds afterwards, which is the range to sweep.
 */
import type { Address, Hex, LocalAccount } from 'viem';
import type { Logger } from 'pino';
import { ConfigError, VanaLoadError } from '../errors.ts';
import { silentLogger } from '../logger.ts';
import { createBatchFundingSender } from './batchFundingSender.ts';
import { MAX_WALLET_INDEX, type HdWallets } from './hdWallets.ts';
import { connectWalletChain } from './walletChain.ts';

export interface StartFundingWorkerParameters {
  rpcUrl: string;
  chainId: number;
  funder: LocalAccount;
  batchFunder: Address;
  wallets: HdWallets;
  amountWei: bigint;
  /** First wallet index handed out. Default 0. */
  firstIndex?: number;
  /** Last wallet index that may be handed out. Default 2^31-1. */
  lastIndex?: number;
  /** Wallets per funding transaction. Default 50. */
  batchSize?: number;
  /** Wallets ready or being funded that a refill aims for. Default 2 × batchSize. */
  bufferSize?: number;
  /** A refill starts when ready + being funded − waiting acquirers drops below this. Default bufferSize / 2. */
  lowWaterMark?: number;
  /** Funding transactions in flight at once. Default 2. */
  workers?: number;
  /** The worker fails when its total spend (value + gas) would exceed this. Unset = no cap. */
  maxSpendWei?: bigint;
  allowMainnet?: boolean;
  /** Failed batches in a row after which the worker gives up and fails every acquirer. Default 3. */
  maxConsecutiveFailures?: number;
  /** Called once per funded wallet, when its batch's receipt is seen. */
  onFunded?: (event: WalletFundedEvent) => void;
  receiptTimeoutMs?: number;
  logger?: Logger;
}

/** A funded wallet handed to a virtual user. Times are epoch ms (`Date.now()`). */
export interface FundedWallet {
  index: number;
  account: LocalAccount;
  /** When the worker asked for this wallet to be funded (its batch was formed). */
  requestedAt: number;
  /** When the funding receipt was seen. */
  fundedAt: number;
}

export interface WalletFundedEvent {
  index: number;
  address: Address;
  requestedAt: number;
  fundedAt: number;
  /** fundedAt − requestedAt: request → funded receipt. */
  latencyMs: number;
  txHash: Hex;
  batchSize: number;
}

export interface FundingWorkerStats {
  /** Wallets funded so far. */
  funded: number;
  /** Wallets handed out by `acquire`. */
  acquired: number;
  /** Funded wallets waiting to be acquired. */
  ready: number;
  /** Wallets in funding transactions not yet confirmed. */
  funding: number;
  /** `acquire` calls waiting for a wallet. */
  waiting: number;
  txs: number;
  failedTxs: number;
  /** Next never-used wallet index: wallets before it may hold funds. */
  nextIndex: number;
  /** Value and gas paid so far, plus the worst case of transactions in flight. */
  spentWei: bigint;
}

export interface FundingWorker {
  /** The next funded wallet; waits while none is ready. Rejects when none is ready and the worker stopped or failed. */
  acquire(options?: { signal?: AbortSignal }): Promise<FundedWallet>;
  stats(): FundingWorkerStats;
  /** Stops refilling, waits for transactions in flight, rejects waiting acquirers. Safe to call twice. */
  stop(): Promise<void>;
}

interface ReadyWallet {
  index: number;
  requestedAt: number;
  fundedAt: number;
}

interface Waiter {
  resolve(wallet: FundedWallet): void;
  reject(err: unknown): void;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new ConfigError(`Expected ${name} >= 1, got ${value}`);
  return value;
}

/**
 * Connects, checks the chain (mainnet guard) and the BatchFunder, and starts filling the buffer.
 *
 * @example
 * const worker = await startFundingWorker({ rpcUrl, chainId, funder, batchFunder, wallets, amountWei: parseEther('0.01'),
 *   onFunded: (e) => histogram.record(e.latencyMs) });
 * try {
 *   const { account } = await worker.acquire();
 *   // … the user's direct-mode flow, paid by `account` …
 * } finally {
 *   await worker.stop();
 * }
 */
export async function startFundingWorker({
  rpcUrl,
  chainId,
  funder,
  batchFunder,
  wallets,
  amountWei,
  firstIndex = 0,
  lastIndex = MAX_WALLET_INDEX,
  batchSize = 50,
  bufferSize = 2 * batchSize,
  lowWaterMark = Math.ceil(bufferSize / 2),
  workers = 2,
  maxSpendWei,
  allowMainnet = false,
  maxConsecutiveFailures = 3,
  onFunded,
  receiptTimeoutMs = 120_000,
  logger = silentLogger(),
}: StartFundingWorkerParameters): Promise<FundingWorker> {
  positiveInteger('a batch size', batchSize);
  positiveInteger('a buffer size', bufferSize);
  positiveInteger('a low-water mark', lowWaterMark);
  positiveInteger('workers', workers);
  positiveInteger('maxConsecutiveFailures', maxConsecutiveFailures);
  if (lowWaterMark > bufferSize) throw new ConfigError(`Expected a low-water mark of at most the buffer size ${bufferSize}, got ${lowWaterMark}`);
  if (!Number.isSafeInteger(firstIndex) || firstIndex < 0 || !Number.isSafeInteger(lastIndex) || lastIndex < firstIndex || lastIndex > MAX_WALLET_INDEX) {
    throw new ConfigError(`Expected 0 <= firstIndex <= lastIndex <= ${MAX_WALLET_INDEX}, got ${firstIndex} and ${lastIndex}`);
  }
  if (amountWei <= 0n) throw new ConfigError(`Expected a funding amount > 0, got ${amountWei} wei`);

  const log = logger.child({ module: 'fundingWorker' });
  const client = await connectWalletChain({ rpcUrl, chainId, sends: true, allowMainnet });
  const sender = await createBatchFundingSender(client, {
    chainId,
    funder,
    batchFunder,
    batchSize,
    receiptTimeoutMs,
    ...(maxSpendWei === undefined ? {} : { budgetWei: maxSpendWei }),
  });

  const ready: ReadyWallet[] = [];
  const waiters: Waiter[] = [];
  const retry: number[] = [];
  const running = new Set<Promise<void>>();
  let nextIndex = firstIndex;
  let funding = 0;
  let inFlightTxs = 0;
  let consecutiveFailures = 0;
  let failure: unknown;
  let stopped = false;
  const counts = { funded: 0, acquired: 0, txs: 0, failedTxs: 0 };

  const handOut = ({ index, requestedAt, fundedAt }: ReadyWallet): FundedWallet => {
    counts.acquired++;
    return { index, account: wallets.deriveAccount(index), requestedAt, fundedAt };
  };

  const failAll = (err: unknown): void => {
    failure ??= err;
    for (const waiter of waiters.splice(0)) waiter.reject(err);
  };

  const takeIndices = (): number[] => {
    const indices = retry.splice(0, batchSize);
    const fresh = Math.min(batchSize - indices.length, lastIndex - nextIndex + 1);
    for (let i = 0; i < fresh; i++) indices.push(nextIndex++);
    return indices;
  };

  const fundBatch = async (indices: number[]): Promise<void> => {
    const requestedAt = Date.now();
    try {
      const recipients = indices.map((i) => wallets.deriveAddress(i));
      const sent = await sender.send({ recipients, amounts: recipients.map(() => amountWei) });
      const confirmed = await sender.confirm(sent);
      if (confirmed.status !== 'success') {
        throw new VanaLoadError(`Funding transaction ${confirmed.hash} reverted`, { code: 'FUNDING_REVERTED', errorClass: 'revert' });
      }
      consecutiveFailures = 0;
      counts.txs++;
      counts.funded += indices.length;
      for (const [k, index] of indices.entries()) {
        ready.push({ index, requestedAt, fundedAt: confirmed.confirmedAt });
        try {
          onFunded?.({
            index,
            address: recipients[k]!,
            requestedAt,
            fundedAt: confirmed.confirmedAt,
            latencyMs: confirmed.confirmedAt - requestedAt,
            txHash: confirmed.hash,
            batchSize: indices.length,
          });
        } catch (err) {
          log.error({ err }, 'onFunded callback threw');
        }
      }
    } catch (err) {
      counts.failedTxs++;
      consecutiveFailures++;
      retry.unshift(...indices);
      log.warn({ err, wallets: indices.length, consecutiveFailures }, 'funding batch failed');
      // A config error (max spend reached, bad contract) will not go away by retrying.
      if (err instanceof ConfigError || consecutiveFailures >= maxConsecutiveFailures) {
        failAll(
          err instanceof ConfigError
            ? err
            : new VanaLoadError(`Funding worker gave up after ${consecutiveFailures} failed batches in a row`, { code: 'FUNDING_WORKER_FAILED', cause: err }),
        );
      }
    }
  };

  const pump = (): void => {
    while (waiters.length > 0 && ready.length > 0) waiters.shift()!.resolve(handOut(ready.shift()!));
    if (stopped || failure !== undefined) return;
    const available = (): number => ready.length + funding - waiters.length;
    if (available() >= lowWaterMark) return;
    while (inFlightTxs < workers && available() < bufferSize) {
      const indices = takeIndices();
      if (indices.length === 0) break;
      inFlightTxs++;
      funding += indices.length;
      const task: Promise<void> = fundBatch(indices).finally(() => {
        inFlightTxs--;
        funding -= indices.length;
        running.delete(task);
        pump();
      });
      running.add(task);
    }
    if (inFlightTxs === 0 && ready.length === 0 && waiters.length > 0) {
      failAll(new VanaLoadError(`Funding worker ran out of wallet indices (last ${lastIndex})`, { code: 'FUNDING_WALLETS_EXHAUSTED' }));
    }
  };

  let stopping: Promise<void> | undefined;
  const worker: FundingWorker = {
    acquire({ signal } = {}) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      // Wallets funded before a stop or a failure are still handed out.
      if (ready.length === 0 && failure !== undefined) return Promise.reject(failure);
      if (ready.length === 0 && stopped) return Promise.reject(new VanaLoadError('Funding worker stopped', { code: 'FUNDING_WORKER_STOPPED' }));
      return new Promise<FundedWallet>((resolve, reject) => {
        const onAbort = (): void => {
          const at = waiters.indexOf(waiter);
          if (at !== -1) waiters.splice(at, 1);
          reject(signal?.reason);
        };
        const waiter: Waiter = {
          resolve: (wallet) => {
            signal?.removeEventListener('abort', onAbort);
            resolve(wallet);
          },
          reject: (err) => {
            signal?.removeEventListener('abort', onAbort);
            reject(err);
          },
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        waiters.push(waiter);
        pump();
      });
    },
    stats: () => ({
      ...counts,
      ready: ready.length,
      funding,
      waiting: waiters.length,
      nextIndex,
      spentWei: sender.committedWei(),
    }),
    stop() {
      stopping ??= (async () => {
        stopped = true;
        await Promise.all(running);
        for (const waiter of waiters.splice(0)) waiter.reject(new VanaLoadError('Funding worker stopped', { code: 'FUNDING_WORKER_STOPPED' }));
        log.info({ ...counts, nextIndex }, 'funding worker stopped');
      })();
      return stopping;
    },
  };
  pump();
  return worker;
}
