/**
 * ECIES in the eccrypto format (PROTOCOL.md 6), used to wrap the file key for the personal server:
 *
 *   shared = X coordinate of ephemPriv·recipientPub (32 bytes, not hashed)
 *   k = SHA-512(shared); aesKey = k[0,32), macKey = k[32,64)
 *   ct = AES-256-CBC(aesKey, iv, PKCS7(plaintext))
 *   out = iv(16) ‖ ephemPub(65, 04…) ‖ ct ‖ HMAC-SHA256(macKey, iv ‖ ephemPub ‖ ct)(32)
 *
 * serialized as lowercase hex without 0x. Synchronous: node:crypto for the symmetric parts,
 * @noble/curves for the curve. Known-answer vectors in ecies.vectors.json pin the layout.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { Hex } from 'viem';
import { VanaLoadError } from '../errors.ts';

const IV_LENGTH = 16;
const PUBLIC_KEY_LENGTH = 65;
const MAC_LENGTH = 32;
const BLOCK_LENGTH = 16;
/** iv + ephemeral key + one AES block + MAC: the shortest valid message (empty plaintext). */
const MIN_MESSAGE_LENGTH = IV_LENGTH + PUBLIC_KEY_LENGTH + BLOCK_LENGTH + MAC_LENGTH;

export interface EciesEncryptOptions {
  /** Fixed ephemeral secret key (32 bytes), for known-answer tests only. Default: fresh random. */
  ephemeralPrivateKey?: Uint8Array;
  /** Fixed IV (16 bytes), for known-answer tests only. Default: fresh random. */
  iv?: Uint8Array;
}

/**
 * Encrypts to a secp256k1 public key in the eccrypto format.
 *
 * @param publicKey - Recipient key as hex, with or without 0x: 65 bytes starting 04, or 33 bytes
 *   starting 02/03. A 64-byte raw key is rejected (prefix it with 04).
 * @param plaintext - Bytes, or a string encoded as UTF-8.
 * @param options - Fixed ephemeral key and IV, for known-answer vectors only.
 * @returns Lowercase hex without 0x: iv ‖ ephemPub ‖ ciphertext ‖ mac.
 * @throws VanaLoadError `ECIES_BAD_PUBLIC_KEY` for a malformed or off-curve key.
 *
 * @example
 * const wrapped = eciesEncrypt(identity.publicKey, encryptionKey); // 514 hex chars for a 132-char key
 */
export function eciesEncrypt(publicKey: string, plaintext: Uint8Array | string, options: EciesEncryptOptions = {}): string {
  const recipient = normalizePublicKey(publicKey);
  const data = typeof plaintext === 'string' ? new TextEncoder().encode(plaintext) : plaintext;
  const ephemeralPrivateKey = options.ephemeralPrivateKey ?? randomSecretKey();
  if (!isSecretKey(ephemeralPrivateKey)) {
    throw new VanaLoadError('Expected ephemeralPrivateKey to be a valid 32-byte secp256k1 secret key', {
      code: 'ECIES_BAD_PRIVATE_KEY',
    });
  }
  const iv = options.iv ?? randomBytes(IV_LENGTH);
  if (iv.length !== IV_LENGTH) {
    throw new VanaLoadError(`Expected iv to be ${IV_LENGTH} bytes, got ${iv.length}`, { code: 'ECIES_BAD_IV' });
  }
  const ephemeralPublicKey = secp256k1.getPublicKey(ephemeralPrivateKey, false);
  const { aesKey, macKey } = deriveKeys(ephemeralPrivateKey, recipient);
  const cipher = createCipheriv('aes-256-cbc', aesKey, iv);
  const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
  const mac = createHmac('sha256', macKey).update(iv).update(ephemeralPublicKey).update(ciphertext).digest();
  return Buffer.concat([iv, ephemeralPublicKey, ciphertext, mac]).toString('hex');
}

/**
 * Decrypts an eccrypto-format message. The MAC is checked, in constant time, before decrypting.
 *
 * @param privateKey - Recipient secret key, 32 bytes (hex with 0x, or bytes).
 * @param ciphertextHex - The message as hex, with or without 0x.
 * @returns The plaintext bytes (for a Vana file key, the UTF-8 of the 132-char signature).
 * @throws VanaLoadError `ECIES_BAD_MAC` (errorClass `integrity`) when the MAC does not match
 *   (tampered data or wrong key), `ECIES_MALFORMED` when the layout is wrong.
 *
 * @example
 * const key = new TextDecoder().decode(eciesDecrypt(serverPrivateKey, wrapped));
 */
export function eciesDecrypt(privateKey: Hex | Uint8Array, ciphertextHex: string): Uint8Array {
  const secretKey = typeof privateKey === 'string' ? hexToBytesStrict(privateKey, 'privateKey', 'ECIES_BAD_PRIVATE_KEY') : privateKey;
  if (!isSecretKey(secretKey)) {
    throw new VanaLoadError('Expected privateKey to be a valid 32-byte secp256k1 secret key', { code: 'ECIES_BAD_PRIVATE_KEY' });
  }
  const bytes = hexToBytesStrict(ciphertextHex, 'ciphertext', 'ECIES_MALFORMED');
  const ciphertextLength = bytes.length - IV_LENGTH - PUBLIC_KEY_LENGTH - MAC_LENGTH;
  if (bytes.length < MIN_MESSAGE_LENGTH || ciphertextLength % BLOCK_LENGTH !== 0) {
    throw malformed(
      `Expected at least ${MIN_MESSAGE_LENGTH} bytes with a whole number of AES blocks, got ${bytes.length} bytes`,
    );
  }
  const iv = bytes.subarray(0, IV_LENGTH);
  const ephemeralPublicKey = bytes.subarray(IV_LENGTH, IV_LENGTH + PUBLIC_KEY_LENGTH);
  const ciphertext = bytes.subarray(IV_LENGTH + PUBLIC_KEY_LENGTH, bytes.length - MAC_LENGTH);
  const mac = bytes.subarray(bytes.length - MAC_LENGTH);
  if (ephemeralPublicKey[0] !== 0x04 || !secp256k1.utils.isValidPublicKey(ephemeralPublicKey, false)) {
    throw malformed('The ephemeral public key is not an uncompressed secp256k1 point');
  }
  const { aesKey, macKey } = deriveKeys(secretKey, ephemeralPublicKey);
  const expectedMac = createHmac('sha256', macKey).update(bytes.subarray(0, bytes.length - MAC_LENGTH)).digest();
  if (!timingSafeEqual(expectedMac, mac)) {
    throw new VanaLoadError('ECIES MAC mismatch: the message was modified or is not for this key', {
      code: 'ECIES_BAD_MAC',
      errorClass: 'integrity',
      metaMessages: [`bytes: ${bytes.length}`],
    });
  }
  try {
    const decipher = createDecipheriv('aes-256-cbc', aesKey, iv);
    return new Uint8Array(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
  } catch (cause) {
    // Only reachable when the sender MAC'd a badly padded ciphertext.
    throw malformed('Bad PKCS7 padding after a valid MAC', cause);
  }
}

/**
 * The uncompressed public key (0x04 ‖ X ‖ Y) of a secp256k1 secret key, the form the personal
 * server publishes and the on-chain `serverPublicKey` carries.
 *
 * @param privateKey - 32-byte secret key (hex with 0x, or bytes).
 * @returns 0x-prefixed 65-byte hex (132 chars).
 *
 * @example
 * publicKeyFromPrivateKey('0xac09…ff80'); // '0x048318535b…'
 */
export function publicKeyFromPrivateKey(privateKey: Hex | Uint8Array): Hex {
  const secretKey = typeof privateKey === 'string' ? hexToBytesStrict(privateKey, 'privateKey', 'ECIES_BAD_PRIVATE_KEY') : privateKey;
  if (!isSecretKey(secretKey)) {
    throw new VanaLoadError('Expected privateKey to be a valid 32-byte secp256k1 secret key', { code: 'ECIES_BAD_PRIVATE_KEY' });
  }
  return `0x${Buffer.from(secp256k1.getPublicKey(secretKey, false)).toString('hex')}`;
}

/**
 * Parses a recipient public key into its 65-byte uncompressed form.
 *
 * @param publicKey - Hex with or without 0x: 65 bytes starting 04, or 33 bytes starting 02/03.
 * @returns 65 bytes, 04 ‖ X ‖ Y, checked to be on the curve.
 * @throws VanaLoadError `ECIES_BAD_PUBLIC_KEY`; a 64-byte raw key gets a message saying to prefix 04.
 *
 * @example
 * normalizePublicKey(`0x04${xy}`).length; // 65
 */
export function normalizePublicKey(publicKey: string): Uint8Array {
  const bytes = hexToBytesStrict(publicKey, 'publicKey', 'ECIES_BAD_PUBLIC_KEY');
  if (bytes.length === 64) {
    throw new VanaLoadError('Invalid public key: 64-byte raw keys must be prefixed with 04', {
      code: 'ECIES_BAD_PUBLIC_KEY',
      metaMessages: ['expected: 65 bytes starting 04 (uncompressed) or 33 bytes starting 02/03 (compressed)'],
    });
  }
  const wellFormed = (bytes.length === 65 && bytes[0] === 0x04) || (bytes.length === 33 && (bytes[0] === 0x02 || bytes[0] === 0x03));
  if (!wellFormed) {
    throw new VanaLoadError(
      `Invalid public key: expected 65 bytes starting 04 or 33 bytes starting 02/03, got ${bytes.length} bytes starting ${hexByte(bytes[0])}`,
      { code: 'ECIES_BAD_PUBLIC_KEY' },
    );
  }
  try {
    return secp256k1.Point.fromBytes(bytes).toBytes(false);
  } catch (cause) {
    throw new VanaLoadError('Invalid public key: not a point on secp256k1', { code: 'ECIES_BAD_PUBLIC_KEY', cause });
  }
}

function deriveKeys(secretKey: Uint8Array, publicKey: Uint8Array): { aesKey: Buffer; macKey: Buffer } {
  // getSharedSecret returns the compressed point (prefix ‖ X); eccrypto uses X alone, unhashed.
  const sharedX = secp256k1.getSharedSecret(secretKey, publicKey, true).subarray(1);
  const k = createHash('sha512').update(sharedX).digest();
  return { aesKey: k.subarray(0, 32), macKey: k.subarray(32, 64) };
}

function randomSecretKey(): Uint8Array {
  // A random 32-byte value is out of range with probability ~2^-128; loop for correctness.
  for (;;) {
    const candidate = randomBytes(32);
    if (secp256k1.utils.isValidSecretKey(candidate)) return candidate;
  }
}

function isSecretKey(key: Uint8Array): boolean {
  return key instanceof Uint8Array && key.length === 32 && secp256k1.utils.isValidSecretKey(key);
}

function hexToBytesStrict(value: string, what: string, code: string): Buffer {
  const hex = typeof value === 'string' && value.startsWith('0x') ? value.slice(2) : value;
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new VanaLoadError(`Expected ${what} to be hex (with or without 0x), got ${describeHex(value)}`, { code });
  }
  return Buffer.from(hex, 'hex');
}

function describeHex(value: unknown): string {
  if (typeof value !== 'string') return typeof value;
  return `a string of ${value.length} chars that is not even-length hex`;
}

function hexByte(b: number | undefined): string {
  return b === undefined ? 'nothing' : b.toString(16).padStart(2, '0');
}

function malformed(message: string, cause?: unknown): VanaLoadError {
  return new VanaLoadError(`Malformed ECIES message: ${message}`, { code: 'ECIES_MALFORMED', errorClass: 'integrity', cause });
}
