/**
 * Sweeping the virtual users' wallets: what is left in each goes back to the funder, a plain
 * transfer per wallet, many wallets at a time.
 */
import pLimit from 'p-limit';
import type { Address } from 'viem';
import { ConfigError } from '../errors.ts';
import type { HdWallets } from './hdWallets.ts';
import { cachedFeesPerGas, connectWalletChain } from './walletChain.ts';
import { checkPositiveInteger, checkRange, indexRange } from './walletRange.ts';

export interface SweepProgress {
  done: number;
  total: number;
  swept: number;
  skipped: number;
  elapsedMs: number;
}

export interface SweepWalletsParameters {
  rpcUrl: string;
  chainId: number;
  wallets: HdWallets;
  from?: number;
  count: number;
  /** Where the funds go: the funder. Must be an account, not a contract (a plain transfer's gas). */
  to: Address;
  allowMainnet?: boolean;
  /** Wallets swept at the same time. Default 100. */
  concurrency?: number;
  onProgress?: (progress: SweepProgress) => void;
  receiptTimeoutMs?: number;
  /** Wallets not started yet are left alone; the result counts what was done. */
  signal?: AbortSignal;
}

export interface SweepWalletsReturnType {
  swept: number;
  /** Wallets whose balance would not pay the transfer's gas. */
  skipped: number;
  failed: Array<{ index: number; address: Address; message: string }>;
  /** Value that arrived at `to`. */
  returnedWei: bigint;
  feesWei: bigint;
  elapsedMs: number;
}

const TRANSFER_GAS = 21_000n;

/**
 * Sends each wallet's balance minus the transfer's worst-case gas to `to`, `concurrency` wallets at
 * a time; empty wallets are skipped. What stays behind is the gas price's headroom (21,000 × base
 * fee), dust. A wallet that fails is reported in `failed`, not thrown, so one bad wallet does not
 * stop the sweep of the others.
 *
 * @example
 * const { returnedWei } = await sweepWallets({ rpcUrl, chainId, wallets, count: 1000, to: funder.address });
 */
export async function sweepWallets({
  rpcUrl,
  chainId,
  wallets,
  from = 0,
  count,
  to,
  allowMainnet = false,
  concurrency = 100,
  onProgress,
  receiptTimeoutMs = 120_000,
  signal,
}: SweepWalletsParameters): Promise<SweepWalletsReturnType> {
  const started = performance.now();
  checkRange(from, count);
  checkPositiveInteger('a concurrency', concurrency);
  const client = await connectWalletChain({ rpcUrl, chainId, sends: true, allowMainnet });
  const code = await client.getCode({ address: to });
  if (code !== undefined && code !== '0x') {
    throw new ConfigError(`Expected the sweep target ${to} to be an account, got a contract`, { code: 'SWEEP_TARGET_CONTRACT' });
  }
  const fees = cachedFeesPerGas(client, 1_000);
  const result: SweepWalletsReturnType = { swept: 0, skipped: 0, failed: [], returnedWei: 0n, feesWei: 0n, elapsedMs: 0 };
  let done = 0;
  const progress = (): void => {
    done++;
    onProgress?.({ done, total: count, swept: result.swept, skipped: result.skipped, elapsedMs: performance.now() - started });
  };

  const sweepOne = async (index: number): Promise<void> => {
    if (signal?.aborted) return;
    const account = wallets.deriveAccount(index);
    try {
      const [balance, nonce, { maxFeePerGas, maxPriorityFeePerGas }] = await Promise.all([
        client.getBalance({ address: account.address }),
        client.getTransactionCount({ address: account.address, blockTag: 'pending' }),
        fees(),
      ]);
      const value = balance - TRANSFER_GAS * maxFeePerGas;
      if (value <= 0n) {
        result.skipped++;
        return;
      }
      const raw = await account.signTransaction({ type: 'eip1559', chainId, nonce, to, value, gas: TRANSFER_GAS, maxFeePerGas, maxPriorityFeePerGas });
      const hash = await client.sendRawTransaction({ serializedTransaction: raw });
      const receipt = await client.waitForTransactionReceipt({ hash, timeout: receiptTimeoutMs });
      result.feesWei += receipt.gasUsed * receipt.effectiveGasPrice;
      if (receipt.status !== 'success') throw new Error(`transfer ${hash} reverted`);
      result.swept++;
      result.returnedWei += value;
    } catch (err) {
      result.failed.push({ index, address: account.address, message: (err as Error).message.split('\n')[0] ?? String(err) });
    } finally {
      progress();
    }
  };
  const limit = pLimit(concurrency);
  await Promise.all(indexRange(from, count).map((index) => limit(() => sweepOne(index))));
  result.elapsedMs = performance.now() - started;
  return result;
}
