import { describe, expect, it } from 'vitest';
import { hashMessage, recoverMessageAddress } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { deriveEncryptionKey, ENCRYPTION_KEY_MESSAGE } from './encryptionKey.ts';

// anvil's well-known dev account #0: a public test key.
const user = privateKeyToAccount('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80');

describe('deriveEncryptionKey', () => {
  it('signs the SDK seed message', () => {
    expect(ENCRYPTION_KEY_MESSAGE).toBe('Please sign to retrieve your encryption key');
  });

  it('returns the fixed personal_sign signature of the seed for a fixed key', async () => {
    const key = await deriveEncryptionKey(user);
    expect(key).toBe(
      '0x8ece315f91aca4024ab01b963fcd0f7ef5620b6255746799951079aa2eab6ec46715942b75fea83f6d9fea2220f9f6b1254be2825cbf060f1bc25f9f31fee3281c',
    );
    expect(key.length).toBe(132);
  });

  it('returns the same key on every call', async () => {
    expect(await deriveEncryptionKey(user)).toBe(await deriveEncryptionKey(user));
  });

  it('is an EIP-191 signature that recovers to the user', async () => {
    const key = await deriveEncryptionKey(user);
    // keccak256("\x19Ethereum Signed Message:\n43" + message), computed with @noble/hashes.
    expect(hashMessage(ENCRYPTION_KEY_MESSAGE)).toBe('0x5c313c4446798e4a121d2fe99f6bbbbe3421b06f18338672e7df4314b94b062f');
    expect(await recoverMessageAddress({ message: ENCRYPTION_KEY_MESSAGE, signature: key })).toBe(user.address);
  });
});
