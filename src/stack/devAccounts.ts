/**
 * The local stack's accounts. Every key here comes from a publicly known test mnemonic, so they
 * are worthless anywhere but on the local anvil chain: never fund them on a real network, and
 * never use this module for a remote target (real keys come from `.env`).
 *
 * Layout of the anvil dev mnemonic (`m/44'/60'/0'/0/i`; anvil pre-funds indices 0-9):
 * - 0: deployer and funder of the local stack;
 * - 1: the app, i.e. the grantee that signs personal-server operation requests;
 * - 100 + i: relayer i. A separate range, so relayers never share a nonce with the deployer or
 *   the app and any relayer count fits; they are funded by the stack, not by anvil.
 */
import { pbkdf2 } from '@noble/hashes/pbkdf2.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { HDKey, hdKeyToAccount, type HDAccount } from 'viem/accounts';

/** anvil's (and Hardhat's) default mnemonic. Public: local chain only. */
export const DEV_MNEMONIC = 'test test test test test test test test test test test junk';

/**
 * Mnemonic of the local personal server's per-user keys: the BIP-39 all-"abandon" test vector.
 * Public: local stack only.
 */
export const LOCAL_SERVER_MNEMONIC =
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';

/** First HD index of the relayer range of {@link DEV_MNEMONIC}. */
export const RELAYER_INDEX_OFFSET = 100;

let devRoot: HDKey | undefined;

// The BIP-39 seed costs a 2048-round PBKDF2 (~60 ms): computed once, then each account is a
// cheap BIP-32 derivation from the cached root.
function devRootKey(): HDKey {
  devRoot ??= HDKey.fromMasterSeed(pbkdf2(sha512, DEV_MNEMONIC.normalize('NFKD'), 'mnemonic', { c: 2048, dkLen: 64 }));
  return devRoot;
}

/**
 * The account at `m/44'/60'/0'/0/{index}` of the anvil dev mnemonic (local chain only).
 *
 * @example
 * devAccount(0).address; // 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
 */
export function devAccount(index: number): HDAccount {
  if (!Number.isSafeInteger(index) || index < 0 || index >= 2 ** 31) {
    throw new RangeError(`Expected an HD address index in [0, 2^31), got ${index}`);
  }
  return hdKeyToAccount(devRootKey(), { addressIndex: index });
}

/** Deployer and funder of the local stack: dev account 0 (pre-funded by anvil). */
export function deployerAccount(): HDAccount {
  return devAccount(0);
}

/** The app (grantee) key of the local stack: dev account 1 (pre-funded by anvil). */
export function appAccount(): HDAccount {
  return devAccount(1);
}

/**
 * Relayer `i` of the local stack: dev account {@link RELAYER_INDEX_OFFSET} + i. Not pre-funded.
 *
 * @example
 * const relayers = Array.from({ length: 4 }, (_, i) => relayerAccount(i));
 */
export function relayerAccount(i: number): HDAccount {
  if (!Number.isSafeInteger(i) || i < 0) throw new RangeError(`Expected a relayer index >= 0, got ${i}`);
  return devAccount(RELAYER_INDEX_OFFSET + i);
}
