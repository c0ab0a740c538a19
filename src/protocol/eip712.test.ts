import { describe, expect, it } from 'vitest';
import {
  concat,
  encodeAbiParameters,
  hashStruct,
  hashTypedData,
  keccak256,
  recoverTypedDataAddress,
  stringToHex,
  type Hex,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  permissionsDomain,
  SERVER_FILES_AND_PERMISSION_TYPE_STRING,
  SERVER_FILES_AND_PERMISSION_TYPEHASH,
  serverFilesAndPermissionTypes,
  type ServerFilesAndPermissionMessage,
} from './eip712.ts';

// anvil's well-known dev account #0: a public test key, never funded outside a local chain.
const user = privateKeyToAccount('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80');
const permissions = '0xD54523048AdD05b4d734aFaE7C68324Ebb7373eF';
const server = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

const message: ServerFilesAndPermissionMessage = {
  nonce: 3n,
  granteeId: 1n,
  grant: 'ipfs://grant',
  fileUrls: ['https://storage.example/a.bin', 'https://storage.example/b.bin'],
  schemaIds: [0n, 5n],
  serverAddress: server,
  serverUrl: 'https://server.example/api/v1',
  serverPublicKey: `0x04${'ab'.repeat(64)}`,
  filePermissions: [[{ account: server, key: 'cd'.repeat(257) }], []],
};

type Types = Record<string, readonly { name: string; type: string }[]>;

/** EIP-712 `encodeType`, written from the spec: primary type first, then referenced types by name. */
function encodeType(types: Types, primaryType: string): string {
  const found = new Set<string>();
  const visit = (name: string): void => {
    if (found.has(name)) return;
    const fields = types[name];
    if (fields === undefined) return;
    found.add(name);
    for (const field of fields) visit(field.type.replace(/(\[\d*\])+$/, ''));
  };
  visit(primaryType);
  found.delete(primaryType);
  const format = (name: string): string =>
    `${name}(${(types[name] ?? []).map((f) => `${f.type} ${f.name}`).join(',')})`;
  return [primaryType, ...[...found].sort()].map(format).join('');
}

describe('serverFilesAndPermissionTypes', () => {
  it('encodes to the contract type string', () => {
    expect(encodeType(serverFilesAndPermissionTypes, 'ServerFilesAndPermission')).toBe(
      SERVER_FILES_AND_PERMISSION_TYPE_STRING,
    );
  });

  it('hashes to the contract SERVER_FILES_AND_PERMISSION_TYPEHASH', () => {
    const typeHash = keccak256(stringToHex(encodeType(serverFilesAndPermissionTypes, 'ServerFilesAndPermission')));
    expect(typeHash).toBe(SERVER_FILES_AND_PERMISSION_TYPEHASH);
    expect(keccak256(stringToHex(SERVER_FILES_AND_PERMISSION_TYPE_STRING))).toBe(
      '0xaadba5e5d798a00ee9890b1a8838ff5ef09b769bea8b22ad4e0e9c8ff6a12e41',
    );
  });

  it('has no EIP712Domain entry', () => {
    expect(Object.keys(serverFilesAndPermissionTypes)).toEqual(['ServerFilesAndPermission', 'Permission']);
  });

  it('gives the struct hash the contract computes field by field', () => {
    // The contract's encoding (PROTOCOL.md 2.3): keccak of each string, packed uint256 values,
    // and for Permission[][] a keccak over the keccaks of each inner list of struct hashes.
    const permissionTypeHash = keccak256(stringToHex('Permission(address account,string key)'));
    const hashPermission = (p: { account: Hex; key: string }): Hex =>
      keccak256(
        encodeAbiParameters([{ type: 'bytes32' }, { type: 'address' }, { type: 'bytes32' }], [
          permissionTypeHash,
          p.account,
          keccak256(stringToHex(p.key)),
        ]),
      );
    const packedKeccak = (hashes: readonly Hex[]): Hex => keccak256(hashes.length === 0 ? '0x' : concat([...hashes]));
    const expected = keccak256(
      encodeAbiParameters(
        Array.from({ length: 10 }, () => ({ type: 'bytes32' }) as const),
        [
          SERVER_FILES_AND_PERMISSION_TYPEHASH,
          encodeAbiParameters([{ type: 'uint256' }], [message.nonce]),
          encodeAbiParameters([{ type: 'uint256' }], [message.granteeId]),
          keccak256(stringToHex(message.grant)),
          packedKeccak(message.fileUrls.map((url) => keccak256(stringToHex(url)))),
          packedKeccak(message.schemaIds.map((id) => encodeAbiParameters([{ type: 'uint256' }], [id]))),
          encodeAbiParameters([{ type: 'address' }], [message.serverAddress]),
          keccak256(stringToHex(message.serverUrl)),
          keccak256(stringToHex(message.serverPublicKey)),
          packedKeccak(message.filePermissions.map((list) => packedKeccak(list.map(hashPermission)))),
        ],
      ),
    );
    expect(
      hashStruct({ types: serverFilesAndPermissionTypes, primaryType: 'ServerFilesAndPermission', data: message }),
    ).toBe(expected);
  });
});

describe('permissionsDomain', () => {
  it('builds the domain with name, version, chainId and verifyingContract only', () => {
    expect(permissionsDomain(14800, permissions)).toEqual({
      name: 'VanaDataPortabilityPermissions',
      version: '1',
      chainId: 14800,
      verifyingContract: permissions,
    });
  });
});

describe('signing ServerFilesAndPermission', () => {
  const typedData = {
    domain: permissionsDomain(14800, permissions),
    types: serverFilesAndPermissionTypes,
    primaryType: 'ServerFilesAndPermission',
    message,
  } as const;

  it('recovers the signer from a viem signature', async () => {
    const signature = await user.signTypedData(typedData);
    expect(await recoverTypedDataAddress({ ...typedData, signature })).toBe(user.address);
  });

  it('produces a stable digest and signature for a fixed message and key', async () => {
    expect(hashTypedData(typedData)).toBe(
      '0xc1744d5cd1bec31d8544c5e6cfe1213d3e9f3afe13d46f149749b7762a72c6ca',
    );
    expect(await user.signTypedData(typedData)).toBe(
      '0x4fb5754478f9dc435351b4bc3c3e7c7fcea46911c2e086e783d5b401f08b548d301146eb655b5f034c3b762ef9a210ce933783841023cab5bf8e9d80b5f421a61c',
    );
  });

  it('recovers another address when the domain chain id differs', async () => {
    const signature = await user.signTypedData(typedData);
    const recovered = await recoverTypedDataAddress({
      ...typedData,
      domain: permissionsDomain(1480, permissions),
      signature,
    });
    expect(recovered).not.toBe(user.address);
  });
});
