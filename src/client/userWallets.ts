/**
 * The virtual users' wallets: account i is `m/44'/60'/0'/0/i` of a mnemonic, derived when a flow
 * needs it (src/wallets/hdWallets.ts). Nothing is kept per user, so a 100k-user run holds no key list.
 */
import type { LocalAccount } from 'viem';
import { createHdWallets } from '../wallets/hdWallets.ts';

/**
 * The local stack's users. Public on purpose (it only ever controls anvil test funds), like
 * anvil's own dev mnemonic; real networks take VANA_MNEMONIC.
 */
export const LOCAL_USERS_MNEMONIC = 'retire drama nature trial egg tilt eagle fragile dawn dad cool seek';

export interface UserWallets {
  account(index: number): LocalAccount;
}

export function createUserWallets(mnemonic: string): UserWallets {
  const wallets = createHdWallets(mnemonic);
  return { account: (index) => wallets.deriveAccount(index) };
}
