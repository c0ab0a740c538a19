import { describe, expect, it } from 'vitest';
import { appAccount, deployerAccount, devAccount, relayerAccount } from './devAccounts.ts';

describe('dev accounts', () => {
  it('derives anvil\'s well-known accounts 0 and 1 as deployer and app', () => {
    expect(deployerAccount().address).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
    expect(appAccount().address).toBe('0x70997970C51812dc3A010C7d01b50e0d17dc79C8');
  });

  it('derives relayer i at HD index 100 + i of the same mnemonic', () => {
    expect(relayerAccount(0).address).toBe(devAccount(100).address);
    expect(relayerAccount(7).address).toBe(devAccount(107).address);
  });

  it('error: rejects a negative or fractional relayer index', () => {
    expect(() => relayerAccount(-1)).toThrow('Expected a relayer index >= 0, got -1');
    expect(() => relayerAccount(1.5)).toThrow('Expected a relayer index >= 0, got 1.5');
  });
});
