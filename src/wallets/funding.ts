/**
 * Funding and validating the virtual users' HD wallets (ARCHITECTURE.md 4): funding goes through
 * the BatchFunder contract (many wallets per transaction, pipelined), validation reads all balances
 * in batched JSON-RPC requests. Sweeping them back is sweepWallets.ts.
 */
import type { Address, LocalAccount } from 'viem';
import type { Logger } from 'pino';
import { ConfigError, VanaLoadError, type VanaLoadErrorParameters } from '../errors.ts';
import { silentLogger } from '../logger.ts';
import { createBatchFundingSender, type ConfirmedBatch, type SentBatch } from './batchFundingSender.ts';
import type { HdWallets } from './hdWallets.ts';
import { connectWalletChain, formatNative } from './walletChain.ts';
import { checkPositiveInteger, checkRange, indexRange } from './walletRange.ts';

/**
 * Default wallets per funding transaction: ~14.1M gas, the largest round size under EIP-7825's
 * 16.8M per-transaction cap with the 10% gas headroom (the local 100M-gas block fits 2,850).
 */
export const DEFAULT_FUNDING_BATCH_SIZE = 400;

export interface FundingProgress {
  funded: number;
  /** Wallets to fund (already funded ones in top-up mode count as done at the end). */
  total: number;
  /** Funding transactions confirmed so far. */
  txs: number;
  elapsedMs: number;
}

export interface FundWalletsParameters {
  rpcUrl: string;
  chainId: number;
  funder: LocalAccount;
  /** Address of the deployed BatchFunder contract. */
  batchFunder: Address;
  wallets: Pick<HdWallets, 'deriveAddress'>;
  /** First wallet index. Default 0. */
  from?: number;
  count: number;
  /** What each wallet gets (or, with `topUp`, is brought up to). */
  amountWei: bigint;
  /** Wallets per transaction. Default {@link DEFAULT_FUNDING_BATCH_SIZE}. */
  batchSize?: number;
  /** Transactions sent and not yet confirmed, at most. Default 16. */
  maxInFlight?: number;
  /** Refuse, before sending anything, when value plus worst-case gas exceeds this. Unset = no cap. */
  maxSpendWei?: bigint;
  /** Known mainnets (isKnownMainnet) are refused unless true. */
  allowMainnet?: boolean;
  /** Send each wallet only what it lacks to reach `amountWei`, so funding twice sends nothing. */
  topUp?: boolean;
  onProgress?: (progress: FundingProgress) => void;
  receiptTimeoutMs?: number;
  /** Stops sending further batches; batches already sent are still awaited, then a `FundingError` (FUNDING_ABORTED) is thrown. */
  signal?: AbortSignal;
  logger?: Logger;
}

export interface FundingTx {
  hash: `0x${string}`;
  wallets: number;
  gasLimit: bigint;
  gasUsed: bigint;
  status: 'success' | 'reverted';
}

export interface FundWalletsReturnType {
  /** Wallets that received funds. */
  funded: number;
  /** Wallets already holding `amountWei` (top-up mode). */
  skipped: number;
  txs: FundingTx[];
  /** Value sent to wallets. */
  valueWei: bigint;
  /** Gas paid by the funder. */
  feesWei: bigint;
  elapsedMs: number;
}

/** A funding run that failed part-way: `result` says what did land. */
export class FundingError extends VanaLoadError {
  override name = 'FundingError';
  readonly result: FundWalletsReturnType;
  constructor(shortMessage: string, result: FundWalletsReturnType, params: VanaLoadErrorParameters) {
    super(shortMessage, params);
    this.result = result;
  }
}

/**
 * Funds wallets `from..from+count-1` with `amountWei` each through the BatchFunder contract:
 * `batchSize` wallets per transaction, up to `maxInFlight` transactions sent before their receipts
 * (locally counted nonces), then all receipts awaited. Refuses before sending anything: a known
 * mainnet unless `allowMainnet`, a total of `count × amountWei` plus worst-case gas above
 * `maxSpendWei`, a funder that cannot pay it. Throws a `FundingError` carrying the partial result
 * when a batch reverts or is not confirmed.
 *
 * @example
 * const { funded, txs } = await fundWallets({
 *   rpcUrl, chainId: 31337, funder: deployerAccount(), batchFunder: manifest.contracts.batchFunder,
 *   wallets: createHdWallets(file.mnemonic), count: 1000, amountWei: parseEther('0.01'),
 *   onProgress: (p) => print(`funded ${p.funded}/${p.total}`),
 * });
 */
export async function fundWallets({
  rpcUrl,
  chainId,
  funder,
  batchFunder,
  wallets,
  from = 0,
  count,
  amountWei,
  batchSize = DEFAULT_FUNDING_BATCH_SIZE,
  maxInFlight = 16,
  maxSpendWei,
  allowMainnet = false,
  topUp = false,
  onProgress,
  receiptTimeoutMs = 120_000,
  signal,
  logger = silentLogger(),
}: FundWalletsParameters): Promise<FundWalletsReturnType> {
  const started = performance.now();
  checkRange(from, count);
  checkPositiveInteger('a batch size', batchSize);
  checkPositiveInteger('maxInFlight', maxInFlight);
  if (amountWei <= 0n) throw new ConfigError(`Expected a funding amount > 0, got ${amountWei} wei`);

  const client = await connectWalletChain({ rpcUrl, chainId, sends: true, allowMainnet });
  const sender = await createBatchFundingSender(client, {
    chainId,
    funder,
    batchFunder,
    batchSize: Math.min(batchSize, count),
    receiptTimeoutMs,
    ...(maxSpendWei === undefined ? {} : { budgetWei: maxSpendWei }),
  });

  // Worst case (every wallet needs the full amount), known before any address is derived.
  const batchCounts = Array.from({ length: Math.ceil(count / batchSize) }, (_, b) => Math.min(batchSize, count - b * batchSize));
  const [{ maxFeePerGas }, funderBalance] = await Promise.all([sender.fees(), client.getBalance({ address: funder.address })]);
  const valueBound = amountWei * BigInt(count);
  // Top-up amounts differ per wallet: that encoding's gas is the bound.
  const gasBound = batchCounts.reduce((sum, n) => sum + sender.gasLimitFor(n, !topUp), 0n) * maxFeePerGas;
  const total = valueBound + gasBound;
  const native = (wei: bigint): string => formatNative(wei, chainId);
  const spendLine = `${count} wallets × ${native(amountWei)} = ${native(valueBound)} plus up to ${native(gasBound)} gas = ${native(total)}`;
  if (maxSpendWei !== undefined && total > maxSpendWei) {
    throw new ConfigError(`Funding ${spendLine} exceeds --max-spend ${native(maxSpendWei)}; nothing was sent`, {
      code: 'MAX_SPEND_EXCEEDED',
      metaMessages: [`fix: raise --max-spend (VANA_MAX_SPEND) to at least ${native(total)}, or fund fewer wallets or a smaller --amount`],
    });
  }
  if (funderBalance < total) {
    throw new ConfigError(`Funder ${funder.address} holds ${native(funderBalance)}, less than funding ${spendLine}; nothing was sent`, {
      code: 'FUNDER_INSUFFICIENT_FUNDS',
    });
  }

  const result: FundWalletsReturnType = { funded: 0, skipped: 0, txs: [], valueWei: 0n, feesWei: 0n, elapsedMs: 0 };
  const failures: string[] = [];
  const confirm = async (sent: SentBatch): Promise<void> => {
    let confirmed: ConfirmedBatch;
    try {
      confirmed = await sender.confirm(sent);
    } catch (err) {
      failures.push(`${sent.hash}: ${(err as Error).message.split('\n')[0]}`);
      return;
    }
    const { hash, gasLimit, gasUsed, status, costWei, valueWei } = confirmed;
    result.txs.push({ hash, wallets: sent.recipients.length, gasLimit, gasUsed, status });
    if (status === 'success') {
      result.funded += sent.recipients.length;
      result.valueWei += valueWei;
      result.feesWei += costWei - valueWei;
      onProgress?.({ funded: result.funded, total: count, txs: result.txs.length, elapsedMs: performance.now() - started });
    } else {
      result.feesWei += costWei;
      failures.push(`${hash}: reverted`);
    }
  };

  const inFlight = new Set<Promise<void>>();
  try {
    for (const [b, n] of batchCounts.entries()) {
      if (signal?.aborted || failures.length > 0) break;
      const indices = indexRange(from + b * batchSize, n);
      const recipients = indices.map((i) => wallets.deriveAddress(i));
      let amounts = recipients.map(() => amountWei);
      if (topUp) {
        const balances = await Promise.all(recipients.map((address) => client.getBalance({ address })));
        amounts = balances.map((balance) => (balance < amountWei ? amountWei - balance : 0n));
      }
      const needy = recipients.flatMap((address, i) => (amounts[i]! > 0n ? [{ address, amount: amounts[i]! }] : []));
      result.skipped += n - needy.length;
      if (needy.length === 0) continue;
      while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
      const sent = await sender.send({ recipients: needy.map((w) => w.address), amounts: needy.map((w) => w.amount) });
      const done: Promise<void> = confirm(sent).finally(() => inFlight.delete(done));
      inFlight.add(done);
    }
  } finally {
    // Batches already sent land whatever happens next: wait for them so the result is complete.
    await Promise.all(inFlight);
  }
  result.elapsedMs = performance.now() - started;
  logger.child({ module: 'funding' }).info(
    { funded: result.funded, skipped: result.skipped, txs: result.txs.length, ms: Math.round(result.elapsedMs) },
    'wallets funded',
  );
  if (failures.length > 0) {
    throw new FundingError(`Funding failed: ${failures.length} batch(es) did not land; ${result.funded} of ${count} wallets funded`, result, {
      code: 'FUNDING_FAILED',
      metaMessages: failures.slice(0, 10),
    });
  }
  if (signal?.aborted) {
    throw new FundingError(`Funding aborted: ${result.funded} of ${count} wallets funded`, result, { code: 'FUNDING_ABORTED', cause: signal.reason });
  }
  return result;
}

export interface WalletBalance {
  index: number;
  address: Address;
  balanceWei: bigint;
}

export interface ValidateWalletsParameters {
  rpcUrl: string;
  chainId: number;
  wallets: Pick<HdWallets, 'deriveAddress'>;
  from?: number;
  count: number;
  /** A wallet counts as funded at or above this balance. */
  minBalanceWei: bigint;
  /** Balances read per JSON-RPC round. Default 1_000. */
  chunkSize?: number;
}

export interface ValidateWalletsReturnType {
  checked: number;
  funded: number;
  /** Wallets below `minBalanceWei`, in index order. */
  underfunded: WalletBalance[];
  totalWei: bigint;
  elapsedMs: number;
}

/**
 * Reads the balance of wallets `from..from+count-1` (batched `eth_getBalance`, one HTTP request
 * per 500) and lists those below `minBalanceWei`. Read-only: no mainnet guard.
 *
 * @example
 * const { underfunded } = await validateWallets({ rpcUrl, chainId, wallets, count: 1000, minBalanceWei: parseEther('0.01') });
 */
export async function validateWallets({
  rpcUrl,
  chainId,
  wallets,
  from = 0,
  count,
  minBalanceWei,
  chunkSize = 1_000,
}: ValidateWalletsParameters): Promise<ValidateWalletsReturnType> {
  const started = performance.now();
  checkRange(from, count);
  checkPositiveInteger('a chunk size', chunkSize);
  const client = await connectWalletChain({ rpcUrl, chainId, sends: false });
  const result: ValidateWalletsReturnType = { checked: 0, funded: 0, underfunded: [], totalWei: 0n, elapsedMs: 0 };
  for (let start = from; start < from + count; start += chunkSize) {
    const indices = indexRange(start, Math.min(chunkSize, from + count - start));
    const addresses = indices.map((i) => wallets.deriveAddress(i));
    const balances = await Promise.all(addresses.map((address) => client.getBalance({ address })));
    for (const [k, balanceWei] of balances.entries()) {
      result.checked++;
      result.totalWei += balanceWei;
      if (balanceWei >= minBalanceWei) result.funded++;
      else result.underfunded.push({ index: indices[k]!, address: addresses[k]!, balanceWei });
    }
  }
  result.elapsedMs = performance.now() - started;
  return result;
}
