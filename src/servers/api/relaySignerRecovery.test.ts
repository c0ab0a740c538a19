import { bytesToHex, hashTypedData, hexToBytes, keccak256, toHex, type Hex } from 'viem';
import { HDKey, hdKeyToAccount } from 'viem/accounts';
import { describe, expect, it } from 'vitest';
import { permissionsDomain, serverFilesAndPermissionTypes, type ServerFilesAndPermissionMessage } from '../../protocol/eip712.ts';
import { createRelaySignerRecovery, hashServerFilesAndPermission } from './relaySignerRecovery.ts';

const keys = HDKey.fromMasterSeed(hexToBytes(keccak256(toHex('vana-load relay signer recovery test'))));
const user = (i: number) => hdKeyToAccount(keys, { addressIndex: i });
const permissions = '0x5FbDB2315678afecb367f032d93F642f64180aa3';

function typedData(message: ServerFilesAndPermissionMessage, chainId = 31337) {
  const { name, version, verifyingContract } = permissionsDomain(chainId, permissions);
  return { domain: { name, version, chainId, verifyingContract }, types: serverFilesAndPermissionTypes, primaryType: 'ServerFilesAndPermission' as const, message };
}

const server = user(900).address;
const messages: Record<string, ServerFilesAndPermissionMessage> = {
  'one file, one permission': {
    nonce: 0n,
    granteeId: 1n,
    grant: 'http://127.0.0.1:1/grants/1.json',
    fileUrls: ['http://127.0.0.1:1/files/1.bin'],
    schemaIds: [0n],
    serverAddress: server,
    serverUrl: 'http://127.0.0.1:1',
    serverPublicKey: `0x04${'ab'.repeat(64)}`,
    filePermissions: [[{ account: server, key: 'cd'.repeat(257) }]],
  },
  'no files': {
    nonce: 7n,
    granteeId: 2n ** 256n - 1n,
    grant: 'g',
    fileUrls: [],
    schemaIds: [],
    serverAddress: server.toLowerCase() as `0x${string}`,
    serverUrl: '',
    serverPublicKey: '',
    filePermissions: [],
  },
  'several files, permissions and non-ASCII text': {
    nonce: 123_456_789n,
    granteeId: 3n,
    grant: 'ipfs://grant-ü-日本',
    fileUrls: ['a', 'b', 'ç'],
    schemaIds: [0n, 5n, 2n ** 200n],
    serverAddress: server,
    serverUrl: 'https://server.example/ü',
    serverPublicKey: '0x04',
    filePermissions: [[], [{ account: user(1).address, key: '' }, { account: user(2).address, key: 'ff' }], [{ account: server, key: '00' }]],
  },
};

describe('hashServerFilesAndPermission', () => {
  it.each(Object.entries(messages))('equals viem hashTypedData for %s', (_name, message) => {
    const data = typedData(message);
    expect(bytesToHex(hashServerFilesAndPermission(data))).toBe(hashTypedData(data));
  });

  it('depends on the chain id of the domain', () => {
    const message = messages['one file, one permission']!;
    expect(bytesToHex(hashServerFilesAndPermission(typedData(message, 14800)))).toBe(hashTypedData(typedData(message, 14800)));
    expect(hashServerFilesAndPermission(typedData(message, 14800))).not.toEqual(hashServerFilesAndPermission(typedData(message)));
  });

  it('error: refuses a mixed-case address with a bad checksum, as viem does', () => {
    const i = server.slice(2).search(/[a-fA-F]/) + 2; // flipping one letter's case breaks EIP-55
    const flipped = server[i] === server[i]!.toUpperCase() ? server[i]!.toLowerCase() : server[i]!.toUpperCase();
    const bad = `${server.slice(0, i)}${flipped}${server.slice(i + 1)}` as `0x${string}`;
    const message = { ...messages['one file, one permission']!, serverAddress: bad };
    expect(() => hashServerFilesAndPermission(typedData(message))).toThrow(`Address "${bad}" is invalid.`);
  });
});

describe.each(['native', 'js'] as const)('createRelaySignerRecovery (%s)', (implementation) => {
  const recovery = createRelaySignerRecovery({ implementation });

  it('reports which implementation it uses', () => {
    expect(recovery.implementation).toBe(implementation);
  });

  it.each(Object.keys(messages))('recovers the signer of %s', async (name) => {
    const data = typedData(messages[name]!);
    const signature = await user(3).signTypedData(data);
    expect(recovery.recover(data, signature)).toBe(user(3).address);
  });

  it('accepts v as 0/1 as well as 27/28', async () => {
    const data = typedData(messages['one file, one permission']!);
    const signature = await user(4).signTypedData(data);
    const v = Number.parseInt(signature.slice(130), 16) - 27;
    expect(recovery.recover(data, `${signature.slice(0, 130)}0${v}` as Hex)).toBe(user(4).address);
  });

  it('recovers someone else for a message changed after signing', async () => {
    const data = typedData(messages['one file, one permission']!);
    const signature = await user(5).signTypedData(data);
    const changed = typedData({ ...messages['one file, one permission']!, grant: 'http://evil.example/grant.json' });
    expect(recovery.recover(changed, signature)).not.toBe(user(5).address);
  });

  it('error: throws for v other than 0, 1, 27, 28', async () => {
    const data = typedData(messages['one file, one permission']!);
    const signature = await user(6).signTypedData(data);
    expect(() => recovery.recover(data, `${signature.slice(0, 130)}1d` as Hex)).toThrow('invalid v 29');
  });

  it('error: throws for r = 0', () => {
    const data = typedData(messages['one file, one permission']!);
    expect(() => recovery.recover(data, `0x${'00'.repeat(32)}${'11'.repeat(32)}1b`)).toThrow();
  });
});
