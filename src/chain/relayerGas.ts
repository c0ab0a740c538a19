/**
 * What the relayer pool pays: the fee estimate every new tx is signed with (refreshed on a timer,
 * capped by the user's limits) and the gas limit of a call (estimated per call, or per call shape
 * and reused; see `GasLimitMode`).
 */
import { formatGwei, type Address, type Hex } from 'viem';
import type { Logger } from 'pino';
import { VanaLoadError } from '../errors.ts';
import type { JsonRpc } from './jsonRpc.ts';
import type { Fees } from './relayerAccount.ts';
import type { GasLimitMode, RelayerCall, RelayerPoolGasOptions } from './relayerPoolTypes.ts';
import { classifySendError, errorText, revertDataOf, toPoolError, toRevertError } from './sendErrors.ts';

export interface RelayerGas {
  readonly mode: GasLimitMode;
  /** The fees a new tx is signed with now. */
  readonly fees: Fees;
  /** Base fee of the latest block, as last read with the fees. */
  readonly baseFee: bigint;
  /** Reads the fees again (one read at a time; callers share it). A failed read keeps the previous fees. */
  refreshFees(): Promise<void>;
  /** Throws (class `underpriced`) when the base fee leaves no room under the fee cap: such a tx would wait forever. */
  checkFeeCap(): void;
  /** The gas limit for `call`, sent from `from`; rejects with a `RelayerRevertError` when the estimate reverts. */
  gasLimitFor(call: RelayerCall, from: Address): Promise<bigint>;
  /** Reads the latest block's base fee. */
  baseFeeNow(): Promise<bigint>;
  readonly gasEstimates: number;
  /** Stops the refresh timer and waits for a read in progress. */
  stop(): Promise<void>;
}

export interface CreateRelayerGasParameters {
  rpc: JsonRpc;
  rpcUrl: string;
  options: RelayerPoolGasOptions;
  log: Logger;
}

const capped = (value: bigint, cap: bigint | undefined) => (cap !== undefined && value > cap ? cap : value);

/**
 * Reads the first fee estimate and starts its refresh timer.
 *
 * @example
 * const gas = await createRelayerGas({ rpc, rpcUrl, options: { mode: 'cached' }, log });
 * const limit = await gas.gasLimitFor({ to, data }, relayer);
 */
export async function createRelayerGas({ rpc, rpcUrl, options, log }: CreateRelayerGasParameters): Promise<RelayerGas> {
  const {
    mode = 'cached',
    headroomPercent = mode === 'estimate' ? 120 : 160,
    maxGasLimit = 5_000_000n,
    feeRefreshMs = 2_000,
    shapeTtlMs = 60_000,
    maxFeePerGasCap,
    maxPriorityFeePerGasCap,
  } = options;
  const shapes = new Map<string, { gas: bigint; at: number }>();
  const estimating = new Map<string, Promise<bigint>>();
  let gasEstimates = 0;
  let baseFee = 0n;

  const baseFeeNow = async () => BigInt((await rpc.request<{ baseFeePerGas?: Hex } | null>('eth_getBlockByNumber', ['latest', false]))?.baseFeePerGas ?? '0x0');

  async function fetchFees(): Promise<Fees> {
    const [base, tip] = await Promise.all([baseFeeNow(), rpc.request<Hex>('eth_maxPriorityFeePerGas').catch(() => '0x0' as Hex)]);
    baseFee = base;
    const maxPriorityFeePerGas = capped(BigInt(tip), maxPriorityFeePerGasCap);
    // 2 × base fee absorbs six full blocks of base-fee growth before a cached estimate goes stale.
    return { maxFeePerGas: capped(base * 2n + maxPriorityFeePerGas, maxFeePerGasCap), maxPriorityFeePerGas };
  }

  let fees = await fetchFees();
  let refreshing: Promise<void> | undefined;
  function refreshFees(): Promise<void> {
    refreshing ??= fetchFees()
      .then((next) => {
        fees = next;
      })
      .catch((err: unknown) => log.warn({ err: errorText(err) }, 'fee refresh failed; keeping the previous estimate'))
      .finally(() => {
        refreshing = undefined;
      });
    return refreshing;
  }

  async function estimate(call: RelayerCall, from: Address): Promise<bigint> {
    gasEstimates++;
    try {
      return BigInt(await rpc.request<Hex>('eth_estimateGas', [{ from, to: call.to, data: call.data }, 'latest']));
    } catch (err) {
      if (classifySendError(err) === 'revert' || revertDataOf(err) !== undefined) throw toRevertError(err, call.abi);
      throw toPoolError(err, 'estimating gas', rpcUrl);
    }
  }

  const withHeadroom = (g: bigint) => {
    const limit = (g * BigInt(headroomPercent)) / 100n;
    return limit > maxGasLimit ? maxGasLimit : limit;
  };

  async function gasLimitFor(call: RelayerCall, from: Address): Promise<bigint> {
    if (mode === 'estimate') return withHeadroom(await estimate(call, from));
    // 64-byte buckets: two storage words of string, ~44k gas, is all one bucket can differ by.
    const shape = call.shape ?? `${call.data.slice(0, 10)}:${Math.ceil(call.data.length / 128)}`;
    const cached = shapes.get(shape);
    if (cached && Date.now() - cached.at < shapeTtlMs) return cached.gas;
    const running = estimating.get(shape);
    if (running) {
      try {
        return await running;
      } catch {
        // That call reverted; it says nothing about ours, so estimate ours.
      }
    }
    const estimated = estimate(call, from).then(withHeadroom);
    estimating.set(shape, estimated);
    try {
      const gas = await estimated;
      // Keep the larger limit: a first-time user of a shape costs more than a repeat one.
      const previous = shapes.get(shape)?.gas ?? 0n;
      const keep = previous > gas ? previous : gas;
      shapes.set(shape, { gas: keep, at: Date.now() });
      return keep;
    } finally {
      if (estimating.get(shape) === estimated) estimating.delete(shape);
    }
  }

  const timer = setInterval(() => void refreshFees(), feeRefreshMs);
  timer.unref();

  return {
    mode,
    get fees() {
      return fees;
    },
    get baseFee() {
      return baseFee;
    },
    get gasEstimates() {
      return gasEstimates;
    },
    refreshFees,
    checkFeeCap() {
      if (maxFeePerGasCap === undefined || baseFee + fees.maxPriorityFeePerGas <= maxFeePerGasCap) return;
      throw new VanaLoadError(`Relayer fee cap too low: base fee ${formatGwei(baseFee)} gwei + tip is above the cap VANA_MAX_FEE_PER_GAS of ${formatGwei(maxFeePerGasCap)} gwei`, {
        code: 'RELAYER_FEE_CAP',
        errorClass: 'underpriced',
        step: 'relay',
      });
    },
    gasLimitFor,
    baseFeeNow,
    async stop() {
      clearInterval(timer);
      await refreshing;
    },
  };
}
