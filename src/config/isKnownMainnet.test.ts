import { describe, expect, it } from 'vitest';
import { isKnownMainnet } from './isKnownMainnet.ts';

describe('isKnownMainnet', () => {
  it('flags Vana and Ethereum mainnets and nothing else', () => {
    expect([1480, 1, 14800, 31337, 11155111].map(isKnownMainnet)).toEqual([true, true, false, false, false]);
  });
});
