/**
 * The local contracts against PROTOCOL.md 2-5 on a real anvil: a user signs
 * `ServerFilesAndPermission`, someone else submits it, and the chain ends up as on Vana.
 */
import {
  BaseError,
  ContractFunctionRevertedError,
  concat,
  createPublicClient,
  createWalletClient,
  getAddress,
  hexToBytes,
  keccak256,
  maxUint256,
  parseEventLogs,
  toFunctionSelector,
  toHex,
  type Address,
  type Hex,
  type LocalAccount,
  type PublicClient,
  type TransactionReceipt,
} from 'viem';
import { HDKey, hdKeyToAccount, privateKeyToAccount } from 'viem/accounts';
import { formatAbiItem } from 'viem/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  batchFunderAbi,
  dataPortabilityGranteesAbi,
  dataPortabilityPermissionsAbi,
  dataPortabilityServersAbi,
  dataRegistryAbi,
} from '../src/protocol/abis.ts';
import { eciesDecrypt, eciesEncrypt } from '../src/protocol/ecies.ts';
import {
  SERVER_FILES_AND_PERMISSION_TYPE_STRING,
  permissionsDomain,
  serverFilesAndPermissionTypes,
  type ServerFilesAndPermissionMessage,
} from '../src/protocol/eip712.ts';
import { deriveEncryptionKey } from '../src/protocol/encryptionKey.ts';
import { decryptWithPassword, encryptWithPassword } from '../src/protocol/openpgp.ts';
import { startAnvil, type Anvil } from '../src/stack/anvil.ts';
import { deployContracts, registerGrantee, type DeployedContracts } from '../src/stack/deployContracts.ts';
import { appAccount, devAccount, deployerAccount } from '../src/stack/devAccounts.ts';
import { rpcHttp } from '../src/chain/rpcTransport.ts';

type Message = ServerFilesAndPermissionMessage;

const allAbis = [
  ...dataPortabilityPermissionsAbi,
  ...dataPortabilityServersAbi,
  ...dataRegistryAbi,
  ...dataPortabilityGranteesAbi,
  ...batchFunderAbi,
] as const;

// Test users come from a fixed seed of their own: nothing here is a real key.
const userSeed = HDKey.fromMasterSeed(hexToBytes(keccak256(toHex('vana-load contracts test users'))));
const user = (i: number): LocalAccount => hdKeyToAccount(userSeed, { addressIndex: i });
const server = (i: number): LocalAccount => hdKeyToAccount(userSeed, { addressIndex: 1_000 + i });

let anvil: Anvil;
let client: PublicClient;
let contracts: DeployedContracts;
let granteeId: bigint;
const submitter = devAccount(2);

beforeAll(async () => {
  anvil = await startAnvil();
  client = createPublicClient({ transport: rpcHttp(anvil.rpcUrl, { batch: true }) });
  contracts = await deployContracts({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, deployer: deployerAccount() });
  granteeId = await registerGrantee({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, grantees: contracts.dataPortabilityGrantees, account: appAccount() });
});
afterAll(async () => {
  await anvil?.stop();
});

function messageFor(userIndex: number, serverIndex: number, fileName: string, overrides: Partial<Message> = {}): Message {
  const serverAccount = server(serverIndex);
  return {
    nonce: 0n,
    granteeId,
    grant: `http://127.0.0.1:1/grants/${userIndex}-${fileName}.json`,
    fileUrls: [`http://127.0.0.1:1/files/${userIndex}-${fileName}.bin`],
    schemaIds: [0n],
    serverAddress: serverAccount.address,
    serverUrl: 'http://127.0.0.1:1/api/v1',
    serverPublicKey: serverAccount.publicKey,
    filePermissions: [[{ account: serverAccount.address, key: 'ab'.repeat(257) }]],
    ...overrides,
  };
}

async function sign(signer: LocalAccount, message: Message): Promise<Hex> {
  return await signer.signTypedData({
    domain: permissionsDomain(anvil.chainId, contracts.dataPortabilityPermissions),
    types: serverFilesAndPermissionTypes,
    primaryType: 'ServerFilesAndPermission',
    message,
  });
}

const call = (message: Message, signature: Hex) =>
  ({
    address: contracts.dataPortabilityPermissions,
    abi: dataPortabilityPermissionsAbi,
    functionName: 'addServerFilesAndPermissions',
    args: [message, signature],
  }) as const;

async function submit(message: Message, signature: Hex): Promise<TransactionReceipt> {
  const wallet = createWalletClient({ account: submitter, transport: rpcHttp(anvil.rpcUrl) });
  const hash = await wallet.writeContract({ ...call(message, signature), chain: null });
  const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 50 });
  expect(receipt.status).toBe('success');
  return receipt;
}

/** The decoded custom error of a simulated call that must revert. */
async function decodedRevert(attempt: Promise<unknown>): Promise<{ errorName: string; args: readonly unknown[] }> {
  try {
    await attempt;
  } catch (err) {
    const reverted = err instanceof BaseError ? err.walk((e) => e instanceof ContractFunctionRevertedError) : undefined;
    if (reverted instanceof ContractFunctionRevertedError && reverted.data) {
      return { errorName: reverted.data.errorName, args: reverted.data.args ?? [] };
    }
    throw err;
  }
  throw new Error('Expected the call to revert');
}

/** The decoded custom error of addServerFilesAndPermissions (errors of every contract decoded). */
const revertOf = (message: Message, signature: Hex) =>
  decodedRevert(client.simulateContract({ ...call(message, signature), account: submitter.address, abi: allAbis }));

function eventsOf(receipt: TransactionReceipt): Array<{ eventName: string; address: Address }> {
  return parseEventLogs({ abi: allAbis, logs: receipt.logs }).map((log) => ({ eventName: log.eventName, address: getAddress(log.address) }));
}

const read = {
  userNonce: (address: Address) =>
    client.readContract({ address: contracts.dataPortabilityPermissions, abi: dataPortabilityPermissionsAbi, functionName: 'userNonce', args: [address] }),
  permissionsCount: () =>
    client.readContract({ address: contracts.dataPortabilityPermissions, abi: dataPortabilityPermissionsAbi, functionName: 'permissionsCount' }),
};

describe('EIP-712', () => {
  it('uses the ServerFilesAndPermission typehash of PROTOCOL.md 2.3', async () => {
    expect(keccak256(toHex(SERVER_FILES_AND_PERMISSION_TYPE_STRING))).toBe('0xaadba5e5d798a00ee9890b1a8838ff5ef09b769bea8b22ad4e0e9c8ff6a12e41');
    const onChain = await client.readContract({
      address: contracts.dataPortabilityPermissions,
      abi: dataPortabilityPermissionsAbi,
      functionName: 'SERVER_FILES_AND_PERMISSION_TYPEHASH',
    });
    expect(onChain).toBe('0xaadba5e5d798a00ee9890b1a8838ff5ef09b769bea8b22ad4e0e9c8ff6a12e41');
  });

  it('reports the domain, version and wired addresses', async () => {
    const permissions = { address: contracts.dataPortabilityPermissions, abi: dataPortabilityPermissionsAbi } as const;
    const [domain, version, registry, servers, grantees] = await Promise.all([
      client.readContract({ ...permissions, functionName: 'eip712Domain' }),
      client.readContract({ ...permissions, functionName: 'version' }),
      client.readContract({ ...permissions, functionName: 'dataRegistry' }),
      client.readContract({ ...permissions, functionName: 'dataPortabilityServers' }),
      client.readContract({ ...permissions, functionName: 'dataPortabilityGrantees' }),
    ]);
    expect(domain.slice(1, 5)).toEqual(['VanaDataPortabilityPermissions', '1', BigInt(anvil.chainId), contracts.dataPortabilityPermissions]);
    expect(version).toBe(2n);
    expect([registry, servers, grantees]).toEqual([contracts.dataRegistry, contracts.dataPortabilityServers, contracts.dataPortabilityGrantees]);
  });
});

describe('addServerFilesAndPermissions', () => {
  const alice = user(1);
  let first: { message: Message; signature: Hex; receipt: TransactionReceipt };

  it('registers the server, adds the file and creates the permission, in PROTOCOL.md 2.4 order', async () => {
    const message = messageFor(1, 1, 'a');
    const signature = await sign(alice, message);
    const receipt = await submit(message, signature);
    first = { message, signature, receipt };
    expect(eventsOf(receipt)).toEqual([
      { eventName: 'ServerRegistered', address: contracts.dataPortabilityServers },
      { eventName: 'ServerTrusted', address: contracts.dataPortabilityServers },
      { eventName: 'FileAdded', address: contracts.dataRegistry },
      { eventName: 'FileAddedV2', address: contracts.dataRegistry },
      { eventName: 'PermissionGranted', address: contracts.dataRegistry },
      { eventName: 'PermissionAdded', address: contracts.dataPortabilityPermissions },
    ]);
    const [added] = parseEventLogs({ abi: dataPortabilityPermissionsAbi, eventName: 'PermissionAdded', logs: receipt.logs });
    expect(added?.args).toEqual({ permissionId: 1n, user: alice.address, granteeId, grant: message.grant, fileIds: [1n] });

    const permission = await client.readContract({
      address: contracts.dataPortabilityPermissions,
      abi: dataPortabilityPermissionsAbi,
      functionName: 'permissions',
      args: [1n],
    });
    expect(permission).toEqual({
      id: 1n,
      grantor: alice.address,
      nonce: 0n,
      granteeId,
      grant: message.grant,
      startBlock: receipt.blockNumber,
      endBlock: maxUint256,
      fileIds: [1n],
    });
    expect(await read.userNonce(alice.address)).toBe(1n);
    // A first-time user's flow with one file; the bound keeps the hot path from growing unnoticed.
    expect(receipt.gasUsed).toBeLessThan(1_200_000n);
  });

  it('leaves server, file, key and grantee readable through the views the flow uses', async () => {
    const serverAccount = server(1);
    const [serverId, serverInfo, file, key, grantee, granteeV2] = await Promise.all([
      client.readContract({ address: contracts.dataPortabilityServers, abi: dataPortabilityServersAbi, functionName: 'serverAddressToId', args: [serverAccount.address] }),
      client.readContract({ address: contracts.dataPortabilityServers, abi: dataPortabilityServersAbi, functionName: 'serverByAddress', args: [serverAccount.address] }),
      client.readContract({ address: contracts.dataRegistry, abi: dataRegistryAbi, functionName: 'files', args: [1n] }),
      client.readContract({ address: contracts.dataRegistry, abi: dataRegistryAbi, functionName: 'filePermissions', args: [1n, serverAccount.address] }),
      client.readContract({ address: contracts.dataPortabilityGrantees, abi: dataPortabilityGranteesAbi, functionName: 'grantees', args: [granteeId] }),
      client.readContract({ address: contracts.dataPortabilityGrantees, abi: dataPortabilityGranteesAbi, functionName: 'granteeInfoV2', args: [granteeId] }),
    ]);
    expect(serverId).toBe(1n);
    expect(serverInfo).toEqual({ id: 1n, owner: alice.address, serverAddress: serverAccount.address, publicKey: serverAccount.publicKey, url: 'http://127.0.0.1:1/api/v1' });
    expect(file).toEqual({ id: 1n, ownerAddress: alice.address, url: first.message.fileUrls[0], schemaId: 0n, addedAtBlock: first.receipt.blockNumber });
    expect(key).toBe('ab'.repeat(257));
    const app = appAccount();
    expect(grantee).toEqual({ owner: app.address, granteeAddress: app.address, publicKey: app.publicKey, permissionIds: [1n] });
    expect(granteeV2).toEqual({ owner: app.address, granteeAddress: app.address, publicKey: app.publicKey, permissionsCount: 1n });
  });

  it('trusts the same server again on a second flow by the same user, without reverting', async () => {
    const message = messageFor(1, 1, 'b', { nonce: 1n });
    const receipt = await submit(message, await sign(alice, message));
    expect(eventsOf(receipt).map((e) => e.eventName)).toEqual(['ServerTrusted', 'FileAdded', 'FileAddedV2', 'PermissionGranted', 'PermissionAdded']);
    const trusted = await client.readContract({ address: contracts.dataPortabilityServers, abi: dataPortabilityServersAbi, functionName: 'userServerIdsValues', args: [alice.address] });
    expect(trusted).toEqual([1n]);
    expect(receipt.gasUsed).toBeLessThan(first.receipt.gasUsed);
  });

  it('adds permissions to a file the signer already owns, without adding the file again', async () => {
    const message = messageFor(1, 1, 'a', { nonce: 2n, grant: 'http://127.0.0.1:1/grants/again.json' });
    const receipt = await submit(message, await sign(alice, message));
    expect(eventsOf(receipt).map((e) => e.eventName)).toEqual(['ServerTrusted', 'FileAddedV2', 'PermissionGranted', 'PermissionAdded']);
    const [added] = parseEventLogs({ abi: dataPortabilityPermissionsAbi, eventName: 'PermissionAdded', logs: receipt.logs });
    expect(added?.args.fileIds).toEqual([1n]);
  });

  it('stores a 514-hex ECIES file key that the server unwraps to the 132-char key, which decrypts the file', async () => {
    const carol = user(4);
    const serverKey = keccak256(toHex('contracts test personal server key'));
    const serverAccount = privateKeyToAccount(serverKey);
    const plaintext = new TextEncoder().encode('{"messages":["hello from the load test"]}');
    const fileKey = await deriveEncryptionKey(carol);
    const encryptedFile = await encryptWithPassword(plaintext, fileKey);
    const message = messageFor(4, 4, 'crypto', {
      serverAddress: serverAccount.address,
      serverPublicKey: serverAccount.publicKey,
      filePermissions: [[{ account: serverAccount.address, key: eciesEncrypt(serverAccount.publicKey, fileKey) }]],
    });
    const receipt = await submit(message, await sign(carol, message));
    const [added] = parseEventLogs({ abi: dataPortabilityPermissionsAbi, eventName: 'PermissionAdded', logs: receipt.logs });
    const fileId = added!.args.fileIds[0]!;

    // What the personal server does (PROTOCOL.md 6): read the key for its address, unwrap, decrypt.
    const wrapped = await client.readContract({ address: contracts.dataRegistry, abi: dataRegistryAbi, functionName: 'filePermissions', args: [fileId, serverAccount.address] });
    expect(wrapped).toMatch(/^[0-9a-f]{514}$/);
    const unwrapped = new TextDecoder().decode(eciesDecrypt(serverKey, wrapped));
    expect(unwrapped).toHaveLength(132);
    expect(unwrapped).toBe(fileKey);
    expect(await decryptWithPassword(encryptedFile, unwrapped)).toEqual(plaintext);
  });

  it('error: reverts a replayed signature with InvalidNonce', async () => {
    expect(await revertOf(first.message, first.signature)).toEqual({ errorName: 'InvalidNonce', args: [3n, 0n] });
  });

  it('error: a signature by another key never acts for the user', async () => {
    const mallory = user(2);
    const nonceBefore = await read.userNonce(alice.address);
    const forged = messageFor(1, 1, 'forged', { nonce: nonceBefore });
    // The contract recovers mallory, whose own nonce is 0.
    expect(await revertOf(forged, await sign(mallory, forged))).toEqual({ errorName: 'InvalidNonce', args: [0n, nonceBefore] });
    // With mallory's nonce it goes through, as mallory's permission on mallory's file.
    const own = messageFor(1, 2, 'forged', { nonce: 0n });
    const receipt = await submit(own, await sign(mallory, own));
    const [added] = parseEventLogs({ abi: dataPortabilityPermissionsAbi, eventName: 'PermissionAdded', logs: receipt.logs });
    expect(added?.args.user).toBe(mallory.address);
    expect(await read.userNonce(alice.address)).toBe(nonceBefore);
  });

  it('error: reverts NotFileOwner when the file URL belongs to another user', async () => {
    const bob = user(3);
    const message = messageFor(3, 3, 'x', { fileUrls: first.message.fileUrls });
    expect(await revertOf(message, await sign(bob, message))).toEqual({ errorName: 'NotFileOwner', args: [alice.address, bob.address] });
  });

  it('error: reverts InvalidSchemaIdsLength and InvalidPermissionsLength on mismatched arrays', async () => {
    const bob = user(3);
    const noSchemas = messageFor(3, 3, 'y', { schemaIds: [] });
    expect(await revertOf(noSchemas, await sign(bob, noSchemas))).toEqual({ errorName: 'InvalidSchemaIdsLength', args: [1n, 0n] });
    const twoPermissionLists = messageFor(3, 3, 'y', { filePermissions: [[], []] });
    expect(await revertOf(twoPermissionLists, await sign(bob, twoPermissionLists))).toEqual({ errorName: 'InvalidPermissionsLength', args: [1n, 2n] });
  });

  it('error: reverts EmptyGrant without a grant', async () => {
    const message = messageFor(3, 3, 'z', { grant: '' });
    expect(await revertOf(message, await sign(user(3), message))).toEqual({ errorName: 'EmptyGrant', args: [] });
  });

  it('error: reverts GranteeNotFound for grantee ids 0 and one past the last', async () => {
    for (const id of [0n, granteeId + 1n]) {
      const message = messageFor(3, 3, 'z', { granteeId: id });
      expect(await revertOf(message, await sign(user(3), message))).toEqual({ errorName: 'GranteeNotFound', args: [] });
    }
  });

  it('error: rejects a signature whose v is 0/1 instead of 27/28, as OZ ECDSA does on Vana', async () => {
    const message = messageFor(3, 3, 'v');
    const signature = await sign(user(3), message);
    const v = Number.parseInt(signature.slice(-2), 16);
    const lowV = concat([signature.slice(0, -2) as Hex, toHex(v - 27, { size: 1 })]);
    expect(await revertOf(message, lowV)).toEqual({ errorName: 'ECDSAInvalidSignature', args: [] });
  });
});

describe('BatchFunder', () => {
  const recipients: Address[] = Array.from({ length: 200 }, (_, i) => `0x${keccak256(toHex(`funding recipient ${i}`)).slice(-40)}` as Address);
  const funderContract = () => ({ address: contracts.batchFunder, abi: batchFunderAbi }) as const;

  it('funds 200 new addresses in one transaction under a 30M block gas limit', async () => {
    const amountEach = 1_000_000_000_000_000n;
    const wallet = createWalletClient({ account: deployerAccount(), transport: rpcHttp(anvil.rpcUrl) });
    const hash = await wallet.writeContract({ ...funderContract(), functionName: 'fund', args: [recipients, amountEach], value: 200n * amountEach, chain: null });
    const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 50 });
    expect(receipt.status).toBe('success');
    expect(receipt.gasUsed).toBeLessThan(30_000_000n);
    const balances = await Promise.all(recipients.map((address) => client.getBalance({ address })));
    expect(balances).toEqual(Array(200).fill(amountEach));
  });

  it('funds each recipient its own amount with fundAmounts', async () => {
    const wallet = createWalletClient({ account: deployerAccount(), transport: rpcHttp(anvil.rpcUrl) });
    const targets = [user(10).address, user(11).address];
    const hash = await wallet.writeContract({ ...funderContract(), functionName: 'fundAmounts', args: [targets, [5n, 7n]], value: 12n, chain: null });
    expect((await client.waitForTransactionReceipt({ hash, pollingInterval: 50 })).status).toBe('success');
    expect(await Promise.all(targets.map((address) => client.getBalance({ address })))).toEqual([5n, 7n]);
  });

  it('error: reverts ValueMismatch when msg.value is not the total, and LengthMismatch on uneven arrays', async () => {
    const account = deployerAccount().address;
    expect(await decodedRevert(client.simulateContract({ ...funderContract(), functionName: 'fund', args: [recipients.slice(0, 3), 10n], value: 29n, account }))).toEqual({
      errorName: 'ValueMismatch',
      args: [30n, 29n],
    });
    expect(await decodedRevert(client.simulateContract({ ...funderContract(), functionName: 'fundAmounts', args: [recipients.slice(0, 2), [1n]], value: 1n, account }))).toEqual({
      errorName: 'LengthMismatch',
      args: [2n, 1n],
    });
  });
});

describe('DataRegistry and Grantees direct calls', () => {
  it('error: reverts FileUrlAlreadyUsed for a URL that is registered already', async () => {
    const registry = { address: contracts.dataRegistry, abi: dataRegistryAbi } as const;
    const url = await client.readContract({ ...registry, functionName: 'files', args: [1n] }).then((file) => file.url);
    expect(await decodedRevert(client.simulateContract({ ...registry, functionName: 'addFile', args: [url], account: user(5).address }))).toEqual({ errorName: 'FileUrlAlreadyUsed', args: [] });
  });

  it('error: reverts FileNotFound() without an argument (selector 0xed20d764), as the real DataRegistry', async () => {
    const registry = { address: contracts.dataRegistry, abi: dataRegistryAbi } as const;
    const error = dataRegistryAbi.find((item) => item.type === 'error' && item.name === 'FileNotFound');
    expect(error?.type === 'error' && toFunctionSelector(formatAbiItem(error))).toBe('0xed20d764');
    expect(await decodedRevert(client.simulateContract({ ...registry, functionName: 'addFilePermission', args: [10n ** 9n, user(5).address, 'ab'], account: user(5).address }))).toEqual({
      errorName: 'FileNotFound',
      args: [],
    });
  });

  it('error: reverts NotFileOwner when a stranger adds a key to a file', async () => {
    const registry = { address: contracts.dataRegistry, abi: dataRegistryAbi } as const;
    expect(await decodedRevert(client.simulateContract({ ...registry, functionName: 'addFilePermission', args: [1n, user(5).address, 'ab'], account: user(5).address }))).toEqual({
      errorName: 'NotFileOwner',
      args: [],
    });
  });

  it('error: refuses to register a grantee for someone else without MAINTAINER_ROLE, or twice', async () => {
    const grantees = { address: contracts.dataPortabilityGrantees, abi: dataPortabilityGranteesAbi } as const;
    const stranger = user(6);
    expect(await decodedRevert(client.simulateContract({ ...grantees, functionName: 'registerGrantee', args: [stranger.address, user(7).address, '0x04ab'], account: stranger.address }))).toEqual({
      errorName: 'UnauthorizedRegistration',
      args: [],
    });
    const app = appAccount();
    expect(await decodedRevert(client.simulateContract({ ...grantees, functionName: 'registerGrantee', args: [app.address, app.address, app.publicKey], account: app.address }))).toEqual({
      errorName: 'GranteeAlreadyRegistered',
      args: [],
    });
    // The seeding helper is idempotent instead: it returns the existing id.
    expect(await registerGrantee({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, grantees: contracts.dataPortabilityGrantees, account: app })).toBe(granteeId);
  });
});
