/**
 * How loaded the chain was over a capacity step, from two JSON-RPC reads: the block number before
 * the step, then `eth_feeHistory` over the blocks mined since (the newest 1024 at most: one call,
 * whatever the step's length). Gas used ÷ gas limit per block and the base fee before and after.
 */
import { createJsonRpc } from '../chain/jsonRpc.ts';
import type { ChainLoad } from './types.ts';

/** `eth_feeHistory` returns at most this many blocks per call on anvil and most nodes. */
export const MAX_FEE_HISTORY_BLOCKS = 1024;
const TIMEOUT_MS = 10_000;

interface FeeHistory {
  oldestBlock: string;
  baseFeePerGas: string[];
  gasUsedRatio: number[];
}

/** The newest block number of the chain at `rpcUrl`. */
export async function readBlockNumber(rpcUrl: string): Promise<bigint> {
  const rpc = createJsonRpc(rpcUrl, TIMEOUT_MS);
  try {
    return BigInt(await rpc.request<string>('eth_blockNumber'));
  } finally {
    rpc.close();
  }
}

/**
 * The chain's load over the blocks after `afterBlock`; an `{ note }` saying why when there is none
 * to tell (no block mined, or the node cannot answer `eth_feeHistory`). Never throws for the node's
 * answers: the chain is a signal of the report, not a condition of the search.
 *
 * @example
 * const before = await readBlockNumber(rpcUrl);
 * await runTheStep();
 * const load = await readChainLoad(rpcUrl, before);
 */
export async function readChainLoad(rpcUrl: string, afterBlock: bigint): Promise<ChainLoad | { note: string }> {
  const rpc = createJsonRpc(rpcUrl, TIMEOUT_MS);
  try {
    const head = BigInt(await rpc.request<string>('eth_blockNumber'));
    const mined = head - afterBlock;
    if (mined <= 0n) return { note: 'no block was mined during the step' };
    const count = mined > BigInt(MAX_FEE_HISTORY_BLOCKS) ? MAX_FEE_HISTORY_BLOCKS : Number(mined);
    const history = await rpc.request<FeeHistory>('eth_feeHistory', [`0x${count.toString(16)}`, `0x${head.toString(16)}`, []]);
    const ratios = history.gasUsedRatio;
    const fees = history.baseFeePerGas;
    if (!Array.isArray(ratios) || ratios.length === 0 || !Array.isArray(fees) || fees.length === 0) return { note: 'eth_feeHistory returned no blocks' };
    return {
      blocks: ratios.length,
      meanGasUsedRatio: ratios.reduce((a, b) => a + b, 0) / ratios.length,
      overHalfFullShare: ratios.filter((r) => r > 0.5).length / ratios.length,
      baseFeeFirstWei: BigInt(fees[0]!).toString(),
      baseFeeLastWei: BigInt(fees.at(-1)!).toString(),
    };
  } catch (err) {
    return { note: `chain not read: ${(err as Error).message.split('\n')[0]}` };
  } finally {
    rpc.close();
  }
}
