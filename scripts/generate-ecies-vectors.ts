/**
 * Generates the ECIES known-answer vectors in src/protocol/ecies.vectors.json, once.
 *
 * The vectors pin our eccrypto-format byte layout: src/protocol/ecies.test.ts re-encrypts each one
 * with its fixed ephemeral key and IV and expects the exact hex. They were made with our own code,
 * so they catch regressions, not a shared misunderstanding; the test also recomputes one vector
 * step by step with node:crypto. Regenerating would defeat their purpose, so the script refuses to
 * overwrite the file unless given --force.
 *
 * Usage: npx tsx scripts/generate-ecies-vectors.ts [--force]
 */
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { Hex } from 'viem';
import { eciesDecrypt, eciesEncrypt, publicKeyFromPrivateKey } from '../src/protocol/ecies.ts';

const outFile = fileURLToPath(new URL('../src/protocol/ecies.vectors.json', import.meta.url));

/** A fixed 32-byte value from a label, so the inputs are reproducible and obviously not real keys. */
function fixed(label: string, length = 32): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`vana-load ecies vector: ${label}`).digest().subarray(0, length));
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

interface VectorInput {
  name: string;
  plaintext: string;
  compressedRecipient?: boolean;
}

const inputs: VectorInput[] = [
  {
    name: 'file key: the 132-char signature of anvil dev account #0 over the key-derivation message',
    plaintext:
      '0x8ece315f91aca4024ab01b963fcd0f7ef5620b6255746799951079aa2eab6ec46715942b75fea83f6d9fea2220f9f6b1254be2825cbf060f1bc25f9f31fee3281c',
  },
  { name: 'empty plaintext (one block of padding)', plaintext: '' },
  {
    name: 'multi-block UTF-8',
    plaintext: 'Grüße aus Köln — 数据可携带性 🔐 {"prompt":"Analyse: {{data}}","items":[1,2,3]}',
  },
  { name: 'compressed recipient key', plaintext: 'wrapped for a 33-byte 02/03 key', compressedRecipient: true },
];

if (existsSync(outFile) && !process.argv.includes('--force')) {
  console.error(`${outFile} exists; the vectors are generated once. Pass --force to overwrite.`);
  process.exit(2);
}

const vectors = inputs.map((input, i) => {
  const recipientPrivateKey = fixed(`recipient ${i}`);
  const ephemeralPrivateKey = fixed(`ephemeral ${i}`);
  const iv = fixed(`iv ${i}`, 16);
  if (!secp256k1.utils.isValidSecretKey(recipientPrivateKey) || !secp256k1.utils.isValidSecretKey(ephemeralPrivateKey)) {
    throw new Error(`vector ${i}: fixed key out of range, change its label`);
  }
  const recipientPublicKey = input.compressedRecipient
    ? hex(secp256k1.getPublicKey(recipientPrivateKey, true))
    : publicKeyFromPrivateKey(recipientPrivateKey).slice(2);
  const ciphertext = eciesEncrypt(recipientPublicKey, input.plaintext, { ephemeralPrivateKey, iv });
  const decrypted = new TextDecoder().decode(eciesDecrypt(`0x${hex(recipientPrivateKey)}` as Hex, ciphertext));
  if (decrypted !== input.plaintext) throw new Error(`vector ${i}: round trip failed`);
  return {
    name: input.name,
    recipientPrivateKey: hex(recipientPrivateKey),
    recipientPublicKey,
    ephemeralPrivateKey: hex(ephemeralPrivateKey),
    iv: hex(iv),
    plaintext: input.plaintext,
    ciphertext,
  };
});

const file = {
  description:
    'eccrypto-format ECIES known-answer vectors (PROTOCOL.md 6): ciphertext = iv(16) ‖ ephemPub(65) ‖ AES-256-CBC ‖ HMAC-SHA256(32), lowercase hex. Plaintext is UTF-8. Generated once by our own code; do not regenerate.',
  generatedBy: 'npx tsx scripts/generate-ecies-vectors.ts',
  generatedAt: new Date().toISOString().slice(0, 10),
  vectors,
};
writeFileSync(outFile, `${JSON.stringify(file, null, 2)}\n`);
console.log(`wrote ${vectors.length} vectors to ${outFile}`);
for (const v of vectors) console.log(`  ${v.ciphertext.length} hex chars  ${v.name}`);
