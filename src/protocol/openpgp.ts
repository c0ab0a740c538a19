/**
 * OpenPGP password encryption of the user's data file (PROTOCOL.md 6): unarmored binary packets,
 * SKESK v4 with an iterated+salted SHA-256 S2K, then SEIPD v1 (MDC) with AES-256, no compression.
 * The personal server decrypts it with GnuPG (Vana's) or {@link decryptWithPassword} (ours).
 *
 * Cost: the S2K hashes `s2kIterationCount(countByte)` bytes on every encrypt and every decrypt,
 * 16 MiB with openpgp's default count byte 224, through node:crypto's native SHA-256, on the
 * calling thread. That dominates the cost for files under ~1 MB (see scripts/bench-crypto.ts).
 *
 * Memory: openpgp builds the whole S2K input (16 MiB at the default count) as one buffer, so N
 * key derivations at once hold N × 16 MiB: 50 concurrent flows pushed the harness past 800 MB of
 * RSS. The hashing is synchronous on this thread anyway (node:crypto), so running several at once
 * buys no throughput: one runs at a time per process and the rest wait their turn. What remains is
 * garbage V8 collects once ~64 MB of it has piled up.
 */
import * as openpgp from 'openpgp';
import pLimit from 'p-limit';
import { VanaLoadError } from '../errors.ts';

/** Key derivations (encrypt or decrypt) running at once in this process; see the module comment. */
export const S2K_CONCURRENCY = 1;
const s2kSlots = pLimit(S2K_CONCURRENCY);

/** openpgp's default S2K count byte (224 = 16 MiB hashed), what the Vana SDK uses. */
export const DEFAULT_S2K_ITERATION_COUNT_BYTE: number = openpgp.config.s2kIterationCountByte;

export interface EncryptWithPasswordOptions {
  /**
   * RFC 4880 coded S2K count, 0-255: `(16 + (c & 15)) << ((c >> 4) + 6)` bytes are hashed.
   * Defaults to openpgp's default (224, 16 MiB) for parity with the SDK. A lower value makes
   * both encrypt and decrypt cheaper; readers take the count from the packet, so any value
   * decrypts with plain defaults.
   */
  s2kIterationCountByte?: number;
}

/**
 * Number of bytes the iterated S2K hashes for a coded count byte (RFC 4880 3.7.1.3).
 *
 * @param countByte - Coded count, 0-255.
 * @returns Bytes hashed per key derivation.
 *
 * @example
 * s2kIterationCount(224); // 16_777_216
 */
export function s2kIterationCount(countByte: number): number {
  return (16 + (countByte & 15)) * 2 ** ((countByte >> 4) + 6);
}

/**
 * Encrypts bytes with a password, as the Vana SDK's `encryptBlobWithSignedKey` does.
 *
 * @param data - Plaintext bytes.
 * @param password - The password; for Vana files the whole 132-char key signature, `0x` included.
 * @param options - `s2kIterationCountByte` to lower the key-derivation cost.
 * @returns Binary (unarmored) OpenPGP message.
 *
 * @example
 * const encrypted = await encryptWithPassword(new TextEncoder().encode('{"a":1}'), key);
 */
export async function encryptWithPassword(
  data: Uint8Array,
  password: string,
  options: EncryptWithPasswordOptions = {},
): Promise<Uint8Array> {
  checkInputs(data, password);
  const { s2kIterationCountByte = DEFAULT_S2K_ITERATION_COUNT_BYTE } = options;
  if (!Number.isInteger(s2kIterationCountByte) || s2kIterationCountByte < 0 || s2kIterationCountByte > 255) {
    throw new VanaLoadError(`Expected s2kIterationCountByte to be an integer in 0-255, got ${s2kIterationCountByte}`, {
      code: 'OPENPGP_INVALID_OPTION',
    });
  }
  const message = await openpgp.createMessage({ binary: data });
  return await s2kSlots(() => openpgp.encrypt({
    message,
    passwords: [password],
    format: 'binary',
    // Pinned rather than inherited from openpgp's global defaults, so a library upgrade or a
    // global config change cannot silently switch the wire format (e.g. to SEIPD v2, which the
    // GnuPG-based personal server may not read).
    config: {
      s2kType: openpgp.enums.s2k.iterated,
      s2kIterationCountByte,
      aeadProtect: false,
      preferredSymmetricAlgorithm: openpgp.enums.symmetric.aes256,
      preferredCompressionAlgorithm: openpgp.enums.compression.uncompressed,
    },
  }));
}

/**
 * Decrypts a password-encrypted OpenPGP message (binary, unarmored).
 *
 * @param data - The OpenPGP message bytes.
 * @param password - The password it was encrypted with.
 * @returns The plaintext bytes.
 * @throws VanaLoadError `OPENPGP_MALFORMED` if the bytes are not an OpenPGP message,
 *   `OPENPGP_DECRYPT_FAILED` on a wrong password or tampered ciphertext (both errorClass `integrity`).
 *
 * @example
 * const plaintext = await decryptWithPassword(encrypted, key);
 */
export async function decryptWithPassword(data: Uint8Array, password: string): Promise<Uint8Array> {
  checkInputs(data, password);
  let message: openpgp.Message<Uint8Array>;
  try {
    message = await openpgp.readMessage({ binaryMessage: data });
  } catch (cause) {
    throw new VanaLoadError('Not a valid OpenPGP message', {
      code: 'OPENPGP_MALFORMED',
      errorClass: 'integrity',
      metaMessages: [`bytes: ${data.length}`, `reason: ${reasonOf(cause)}`],
      cause,
    });
  }
  try {
    const { data: plaintext } = await s2kSlots(() => openpgp.decrypt({ message, passwords: [password], format: 'binary' }));
    return plaintext;
  } catch (cause) {
    throw new VanaLoadError('OpenPGP decryption failed: wrong password or corrupted message', {
      code: 'OPENPGP_DECRYPT_FAILED',
      errorClass: 'integrity',
      metaMessages: [`bytes: ${data.length}`, `reason: ${reasonOf(cause)}`],
      cause,
    });
  }
}

function checkInputs(data: Uint8Array, password: string): void {
  if (!(data instanceof Uint8Array)) {
    throw new VanaLoadError(`Expected data to be a Uint8Array, got ${typeof data}`, { code: 'OPENPGP_INVALID_INPUT' });
  }
  if (typeof password !== 'string' || password.length === 0) {
    throw new VanaLoadError('Expected a non-empty password string', { code: 'OPENPGP_INVALID_INPUT' });
  }
}

function reasonOf(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
