import { inspect } from 'node:util';
import { bytesToHex } from 'viem';
import { english, generateMnemonic, mnemonicToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { DEV_MNEMONIC } from '../stack/devAccounts.ts';
import { createHdWallets, MAX_WALLET_INDEX } from './hdWallets.ts';

describe('createHdWallets', () => {
  it("derives the addresses and keys of viem's mnemonicToAccount at indexes 0, 1 and 999", async () => {
    const mnemonic = generateMnemonic(english);
    const wallets = createHdWallets(mnemonic);
    for (const index of [0, 1, 999]) {
      const expected = mnemonicToAccount(mnemonic, { addressIndex: index });
      const account = wallets.deriveAccount(index);
      expect([wallets.deriveAddress(index), account.address]).toEqual([expected.address, expected.address]);
      expect(await account.signMessage({ message: 'vana-load' })).toBe(await expected.signMessage({ message: 'vana-load' }));
    }
  });

  it("matches anvil's well-known dev accounts", () => {
    const wallets = createHdWallets(DEV_MNEMONIC);
    expect([wallets.deriveAddress(0), wallets.deriveAddress(1)]).toEqual([
      '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
      '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
    ]);
  });

  it('derives the last non-hardened index', () => {
    const mnemonic = generateMnemonic(english);
    expect(createHdWallets(mnemonic).deriveAddress(MAX_WALLET_INDEX)).toBe(mnemonicToAccount(mnemonic, { addressIndex: MAX_WALLET_INDEX }).address);
  });

  it('shows no mnemonic and no key when logged or serialized', () => {
    const mnemonic = generateMnemonic(english);
    const wallets = createHdWallets(mnemonic);
    const privateKey = bytesToHex(mnemonicToAccount(mnemonic).getHdKey().privateKey as Uint8Array);
    const shown = `${JSON.stringify(wallets)} ${inspect(wallets, { depth: 10, showHidden: true })}`;
    expect([shown.includes(mnemonic.split(' ')[0]!), shown.includes(privateKey.slice(2))]).toEqual([false, false]);
  });

  it('error: rejects an invalid mnemonic without quoting it', () => {
    const words = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon zoo';
    expect(() => createHdWallets(words)).toThrowError(
      new ConfigError('Expected a BIP-39 English mnemonic, got an invalid one (the checksum does not match)', { code: 'MNEMONIC_INVALID' }),
    );
    expect(() => createHdWallets('zebra')).toThrowError(/got an invalid one \(1 words\)$/);
  });

  it('error: rejects an index outside [0, 2^31-1]', () => {
    const wallets = createHdWallets(DEV_MNEMONIC);
    for (const index of [-1, 1.5, MAX_WALLET_INDEX + 1]) {
      expect(() => wallets.deriveAddress(index)).toThrowError(`Expected a wallet index in [0, 2147483647], got ${index}`);
    }
  });
});
