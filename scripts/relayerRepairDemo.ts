/** The relayer bench's drop-repair demo: a relayer's pending tx dropped from the mempool, repaired by the watcher. */
import { createPublicClient, createTestClient, type Address, type Hex } from 'viem';
import { fundRelayers } from '../src/chain/fundRelayers.ts';
import { createRelayerPool, type RelayerPoolStats } from '../src/chain/relayerPool.ts';
import { rpcHttp } from '../src/chain/rpcTransport.ts';
import { startAnvil } from '../src/stack/anvil.ts';
import { deployerAccount, relayerAccount } from '../src/stack/devAccounts.ts';
import { freePort } from '../src/util/freePort.ts';

export interface RepairDemoResult {
  txs: number;
  droppedNonce: number;
  /** Txs of the victim relayer stuck behind the dropped one. */
  queuedBehind: number;
  repairedAfterMs: number;
  allMinedAfterMs: number;
  victimHashKept: boolean;
  stats: Pick<RelayerPoolStats, 'gapRepairs' | 'replacements' | 'gapFills'>;
}

/**
 * Drop-repair demo on an anvil that mines a block every 500 ms and never automines: one relayer's
 * first pending tx is dropped from the mempool, which blocks every later tx of that relayer until
 * the watcher re-sends it.
 */
export async function runRepairDemo(progress: (line: string) => void): Promise<RepairDemoResult> {
  progress('drop-repair demo: anvil without automine, a block every 500 ms once the gap exists');
  const anvil = await startAnvil({ port: await freePort() });
  const accounts = [relayerAccount(0), relayerAccount(1)];
  const stops: Array<() => Promise<void>> = [() => anvil.stop()];
  try {
    await fundRelayers({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, funder: deployerAccount(), relayers: accounts.map((a) => a.address) });
    const test = createTestClient({ mode: 'anvil', transport: rpcHttp(anvil.rpcUrl) });
    const rpc = createPublicClient({ transport: rpcHttp(anvil.rpcUrl) });
    await test.setAutomine(false);
    const pool = await createRelayerPool({
      rpcUrl: anvil.rpcUrl,
      chainId: anvil.chainId,
      accounts,
      repair: { checkIntervalMs: 250, stuckAfterMs: 1_500 },
    });
    stops.push(() => pool.stop());
    const call = { to: '0x000000000000000000000000000000000000bEEF' as Address, data: '0x' as Hex };
    // One tx per relayer, drop one of them, then more: those of the victim's relayer wait in the
    // mempool behind the gap. (anvil_dropTransaction drops a tx's dependants too, so the drop
    // comes before they are sent.)
    const first = await Promise.all(accounts.map(() => pool.submit(call)));
    const victim = first.find((s) => s.relayer === accounts[0]!.address)!;
    await test.dropTransaction({ hash: victim.hash });
    const sent = [...first, ...(await Promise.all(Array.from({ length: 6 }, () => pool.submit(call))))];
    const t0 = performance.now();
    let mining = true;
    const miner = (async () => {
      while (mining) {
        await test.mine({ blocks: 1 });
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    let repairedAfterMs = Number.NaN;
    let allMinedAfterMs = Number.NaN;
    while (performance.now() - t0 < 30_000) {
      if (Number.isNaN(repairedAfterMs) && pool.stats().gapRepairs > 0) repairedAfterMs = performance.now() - t0;
      const receipts = await Promise.all(sent.map((s) => rpc.getTransactionReceipt({ hash: s.hash }).catch(() => undefined)));
      if (receipts.every((r) => r?.status === 'success')) {
        allMinedAfterMs = performance.now() - t0;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    mining = false;
    await miner;
    const victimReceipt = await rpc.getTransactionReceipt({ hash: victim.hash }).catch(() => undefined);
    const stats = pool.stats();
    return {
      txs: sent.length,
      droppedNonce: victim.nonce,
      queuedBehind: sent.filter((s) => s.relayer === victim.relayer && s.nonce > victim.nonce).length,
      repairedAfterMs: Math.round(repairedAfterMs),
      allMinedAfterMs: Math.round(allMinedAfterMs),
      victimHashKept: victimReceipt?.status === 'success',
      stats: { gapRepairs: stats.gapRepairs, replacements: stats.replacements, gapFills: stats.gapFills },
    };
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}
