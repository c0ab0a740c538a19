/**
 * The per-user file key of PROTOCOL.md 6: the user's EIP-191 signature of a fixed message. It is
 * deterministic (RFC 6979), so the same wallet always gets the same key, and it is used whole,
 * `0x` included, as the OpenPGP password.
 */
import type { Hex, LocalAccount } from 'viem';

/** The message the user signs to derive the file key (the SDK's `DEFAULT_ENCRYPTION_SEED`). */
export const ENCRYPTION_KEY_MESSAGE = 'Please sign to retrieve your encryption key';

/** Anything that can EIP-191 sign a string, e.g. a viem `LocalAccount`. */
export type MessageSigner = Pick<LocalAccount, 'signMessage'>;

/**
 * Derives the user's file encryption key: `personal_sign(ENCRYPTION_KEY_MESSAGE)`, a 0x-prefixed
 * 132-character hex string (65 bytes r‖s‖v).
 *
 * @param account - The user's account; only `signMessage` is used.
 * @returns The signature, to be used as the OpenPGP password and ECIES-wrapped for the server.
 *
 * @example
 * const key = await deriveEncryptionKey(privateKeyToAccount(privateKey));
 * const encrypted = await encryptWithPassword(data, key);
 */
export async function deriveEncryptionKey(account: MessageSigner): Promise<Hex> {
  return await account.signMessage({ message: ENCRYPTION_KEY_MESSAGE });
}
