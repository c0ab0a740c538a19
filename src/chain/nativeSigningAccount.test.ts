import { parseGwei, type Hex, type TransactionSerializable } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { privateKeyToNativeSigningAccount } from './nativeSigningAccount.ts';

const keys: Hex[] = [`0x${'11'.repeat(32)}`, '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80', `0x${'fe'.repeat(31)}01`];
const transactions: Record<string, TransactionSerializable> = {
  eip1559: {
    type: 'eip1559',
    chainId: 31337,
    nonce: 7,
    to: '0x000000000000000000000000000000000000bEEF',
    data: `0x${'ab'.repeat(900)}`,
    gas: 1_900_000n,
    value: 0n,
    maxFeePerGas: parseGwei('2'),
    maxPriorityFeePerGas: parseGwei('0.1'),
  },
  'eip1559 self-transfer': { type: 'eip1559', chainId: 14800, nonce: 0, to: '0x0000000000000000000000000000000000000001', gas: 21_000n, value: 0n, maxFeePerGas: 1n, maxPriorityFeePerGas: 0n },
  legacy: { type: 'legacy', chainId: 1, nonce: 3, to: '0x000000000000000000000000000000000000bEEF', gas: 21_000n, gasPrice: parseGwei('5'), value: 1n },
};

describe('privateKeyToNativeSigningAccount', () => {
  it.each(keys.flatMap((key) => Object.keys(transactions).map((name) => [key.slice(0, 8), name, key] as const)))(
    'signs exactly the bytes viem signs (key %s, %s)',
    async (_short, name, key) => {
      const tx = transactions[name]!;
      expect(await privateKeyToNativeSigningAccount(key).signTransaction(tx)).toBe(await privateKeyToAccount(key).signTransaction(tx));
    },
  );

  it('has the address and the other methods of viem account', async () => {
    const native = privateKeyToNativeSigningAccount(keys[1]!);
    const viem = privateKeyToAccount(keys[1]!);
    expect(native.address).toBe(viem.address);
    expect(native.publicKey).toBe(viem.publicKey);
    expect(await native.signMessage({ message: 'hi' })).toBe(await viem.signMessage({ message: 'hi' }));
  });
});
