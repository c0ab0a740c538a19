import { describe, expect, it } from 'vitest';
import { mnemonicToAccount } from 'viem/accounts';
import { createServerIdentityDeriver, serverKeyIndex } from './identity.ts';

// Anvil's public dev mnemonic: a fixed, well-known input for pinned values.
const MNEMONIC = 'test test test test test test test test test test test junk';
const USER = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const OTHER_USER = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';

describe('serverKeyIndex', () => {
  it('takes the first 4 bytes of sha256(lowercased address) mod 2^31', () => {
    expect(serverKeyIndex(USER)).toBe(2_125_127_449);
    expect(serverKeyIndex(USER.toLowerCase() as typeof USER)).toBe(2_125_127_449);
  });
});

describe('createServerIdentityDeriver', () => {
  const identities = createServerIdentityDeriver({ mnemonic: MNEMONIC, cacheSize: 2 });

  it('derives a pinned identity for a fixed mnemonic and user', () => {
    expect(identities.derive(USER)).toMatchInlineSnapshot(`
      {
        "address": "0x8f139a2F2c5a7e99B096c9Ca61AB3029D0386365",
        "index": 2125127449,
        "privateKey": "0xee251872b26e4df86258631a6f4a1fc877a37deda1a6d1e79c60ca765db1afe7",
        "publicKey": "0x04c4f6e5b02a0c71be4bea96aabb8bc8c1aebcc2e6a1854f35da2e706c704f862c7267f909ae4abef599cfa56ada34241971f81f06b390ae96f3078c51abc7401f",
        "userAddress": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
      }
    `);
  });

  it("matches the standard BIP-44 account m/44'/60'/0'/0/{index} of the mnemonic", () => {
    const identity = identities.derive(OTHER_USER);
    const reference = mnemonicToAccount(MNEMONIC, { addressIndex: identity.index });
    expect({ address: identity.address, publicKey: identity.publicKey }).toEqual({ address: reference.address, publicKey: reference.publicKey });
  });

  it('derives the same identity for every spelling of the address', () => {
    const fresh = createServerIdentityDeriver({ mnemonic: MNEMONIC });
    expect(fresh.derive(USER.toLowerCase() as typeof USER)).toEqual(identities.derive(USER));
  });

  it('derives distinct identities for distinct users', () => {
    const addresses = new Set(Array.from({ length: 200 }, (_, i) => identities.derive(`0x${(i + 1).toString(16).padStart(40, '0')}`).address));
    expect(addresses.size).toBe(200);
  });

  it('keeps at most cacheSize identities and counts hits', () => {
    const small = createServerIdentityDeriver({ mnemonic: MNEMONIC, cacheSize: 2 });
    small.derive(USER);
    small.derive(USER);
    small.derive(OTHER_USER);
    small.derive('0x0000000000000000000000000000000000000001');
    expect(small.stats()).toEqual({ size: 2, hits: 1, misses: 3 });
  });

  it('error: rejects a mnemonic with a bad checksum without echoing it', () => {
    expect(() => createServerIdentityDeriver({ mnemonic: 'test test test test test test test test test test test test' })).toThrowErrorMatchingInlineSnapshot(`[ConfigError: Expected a valid BIP-39 checksum in the personal-server mnemonic; a word is probably mistyped]`);
  });

  it('error: rejects a mnemonic with a word outside the BIP-39 list', () => {
    expect(() => createServerIdentityDeriver({ mnemonic: 'test test test test test test test test test test test junkk' })).toThrowErrorMatchingInlineSnapshot(`[ConfigError: Expected every personal-server mnemonic word in the BIP-39 English list; word 12 is not]`);
  });

  it('error: rejects a malformed user address', () => {
    expect(() => identities.derive('0x1234' as typeof USER)).toThrowErrorMatchingInlineSnapshot(`[ConfigError: Expected a 0x-prefixed 20-byte hex user address, got "0x1234"]`);
  });
});
