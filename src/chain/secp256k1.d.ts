// Types for the part of secp256k1 5.x (native libsecp256k1 bindings, no types of its own) that
// src/chain/nativeSecp256k1.ts uses. `bindings.js` is the native build only: the package's main
// entry falls back to a pure-JS implementation without saying so.
declare module 'secp256k1/bindings.js' {
  /** The 65-byte (uncompressed) or 33-byte public key of a 64-byte r‖s signature; throws for an invalid one. */
  export function ecdsaRecover(signature: Uint8Array, recid: number, message: Uint8Array, compressed?: boolean): Uint8Array;
  /** RFC 6979 deterministic, low-s signature of a 32-byte digest. */
  export function ecdsaSign(message: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recid: number };
}
