/**
 * Sends BatchFunder transactions from one funder: many wallets per transaction, pipelined.
 *
 * Nonces are counted locally, so a batch is sign → `eth_sendRawTransaction` and the next one never
 * waits for a receipt; sends are serialized so the node sees the nonces in order. A nonce rejection
 * (another process used the funder) resyncs the counter from the chain and re-signs.
 *
 * Gas limits come from a linear model of the batch size fitted to `eth_estimateGas` of two batches of
 * never-used addresses (the dearest recipient: the transfer creates the account), so the cost of
 * every batch is known before the first one is sent, which is what the max-spend check needs.
 */
import {
  BaseError,
  encodeFunctionData,
  keccak256,
  toHex,
  type Address,
  type Hex,
  type LocalAccount,
  type PublicClient,
} from 'viem';
import { batchFunderAbi } from '../protocol/abis.ts';
import { ConfigError, InfrastructureError, VanaLoadError } from '../errors.ts';
import { cachedFeesPerGas, formatNative, type FeesPerGas } from './walletChain.ts';

/** EIP-7825 (Osaka) caps a transaction at 2^24 gas; staying below it keeps batches portable. */
export const TX_GAS_CAP = 16_777_216n;
/** Headroom of a gas limit over the fitted model. */
const GAS_MARGIN_PERCENT = 110n;
const NONCE_ERROR = /nonce too low|nonce too high|invalid nonce|replacement transaction underpriced|transaction already imported/i;
const ALREADY_KNOWN = /already known/i;
const SEND_ATTEMPTS = 3;
/**
 * Size of the larger probe batch. The cost is linear in the batch size (calldata arrays are not
 * copied), so the line through batches of 1 and 16 predicts a batch of 400 within 0.2% (anvil:
 * `fund` 14,047,410 predicted vs 14,046,990 estimated, `fundAmounts` 14,211,798 vs 14,193,343);
 * small probes keep start-up fast.
 */
const PROBE_SIZE = 16;

export interface CreateBatchFundingSenderParameters {
  chainId: number;
  funder: LocalAccount;
  /** Address of a deployed `contracts/BatchFunder.sol`. */
  batchFunder: Address;
  /** The largest batch that will be sent; refused when its gas would not fit one transaction. */
  batchSize: number;
  /** Refuse a send that would take the total (sent + confirmed, gas included) above this. */
  budgetWei?: bigint;
  /** Wait for one receipt at most this long, ms. Default 120_000. */
  receiptTimeoutMs?: number;
  /** Fees are re-read at most this often, ms. Default 1_000. */
  feeRefreshMs?: number;
}

/** Recipients of one transaction and what each gets. */
export interface FundingBatch {
  recipients: readonly Address[];
  amounts: readonly bigint[];
}

export interface SentBatch {
  hash: Hex;
  nonce: number;
  recipients: readonly Address[];
  valueWei: bigint;
  gasLimit: bigint;
  maxFeePerGas: bigint;
  /** `Date.now()` when the node accepted it. */
  sentAt: number;
}

export interface ConfirmedBatch extends SentBatch {
  status: 'success' | 'reverted';
  gasUsed: bigint;
  /** What the funder paid: gas used × effective gas price, plus the value when it succeeded. */
  costWei: bigint;
  blockNumber: bigint;
  /** `Date.now()` when the receipt was seen. */
  confirmedAt: number;
}

export interface BatchFundingSender {
  readonly funder: Address;
  /** The largest batch whose gas fits `min(block gas limit, 2^24)`. */
  readonly maxBatchSize: number;
  /** Gas limit this sender gives a batch of `recipients` wallets. */
  gasLimitFor(recipients: number, uniformAmounts?: boolean): bigint;
  /** Current fees (cached for `feeRefreshMs`). */
  fees(): Promise<FeesPerGas>;
  send(batch: FundingBatch): Promise<SentBatch>;
  /** Waits for the receipt; a revert is returned as `status: 'reverted'`, not thrown. */
  confirm(sent: SentBatch): Promise<ConfirmedBatch>;
  /** Confirmed cost plus the worst-case cost of batches still in flight. */
  committedWei(): bigint;
}

interface GasModel {
  base: bigint;
  perRecipient: bigint;
}

function probeAddresses(n: number): Address[] {
  return Array.from({ length: n }, (_, i) => keccak256(toHex(`vana-load gas probe ${i}`)).slice(0, 42) as Address);
}

function encodeBatch({ recipients, amounts }: FundingBatch): { data: Hex; uniform: boolean } {
  const first = amounts[0] ?? 0n;
  const uniform = amounts.every((a) => a === first);
  const data = uniform
    ? encodeFunctionData({ abi: batchFunderAbi, functionName: 'fund', args: [[...recipients], first] })
    : encodeFunctionData({ abi: batchFunderAbi, functionName: 'fundAmounts', args: [[...recipients], [...amounts]] });
  return { data, uniform };
}

/**
 * Checks the BatchFunder contract, fits the gas model and reads the funder's nonce, then returns a
 * sender. Throws a `ConfigError` when `batchSize` does not fit one transaction (naming the largest
 * that does) or when there is no contract at `batchFunder`.
 *
 * @example
 * const sender = await createBatchFundingSender(client, { chainId, funder, batchFunder, batchSize: 400 });
 * const sent = await sender.send({ recipients, amounts: recipients.map(() => parseEther('0.01')) });
 * const { status } = await sender.confirm(sent);
 */
export async function createBatchFundingSender(
  client: PublicClient,
  { chainId, funder, batchFunder, batchSize, budgetWei, receiptTimeoutMs = 120_000, feeRefreshMs = 1_000 }: CreateBatchFundingSenderParameters,
): Promise<BatchFundingSender> {
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new ConfigError(`Expected a batch size >= 1, got ${batchSize}`);
  const estimate = async (n: number, uniform: boolean): Promise<bigint> => {
    const recipients = probeAddresses(n);
    const { data } = encodeBatch({ recipients, amounts: recipients.map((_, i) => (uniform ? 1n : BigInt(i + 1))) });
    const value = uniform ? BigInt(n) : (BigInt(n) * BigInt(n + 1)) / 2n;
    try {
      return await client.estimateGas({ account: funder.address, to: batchFunder, data, value });
    } catch (cause) {
      throw new VanaLoadError(`Could not estimate the gas of a BatchFunder batch of ${n} at ${batchFunder}`, {
        code: 'BATCH_FUNDER_ESTIMATE_FAILED',
        cause,
        metaMessages: [`funder: ${funder.address}`, `chain: ${chainId}`],
      });
    }
  };
  const [code, block, uniformSmall, uniformLarge, mixedSmall, mixedLarge, startNonce] = await Promise.all([
    client.getCode({ address: batchFunder }),
    client.getBlock(),
    // A call to an account without code succeeds too: the code check below decides.
    estimate(1, true),
    estimate(PROBE_SIZE, true),
    estimate(1, false),
    estimate(PROBE_SIZE, false),
    client.getTransactionCount({ address: funder.address, blockTag: 'pending' }),
  ]);
  if (code === undefined || code === '0x') {
    throw new ConfigError(`No BatchFunder contract at ${batchFunder} on chain ${chainId}`, {
      code: 'BATCH_FUNDER_MISSING',
      metaMessages: ['The local stack deploys one (manifest contracts.batchFunder); a remote chain needs VANA_BATCH_FUNDER_ADDRESS.'],
    });
  }
  const fit = (small: bigint, big: bigint): GasModel => {
    const perRecipient = (big - small + BigInt(PROBE_SIZE - 2)) / BigInt(PROBE_SIZE - 1);
    return { base: small - perRecipient, perRecipient };
  };
  const models = { uniform: fit(uniformSmall, uniformLarge), mixed: fit(mixedSmall, mixedLarge) };
  const gasLimitFor = (recipients: number, uniformAmounts = false): bigint => {
    const { base, perRecipient } = uniformAmounts ? models.uniform : models.mixed;
    return ((base + perRecipient * BigInt(recipients)) * GAS_MARGIN_PERCENT + 99n) / 100n;
  };
  const cap = block.gasLimit < TX_GAS_CAP ? block.gasLimit : TX_GAS_CAP;
  // The dearer encoding (per-wallet amounts) decides, so any batch of this size fits.
  const { base, perRecipient } = models.mixed;
  const maxBatchSize = Number(((cap * 100n) / GAS_MARGIN_PERCENT - base) / perRecipient);
  if (batchSize > maxBatchSize) {
    throw new ConfigError(`Expected a funding batch size of at most ${maxBatchSize} on this chain, got ${batchSize}`, {
      code: 'BATCH_TOO_LARGE',
      metaMessages: [
        `gas of a batch of ${batchSize}: ${gasLimitFor(batchSize)} (limit ${cap} = min(block gas limit ${block.gasLimit}, EIP-7825 cap ${TX_GAS_CAP}))`,
      ],
    });
  }

  let nonce = startNonce;
  let queue: Promise<unknown> = Promise.resolve();
  let committed = 0n;
  const fees = cachedFeesPerGas(client, feeRefreshMs);

  const sendNow = async (batch: FundingBatch): Promise<SentBatch> => {
    if (batch.recipients.length === 0 || batch.recipients.length !== batch.amounts.length) {
      throw new RangeError(`Expected 1..${batchSize} recipients with one amount each, got ${batch.recipients.length} and ${batch.amounts.length}`);
    }
    const { data, uniform } = encodeBatch(batch);
    const valueWei = batch.amounts.reduce((sum, a) => sum + a, 0n);
    const gasLimit = gasLimitFor(batch.recipients.length, uniform);
    const { maxFeePerGas, maxPriorityFeePerGas } = await fees();
    const worstCase = valueWei + gasLimit * maxFeePerGas;
    if (budgetWei !== undefined && committed + worstCase > budgetWei) {
      throw new ConfigError(
        `Funding ${batch.recipients.length} more wallets would exceed --max-spend ${formatNative(budgetWei, chainId)}: ${formatNative(committed, chainId)} spent or in flight, this batch up to ${formatNative(worstCase, chainId)}`,
        { code: 'MAX_SPEND_EXCEEDED' },
      );
    }
    for (let attempt = 1; ; attempt++) {
      const raw = await funder.signTransaction({
        type: 'eip1559',
        chainId,
        nonce,
        to: batchFunder,
        data,
        value: valueWei,
        gas: gasLimit,
        maxFeePerGas,
        maxPriorityFeePerGas,
      });
      let hash: Hex;
      try {
        hash = await client.sendRawTransaction({ serializedTransaction: raw });
      } catch (err) {
        const detail = err instanceof BaseError ? err.details || err.shortMessage : String(err);
        if (ALREADY_KNOWN.test(detail)) {
          hash = keccak256(raw);
        } else if (NONCE_ERROR.test(detail) && attempt < SEND_ATTEMPTS) {
          nonce = await client.getTransactionCount({ address: funder.address, blockTag: 'pending' });
          continue;
        } else {
          throw new VanaLoadError(`Sending a funding batch of ${batch.recipients.length} wallets failed: ${detail}`, {
            code: 'FUNDING_SEND_FAILED',
            errorClass: NONCE_ERROR.test(detail) ? 'nonce' : 'other',
            metaMessages: [`funder: ${funder.address}`, `nonce: ${nonce}`, `contract: ${batchFunder}`],
            cause: err,
          });
        }
      }
      committed += worstCase;
      return { hash, nonce: nonce++, recipients: batch.recipients, valueWei, gasLimit, maxFeePerGas, sentAt: Date.now() };
    }
  };

  return {
    funder: funder.address,
    maxBatchSize,
    gasLimitFor,
    fees,
    send(batch) {
      const sent = queue.then(() => sendNow(batch));
      queue = sent.catch(() => undefined);
      return sent;
    },
    async confirm(sent) {
      let receipt;
      try {
        receipt = await client.waitForTransactionReceipt({ hash: sent.hash, timeout: receiptTimeoutMs });
      } catch (cause) {
        throw new InfrastructureError(`No receipt for funding transaction ${sent.hash} within ${receiptTimeoutMs} ms`, {
          code: 'FUNDING_RECEIPT_TIMEOUT',
          errorClass: 'timeout',
          metaMessages: [`funder: ${funder.address}`, `nonce: ${sent.nonce}`],
          cause,
        });
      }
      const status = receipt.status;
      const costWei = receipt.gasUsed * receipt.effectiveGasPrice + (status === 'success' ? sent.valueWei : 0n);
      committed += costWei - (sent.valueWei + sent.gasLimit * sent.maxFeePerGas);
      return { ...sent, status, gasUsed: receipt.gasUsed, costWei, blockNumber: receipt.blockNumber, confirmedAt: Date.now() };
    },
    committedWei: () => committed,
  };
}
