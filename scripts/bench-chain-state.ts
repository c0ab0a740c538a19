/**
 * Chain-state benchmark: what one block costs anvil as the chain's storage grows, with and without
 * a per-block state root. A plain anvil 1.7.1 (`--state-root`) rebuilds the whole state trie for
 * every block, so a long load test would slow its own chain down; the local stack's default chain
 * (a fork of an empty anvil, src/stack/localChain.ts) computes none. This measures both, without
 * running flows: it fills one account's storage with N slots (`anvil_setStorageAt`) and times the
 * empty blocks mined at a 1 s interval.
 *
 *   npx tsx scripts/bench-chain-state.ts [--slots 0,250000,500000,1000000] [--seconds 6] [--chain both|state-root|default]
 *
 * Reading the figures: a flow leaves ~38 storage slots (permission, grant and file URLs, the
 * 257-byte wrapped key, mappings), so 1M slots is the chain after ~26,000 flows. When the cost of a
 * block approaches the block time, reads stall behind mining; see milestones/ms-05/README.md.
 */
import { parseArgs } from 'node:util';
import pidusage from 'pidusage';
import { startLocalChain } from '../src/stack/localChain.ts';

const USAGE = 'Usage: npx tsx scripts/bench-chain-state.ts [--slots 0,250000,500000,1000000] [--seconds 6] [--chain both|state-root|default]';
const { values } = parseArgs({
  options: { slots: { type: 'string', default: '0,250000,500000,1000000' }, seconds: { type: 'string', default: '6' }, chain: { type: 'string', default: 'both' }, help: { type: 'boolean' } },
});
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const steps = values.slots.split(',').map(Number);
const seconds = Number(values.seconds);
if (steps.some((n) => !Number.isSafeInteger(n) || n < 0) || steps.some((n, i) => i > 0 && n < steps[i - 1]!)) {
  process.stderr.write(`--slots: expected non-decreasing whole numbers, got ${values.slots}\n${USAGE}\n`);
  process.exit(2);
}
if (!(seconds >= 2 && seconds <= 600)) {
  process.stderr.write(`--seconds: expected 2 to 600, got ${values.seconds}\n${USAGE}\n`);
  process.exit(2);
}
const CHAINS = { 'state-root': [true], default: [false], both: [true, false] } as const;
const chains = CHAINS[values.chain as keyof typeof CHAINS];
if (chains === undefined) {
  process.stderr.write(`--chain: expected both, state-root or default, got ${values.chain}\n${USAGE}\n`);
  process.exit(2);
}

const BATCH = 2_000;
const HOLDER = '0x00000000000000000000000000000000000c0ffe';

for (const stateRoot of chains) {
  const anvil = await startLocalChain({ blockTime: 1, stateRoot });
  const onSigint = (): void => void anvil.stop().then(() => process.exit(130));
  process.once('SIGINT', onSigint);

  const rpc = async (body: unknown): Promise<unknown> => {
    const response = await fetch(anvil.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return await response.json();
  };
  const blockNumber = async (): Promise<number> => Number.parseInt(((await rpc({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] })) as { result: string }).result, 16);
  /** Anvil's user + system CPU seconds so far and its RSS, as the run sampler reads them (pidusage). */
  const anvilUsage = async (): Promise<{ cpuS: number; rssMb: number }> => {
    const stats = await pidusage(anvil.pid);
    return { cpuS: stats.ctime / 1_000, rssMb: stats.memory / 2 ** 20 };
  };

  try {
    const what = stateRoot ? 'plain anvil, a state root per block (--state-root)' : 'the default chain: a fork of an empty anvil, no state root';
    process.stdout.write(`${what}; ${anvil.rpcUrl}, 1 s blocks, storage filled in one account; ${seconds} s of blocks per step\n`);
    process.stdout.write('     slots  blocks  cpu ms/block  µs/slot/block  anvil RSS\n');
    let filled = 0;
    for (const target of steps) {
      while (filled < target) {
        const batch = [];
        for (let i = 0; i < BATCH && filled < target; i++, filled++) {
          batch.push({ jsonrpc: '2.0', id: i, method: 'anvil_setStorageAt', params: [HOLDER, `0x${(filled + 1).toString(16)}`, `0x${(filled + 7).toString(16).padStart(64, '0')}`] });
        }
        await rpc(batch);
      }
      const [b0, c0] = [await blockNumber(), (await anvilUsage()).cpuS];
      await new Promise((resolve) => setTimeout(resolve, seconds * 1_000));
      const b1 = await blockNumber();
      const { cpuS: c1, rssMb } = await anvilUsage();
      const blocks = Math.max(1, b1 - b0);
      const msPerBlock = ((c1 - c0) / blocks) * 1_000;
      const perSlot = target > 0 ? ((msPerBlock * 1_000) / target).toFixed(2) : '-';
      process.stdout.write(`${String(target).padStart(10)}  ${String(b1 - b0).padStart(6)}  ${msPerBlock.toFixed(0).padStart(12)}  ${perSlot.padStart(13)}  ${rssMb.toFixed(0).padStart(6)} MB\n`);
    }
    process.stdout.write('\n');
  } finally {
    process.removeListener('SIGINT', onSigint);
    pidusage.clear();
    await anvil.stop();
  }
}
