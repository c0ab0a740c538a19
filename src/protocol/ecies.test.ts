import { createCipheriv, createECDH, createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { privateKeyToAccount } from 'viem/accounts';
import { VanaLoadError } from '../errors.ts';
import { eciesDecrypt, eciesEncrypt, normalizePublicKey, publicKeyFromPrivateKey } from './ecies.ts';
import vectorFile from './ecies.vectors.json' with { type: 'json' };

const { vectors } = vectorFile;

// anvil's well-known dev account #0: a public test key.
const anvilKey = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const recipientKey = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const recipientPublicKey = publicKeyFromPrivateKey(recipientKey);
const fileKey = vectors[0]!.plaintext;

function bytes(hex: string): Buffer {
  return Buffer.from(hex, 'hex');
}

function thrown(fn: () => unknown): VanaLoadError {
  try {
    fn();
  } catch (error) {
    if (error instanceof VanaLoadError) return error;
    throw error;
  }
  throw new Error('expected a VanaLoadError, nothing was thrown');
}

/** Flips one bit of the byte at `index` of a hex message (negative: from the end). */
function flip(hex: string, index: number): string {
  const b = bytes(hex);
  const i = index < 0 ? b.length + index : index;
  b[i]! ^= 0x01;
  return b.toString('hex');
}

describe('ECIES known-answer vectors', () => {
  it.each(vectors.map((v) => [v.name, v] as const))('reproduces the exact ciphertext of vector "%s"', (_, v) => {
    const ciphertext = eciesEncrypt(v.recipientPublicKey, v.plaintext, {
      ephemeralPrivateKey: bytes(v.ephemeralPrivateKey),
      iv: bytes(v.iv),
    });
    expect(ciphertext).toBe(v.ciphertext);
  });

  it.each(vectors.map((v) => [v.name, v] as const))('decrypts vector "%s" to its plaintext', (_, v) => {
    expect(new TextDecoder().decode(eciesDecrypt(bytes(v.recipientPrivateKey), v.ciphertext))).toBe(v.plaintext);
  });

  it('wraps a 132-char file key into 514 hex chars (16 + 65 + 144 + 32 bytes)', () => {
    expect([fileKey.length, vectors[0]!.ciphertext.length]).toEqual([132, 514]);
    expect(eciesEncrypt(recipientPublicKey, fileKey).length).toBe(514);
  });

  it('matches a step-by-step recomputation with node:crypto alone (ECDH, SHA-512, AES-256-CBC, HMAC-SHA256)', () => {
    const v = vectors[0]!;
    const ephemeral = createECDH('secp256k1');
    ephemeral.setPrivateKey(bytes(v.ephemeralPrivateKey));
    // Node's ECDH secret is the raw X coordinate, which is what eccrypto uses.
    const sharedX = ephemeral.computeSecret(bytes(v.recipientPublicKey));
    const k = createHash('sha512').update(sharedX).digest();
    const iv = bytes(v.iv);
    const ephemeralPublicKey = ephemeral.getPublicKey(undefined, 'uncompressed');
    const cipher = createCipheriv('aes-256-cbc', k.subarray(0, 32), iv);
    const ciphertext = Buffer.concat([cipher.update(v.plaintext, 'utf8'), cipher.final()]);
    const mac = createHmac('sha256', k.subarray(32)).update(Buffer.concat([iv, ephemeralPublicKey, ciphertext])).digest();
    expect(Buffer.concat([iv, ephemeralPublicKey, ciphertext, mac]).toString('hex')).toBe(v.ciphertext);
  });
});

describe('eciesEncrypt / eciesDecrypt', () => {
  it('round-trips with a fresh ephemeral key and IV, which differ on every call', () => {
    const a = eciesEncrypt(recipientPublicKey, fileKey);
    const b = eciesEncrypt(recipientPublicKey, fileKey);
    expect(a).not.toBe(b);
    expect(a.slice(0, 162)).not.toBe(b.slice(0, 162));
    for (const message of [a, b]) expect(new TextDecoder().decode(eciesDecrypt(recipientKey, message))).toBe(fileKey);
  });

  it('round-trips binary plaintext of several block sizes', () => {
    for (const length of [0, 1, 15, 16, 17, 1000]) {
      const plaintext = Uint8Array.from({ length }, (_, i) => (i * 7) & 0xff);
      expect(eciesDecrypt(recipientKey, eciesEncrypt(recipientPublicKey, plaintext))).toEqual(plaintext);
    }
  });

  it('returns lowercase hex without 0x', () => {
    expect(eciesEncrypt(recipientPublicKey.toUpperCase().replace('0X', '0x'), 'x')).toMatch(/^[0-9a-f]{258}$/);
  });

  it('accepts public keys with and without 0x, uncompressed or compressed', () => {
    const compressed = Buffer.from(normalizePublicKey(recipientPublicKey)).toString('hex');
    const ecdh = createECDH('secp256k1');
    ecdh.setPrivateKey(bytes(recipientKey.slice(2)));
    const forms = [
      recipientPublicKey,
      recipientPublicKey.slice(2),
      `0x${ecdh.getPublicKey('hex', 'compressed')}`,
      ecdh.getPublicKey('hex', 'compressed'),
      compressed,
    ];
    for (const form of forms) {
      expect(new TextDecoder().decode(eciesDecrypt(recipientKey, eciesEncrypt(form, fileKey)))).toBe(fileKey);
    }
  });

  it('accepts a ciphertext with 0x and a private key as bytes', () => {
    const message = eciesEncrypt(recipientPublicKey, fileKey);
    expect(new TextDecoder().decode(eciesDecrypt(bytes(recipientKey.slice(2)), `0x${message}`))).toBe(fileKey);
  });

  it('error: rejects a modified MAC with ECIES_BAD_MAC', () => {
    const error = thrown(() => eciesDecrypt(recipientKey, flip(eciesEncrypt(recipientPublicKey, fileKey), -1)));
    expect([error.code, error.errorClass, error.shortMessage]).toEqual([
      'ECIES_BAD_MAC',
      'integrity',
      'ECIES MAC mismatch: the message was modified or is not for this key',
    ]);
  });

  it('error: rejects a modified ciphertext, IV or ephemeral key with ECIES_BAD_MAC', () => {
    const message = eciesEncrypt(recipientPublicKey, fileKey);
    const otherEphemeral = publicKeyFromPrivateKey(anvilKey).slice(2);
    const swapped = `${message.slice(0, 32)}${otherEphemeral}${message.slice(162)}`;
    // first ciphertext byte, last ciphertext byte, first IV byte, a valid but different ephemeral key
    for (const tampered of [flip(message, 81), flip(message, -33), flip(message, 0), swapped]) {
      expect(thrown(() => eciesDecrypt(recipientKey, tampered)).code).toBe('ECIES_BAD_MAC');
    }
  });

  it('error: rejects a message for another key with ECIES_BAD_MAC', () => {
    expect(thrown(() => eciesDecrypt(anvilKey, eciesEncrypt(recipientPublicKey, fileKey))).code).toBe('ECIES_BAD_MAC');
  });

  it('error: rejects truncated or non-hex messages with ECIES_MALFORMED', () => {
    const message = eciesEncrypt(recipientPublicKey, fileKey);
    const truncated = thrown(() => eciesDecrypt(recipientKey, message.slice(0, -2)));
    expect([truncated.code, truncated.shortMessage]).toEqual([
      'ECIES_MALFORMED',
      'Malformed ECIES message: Expected at least 129 bytes with a whole number of AES blocks, got 256 bytes',
    ]);
    expect(thrown(() => eciesDecrypt(recipientKey, message.slice(0, 256))).code).toBe('ECIES_MALFORMED');
    expect(thrown(() => eciesDecrypt(recipientKey, `zz${message.slice(2)}`)).code).toBe('ECIES_MALFORMED');
  });

  it('error: rejects a message whose ephemeral key is not an uncompressed point with ECIES_MALFORMED', () => {
    const message = eciesEncrypt(recipientPublicKey, fileKey);
    const compressedPrefix = bytes(message);
    compressedPrefix[16] = 0x02;
    // X changed, Y kept: off the curve.
    for (const tampered of [compressedPrefix.toString('hex'), flip(message, 20)]) {
      const error = thrown(() => eciesDecrypt(recipientKey, tampered));
      expect([error.code, error.errorClass, error.shortMessage]).toEqual([
        'ECIES_MALFORMED',
        'integrity',
        'Malformed ECIES message: The ephemeral public key is not an uncompressed secp256k1 point',
      ]);
    }
  });
});

describe('public key normalization', () => {
  it('error: rejects a 64-byte raw key, telling to prefix it with 04', () => {
    const raw = recipientPublicKey.slice(4);
    const error = thrown(() => eciesEncrypt(raw, fileKey));
    expect([error.code, error.shortMessage]).toEqual([
      'ECIES_BAD_PUBLIC_KEY',
      'Invalid public key: 64-byte raw keys must be prefixed with 04',
    ]);
    expect(thrown(() => eciesEncrypt(`0x${raw}`, fileKey)).code).toBe('ECIES_BAD_PUBLIC_KEY');
  });

  it('error: rejects other lengths and prefixes', () => {
    expect(thrown(() => eciesEncrypt(`05${recipientPublicKey.slice(4)}`, fileKey)).shortMessage).toBe(
      'Invalid public key: expected 65 bytes starting 04 or 33 bytes starting 02/03, got 65 bytes starting 05',
    );
    expect(thrown(() => eciesEncrypt(recipientPublicKey.slice(0, 68), fileKey)).shortMessage).toBe(
      'Invalid public key: expected 65 bytes starting 04 or 33 bytes starting 02/03, got 33 bytes starting 04',
    );
    expect(thrown(() => eciesEncrypt('', fileKey)).shortMessage).toBe(
      'Invalid public key: expected 65 bytes starting 04 or 33 bytes starting 02/03, got 0 bytes starting nothing',
    );
  });

  it('error: rejects a point that is not on the curve', () => {
    // Same X, Y + 1: a well-formed encoding of a point off secp256k1.
    const y = BigInt(`0x${recipientPublicKey.slice(68)}`) + 1n;
    const offCurve = `${recipientPublicKey.slice(0, 68)}${y.toString(16).padStart(64, '0')}`;
    const error = thrown(() => eciesEncrypt(offCurve, fileKey));
    expect([error.code, error.shortMessage]).toEqual(['ECIES_BAD_PUBLIC_KEY', 'Invalid public key: not a point on secp256k1']);
  });

  it('error: rejects a key that is not hex', () => {
    const error = thrown(() => eciesEncrypt('0x04xyz', fileKey));
    expect([error.code, error.shortMessage]).toEqual([
      'ECIES_BAD_PUBLIC_KEY',
      'Expected publicKey to be hex (with or without 0x), got a string of 7 chars that is not even-length hex',
    ]);
  });
});

describe('publicKeyFromPrivateKey', () => {
  it('returns the 0x04 uncompressed key viem derives for the same account', () => {
    expect(publicKeyFromPrivateKey(anvilKey)).toBe(privateKeyToAccount(anvilKey).publicKey);
    expect(publicKeyFromPrivateKey(anvilKey)).toBe(
      '0x048318535b54105d4a7aae60c08fc45f9687181b4fdfc625bd1a753fa7397fed753547f11ca8696646f2f3acb08e31016afac23e630c5d11f59f61fef57b0d2aa5',
    );
  });

  it('error: rejects a key that is zero or of the wrong length', () => {
    expect(thrown(() => publicKeyFromPrivateKey(`0x${'00'.repeat(32)}`)).code).toBe('ECIES_BAD_PRIVATE_KEY');
    expect(thrown(() => publicKeyFromPrivateKey('0x1234')).code).toBe('ECIES_BAD_PRIVATE_KEY');
  });
});
