import { createPublicClient, http, type Address, type PublicClient } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.ts';
import { deployerAccount, devAccount } from '../stack/devAccounts.ts';
import { startAnvil, type Anvil } from '../stack/anvil.ts';
import { startBlockWatcher } from './blockWatcher.ts';
import { startChainTimeline } from './chainTimeline.ts';
import type { BlockRecord } from './chainTypes.ts';
import { readRelayers, relayersFromNonces } from './readRelayers.ts';

let anvil: Anvil;
let client: PublicClient;

async function rpc(method: string, params: unknown[] = []): Promise<unknown> {
  const response = await fetch(anvil.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const body = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** `count` plain transfers from `from`, left in the node's pool (automine is off). */
async function sendTransfers(from: Address, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await rpc('eth_sendTransaction', [{ from, to: '0x000000000000000000000000000000000000dEaD', value: '0x1', gas: '0x5208' }]);
}

beforeAll(async () => {
  anvil = await startAnvil({ gasLimit: 30_000_000n });
  client = createPublicClient({ transport: http(anvil.rpcUrl) }) as PublicClient;
  await rpc('evm_setAutomine', [false]);
});
afterAll(async () => {
  await anvil?.stop();
});

describe('startBlockWatcher', () => {
  it('reads each new block once from the head on, with its transactions, gas and base fee, and skips all but the newest after a long pause', async () => {
    const blocks: BlockRecord[] = [];
    const watcher = startBlockWatcher(client, { logger: silentLogger(), pollIntervalMs: 20, maxBlocksPerPoll: 8, onBlock: (b) => blocks.push(b) });
    try {
      const start = await until('the head', () => watcher.head() ?? undefined);
      await sendTransfers(deployerAccount().address, 3);
      await rpc('evm_mine');
      await until('the mined block', () => (watcher.head() === start + 1 ? true : undefined));
      await rpc('anvil_mine', ['0x14']); // 20 blocks at once: more than 8 per poll
      await until('the 20 blocks', () => (watcher.head() === start + 21 ? true : undefined));
      const mined = blocks.find((b) => b.number === start + 1)!;
      expect([mined.txs, mined.gasUsed, mined.gasLimit]).toEqual([3, 63_000, 30_000_000]);
      expect(BigInt(mined.baseFeeWei!)).toBeGreaterThan(0n);
      expect(mined.timestamp % 1_000).toBe(0);
      expect(blocks.map((b) => b.number)).toEqual([start, start + 1, ...Array.from({ length: 8 }, (_, i) => start + 14 + i)]);
      expect(watcher.stats()).toEqual({ read: 10, skipped: 12, errors: 0 });
    } finally {
      await watcher.stop();
      await watcher.stop();
    }
  });

  it('reads on stop the blocks mined since its last poll, so the block of a flow that just ended is not lost', async () => {
    const blocks: BlockRecord[] = [];
    const watcher = startBlockWatcher(client, { logger: silentLogger(), pollIntervalMs: 60_000, onBlock: (b) => blocks.push(b) });
    const start = await until('the head', () => watcher.head() ?? undefined);
    await rpc('anvil_mine', ['0x2']); // the next poll is a minute away
    await watcher.stop();
    expect(blocks.map((b) => b.number)).toEqual([start, start + 1, start + 2]);
    await rpc('evm_mine');
    await watcher.stop(); // stopped: no more reads
    expect(blocks).toHaveLength(3);
  });

  it('error: refuses a poll interval or catch-up bound that is not positive', () => {
    expect(() => startBlockWatcher(client, { logger: silentLogger(), pollIntervalMs: 0, onBlock: () => {} })).toThrow('Expected pollIntervalMs > 0, got 0');
    expect(() => startBlockWatcher(client, { logger: silentLogger(), maxBlocksPerPoll: 0, onBlock: () => {} })).toThrow('Expected maxBlocksPerPoll >= 1, got 0');
  });
});

describe('relayersFromNonces', () => {
  it("counts a relayer's pending transactions from its next nonce, the node's pool, and the gap between them", () => {
    expect(relayersFromNonces([{ next: 12, pending: 11, latest: 8 }, { pending: 5, latest: 5 }])).toEqual({ relayers: 2, pending: 4, nonceGap: 1, mempool: 3 });
    // Someone else sent with the key after the pool's counter was read: never a negative gap.
    expect(relayersFromNonces([{ next: 3, pending: 4, latest: 2 }])).toEqual({ relayers: 1, pending: 2, nonceGap: 0, mempool: 2 });
  });
});

describe('readRelayers', () => {
  it("reads the chain's latest and pending nonces of each relayer and the pool's next nonces", async () => {
    const relayer = devAccount(3).address;
    const idle = devAccount(4).address;
    await sendTransfers(relayer, 2);
    // The pool handed out nonces 0..3: two in the node's pool, two it does not hold.
    expect(await readRelayers(client, [relayer, idle], async () => [{ address: relayer.toLowerCase() as Address, nextNonce: 4 }])).toEqual({ relayers: 2, pending: 4, nonceGap: 2, mempool: 2 });
    await rpc('evm_mine');
    expect(await readRelayers(client, [relayer])).toEqual({ relayers: 1, pending: 0, nonceGap: 0, mempool: 0 });
  });
});

describe('startChainTimeline', () => {
  it('folds the blocks, the relay and confirm steps and the last relayer and queue readings into each interval, leaving out a source that fails', async () => {
    const seen: BlockRecord[] = [];
    let queueCalls = 0;
    const timeline = startChainTimeline(client, {
      logger: silentLogger(),
      blockPollIntervalMs: 20,
      readIntervalMs: 20,
      relayers: { addresses: [devAccount(5).address] },
      personalServerQueue: async () => {
        queueCalls++;
        if (queueCalls > 3) throw new Error('gone');
        return { preparing: 2, running: 5 };
      },
      onBlock: (block) => seen.push(block),
    });
    try {
      await until('the head', () => (seen.length > 0 ? true : undefined));
      await until('a queue reading', () => (queueCalls >= 2 ? true : undefined));
      const first = timeline.take();
      expect(first.chain).toMatchObject({ blocks: 1, acceptP95Ms: null, inclusionP95Ms: null });
      expect([first.relayers, first.personalServer]).toEqual([{ relayers: 1, pending: 0, nonceGap: 0, mempool: 0 }, { preparing: 2, running: 5 }]);

      await sendTransfers(deployerAccount().address, 2);
      await rpc('evm_mine');
      await until('the mined block', () => (seen.length === 2 ? true : undefined));
      for (const ms of [10, 20, 30, 40, 1_000]) timeline.observeStep('relay', ms);
      timeline.observeStep('confirm', 2_500);
      timeline.observeStep('encrypt', 99);
      await until('the queue to fail', () => (queueCalls > 4 ? true : undefined));
      const second = timeline.take();
      expect(second.chain).toMatchObject({ head: first.chain.head! + 1, blocks: 1, txs: 2, overHalf: 0, acceptP95Ms: 1_000, inclusionP95Ms: 2_500 });
      expect(second.personalServer).toBeUndefined();
      const { relayers, personalServer } = timeline.readStats();
      expect([relayers!.failed, personalServer!.failed, personalServer!.reads - queueCalls]).toEqual([0, queueCalls - 3, 0]);
      expect(timeline.take().chain).toMatchObject({ head: first.chain.head! + 1, blocks: 0, fill: null, acceptP95Ms: null });
    } finally {
      await timeline.stop();
    }
  });
});
