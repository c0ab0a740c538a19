/**
 * One relayer as the pool tracks it (its nonce counter and its txs in flight), and the raw
 * transaction calls every part of the pool shares: sign, send, look up, read the chain's nonce.
 */
import { keccak256, type Address, type Hex, type LocalAccount } from 'viem';
import type { JsonRpc } from './jsonRpc.ts';

export interface Fees {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

export interface InflightTx {
  hash: Hex;
  raw: Hex;
  to: Address;
  data: Hex;
  gas: bigint;
  fees: Fees;
  sentAt: number;
  /** Filler self-transfer rather than a client's call. */
  filler: boolean;
  /** The client was told the send failed although the node may have taken it. */
  uncertain: boolean;
}

export interface RelayerAccount {
  account: LocalAccount;
  nextNonce: number;
  /** Chain nonce at `latest`, as last seen by the watcher. */
  minedNonce: number;
  /** When `minedNonce` last advanced (or the relayer was last repaired). */
  progressAt: number;
  inflight: Map<number, InflightTx>;
  sending: Set<number>;
  /** Tail of the queue that keeps first sends in nonce order. */
  sendTail: Promise<void>;
  submitted: number;
  /** Upper bound of what sends in progress may cost, wei (funds watching). */
  reservedWei: bigint;
}

/** Notes a tx the node accepted at `nonce` (replacing whatever was recorded there). */
export function recordInflight(r: RelayerAccount, nonce: number, tx: Omit<InflightTx, 'sentAt'>): void {
  r.inflight.set(nonce, { ...tx, sentAt: Date.now() });
}

/** What a relayer's txs in flight and sends in progress may still cost, wei. */
export function committedWei(r: RelayerAccount): bigint {
  let sum = r.reservedWei;
  for (const tx of r.inflight.values()) sum += tx.gas * tx.fees.maxFeePerGas;
  return sum;
}

export interface RelayerTransactions {
  signRaw(r: RelayerAccount, nonce: number, to: Address, data: Hex, gas: bigint, fees: Fees): Promise<Hex>;
  /** Signs and hashes: for the repair paths, which need the hash before the node answers. */
  sign(r: RelayerAccount, nonce: number, to: Address, data: Hex, gas: bigint, fees: Fees): Promise<{ raw: Hex; hash: Hex }>;
  /** Sends a signed tx; resolves to the hash the node answered (keccak of `raw`), when it is one. */
  sendRaw(raw: Hex): Promise<Hex | undefined>;
  /** Whether the node knows the tx (pending or mined); false when it cannot say. */
  txKnown(hash: Hex): Promise<boolean>;
  chainNonce(address: Address, tag: 'latest' | 'pending'): Promise<number>;
}

/**
 * The raw calls over one JSON-RPC connection, EIP-1559 transactions of `chainId`.
 *
 * @example
 * const txs = relayerTransactions(rpc, 1480);
 * const hash = await txs.sendRaw(await txs.signRaw(r, r.nextNonce++, to, data, gas, fees));
 */
export function relayerTransactions(rpc: JsonRpc, chainId: number): RelayerTransactions {
  const signRaw: RelayerTransactions['signRaw'] = (r, nonce, to, data, gas, fees) =>
    r.account.signTransaction({ type: 'eip1559', chainId, nonce, to, data, gas, value: 0n, maxFeePerGas: fees.maxFeePerGas, maxPriorityFeePerGas: fees.maxPriorityFeePerGas });
  return {
    signRaw,
    async sign(r, nonce, to, data, gas, fees) {
      const raw = await signRaw(r, nonce, to, data, gas, fees);
      return { raw, hash: keccak256(raw) };
    },
    async sendRaw(raw) {
      const answer = await rpc.request<unknown>('eth_sendRawTransaction', [raw]);
      return typeof answer === 'string' && /^0x[0-9a-fA-F]{64}$/.test(answer) ? (answer.toLowerCase() as Hex) : undefined;
    },
    async txKnown(hash) {
      try {
        return (await rpc.request<unknown>('eth_getTransactionByHash', [hash])) !== null;
      } catch {
        return false;
      }
    },
    async chainNonce(address, tag) {
      return Number(await rpc.request<Hex>('eth_getTransactionCount', [address, tag]));
    },
  };
}
