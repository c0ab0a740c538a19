/**
 * Per-user personal-server keys (PROTOCOL.md 9: "derived deterministically from the user address,
 * a mnemonic on the server side").
 *
 * Derivation, chosen to match the real vana-personal-server so that the same mnemonic yields the
 * same server identities there and here: index = first 4 bytes (big-endian) of
 * sha256(utf8(lowercased user address)) mod 2^31, key = BIP-44 `m/44'/60'/0'/0/{index}` of the
 * BIP-39 seed of `serverMnemonic`. Anyone holding the mnemonic can rebuild a server key in a
 * standard wallet, which helps debugging.
 *
 * Cost: the seed (PBKDF2, 2048 rounds) and the `m/44'/60'/0'/0` parent are computed once; each
 * user then costs one HMAC-SHA512 and one public-key multiplication (~0.8 ms on a slow core; the
 * child step is done by hand because `HDKey.deriveChild` spends a second multiplication on a
 * compressed key we do not need), and results sit in a bounded LRU.
 *
 * With 31-bit indices two users can share a server key (about n²/2³² pairs: ~2 in 100k users).
 * That is harmless on chain: the second user's flow finds the server registered and trusts it, and
 * file keys are stored per (fileId, server address).
 */
import { HDKey, english, publicKeyToAddress } from 'viem/accounts';
import { bytesToHex, getAddress, isAddress, type Address, type Hex } from 'viem';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hmac } from '@noble/hashes/hmac.js';
import { pbkdf2 } from '@noble/hashes/pbkdf2.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { ConfigError } from '../../errors.ts';
import { createLruCache } from './lruCache.ts';

/** One user's personal-server identity. `privateKey` never leaves the server process. */
export interface ServerIdentity {
  /** The user, EIP-55 checksummed. */
  userAddress: Address;
  /** BIP-44 address index the key was derived at. */
  index: number;
  address: Address;
  /** Uncompressed secp256k1 public key, `0x04` + 128 hex. */
  publicKey: Hex;
  privateKey: Hex;
}

export interface ServerIdentityDeriver {
  /** Derives (or returns the cached) identity for `userAddress`; the address case does not matter. */
  derive(userAddress: Address): ServerIdentity;
  stats(): { size: number; hits: number; misses: number };
}

export interface CreateServerIdentityDeriverParameters {
  /** BIP-39 English mnemonic. Checked (words and checksum) here, never logged. */
  mnemonic: string;
  /** Identities kept in memory. Default 10_000 (a few MB). */
  cacheSize?: number;
}

/**
 * The BIP-44 address index of a user's server key: sha256 of the lowercased address, first 4
 * bytes big-endian, mod 2^31.
 *
 * @example
 * serverKeyIndex('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'); // a number in [0, 2^31)
 */
export function serverKeyIndex(userAddress: Address): number {
  const digest = sha256(new TextEncoder().encode(userAddress.toLowerCase()));
  const word = ((digest[0]! << 24) | (digest[1]! << 16) | (digest[2]! << 8) | digest[3]!) >>> 0;
  return word % 2 ** 31;
}

/** Throws a `ConfigError` unless `words` is a BIP-39 English mnemonic with a valid checksum. */
function checkMnemonic(words: readonly string[]): void {
  if (![12, 15, 18, 21, 24].includes(words.length)) {
    throw new ConfigError(`Expected the personal-server mnemonic to have 12, 15, 18, 21 or 24 words, got ${words.length}`, {
      code: 'PERSONAL_SERVER_MNEMONIC_INVALID',
    });
  }
  const indices = words.map((word, position) => {
    const index = english.indexOf(word);
    if (index < 0) {
      throw new ConfigError(`Expected every personal-server mnemonic word in the BIP-39 English list; word ${position + 1} is not`, {
        code: 'PERSONAL_SERVER_MNEMONIC_INVALID',
      });
    }
    return index;
  });
  const bits = indices.map((i) => i.toString(2).padStart(11, '0')).join('');
  const checksumBits = words.length / 3;
  const entropyBits = bits.slice(0, bits.length - checksumBits);
  const entropy = Uint8Array.from(entropyBits.match(/.{8}/g) ?? [], (byte) => Number.parseInt(byte, 2));
  const expected = Array.from(sha256(entropy), (b) => b.toString(2).padStart(8, '0')).join('').slice(0, checksumBits);
  if (expected !== bits.slice(bits.length - checksumBits)) {
    throw new ConfigError('Expected a valid BIP-39 checksum in the personal-server mnemonic; a word is probably mistyped', {
      code: 'PERSONAL_SERVER_MNEMONIC_INVALID',
    });
  }
}

/**
 * Creates the per-user key deriver of the local personal server.
 *
 * @example
 * const identities = createServerIdentityDeriver({ mnemonic: LOCAL_SERVER_MNEMONIC });
 * const { address, publicKey } = identities.derive(userAddress);
 */
export function createServerIdentityDeriver({ mnemonic, cacheSize = 10_000 }: CreateServerIdentityDeriverParameters): ServerIdentityDeriver {
  const normalized = mnemonic.normalize('NFKD').trim().split(/\s+/);
  checkMnemonic(normalized);
  const seed = pbkdf2(sha512, new TextEncoder().encode(normalized.join(' ')), new TextEncoder().encode('mnemonic'), {
    c: 2048,
    dkLen: 64,
  });
  const parent = HDKey.fromMasterSeed(seed).derive("m/44'/60'/0'/0");
  const { chainCode, publicKey: parentPublicKey, privateKey: parentPrivateKey } = parent;
  if (!chainCode || !parentPublicKey || !parentPrivateKey) throw new Error('BIP-32 parent key lacks a chain code or key');
  const parentScalar = BigInt(bytesToHex(parentPrivateKey));
  const order = secp256k1.Point.Fn.ORDER;

  /** BIP-32 CKDpriv for a non-hardened index: k = (IL + k_parent) mod n. */
  function deriveChildKey(index: number): Uint8Array {
    const data = new Uint8Array(37);
    data.set(parentPublicKey!, 0);
    new DataView(data.buffer).setUint32(33, index, false);
    const i = hmac(sha512, chainCode!, data);
    const il = BigInt(bytesToHex(i.subarray(0, 32)));
    const k = (il + parentScalar) % order;
    // BIP-32 says to skip such an index; the odds are below 2^-127, so failing loudly is fine.
    if (il >= order || k === 0n) throw new Error(`BIP-32 child ${index} is invalid`);
    return secp256k1.Point.Fn.toBytes(k);
  }
  // Keyed by the lowercased address so that checksummed and lowercase spellings share an entry.
  const cache = createLruCache<string, ServerIdentity>(cacheSize);

  return {
    derive(userAddress) {
      if (!isAddress(userAddress, { strict: false })) {
        throw new ConfigError(`Expected a 0x-prefixed 20-byte hex user address, got ${JSON.stringify(userAddress)}`, {
          code: 'PERSONAL_SERVER_USER_ADDRESS_INVALID',
        });
      }
      const key = userAddress.toLowerCase();
      const cached = cache.get(key);
      if (cached) return cached;
      const index = serverKeyIndex(userAddress);
      const privateKey = deriveChildKey(index);
      const publicKey = bytesToHex(secp256k1.getPublicKey(privateKey, false));
      const identity: ServerIdentity = Object.freeze({
        userAddress: getAddress(userAddress),
        index,
        address: publicKeyToAddress(publicKey),
        publicKey,
        privateKey: bytesToHex(privateKey),
      });
      cache.set(key, identity);
      return identity;
    },
    stats: () => cache.stats(),
  };
}
