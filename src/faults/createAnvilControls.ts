/**
 * The chain side of MS-06's process faults, over anvil's own JSON-RPC methods: stop and resume
 * mining (`chain_pause`), and read and set an account's balance (`relayer_drain`).
 */
import type { Address } from 'viem';
import { createJsonRpc } from '../chain/jsonRpc.ts';
import type { Logger } from '../logger.ts';

export interface AnvilControls {
  /** No block is mined until `resumeMining`: transactions wait in anvil's pool. */
  pauseMining(): Promise<void>;
  /** Mines again as the chain did before the pause (see `createAnvilControls`). */
  resumeMining(): Promise<void>;
  balanceOf(address: Address): Promise<bigint>;
  setBalance(address: Address, wei: bigint): Promise<void>;
  /** Stops the mining this object drives (fractional block times) and closes its connection. */
  close(): void;
}

export interface CreateAnvilControlsParameters {
  /** Anvil's own URL, never a fault proxy's: a fault must not break its own undoing. */
  rpcUrl: string;
  /** The chain's block time as the stack started it, seconds; 0 = automine. */
  blockTimeSeconds: number;
  timeoutMs?: number;
  logger: Logger;
}

/**
 * `pauseMining` turns automine and interval mining off. `resumeMining` restores the chain's mode:
 * automine for block time 0, `evm_setIntervalMining` for whole seconds. Anvil takes only whole
 * seconds there, so a fractional block time (the stack's default 0.2 s) is resumed by this object
 * mining a block (`evm_mine`) every block time until `close()`.
 *
 * @example
 * const chain = createAnvilControls({ rpcUrl: anvilUrl, blockTimeSeconds: 0.2, logger });
 * await chain.pauseMining(); … await chain.resumeMining(); … chain.close();
 */
export function createAnvilControls({ rpcUrl, blockTimeSeconds, timeoutMs = 10_000, logger }: CreateAnvilControlsParameters): AnvilControls {
  const rpc = createJsonRpc(rpcUrl, timeoutMs);
  const log = logger.child({ module: 'anvil-controls' });
  let miner: { stopped: boolean; timer: NodeJS.Timeout | undefined } | undefined;

  const stopMiner = (): void => {
    if (!miner) return;
    miner.stopped = true;
    clearTimeout(miner.timer);
    miner = undefined;
  };

  /** Mines one block per block time, each after the previous one was mined (never two at once). */
  const startMiner = (intervalMs: number): void => {
    const state: { stopped: boolean; timer: NodeJS.Timeout | undefined } = { stopped: false, timer: undefined };
    miner = state;
    const tick = (): void => {
      state.timer = setTimeout(() => {
        rpc
          .request('evm_mine')
          .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'evm_mine failed'))
          .finally(() => {
            if (!state.stopped) tick();
          });
      }, intervalMs);
    };
    tick();
  };

  return {
    async pauseMining() {
      stopMiner();
      await rpc.request('evm_setAutomine', [false]);
      await rpc.request('evm_setIntervalMining', [0]);
    },
    async resumeMining() {
      stopMiner();
      if (blockTimeSeconds === 0) await rpc.request('evm_setAutomine', [true]);
      else if (Number.isInteger(blockTimeSeconds)) await rpc.request('evm_setIntervalMining', [blockTimeSeconds]);
      else {
        // Whatever piled up during the pause goes into the next block, as interval mining would do.
        await rpc.request('evm_mine');
        startMiner(blockTimeSeconds * 1_000);
      }
    },
    async balanceOf(address) {
      return BigInt(await rpc.request<string>('eth_getBalance', [address, 'latest']));
    },
    async setBalance(address, wei) {
      await rpc.request('anvil_setBalance', [address, `0x${wei.toString(16)}`]);
    },
    close() {
      stopMiner();
      rpc.close();
    },
  };
}
