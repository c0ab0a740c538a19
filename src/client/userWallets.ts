/**
 * The virtual users' wallets: account i is `m/44'/60'/0'/0/i` of a mnemonic, derived when a flow
 * needs it. Nothing is kept per user, so a 100k-user run holds no key list.
 */
import { mnemonicToSeedSync } from '@scure/bip39';
import { toHex } from 'viem';
import { HDKey, privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';

/**
 * The local stack's users. Public on purpose (it only ever controls anvil test funds), like
 * anvil's own dev mnemonic; real networks take VANA_MNEMONIC.
 */
export const LOCAL_USERS_MNEMONIC = 'vessel bonus vintage eternal soldier arctic sample wheat paper rib voice cushion';

export interface UserWallets {
  account(index: number): PrivateKeyAccount;
}

export function createUserWallets(mnemonic: string): UserWallets {
  // Derive the BIP-44 parent once; each user is then one non-hardened child step.
  const parent = HDKey.fromMasterSeed(mnemonicToSeedSync(mnemonic)).derive("m/44'/60'/0'/0");
  return {
    account(index: number): PrivateKeyAccount {
      if (!Number.isSafeInteger(index) || index < 0 || index >= 2 ** 31) throw new RangeError(`user index must be an integer in [0, 2^31), got ${index}`);
      const child = parent.deriveChild(index);
      return privateKeyToAccount(toHex(child.privateKey!));
    },
  };
}
