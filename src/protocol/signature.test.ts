import { privateKeyToAccount } from 'viem/accounts';
import { recoverMessageAddress, type Hex } from 'viem';
import { describe, expect, it } from 'vitest';
import { normalizeSignatureV, signatureProblem } from './signature.ts';

// anvil dev account 9: a well-known local-only key.
const signer = privateKeyToAccount('0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6');
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** The malleated twin of a signature: s' = n - s, v flipped. It recovers the same address. */
function highS(signature: Hex): Hex {
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = Number.parseInt(signature.slice(130, 132), 16);
  return `${signature.slice(0, 66)}${(N - s).toString(16).padStart(64, '0')}${(v === 27 ? 28 : 27).toString(16)}` as Hex;
}

describe('signatureProblem', () => {
  it('accepts a signature from viem, and its v as 0/1', async () => {
    const signature = await signer.signMessage({ message: 'hi' });
    expect(signatureProblem(signature)).toBeUndefined();
    const v = Number.parseInt(signature.slice(130), 16) - 27;
    expect(signatureProblem(`${signature.slice(0, 130)}0${v}` as Hex)).toBeUndefined();
    expect(normalizeSignatureV(`${signature.slice(0, 130)}0${v}` as Hex)).toBe(signature);
  });

  it('error: refuses the high-s twin of a valid signature, although it recovers the same signer', async () => {
    const signature = await signer.signMessage({ message: 'hi' });
    const twin = highS(signature);
    expect(await recoverMessageAddress({ message: 'hi', signature: twin })).toBe(signer.address);
    expect(signatureProblem(twin)).toBe('s is in the upper half of the curve order (not canonical); the contract reverts ECDSAInvalidSignatureS');
  });

  it('error: refuses a v that is neither 27/28 nor 0/1, and a short signature', async () => {
    const signature = await signer.signMessage({ message: 'hi' });
    expect(signatureProblem(`${signature.slice(0, 130)}1d` as Hex)).toBe('v is 29; the contract accepts 27 or 28 (or 0/1, normalized)');
    expect(signatureProblem('0x1234')).toBe('not a 65-byte 0x hex signature');
  });
});
