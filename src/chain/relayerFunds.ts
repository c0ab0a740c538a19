/**
 * The money side of a relayer pool that spends the user's own keys (relay mode `keys`): each key's
 * balance, read every few seconds, less what its transactions in flight may still cost (gas limit
 * × maxFeePerGas, an upper bound); a total spend cap; and one clear stop when the keys run dry.
 *
 * "Spent" is the sum of balance drops since the pool started plus the in-flight upper bound, so
 * the cap holds even before a receipt says what a transaction really cost.
 */
import { formatEther, type Address, type Hex } from 'viem';
import type { Logger } from 'pino';
import { InfrastructureError, VanaLoadError } from '../errors.ts';
import type { JsonRpc } from './jsonRpc.ts';

export interface RelayerFunds {
  /** Whether `address` can pay `costWei` more on top of `committedWei` (its txs in flight). */
  affordable(address: Address, costWei: bigint, committedWei: bigint): boolean;
  /**
   * Called when no relayer can pay `costWei` now. Throws the pool's stop (`RELAYER_KEYS_DRY`) when
   * none could even once its txs in flight are mined, else a transient error for this submission.
   */
  refuse(costWei: bigint, committed: ReadonlyMap<Address, bigint>): never;
  /** Throws `RELAYER_SPEND_CAP` (and stops the pool) when `costWei` more would pass the cap. */
  checkCap(costWei: bigint, committedWei: bigint): void;
  /** The stop, once it happened: every later submission fails with it. */
  readonly exhausted: InfrastructureError | undefined;
  balance(address: Address): bigint | undefined;
  /** Balance drops since the start, wei. */
  spentWei(): bigint;
  refresh(): Promise<void>;
  stop(): void;
}

export interface CreateRelayerFundsParameters {
  rpc: JsonRpc;
  addresses: readonly Address[];
  checkIntervalMs?: number;
  maxSpendWei?: bigint;
  onExhausted?: (error: InfrastructureError) => void;
  logger: Logger;
}

const eth = (wei: bigint): string => `${formatEther(wei)} ETH`;

/**
 * Reads every balance once, then every `checkIntervalMs`.
 *
 * @example
 * const funds = await createRelayerFunds({ rpc, addresses, maxSpendWei: parseEther('1'), logger });
 */
export async function createRelayerFunds({ rpc, addresses, checkIntervalMs = 5_000, maxSpendWei, onExhausted, logger }: CreateRelayerFundsParameters): Promise<RelayerFunds> {
  const balances = new Map<Address, bigint>();
  const read = async (): Promise<void> => {
    const values = await Promise.all(addresses.map(async (a) => BigInt(await rpc.request<Hex>('eth_getBalance', [a, 'latest']))));
    addresses.forEach((a, i) => balances.set(a, values[i]!));
  };
  await read();
  const initial = new Map(balances);
  let exhausted: InfrastructureError | undefined;

  const stopWith = (error: InfrastructureError): never => {
    if (exhausted === undefined) {
      exhausted = error;
      logger.error({ code: error.code }, error.shortMessage);
      onExhausted?.(error);
    }
    throw exhausted;
  };

  let refreshing: Promise<void> | undefined;
  const refresh = (): Promise<void> =>
    (refreshing ??= read()
      .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'relayer balance refresh failed; keeping the last balances'))
      .finally(() => {
        refreshing = undefined;
      }));
  const timer = setInterval(() => void refresh(), checkIntervalMs);
  timer.unref();

  const spentWei = (): bigint => {
    let spent = 0n;
    for (const [address, start] of initial) {
      const now = balances.get(address) ?? start;
      if (start > now) spent += start - now;
    }
    return spent;
  };

  return {
    get exhausted() {
      return exhausted;
    },
    affordable(address, costWei, committedWei) {
      return (balances.get(address) ?? 0n) >= committedWei + costWei;
    },
    refuse(costWei, committed) {
      if (exhausted) throw exhausted;
      const dry = addresses.filter((a) => (balances.get(a) ?? 0n) < costWei);
      if (dry.length === addresses.length) {
        stopWith(
          new InfrastructureError(`Relayer keys ran dry: none can pay for one more transaction (up to ${eth(costWei)} each)`, {
            code: 'RELAYER_KEYS_DRY',
            metaMessages: [
              ...addresses.map((a) => `${a}: balance ${eth(balances.get(a) ?? 0n)}, needs ${eth(costWei - (balances.get(a) ?? 0n))} more`),
              'Fund the keys of VANA_RELAYER_PRIVATE_KEYS, add keys, or lower VANA_MAX_FEE_PER_GAS.',
            ],
          }),
        );
      }
      const inFlight = [...committed.values()].reduce((sum, c) => sum + c, 0n);
      throw new VanaLoadError(`every relayer key's balance is committed to ${eth(inFlight)} of transactions in flight; none can pay ${eth(costWei)} more now`, {
        code: 'RELAYER_FUNDS_COMMITTED',
        errorClass: 'other',
        step: 'relay',
      });
    },
    checkCap(costWei, committedWei) {
      if (exhausted) throw exhausted;
      if (maxSpendWei === undefined) return;
      const total = spentWei() + committedWei;
      if (total + costWei > maxSpendWei) {
        stopWith(
          new InfrastructureError(`Relayer spend cap reached: ${eth(total)} spent or committed, the cap VANA_MAX_SPEND (--max-spend) is ${eth(maxSpendWei)}`, {
            code: 'RELAYER_SPEND_CAP',
            metaMessages: ['Raise VANA_MAX_SPEND to let the run go on, or run fewer flows.'],
          }),
        );
      }
    },
    balance: (address) => balances.get(address),
    spentWei,
    refresh,
    stop: () => clearInterval(timer),
  };
}
