/** The background funding worker of direct-mode streaming runs, against a real anvil with the local contracts. */
import { createPublicClient, parseEther, type Address, type PublicClient } from 'viem';
import { english, generateMnemonic, generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rpcHttp } from '../chain/rpcTransport.ts';
import { ConfigError, VanaLoadError } from '../errors.ts';
import { startAnvil, type Anvil } from '../stack/anvil.ts';
import { deployContracts } from '../stack/deployContracts.ts';
import { deployerAccount, devAccount } from '../stack/devAccounts.ts';
import { startFundingWorker, type FundingWorker, type StartFundingWorkerParameters, type WalletFundedEvent } from './fundingWorker.ts';
import { createHdWallets } from './hdWallets.ts';

const amountWei = parseEther('0.01');
let anvil: Anvil;
let client: PublicClient;
let batchFunder: Address;
const workers: FundingWorker[] = [];

beforeAll(async () => {
  anvil = await startAnvil();
  client = createPublicClient({ transport: rpcHttp(anvil.rpcUrl) });
  ({ batchFunder } = await deployContracts({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, deployer: deployerAccount() }));
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await anvil?.stop();
});

async function start(overrides: Partial<StartFundingWorkerParameters> = {}) {
  const wallets = overrides.wallets ?? createHdWallets(generateMnemonic(english));
  const worker = await startFundingWorker({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, funder: devAccount(4), batchFunder, wallets, amountWei, ...overrides });
  workers.push(worker);
  return { worker, wallets };
}

const settle = async (promise: Promise<unknown>): Promise<unknown> => promise.then(() => 'resolved', (err: unknown) => err);

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('startFundingWorker', () => {
  it('fills its buffer ahead of demand and hands out funded wallets in index order, each holding exactly the amount', async () => {
    const events: WalletFundedEvent[] = [];
    const { worker, wallets } = await start({ firstIndex: 100, batchSize: 5, bufferSize: 10, workers: 2, onFunded: (e) => events.push(e) });
    await until(() => worker.stats().ready >= 10);
    expect(worker.stats()).toMatchObject({ funded: 10, ready: 10, acquired: 0, txs: 2, failedTxs: 0, nextIndex: 110 });

    const handed = [];
    for (let i = 0; i < 4; i++) handed.push(await worker.acquire());
    expect(handed.map((w) => w.index)).toEqual([100, 101, 102, 103]);
    expect(handed.map((w) => w.account.address)).toEqual([100, 101, 102, 103].map((i) => wallets.deriveAddress(i)));
    const balances = await Promise.all(handed.map((w) => client.getBalance({ address: w.account.address })));
    expect(balances).toEqual(Array(4).fill(amountWei));
    expect(handed.every((w) => w.fundedAt >= w.requestedAt)).toBe(true);

    expect(events.slice(0, 10).map((e) => e.index)).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
    expect(events.every((e) => e.latencyMs === e.fundedAt - e.requestedAt && e.batchSize === 5 && /^0x[0-9a-f]{64}$/.test(e.txHash))).toBe(true);
    expect(new Set(events.slice(0, 10).map((e) => e.txHash)).size).toBe(2);
  });

  it('serves more acquirers than its buffer holds by refilling, each wallet once', async () => {
    const { worker } = await start({ batchSize: 3, bufferSize: 4, lowWaterMark: 2, workers: 2 });
    const wallets = await Promise.all(Array.from({ length: 20 }, () => worker.acquire()));
    expect(new Set(wallets.map((w) => w.index)).size).toBe(20);
    expect(worker.stats()).toMatchObject({ acquired: 20, failedTxs: 0, waiting: 0 });
    expect(worker.stats().txs).toBeGreaterThanOrEqual(7);
    expect(worker.stats().spentWei).toBeGreaterThanOrEqual(BigInt(worker.stats().funded) * amountWei);
  });

  it('lets an acquirer give up through its signal without taking a wallet from the next one', async () => {
    const { worker } = await start({ batchSize: 1, bufferSize: 1, lowWaterMark: 1, workers: 1 });
    await until(() => worker.stats().ready === 1);
    await worker.acquire();
    const controller = new AbortController();
    const abandoned = settle(worker.acquire({ signal: controller.signal }));
    controller.abort(new Error('user left'));
    expect(await abandoned).toEqual(new Error('user left'));
    const next = await worker.acquire();
    expect(next.index).toBe(1);
  });

  it('error: rejects waiting acquirers when stopped, and still hands out wallets funded before the stop', async () => {
    const { worker } = await start({ batchSize: 2, bufferSize: 2, lowWaterMark: 1, workers: 1 });
    await until(() => worker.stats().ready === 2);
    await worker.stop();
    expect((await worker.acquire()).index).toBe(0);
    expect((await worker.acquire()).index).toBe(1);
    const err = await settle(worker.acquire());
    expect([err instanceof VanaLoadError, (err as VanaLoadError).code]).toEqual([true, 'FUNDING_WORKER_STOPPED']);
  });

  it('error: fails acquirers once the wallet indices run out', async () => {
    const { worker } = await start({ firstIndex: 5, lastIndex: 7, batchSize: 2, bufferSize: 2, lowWaterMark: 1, workers: 1 });
    const results = await Promise.all(Array.from({ length: 4 }, () => settle(worker.acquire())));
    expect(results.slice(0, 3)).toEqual(['resolved', 'resolved', 'resolved']);
    expect((results[3] as VanaLoadError).code).toBe('FUNDING_WALLETS_EXHAUSTED');
    expect(worker.stats().nextIndex).toBe(8);
  });

  it('error: stops funding at the spend cap with a config error naming it', async () => {
    const { worker } = await start({ batchSize: 5, bufferSize: 5, workers: 1, maxSpendWei: amountWei * 3n });
    const err = await settle(worker.acquire());
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/would exceed --max-spend/);
    expect(worker.stats()).toMatchObject({ funded: 0, acquired: 0 });
  });

  it('error: gives up after failed batches in a row once the funder cannot pay, after handing out what it had funded', async () => {
    const funder = privateKeyToAccount(generatePrivateKey());
    const setBalance = (wei: bigint) => client.request({ method: 'anvil_setBalance' as never, params: [funder.address, `0x${wei.toString(16)}`] as never });
    await setBalance(parseEther('1'));
    const { worker } = await start({ funder, batchSize: 2, bufferSize: 2, lowWaterMark: 1, workers: 1, maxConsecutiveFailures: 2 });
    await until(() => worker.stats().ready === 2);
    await setBalance(0n);
    const results = await Promise.all(Array.from({ length: 3 }, () => settle(worker.acquire())));
    expect(results.slice(0, 2)).toEqual(['resolved', 'resolved']);
    expect([(results[2] as VanaLoadError).code, worker.stats().failedTxs, worker.stats().funded]).toEqual(['FUNDING_WORKER_FAILED', 2, 2]);
    const later = await settle(worker.acquire());
    expect((later as VanaLoadError).code).toBe('FUNDING_WORKER_FAILED');
  });

  it('error: refuses bad settings before connecting', async () => {
    const errors = await Promise.all(
      [{ batchSize: 0 }, { lowWaterMark: 5, bufferSize: 2 }, { firstIndex: 3, lastIndex: 2 }, { amountWei: 0n }].map((o) => settle(start(o))),
    );
    expect(errors.map((e) => (e instanceof ConfigError ? e.message : e))).toEqual([
      'Expected a batch size >= 1, got 0',
      'Expected a low-water mark of at most the buffer size 2, got 5',
      'Expected 0 <= firstIndex <= lastIndex <= 2147483647, got 3 and 2',
      'Expected a funding amount > 0, got 0 wei',
    ]);
  });
});
