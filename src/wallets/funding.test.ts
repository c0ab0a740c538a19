/** fundWallets, validateWallets and sweepWallets against a real anvil with the local contracts. */
import { createPublicClient, parseEther, type Address, type PublicClient } from 'viem';
import { english, generateMnemonic } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnvil, type Anvil } from '../stack/anvil.ts';
import { deployContracts } from '../stack/deployContracts.ts';
import { deployerAccount, devAccount } from '../stack/devAccounts.ts';
import { fundWallets, validateWallets, type FundWalletsParameters, type FundingProgress } from './funding.ts';
import { sweepWallets } from './sweepWallets.ts';
import { createHdWallets, type HdWallets } from './hdWallets.ts';
import { rpcHttp } from '../chain/rpcTransport.ts';

const amountWei = parseEther('0.01');
const funder = devAccount(3);
let anvil: Anvil;
let client: PublicClient;
let batchFunder: Address;

beforeAll(async () => {
  anvil = await startAnvil();
  client = createPublicClient({ transport: rpcHttp(anvil.rpcUrl) });
  ({ batchFunder } = await deployContracts({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, deployer: deployerAccount() }));
});
afterAll(async () => {
  await anvil?.stop();
});

function params(wallets: HdWallets, overrides: Partial<FundWalletsParameters> = {}): FundWalletsParameters {
  return { rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, funder, batchFunder, wallets, count: 25, amountWei, ...overrides };
}

const balancesOf = (wallets: HdWallets, from: number, count: number): Promise<bigint[]> =>
  Promise.all(Array.from({ length: count }, (_, i) => client.getBalance({ address: wallets.deriveAddress(from + i) })));

describe('fundWallets', () => {
  it('funds wallets in batches of batchSize, each with exactly the amount, reporting progress per batch', async () => {
    const wallets = createHdWallets(generateMnemonic(english));
    const progress: FundingProgress[] = [];
    const result = await fundWallets(params(wallets, { from: 7, batchSize: 10, onProgress: (p) => progress.push(p) }));
    expect(progress.map(({ funded, total, txs }) => [funded, total, txs])).toEqual([
      [10, 25, 1],
      [20, 25, 2],
      [25, 25, 3],
    ]);
    expect([result.funded, result.skipped, result.txs.map((tx) => [tx.wallets, tx.status]), result.valueWei]).toEqual([
      25,
      0,
      [
        [10, 'success'],
        [10, 'success'],
        [5, 'success'],
      ],
      25n * amountWei,
    ]);
    expect(result.txs.every((tx) => tx.gasUsed < tx.gasLimit)).toBe(true);
    expect(await balancesOf(wallets, 7, 25)).toEqual(Array(25).fill(amountWei));
    expect(await balancesOf(wallets, 6, 1)).toEqual([0n]);
    expect(await balancesOf(wallets, 32, 1)).toEqual([0n]);
  });

  it('tops up: wallets get what they lack, and funding twice sends nothing', async () => {
    const wallets = createHdWallets(generateMnemonic(english));
    await fundWallets(params(wallets, { count: 3, amountWei: parseEther('0.004') }));
    const first = await fundWallets(params(wallets, { count: 6, topUp: true }));
    expect([first.funded, first.skipped, first.valueWei]).toEqual([6, 0, 3n * parseEther('0.006') + 3n * amountWei]);
    expect(await balancesOf(wallets, 0, 6)).toEqual(Array(6).fill(amountWei));
    const second = await fundWallets(params(wallets, { count: 6, topUp: true }));
    expect([second.funded, second.skipped, second.txs.length]).toEqual([0, 6, 0]);
  });

  it('error: refuses before sending anything when count × amount + gas exceeds maxSpend, giving both', async () => {
    const wallets = createHdWallets(generateMnemonic(english));
    const nonce = await client.getTransactionCount({ address: funder.address });
    const error = await fundWallets(params(wallets, { count: 100, maxSpendWei: parseEther('0.5') })).catch((err: unknown) => err);
    expect(error).toMatchObject({ name: 'ConfigError', code: 'MAX_SPEND_EXCEEDED' });
    expect((error as Error).message).toMatch(
      /^Funding 100 wallets × 0\.01 ETH = 1 ETH plus up to 0\.\d+ ETH gas = 1\.\d+ ETH exceeds --max-spend 0\.5 ETH; nothing was sent\n\nfix: raise --max-spend \(VANA_MAX_SPEND\) to at least 1\.\d+ ETH/,
    );
    expect([await client.getTransactionCount({ address: funder.address }), await balancesOf(wallets, 0, 1)]).toEqual([nonce, [0n]]);
  });

  it('error: refuses a known mainnet chain id before any request, unless allowMainnet', async () => {
    const wallets = createHdWallets(generateMnemonic(english));
    // Nothing listens on port 9: a request would fail as RPC_UNREACHABLE instead.
    await expect(fundWallets({ ...params(wallets), rpcUrl: 'http://127.0.0.1:9', chainId: 1480 })).rejects.toThrowError(
      'Refusing to send transactions on chain 1480 (Vana mainnet): they spend real money\n\nfix: pass --allow-mainnet (VANA_ALLOW_MAINNET=true) if you mean it',
    );
    const mainnetLike = await startAnvil({ chainId: 1480 });
    try {
      const { batchFunder: funderContract } = await deployContracts({ rpcUrl: mainnetLike.rpcUrl, chainId: 1480, deployer: deployerAccount() });
      const onMainnet = { ...params(wallets), rpcUrl: mainnetLike.rpcUrl, chainId: 1480, batchFunder: funderContract, count: 2 };
      await expect(fundWallets(onMainnet)).rejects.toMatchObject({ code: 'MAINNET_REFUSED' });
      await expect(fundWallets({ ...onMainnet, allowMainnet: true })).resolves.toMatchObject({ funded: 2 });
    } finally {
      await mainnetLike.stop();
    }
  });

  it('error: refuses a chain id the RPC does not serve', async () => {
    await expect(fundWallets({ ...params(createHdWallets(generateMnemonic(english))), chainId: 14800 })).rejects.toThrowError(
      `Expected chain id 14800 at ${anvil.rpcUrl}, got 31337`,
    );
  });

  it('error: refuses a batch size whose gas does not fit one transaction, naming the largest that does', async () => {
    const wallets = createHdWallets(generateMnemonic(english));
    await expect(fundWallets(params(wallets, { count: 1000, batchSize: 1000 }))).rejects.toThrowError(
      /^Expected a funding batch size of at most 429 on this chain, got 1000\n\ngas of a batch of 1000: 3\d{7} \(limit 16777216 = min\(block gas limit 100000000, EIP-7825 cap 16777216\)\)$/,
    );
  });

  it('error: refuses an address without the BatchFunder contract', async () => {
    const wallets = createHdWallets(generateMnemonic(english));
    await expect(fundWallets(params(wallets, { batchFunder: devAccount(9).address }))).rejects.toMatchObject({ code: 'BATCH_FUNDER_MISSING' });
  });
});

describe('validateWallets', () => {
  it('counts wallets at or above the minimum and lists the others with their balance', async () => {
    const wallets = createHdWallets(generateMnemonic(english));
    await fundWallets(params(wallets, { count: 3 }));
    const result = await validateWallets({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, wallets, count: 5, minBalanceWei: amountWei, chunkSize: 2 });
    expect([result.checked, result.funded, result.underfunded, result.totalWei]).toEqual([
      5,
      3,
      [
        { index: 3, address: wallets.deriveAddress(3), balanceWei: 0n },
        { index: 4, address: wallets.deriveAddress(4), balanceWei: 0n },
      ],
      3n * amountWei,
    ]);
  });
});

describe('sweepWallets', () => {
  it('sends every funded wallet back to the funder, skipping empty ones', async () => {
    const wallets = createHdWallets(generateMnemonic(english));
    await fundWallets(params(wallets, { count: 5 }));
    const before = await client.getBalance({ address: funder.address });
    const result = await sweepWallets({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, wallets, count: 8, to: funder.address, concurrency: 3 });
    expect([result.swept, result.skipped, result.failed]).toEqual([5, 3, []]);
    expect(await client.getBalance({ address: funder.address })).toBe(before + result.returnedWei);
    expect(result.returnedWei).toBeGreaterThan(5n * (amountWei - parseEther('0.0001')));
    // What stays is the gas price headroom: at most 21,000 × (base fee + tip) each.
    const left = await balancesOf(wallets, 0, 5);
    expect(left.filter((balance) => balance > parseEther('0.0001'))).toEqual([]);
  });

  it('error: refuses a contract as the sweep target', async () => {
    const wallets = createHdWallets(generateMnemonic(english));
    await expect(sweepWallets({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, wallets, count: 1, to: batchFunder })).rejects.toMatchObject({
      code: 'SWEEP_TARGET_CONTRACT',
    });
  });
});
