/**
 * Wallets of the virtual users of one Artillery worker, with no coordination between workers or
 * machines. Each worker draws a random range of the configured mnemonic's HD tree and hands out
 * its wallets in order:
 *
 *   virtual user k of the range (account a, base b) signs as `m/44'/60'/{a}'/0/{b + k}`
 *
 * with `a` uniform in [0, 2^31) (hardened BIP-44 accounts) and `b` uniform in [0, 2^31 − 2^24]
 * (non-hardened indices), so a range holds 2^24 wallets; a worker that uses them all draws another.
 * Two ranges share a wallet only when they drew the same account *and* bases closer than the
 * wallets they used: see `walletCollisionBound`. The engine runs relay mode api only, so users need
 * no funds, and every wallet stays derivable from the mnemonic (the account and base are in the
 * worker's log line).
 */
import { randomInt as cryptoRandomInt } from 'node:crypto';
import { bytesToHex, type LocalAccount } from 'viem';
import { privateKeyToAccount, type HDKey } from 'viem/accounts';
import { hdRootFromMnemonic } from './harness.ts';

/** Hardened account indices: [0, 2^31). */
export const WALLET_ACCOUNTS = 2 ** 31;
/** Non-hardened child indices: [0, 2^31). */
export const WALLET_INDICES = 2 ** 31;
/** Wallets in one range before a new range is drawn. */
export const WALLETS_PER_RANGE = 2 ** 24;

/** `randomInt(min, max)`: an integer in [min, max), like `crypto.randomInt`. */
export type RandomInt = (min: number, max: number) => number;

export interface WalletRange {
  account: number;
  base: number;
}

export interface WorkerWallet {
  account: LocalAccount;
  /** The HD child index (`base + k`): the `userIndex` of the flow. */
  userIndex: number;
  path: string;
}

export interface WorkerWallets {
  /** The wallet of the next virtual user. */
  next(): WorkerWallet;
  /** Ranges drawn so far (the first when the wallets are created), the current one last. */
  ranges(): readonly WalletRange[];
}

export interface CreateWorkerWalletsParameters {
  mnemonic: string;
  /** Default: `crypto.randomInt`, a CSPRNG; tests inject their own. */
  randomInt?: RandomInt;
  /** Default `WALLETS_PER_RANGE`; tests shrink it. */
  walletsPerRange?: number;
}

/** Draws a range: a uniform account and a uniform base that leaves room for `walletsPerRange` wallets. */
export function drawWalletRange(randomInt: RandomInt = cryptoRandomInt, walletsPerRange = WALLETS_PER_RANGE): WalletRange {
  return { account: randomInt(0, WALLET_ACCOUNTS), base: randomInt(0, WALLET_INDICES - walletsPerRange + 1) };
}

/**
 * Upper bound on the probability that any two of `workers` workers, each using
 * `walletsPerWorker` wallets, hand out the same wallet. A pair collides only if both drew the
 * same account (1 / 2^31) and bases less than `walletsPerWorker` apart (at most
 * (2n − 1) / bases); the union bound over the pairs gives the total. A worker using more than one
 * range counts as one worker per range.
 *
 * @example
 * walletCollisionBound(1_000, 100_000); // ≈ 2.2e-8
 */
export function walletCollisionBound(workers: number, walletsPerWorker: number, walletsPerRange = WALLETS_PER_RANGE): number {
  if (!(workers >= 1 && walletsPerWorker >= 1)) throw new RangeError(`Expected workers and walletsPerWorker >= 1, got ${workers} and ${walletsPerWorker}`);
  const ranges = workers * Math.ceil(walletsPerWorker / walletsPerRange);
  const used = Math.min(walletsPerWorker, walletsPerRange);
  const bases = WALLET_INDICES - walletsPerRange + 1;
  const pairs = (ranges * (ranges - 1)) / 2;
  return Math.min(1, pairs * (1 / WALLET_ACCOUNTS) * Math.min(1, (2 * used - 1) / bases));
}

/**
 * The wallet source of one worker; it draws its first range at once. The BIP-39 seed is computed once (~60 ms); each wallet costs
 * one BIP-32 child derivation (~1 ms) and nothing is kept per user.
 *
 * @example
 * const wallets = createWorkerWallets({ mnemonic });
 * const { account, userIndex } = wallets.next();
 */
export function createWorkerWallets({ mnemonic, randomInt = cryptoRandomInt, walletsPerRange = WALLETS_PER_RANGE }: CreateWorkerWalletsParameters): WorkerWallets {
  if (!(Number.isInteger(walletsPerRange) && walletsPerRange >= 1 && walletsPerRange <= WALLET_INDICES)) {
    throw new RangeError(`Expected walletsPerRange in [1, 2^31], got ${walletsPerRange}`);
  }
  const root = hdRootFromMnemonic(mnemonic);
  const drawn: WalletRange[] = [];
  let parent: HDKey;
  let used: number;
  const draw = (): void => {
    const range = drawWalletRange(randomInt, walletsPerRange);
    drawn.push(range);
    parent = root.derive(`m/44'/60'/${range.account}'/0`);
    used = 0;
  };
  draw();
  return {
    next(): WorkerWallet {
      if (used === walletsPerRange) draw();
      const range = drawn.at(-1)!;
      const userIndex = range.base + used++;
      const child = parent.deriveChild(userIndex);
      return {
        account: privateKeyToAccount(bytesToHex(child.privateKey!)),
        userIndex,
        path: `m/44'/60'/${range.account}'/0/${userIndex}`,
      };
    },
    ranges: () => [...drawn],
  };
}
