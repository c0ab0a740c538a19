import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { isProcessRunning } from '../util/processAlive.ts';
import type { Anvil } from './anvil.ts';
import { startLocalChain } from './localChain.ts';

const started: Anvil[] = [];
afterAll(async () => {
  for (const chain of started) await chain.stop();
});

async function rpc(rpcUrl: string, method: string, params: unknown[] = []): Promise<unknown> {
  const response = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(body.error.message);
  return body.result;
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
async function writeSomeStorage(rpcUrl: string): Promise<void> {
  const [from] = (await rpc(rpcUrl, 'eth_accounts')) as string[];
  await rpc(rpcUrl, 'eth_sendTransaction', [{ from, data: '0x600160005500', gas: '0x30000' }]);
  await rpc(rpcUrl, 'evm_mine');
}

async function latestStateRoot(rpcUrl: string): Promise<string> {
  return ((await rpc(rpcUrl, 'eth_getBlockByNumber', ['latest', false])) as { stateRoot: string }).stateRoot;
}

describe.runIf(process.platform === 'linux')('startLocalChain', () => {
  it('by default mines without a state root, with the chain id, gas limit and funded dev accounts asked for', async () => {
    const chain = await startLocalChain({ chainId: 1337, accounts: 2, gasLimit: 300_000_000n });
    started.push(chain);
    expect(anvilChildren().sort()).toEqual([chain.pid, chain.upstreamPid].sort()); // the miner and its empty upstream
    expect(await rpc(chain.rpcUrl, 'eth_chainId')).toBe('0x539');
    const accounts = (await rpc(chain.rpcUrl, 'eth_accounts')) as string[];
    expect(accounts).toHaveLength(2);
    expect(BigInt((await rpc(chain.rpcUrl, 'eth_getBalance', [accounts[0], 'latest'])) as string)).toBeGreaterThan(0n);
    await writeSomeStorage(chain.rpcUrl);
    expect(await latestStateRoot(chain.rpcUrl)).toBe(`0x${'0'.repeat(64)}`);
    const block = (await rpc(chain.rpcUrl, 'eth_getBlockByNumber', ['latest', false])) as { gasLimit: string };
    expect(BigInt(block.gasLimit)).toBe(300_000_000n);

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
    await writeSomeStorage(chain.rpcUrl);
    expect(await latestStateRoot(chain.rpcUrl)).not.toBe(`0x${'0'.repeat(64)}`);
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
