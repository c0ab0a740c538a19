/**
 * Micro-benchmark of the per-flow crypto in src/protocol: key derivation, OpenPGP password
 * encryption (default and low S2K count), ECIES key wrapping, EIP-712 signing. Single thread,
 * sequential, after a warm-up; prints mean and p50 wall ms and mean CPU ms per operation.
 *
 * Usage: npx tsx scripts/bench-crypto.ts [--ms 400]
 */
import { createECDH } from 'node:crypto';
import { cpus } from 'node:os';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { privateKeyToAccount } from 'viem/accounts';
import { eciesDecrypt, eciesEncrypt, publicKeyFromPrivateKey } from '../src/protocol/ecies.ts';
import { permissionsDomain, serverFilesAndPermissionTypes } from '../src/protocol/eip712.ts';
import { deriveEncryptionKey } from '../src/protocol/encryptionKey.ts';
import { decryptWithPassword, DEFAULT_S2K_ITERATION_COUNT_BYTE, encryptWithPassword, s2kIterationCount } from '../src/protocol/openpgp.ts';

const msIndex = process.argv.indexOf('--ms');
const minMs = msIndex > 0 ? Number(process.argv[msIndex + 1]) : 400;
const LOW_S2K = 96;

// anvil dev accounts #0 and #1: public test keys.
const user = privateKeyToAccount('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80');
const serverKey = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';
const serverPublicKey = publicKeyFromPrivateKey(serverKey);

async function bench(name: string, fn: () => unknown): Promise<void> {
  for (let i = 0; i < 5; i++) await fn();
  const samples: number[] = [];
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  while (performance.now() - start < minMs || samples.length < 20) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  const cpu = process.cpuUsage(cpuStart);
  samples.sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  const p50 = samples[Math.floor(samples.length / 2)] ?? Number.NaN;
  // CPU time per op (user + system, all threads) is less sensitive than wall time to other
  // processes competing for the two cores.
  const cpuMs = (cpu.user + cpu.system) / 1000 / samples.length;
  console.log(
    `${name.padEnd(48)} ${mean.toFixed(3).padStart(9)} ${p50.toFixed(3).padStart(9)} ${cpuMs.toFixed(3).padStart(9)} ${String(samples.length).padStart(6)}`,
  );
}

console.log(`# bench-crypto ${new Date().toISOString()} node ${process.version}, ${cpus().length}x ${cpus()[0]?.model ?? '?'}`);
console.log(`# command: npx tsx scripts/bench-crypto.ts --ms ${minMs}`);
console.log(`# S2K count bytes: default ${DEFAULT_S2K_ITERATION_COUNT_BYTE} (${s2kIterationCount(DEFAULT_S2K_ITERATION_COUNT_BYTE)} B hashed), low ${LOW_S2K} (${s2kIterationCount(LOW_S2K)} B)`);
console.log(`${'operation'.padEnd(48)} ${'mean ms'.padStart(9)} ${'p50 ms'.padStart(9)} ${'cpu ms'.padStart(9)} ${'n'.padStart(6)}`);

const key = await deriveEncryptionKey(user);
await bench('deriveEncryptionKey (personal_sign)', () => deriveEncryptionKey(user));

for (const size of [1_000, 10_000, 100_000]) {
  const data = Uint8Array.from({ length: size }, (_, i) => (i * 31) & 0xff);
  for (const countByte of [DEFAULT_S2K_ITERATION_COUNT_BYTE, LOW_S2K]) {
    const label = `${size / 1000} KB, S2K ${countByte}`;
    const encrypted = await encryptWithPassword(data, key, { s2kIterationCountByte: countByte });
    await bench(`encryptWithPassword ${label}`, () => encryptWithPassword(data, key, { s2kIterationCountByte: countByte }));
    await bench(`decryptWithPassword ${label}`, () => decryptWithPassword(encrypted, key));
  }
}

const wrapped = eciesEncrypt(serverPublicKey, key);
await bench('eciesEncrypt (132-char key)', () => eciesEncrypt(serverPublicKey, key));
await bench('eciesDecrypt (514 hex chars)', () => eciesDecrypt(serverKey, wrapped));

// Reference rows: the ECDH step alone, noble (what ecies.ts uses) vs node's OpenSSL.
const ephemeral = secp256k1.utils.randomSecretKey();
const serverPublicBytes = Buffer.from(serverPublicKey.slice(2), 'hex');
await bench('  ref: ECDH noble getSharedSecret', () => secp256k1.getSharedSecret(ephemeral, serverPublicBytes));
await bench('  ref: ECDH node createECDH + computeSecret', () => {
  const ecdh = createECDH('secp256k1');
  ecdh.setPrivateKey(ephemeral);
  return ecdh.computeSecret(serverPublicBytes);
});

const message = {
  nonce: 0n,
  granteeId: 1n,
  grant: 'http://127.0.0.1:4000/blobs/grant.json',
  fileUrls: ['http://127.0.0.1:4000/blobs/file.bin'],
  schemaIds: [0n],
  serverAddress: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
  serverUrl: 'http://127.0.0.1:4001',
  serverPublicKey,
  filePermissions: [[{ account: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', key: wrapped }]],
} as const;
await bench('signTypedData ServerFilesAndPermission', () =>
  user.signTypedData({
    domain: permissionsDomain(31337, '0x5FbDB2315678afecb367f032d93F642f64180aa3'),
    types: serverFilesAndPermissionTypes,
    primaryType: 'ServerFilesAndPermission',
    message,
  }),
);
