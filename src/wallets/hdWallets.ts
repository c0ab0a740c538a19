/**
 * The virtual users' wallets: HD accounts `m/44'/60'/0'/0/i` of one mnemonic, derived on demand.
 * Only the parent node `m/44'/60'/0'/0` is kept, so a 100k-user run holds no list of keys.
 *
 * The last, non-hardened step is computed here (BIP-32 CKDpriv: one HMAC-SHA512 and a scalar
 * addition) rather than with `HDKey.deriveChild`, which also computes the child's compressed public
 * key and its hash: that halves the cost of a wallet to one scalar multiplication (~0.5 ms here,
 * against ~1.1 ms), and funding derives a wallet per recipient on the critical path.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hmac } from '@noble/hashes/hmac.js';
import { pbkdf2 } from '@noble/hashes/pbkdf2.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesToBigInt, numberToHex, type Address, type Hex, type LocalAccount } from 'viem';
import { HDKey, privateKeyToAccount, privateKeyToAddress } from 'viem/accounts';
import { mnemonic as mnemonicParser } from '../config/parsers.ts';
import { ConfigError } from '../errors.ts';

/** Path of the parent node; wallet `i` is its child `i`. */
export const HD_WALLET_PARENT_PATH = "m/44'/60'/0'/0";

/** Wallet indices are non-hardened BIP-32 child numbers. */
export const MAX_WALLET_INDEX = 2 ** 31 - 1;

const CURVE_ORDER = secp256k1.Point.Fn.ORDER;

/** The wallets of one mnemonic. Holds the parent node only; safe to log (it prints no key). */
export interface HdWallets {
  /** Address of wallet `index`. */
  deriveAddress(index: number): Address;
  /** A viem local account that signs as wallet `index`. */
  deriveAccount(index: number): LocalAccount;
}

/** The BIP-39 seed (PBKDF2-HMAC-SHA512, 2048 rounds, empty passphrase) as a BIP-32 master node. */
export function hdRootFromMnemonic(mnemonic: string): HDKey {
  return HDKey.fromMasterSeed(pbkdf2(sha512, mnemonic.normalize('NFKD'), 'mnemonic', { c: 2048, dkLen: 64 }));
}

/**
 * Wallets of a BIP-39 English mnemonic at `m/44'/60'/0'/0/i`, as viem's
 * `mnemonicToAccount(mnemonic, { addressIndex: i })` derives them. The seed (~60 ms) and the
 * parent node are computed once here; each wallet is derived when asked for and not kept.
 * Throws a `ConfigError` that never quotes the mnemonic when it is not a valid one.
 *
 * @example
 * const wallets = createHdWallets(walletFile.mnemonic);
 * wallets.deriveAddress(0); // 0x…
 * const account = wallets.deriveAccount(41);
 */
export function createHdWallets(mnemonic: string): HdWallets {
  const parsed = mnemonicParser().parse(mnemonic.trim());
  if (!parsed.ok) {
    throw new ConfigError(`Expected a BIP-39 English mnemonic, got an invalid one (${parsed.detail ?? 'not a mnemonic'})`, {
      code: 'MNEMONIC_INVALID',
    });
  }
  const parent = hdRootFromMnemonic(parsed.value).derive(HD_WALLET_PARENT_PATH);
  const parentKey = bytesToBigInt(parent.privateKey as Uint8Array);
  const chainCode = parent.chainCode as Uint8Array;
  // HMAC input of a non-hardened child: the parent's compressed public key, then the index.
  const data = new Uint8Array(37);
  data.set(parent.publicKey as Uint8Array, 0);
  const view = new DataView(data.buffer);

  const childKey = (index: number): Hex => {
    if (!Number.isSafeInteger(index) || index < 0 || index > MAX_WALLET_INDEX) {
      throw new RangeError(`Expected a wallet index in [0, ${MAX_WALLET_INDEX}], got ${index}`);
    }
    view.setUint32(33, index);
    const tweak = bytesToBigInt(hmac(sha512, chainCode, data).subarray(0, 32));
    const key = (tweak + parentKey) % CURVE_ORDER;
    // BIP-32 declares such an index invalid; the odds are below 2^-127.
    if (tweak >= CURVE_ORDER || key === 0n) throw new RangeError(`Wallet index ${index} has no key (BIP-32: invalid child)`);
    return numberToHex(key, { size: 32 });
  };
  return Object.freeze({
    deriveAddress: (index: number): Address => privateKeyToAddress(childKey(index)),
    deriveAccount: (index: number): LocalAccount => privateKeyToAccount(childKey(index)),
  });
}
