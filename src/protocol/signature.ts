/**
 * What a contract's `ECDSA.recover` (OpenZeppelin, as Vana's contracts use) accepts of a 65-byte
 * r‖s‖v signature, so that a relayer can tell before paying gas that a submission would revert.
 */
import type { Hex } from 'viem';

/** secp256k1 group order n, and n/2: OZ refuses s above it (`ECDSAInvalidSignatureS`). */
const HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

/**
 * The signature with v ∈ {27, 28}: some signers emit {0, 1}, which `ECDSA.recover` refuses; the
 * SDK adds 27 before sending as well (PROTOCOL.md 2.1).
 *
 * @example
 * normalizeSignatureV(`${rs}00`); // `${rs}1b`
 */
export function normalizeSignatureV(signature: Hex): Hex {
  const v = Number.parseInt(signature.slice(130, 132), 16);
  return v < 27 ? (`${signature.slice(0, 130)}${(v + 27).toString(16).padStart(2, '0')}` as Hex) : signature;
}

/**
 * Why `ECDSA.recover` would refuse this 65-byte signature, or undefined when it accepts it: s in
 * the upper half of the curve order (a malleated copy of a valid signature), or v other than
 * 27/28 after normalization.
 *
 * @example
 * signatureProblem(highS); // 's is in the upper half of the curve order (not canonical); ...'
 */
export function signatureProblem(signature: Hex): string | undefined {
  if (!/^0x[0-9a-fA-F]{130}$/.test(signature)) return 'not a 65-byte 0x hex signature';
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  if (s > HALF_ORDER) return 's is in the upper half of the curve order (not canonical); the contract reverts ECDSAInvalidSignatureS';
  const v = Number.parseInt(normalizeSignatureV(signature).slice(130, 132), 16);
  if (v !== 27 && v !== 28) return `v is ${v}; the contract accepts 27 or 28 (or 0/1, normalized)`;
  return undefined;
}
