import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createJsonRpc, type JsonRpc } from '../chain/jsonRpc.ts';
import { isProcessRunning } from '../util/processAlive.ts';
import type { Anvil } from './anvil.ts';
import { startLocalChain } from './localChain.ts';

const started: Anvil[] = [];
const clients: JsonRpc[] = [];
afterAll(async () => {
  for (const rpc of clients) rpc.close();
  for (const chain of started) await chain.stop();
});

/** JSON-RPC to `chain`, over the project's client; closed with the chain. */
function rpcTo(chain: Anvil): JsonRpc {
  const rpc = createJsonRpc(chain.rpcUrl, 10_000);
  clients.push(rpc);
  return rpc;
}

/** Pids of the anvil processes this test process spawned (Linux: read from /proc). */
function anvilChildren(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …; comm may hold spaces, so split after its closing parenthesis.
      const [comm, rest] = [stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), stat.slice(stat.lastIndexOf(')') + 2).split(' ')];
      if (comm === 'anvil' && Number(rest[1]) === process.pid) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** A transaction that writes storage: a contract whose constructor stores a word (PUSH 1 PUSH 0 SSTORE). */
async function writeSomeStorage(rpc: JsonRpc): Promise<void> {
  const [from] = await rpc.request<string[]>('eth_accounts');
  await rpc.request('eth_sendTransaction', [{ from, data: '0x600160005500', gas: '0x30000' }]);
  await rpc.request('evm_mine');
}

const latestBlock = (rpc: JsonRpc) => rpc.request<{ stateRoot: string; gasLimit: string }>('eth_getBlockByNumber', ['latest', false]);

const ZERO_ROOT = `0x${'0'.repeat(64)}`;

describe.runIf(process.platform === 'linux')('startLocalChain', () => {
  it('by default mines without a state root, with the chain id, gas limit and funded dev accounts asked for', async () => {
    const chain = await startLocalChain({ chainId: 1337, accounts: 2, gasLimit: 300_000_000n });
    started.push(chain);
    expect(anvilChildren().sort()).toEqual([chain.pid, chain.upstreamPid].sort()); // the miner and its empty upstream
    const rpc = rpcTo(chain);
    expect(await rpc.request('eth_chainId')).toBe('0x539');
    const accounts = await rpc.request<string[]>('eth_accounts');
    expect(accounts).toHaveLength(2);
    expect(BigInt(await rpc.request<string>('eth_getBalance', [accounts[0], 'latest']))).toBeGreaterThan(0n);
    await writeSomeStorage(rpc);
    const block = await latestBlock(rpc);
    expect(block.stateRoot).toBe(ZERO_ROOT);
    expect(BigInt(block.gasLimit)).toBe(300_000_000n);
    rpc.close();

    await chain.stop();
    expect(isProcessRunning(chain.pid)).toBe(false);
    expect(anvilChildren()).toEqual([]);
    await chain.stop();
  });

  it('with stateRoot: true is one plain anvil whose blocks carry a real state root', async () => {
    const chain = await startLocalChain({ stateRoot: true });
    started.push(chain);
    expect(anvilChildren()).toEqual([chain.pid]);
    expect(chain.upstreamPid).toBeUndefined();
    const rpc = rpcTo(chain);
    await writeSomeStorage(rpc);
    expect((await latestBlock(rpc)).stateRoot).not.toBe(ZERO_ROOT);
    rpc.close();
    await chain.stop();
    expect(anvilChildren()).toEqual([]);
  });

  it('stops the upstream when the miner cannot start', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      await expect(startLocalChain({ port })).rejects.toThrow(/in use/);
      expect(anvilChildren()).toEqual([]);
    } finally {
      taken.close();
    }
  });
});
