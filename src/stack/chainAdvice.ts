/**
 * Warnings for a run the local chain will not carry as configured. With `--state-root`, anvil
 * 1.7.1 rebuilds the whole state trie for every block (src/stack/localChain.ts), so each flow on
 * chain makes every later block dearer; a long run at 0.2 s blocks ends with anvil mining back to
 * back and every read waiting behind it. Without it (the default) only the gas limit can be short.
 * The run still happens: the advice says what to change, with the figures behind it.
 */

/**
 * Anvil CPU per mined block per 1000 flows already on chain (2-core development machine, measured
 * in a 5000-flow run at 5 blocks/s; `npm run bench -- chain-state` gives ~1.5 µs per storage slot
 * per block, and a flow leaves ~38 slots).
 */
export const STATE_ROOT_MS_PER_1000_FLOWS = 65;

/** Gas of a user's first `addServerFilesAndPermissions` (registers and trusts the server too). */
export const GAS_PER_FIRST_FLOW = 1_257_950;

/** Blocks hold up to this many times the mean number of Poisson arrivals per block. */
const POISSON_ROOM = 1.25;

/** Mining may take this share of the block time before reads are held up noticeably. */
const MINING_SHARE = 2 / 3;

export interface ChainAdviceInput {
  /** Flows the run will put on chain; undefined when unbounded. */
  flows: number | undefined;
  /** Highest arrival rate of an open model, flows/s; undefined for closed models. */
  peakRate: number | undefined;
  /** 0 = automine. */
  blockTimeSeconds: number;
  blockGasLimit: number;
  /** Whether anvil computes a state root per block (`--state-root`). */
  stateRoot: boolean;
}

/** Lines to print before the run; empty when the chain should carry it. */
export function localChainAdvice({ flows, peakRate, blockTimeSeconds, blockGasLimit, stateRoot }: ChainAdviceInput): string[] {
  const advice: string[] = [];
  const endBlockMs = flows === undefined ? 0 : (flows * STATE_ROOT_MS_PER_1000_FLOWS) / 1000;
  let blockTime = blockTimeSeconds;
  if (flows !== undefined && stateRoot) {
    const tooSlow =
      blockTimeSeconds > 0
        ? endBlockMs > MINING_SHARE * blockTimeSeconds * 1000
        : peakRate !== undefined && (peakRate * endBlockMs) / 1000 > MINING_SHARE; // automine: a block per transaction
    if (tooSlow) {
      blockTime = Math.max(1, Math.ceil(endBlockMs / 1000 / MINING_SHARE));
      advice.push(
        `${flows} flows leave anvil ~${(endBlockMs / 1000).toFixed(1)} s of work per block by the end (it rebuilds the whole state trie each block), ` +
          `more than ${blockTimeSeconds > 0 ? `${Math.round(MINING_SHARE * 100)} % of the ${blockTimeSeconds} s block time` : 'automine can give at this rate'}: ` +
          `reads will wait behind mining. Consider --block-time ${blockTime}, or leave out --state-root.`,
      );
    }
  }
  if (peakRate !== undefined && blockTime > 0) {
    // EIP-1559: blocks fuller than half the limit raise the base fee, every block, without end; the
    // relayers' gas bill follows until they run dry (measured: 1 → 33 gwei over 128 blocks at 54 %
    // full, then "insufficient funds"). Keep the mean block under half, with room for Poisson bunching.
    const meanGas = peakRate * blockTime * GAS_PER_FIRST_FLOW;
    if (meanGas * 2 * POISSON_ROOM > blockGasLimit) {
      const suggested = Math.ceil((meanGas * 2 * POISSON_ROOM) / 100_000_000) * 100_000_000;
      advice.push(
        `${peakRate}/s × ${blockTime} s blocks × ${(GAS_PER_FIRST_FLOW / 1e6).toFixed(2)}M gas per flow fills more than half of the ${blockGasLimit / 1e6}M block gas limit, ` +
          `so the base fee would rise block after block: consider --block-gas-limit ${suggested}.`,
      );
    }
  }
  return advice;
}
