import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex, keccak256 } from 'viem';
import { describe, expect, it } from 'vitest';
import { keccak256Bytes } from './keccak256Bytes.ts';

describe('keccak256Bytes', () => {
  it('hashes the empty input to the known keccak-256 constant', () => {
    expect(bytesToHex(keccak256Bytes(new Uint8Array()))).toBe('0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
  });

  it.each([1, 31, 32, 135, 136, 137, 1000, 5000])('equals viem keccak256 for %i bytes', (size) => {
    const bytes = Uint8Array.from({ length: size }, (_, i) => (i * 7 + size) % 256);
    expect(bytesToHex(keccak256Bytes(bytes))).toBe(keccak256(bytes));
  });

  it('hashes parts as their concatenation', () => {
    const a = Uint8Array.of(1, 2, 3);
    const b = new Uint8Array(200).fill(9);
    expect(keccak256Bytes(a, b, a)).toEqual(keccak_256(Uint8Array.from([...a, ...b, ...a])));
  });
});
