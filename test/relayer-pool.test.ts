import { createServer, type Server } from 'node:http';
import { createPublicClient, createTestClient, parseGwei, type Address, type Hex, type PublicClient, type TestClient } from 'viem';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnvil } from '../src/stack/anvil.ts';
import { deployerAccount, relayerAccount } from '../src/stack/devAccounts.ts';
import { freePort } from '../src/util/freePort.ts';
import { createRelayerPool, type RelayerPool } from '../src/chain/relayerPool.ts';
import { fundRelayers } from '../src/chain/fundRelayers.ts';
import { rpcHttp } from '../src/chain/rpcTransport.ts';

type Anvil = Awaited<ReturnType<typeof startAnvil>>;

// A plain value-less call to an EOA: the pool's mechanics do not depend on what is called.
const target: Address = '0x000000000000000000000000000000000000bEEF';
const call = { to: target, data: '0x' as Hex };

async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const nonceOf = (client: PublicClient, address: Address, blockTag: 'latest' | 'pending' = 'latest') =>
  client.getTransactionCount({ address, blockTag });

describe('relayer pool on an automining anvil', () => {
  let anvil: Anvil;
  let client: PublicClient;
  const pools: RelayerPool[] = [];
  beforeAll(async () => {
    anvil = await startAnvil({ port: await freePort() });
    client = createPublicClient({ transport: rpcHttp(anvil.rpcUrl) });
    await fundRelayers({
      rpcUrl: anvil.rpcUrl,
      chainId: anvil.chainId,
      funder: deployerAccount(),
      relayers: [0, 1, 2].map((i) => relayerAccount(i).address),
    });
  });
  afterAll(async () => {
    for (const pool of pools) await pool.stop();
    await anvil?.stop();
  });

  it('pipelines 40 submissions over 2 relayers with consecutive nonces, and all of them mine', async () => {
    const accounts = [relayerAccount(0), relayerAccount(1)];
    const start = await Promise.all(accounts.map((a) => nonceOf(client, a.address)));
    const pool = await createRelayerPool({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, accounts });
    pools.push(pool);
    const results = await Promise.all(Array.from({ length: 40 }, () => pool.submit(call)));
    for (const [i, account] of accounts.entries()) {
      const nonces = results.filter((r) => r.relayer === account.address).map((r) => r.nonce).sort((a, b) => a - b);
      expect(nonces).toEqual(Array.from({ length: 20 }, (_, k) => start[i]! + k));
    }
    const receipts = await Promise.all(results.map((r) => client.waitForTransactionReceipt({ hash: r.hash, pollingInterval: 50 })));
    expect(receipts.map((r) => r.status)).toEqual(Array(40).fill('success'));
    const stats = pool.stats();
    // One call shape: the first submission's estimate serves the other 39.
    expect(stats).toMatchObject({ submitted: 40, resyncs: 0, retries: 0, gasEstimates: 1 });
    expect(stats.errorsByClass.nonce).toBe(0);
  });

  it('resyncs after another sender used a relayer nonce, and the caller never sees a nonce error', async () => {
    const relayer = relayerAccount(2);
    const pool = await createRelayerPool({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, accounts: [relayer] });
    pools.push(pool);
    const before = await nonceOf(client, relayer.address);
    // Someone else spends the nonce the pool is about to use.
    const block = await client.getBlock();
    const raw = await relayer.signTransaction({
      type: 'eip1559',
      chainId: anvil.chainId,
      nonce: before,
      to: target,
      gas: 21_000n,
      maxFeePerGas: block.baseFeePerGas! * 2n + parseGwei('1'),
      maxPriorityFeePerGas: parseGwei('1'),
    });
    await client.request({ method: 'eth_sendRawTransaction', params: [raw] });

    const result = await pool.submit(call);
    expect(result.nonce).toBe(before + 1);
    expect((await client.waitForTransactionReceipt({ hash: result.hash, pollingInterval: 50 })).status).toBe('success');
    const stats = pool.stats();
    expect(stats).toMatchObject({ submitted: 1, resyncs: 1, retries: 1 });
    expect(stats.errorsByClass.nonce).toBe(0);
  });

  it('re-signs with a fresh fee estimate when the base fee outgrew the cached one', async () => {
    const relayer = relayerAccount(0);
    const pool = await createRelayerPool({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, accounts: [relayer], gas: { feeRefreshMs: 600_000 } });
    pools.push(pool);
    const testClient = createTestClient({ mode: 'anvil', transport: rpcHttp(anvil.rpcUrl) });
    await testClient.setNextBlockBaseFeePerGas({ baseFeePerGas: parseGwei('500') });
    await testClient.mine({ blocks: 1 });
    const result = await pool.submit(call);
    expect((await client.waitForTransactionReceipt({ hash: result.hash, pollingInterval: 50 })).status).toBe('success');
    expect(pool.stats()).toMatchObject({ submitted: 1, retries: 1, resyncs: 0 });
  });

  it('error: a send that fails on the network leaves an uncertain nonce, which the watcher fills so later txs mine', async () => {
    // A real HTTP hop in front of anvil that loses every copy of one raw transaction.
    let armed = true;
    let lost: string | undefined;
    const proxy: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const json = JSON.parse(body) as { method: string; params: string[] };
        if (json.method === 'eth_sendRawTransaction' && (json.params[0] === lost || (armed && lost === undefined))) {
          lost = json.params[0];
          armed = false;
          req.socket.destroy();
          return;
        }
        void fetch(anvil.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(async (r) => {
          res.writeHead(r.status, { 'content-type': 'application/json' });
          res.end(await r.text());
        });
      });
    });
    const proxyPort = await freePort();
    await new Promise<void>((resolve) => proxy.listen(proxyPort, '127.0.0.1', resolve));
    try {
      const relayer = relayerAccount(1);
      const pool = await createRelayerPool({
        rpcUrl: `http://127.0.0.1:${proxyPort}`,
        chainId: anvil.chainId,
        accounts: [relayer],
        maxAttempts: 2,
        repair: { checkIntervalMs: 100, stuckAfterMs: 300 },
      });
      pools.push(pool);
      const first = await nonceOf(client, relayer.address);
      await expect(pool.submit(call)).rejects.toMatchObject({ errorClass: 'network', code: 'RELAYER_NETWORK' });
      const second = await pool.submit(call);
      expect(second.nonce).toBe(first + 1);
      // Stuck behind the lost nonce until the watcher fills it.
      expect(await nonceOf(client, relayer.address)).toBe(first);
      await waitFor(() => pool.stats().gapFills === 1);
      const receipt = await client.waitForTransactionReceipt({ hash: second.hash, pollingInterval: 50 });
      expect(receipt.status).toBe('success');
      expect(await nonceOf(client, relayer.address)).toBe(first + 2);
      expect(pool.stats().errorsByClass).toMatchObject({ network: 1, nonce: 0 });
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});

describe('relayer pool on an anvil that mines only on demand', () => {
  let anvil: Anvil;
  let client: PublicClient;
  let testClient: TestClient;
  let pool: RelayerPool | undefined;
  const mine = () => testClient.mine({ blocks: 1 });
  beforeAll(async () => {
    anvil = await startAnvil({ port: await freePort() });
    client = createPublicClient({ transport: rpcHttp(anvil.rpcUrl) });
    testClient = createTestClient({ mode: 'anvil', transport: rpcHttp(anvil.rpcUrl) });
    await fundRelayers({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, funder: deployerAccount(), relayers: [relayerAccount(0).address] });
    await testClient.setAutomine(false);
  });
  afterAll(async () => {
    await pool?.stop();
    await anvil?.stop();
  });

  it('re-sends a dropped pending tx with the same hash, and the later txs queued behind it mine', async () => {
    const relayer = relayerAccount(0);
    pool = await createRelayerPool({
      rpcUrl: anvil.rpcUrl,
      chainId: anvil.chainId,
      accounts: [relayer],
      repair: { checkIntervalMs: 100, stuckAfterMs: 300 },
    });
    const start = await nonceOf(client, relayer.address);
    const a = await pool.submit(call);
    await testClient.dropTransaction({ hash: a.hash });
    const [b, c] = await Promise.all([pool.submit(call), pool.submit(call)]);
    expect([a.nonce, b!.nonce, c!.nonce]).toEqual([start, start + 1, start + 2]);
    await mine();
    // b and c wait in the mempool behind the gap the dropped tx left.
    expect(await nonceOf(client, relayer.address)).toBe(start);
    expect(await client.getTransaction({ hash: a.hash }).catch(() => null)).toBeNull();
    expect((await client.getTransaction({ hash: b!.hash })).blockNumber).toBeNull();

    await waitFor(() => pool!.stats().gapRepairs === 1);
    await mine();
    const receipts = await Promise.all([a, b!, c!].map((r) => client.getTransactionReceipt({ hash: r.hash })));
    expect(receipts.map((r) => r.status)).toEqual(['success', 'success', 'success']);
    expect(await nonceOf(client, relayer.address)).toBe(start + 3);
    expect(pool.stats()).toMatchObject({ submitted: 3, gapRepairs: 1, replacements: 0, gapFills: 0 });
    await waitFor(() => pool!.pending() === 0);
  });

  it('re-sends, in nonce order, every tx of a relayer that the node dropped together', async () => {
    const relayer = relayerAccount(0);
    const start = await nonceOf(client, relayer.address);
    const sent = await Promise.all([pool!.submit(call), pool!.submit(call), pool!.submit(call)]);
    expect(sent.map((s) => s.nonce)).toEqual([start, start + 1, start + 2]);
    const repairs = pool!.stats().gapRepairs;
    // anvil_dropTransaction also drops the txs that depend on the dropped one.
    await testClient.dropTransaction({ hash: sent[0]!.hash });
    for (const s of sent) expect(await client.getTransaction({ hash: s.hash }).catch(() => null)).toBeNull();

    await waitFor(() => pool!.stats().gapRepairs === repairs + 3);
    await mine();
    const receipts = await Promise.all(sent.map((s) => client.getTransactionReceipt({ hash: s.hash })));
    expect(receipts.map((r) => r.status)).toEqual(['success', 'success', 'success']);
  });

  it('replaces a pending tx that the base fee outgrew with a bumped-fee copy at the same nonce', async () => {
    const relayer = relayerAccount(0);
    const start = await nonceOf(client, relayer.address);
    const sent = await pool!.submit(call);
    const replacements = pool!.stats().replacements;
    await testClient.setNextBlockBaseFeePerGas({ baseFeePerGas: parseGwei('1000') });
    await mine();
    // Priced below the base fee now: it stays in the mempool and the relayer is stuck.
    expect(await nonceOf(client, relayer.address)).toBe(start);
    await waitFor(() => pool!.stats().replacements === replacements + 1);
    await mine();
    expect(await nonceOf(client, relayer.address)).toBe(start + 1);
    // A replacement has a new hash; the original never mines.
    expect(await client.getTransactionReceipt({ hash: sent.hash }).catch(() => null)).toBeNull();
    const block = await client.getBlock({ includeTransactions: true });
    expect(block.transactions.map((tx) => [tx.from.toLowerCase(), tx.nonce, tx.maxFeePerGas! > parseGwei('1000')])).toEqual([
      [relayer.address.toLowerCase(), start, true],
    ]);
  });

  it('takes the next nonce when a foreign tx already holds its nonce in the mempool', async () => {
    const relayer = relayerAccount(0);
    const before = await nonceOf(client, relayer.address, 'pending');
    // A foreign tx at the pool's next nonce, priced far above anything the pool offers.
    const raw = await relayer.signTransaction({
      type: 'eip1559',
      chainId: anvil.chainId,
      nonce: before,
      to: target,
      gas: 21_000n,
      maxFeePerGas: parseGwei('100000'),
      maxPriorityFeePerGas: parseGwei('1000'),
    });
    await client.request({ method: 'eth_sendRawTransaction', params: [raw] });
    const resyncs = pool!.stats().resyncs;
    const result = await pool!.submit(call);
    expect(result.nonce).toBe(before + 1);
    expect(pool!.stats().resyncs).toBe(resyncs + 1);
    await mine();
    expect((await client.getTransactionReceipt({ hash: result.hash })).status).toBe('success');
  });
});
