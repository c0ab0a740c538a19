import { mnemonicToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { LOCAL_USERS_MNEMONIC } from './harness.ts';
import { createWorkerWallets, drawWalletRange, walletCollisionBound, WALLET_ACCOUNTS, WALLET_INDICES, WALLETS_PER_RANGE, type RandomInt } from './workerWallets.ts';

/** A RandomInt that returns the given values in turn (each must lie in [min, max)). */
function scripted(...values: number[]): RandomInt {
  return (min, max) => {
    const value = values.shift();
    if (value === undefined || value < min || value >= max) throw new Error(`scripted value ${value} outside [${min}, ${max})`);
    return value;
  };
}

describe('createWorkerWallets', () => {
  it("hands out m/44'/60'/{account}'/0/{base + k} of the mnemonic, as viem derives them", () => {
    const wallets = createWorkerWallets({ mnemonic: LOCAL_USERS_MNEMONIC, randomInt: scripted(7, 1_000) });
    const first = wallets.next();
    const second = wallets.next();
    expect([first.path, second.path]).toEqual(["m/44'/60'/7'/0/1000", "m/44'/60'/7'/0/1001"]);
    expect([first.userIndex, second.userIndex]).toEqual([1_000, 1_001]);
    expect(first.account.address).toBe(mnemonicToAccount(LOCAL_USERS_MNEMONIC, { accountIndex: 7, addressIndex: 1_000 }).address);
    expect(second.account.address).toBe(mnemonicToAccount(LOCAL_USERS_MNEMONIC, { accountIndex: 7, addressIndex: 1_001 }).address);
  });

  it('draws its first range when created and a new one when a range is used up', () => {
    const wallets = createWorkerWallets({ mnemonic: LOCAL_USERS_MNEMONIC, randomInt: scripted(1, 10, 2, 20), walletsPerRange: 2 });
    expect(wallets.ranges()).toEqual([{ account: 1, base: 10 }]);
    const paths = [wallets.next(), wallets.next(), wallets.next()].map((w) => w.path);
    expect(paths).toEqual(["m/44'/60'/1'/0/10", "m/44'/60'/1'/0/11", "m/44'/60'/2'/0/20"]);
    expect(wallets.ranges()).toEqual([{ account: 1, base: 10 }, { account: 2, base: 20 }]);
  });

  it('gives two workers disjoint wallets with no coordination between them', () => {
    const a = createWorkerWallets({ mnemonic: LOCAL_USERS_MNEMONIC });
    const b = createWorkerWallets({ mnemonic: LOCAL_USERS_MNEMONIC });
    const addresses = [a, b].flatMap((w) => Array.from({ length: 50 }, () => w.next().account.address));
    expect(new Set(addresses).size).toBe(100);
  });

  it('error: refuses a range size outside [1, 2^31]', () => {
    expect(() => createWorkerWallets({ mnemonic: LOCAL_USERS_MNEMONIC, walletsPerRange: 0 })).toThrowErrorMatchingInlineSnapshot(
      `[RangeError: Expected walletsPerRange in [1, 2^31], got 0]`,
    );
  });
});

describe('drawWalletRange', () => {
  it('draws the account from [0, 2^31) and the base so that a whole range fits below 2^31', () => {
    const bounds: Array<[number, number]> = [];
    drawWalletRange((min, max) => (bounds.push([min, max]), min));
    expect(bounds).toEqual([
      [0, WALLET_ACCOUNTS],
      [0, WALLET_INDICES - WALLETS_PER_RANGE + 1],
    ]);
  });
});

describe('walletCollisionBound', () => {
  it('is negligible at a thousand machines of a hundred thousand users each', () => {
    // 4.995e5 pairs × 2^-31 (same account) × (2·1e5 − 1)/(2^31 − 2^24 + 1) (overlapping bases)
    expect(walletCollisionBound(1_000, 100_000)).toBeCloseTo(2.18e-8, 9);
    expect(walletCollisionBound(1_000, 100_000)).toBeLessThan(1e-7);
  });

  it('is exactly zero for one worker within one range', () => {
    expect(walletCollisionBound(1, WALLETS_PER_RANGE)).toBe(0);
  });

  it('counts a worker that used several ranges as one worker per range', () => {
    expect(walletCollisionBound(1, 3 * WALLETS_PER_RANGE)).toBeCloseTo(3 * (1 / WALLET_ACCOUNTS) * ((2 * WALLETS_PER_RANGE - 1) / (WALLET_INDICES - WALLETS_PER_RANGE + 1)), 20);
  });

  it('agrees with a simulation: 20,000 workers drawing real ranges of 10,000 users share no wallet', () => {
    // The bound is 8.7e-7 here: a failure of this test would mean the draw is not uniform.
    expect(walletCollisionBound(20_000, 10_000)).toBeCloseTo(8.74e-7, 9);
    const byAccount = new Map<number, number[]>();
    let collisions = 0;
    for (let w = 0; w < 20_000; w++) {
      const { account, base } = drawWalletRange();
      const bases = byAccount.get(account) ?? [];
      collisions += bases.filter((other) => Math.abs(other - base) < 10_000).length;
      bases.push(base);
      byAccount.set(account, bases);
    }
    expect(collisions).toBe(0);
  });

  it('error: refuses fewer than one worker or wallet', () => {
    expect(() => walletCollisionBound(0, 1)).toThrowErrorMatchingInlineSnapshot(`[RangeError: Expected workers and walletsPerWorker >= 1, got 0 and 1]`);
  });
});
