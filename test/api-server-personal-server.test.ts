import { createHash } from 'node:crypto';
import { createPublicClient, hexToBytes, keccak256, parseEventLogs, toHex, type Address, type Hex, type PublicClient } from 'viem';
import { HDKey, hdKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataPortabilityPermissionsAbi } from '../src/protocol/abis.ts';
import { eciesEncrypt } from '../src/protocol/ecies.ts';
import { deriveEncryptionKey } from '../src/protocol/encryptionKey.ts';
import { buildGrantFile, serializeGrantFile } from '../src/protocol/grantFile.ts';
import { encryptWithPassword } from '../src/protocol/openpgp.ts';
import { serializeSignedRelayRequest, signRelayRequest } from '../src/protocol/relayerRequest.ts';
import { startAnvil } from '../src/stack/anvil.ts';
import { startApiServer, type ApiServer } from '../src/servers/api/apiServer.ts';
import { deployContracts, registerGrantee } from '../src/stack/deployContracts.ts';
import { appAccount, deployerAccount, LOCAL_SERVER_MNEMONIC, relayerAccount } from '../src/stack/devAccounts.ts';
import { startPersonalServer } from '../src/servers/personalServer/startPersonalServer.ts';
import { createRelayerPool, type RelayerPool } from '../src/chain/relayerPool.ts';
import { fundRelayers } from '../src/chain/fundRelayers.ts';
import { startStorageService } from '../src/servers/storage/storageService.ts';
import { rpcHttp } from '../src/chain/rpcTransport.ts';

// /api/relay and /api/trusted-server(/poll) against the real local personal server and storage:
// one user's data goes all the way to a finished operation whose result names the sha256 of
// the plaintext the server decrypted.
const users = HDKey.fromMasterSeed(hexToBytes(keccak256(toHex('vana-load api-server personal-server test users'))));
const user = hdKeyToAccount(users, { addressIndex: 0 });

let anvil: Awaited<ReturnType<typeof startAnvil>>;
let client: PublicClient;
let pool: RelayerPool;
let storage: Awaited<ReturnType<typeof startStorageService>>;
let personalServer: Awaited<ReturnType<typeof startPersonalServer>>;
let api: ApiServer;
let permissions: Address;
let granteeId: bigint;

async function post(path: string, body: object | string): Promise<{ status: number; json: any }> {
  const response = await fetch(`${api.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

async function upload(name: string, bytes: Uint8Array | string): Promise<string> {
  const response = await fetch(`${storage.url}/files/${name}`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
  expect(response.status).toBe(201);
  return ((await response.json()) as { url: string }).url;
}

beforeAll(async () => {
  anvil = await startAnvil();
  client = createPublicClient({ transport: rpcHttp(anvil.rpcUrl) });
  const contracts = await deployContracts({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, deployer: deployerAccount() });
  permissions = contracts.dataPortabilityPermissions;
  granteeId = await registerGrantee({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, grantees: contracts.dataPortabilityGrantees, account: appAccount() });
  await fundRelayers({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, funder: deployerAccount(), relayers: [relayerAccount(0).address] });
  pool = await createRelayerPool({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, accounts: [relayerAccount(0)] });
  storage = await startStorageService();
  personalServer = await startPersonalServer({ rpcUrl: anvil.rpcUrl, permissionsAddress: permissions, serverMnemonic: LOCAL_SERVER_MNEMONIC });
  api = await startApiServer({
    port: 0,
    chainId: anvil.chainId,
    rpcUrl: anvil.rpcUrl,
    permissionsAddress: permissions,
    relayerPool: pool,
    personalServerUrl: personalServer.url,
    appAccount: appAccount(),
  });
});

afterAll(async () => {
  await api?.stop();
  await personalServer?.stop();
  await storage?.stop();
  await pool?.stop();
  await anvil?.stop();
});

describe('/api/trusted-server against the local personal server', () => {
  it('runs an operation on a relayed permission to success, on the bytes the user uploaded', async () => {
    const plaintext = JSON.stringify({ user: user.address, answer: 42 });
    const key = await deriveEncryptionKey(user);
    const fileUrl = await upload('data.bin', await encryptWithPassword(new TextEncoder().encode(plaintext), key, { s2kIterationCountByte: 0 }));
    const grantUrl = await upload('grant.json', serializeGrantFile(buildGrantFile({ grantee: appAccount().address, prompt: 'Summarize {{data}}' })));
    const identity = (await (await fetch(`${personalServer.url}/identity?address=${user.address}`)).json()) as {
      personal_server: { address: Address; public_key: Hex };
    };
    const server = identity.personal_server;

    const request = await signRelayRequest({
      account: user,
      chainId: anvil.chainId,
      permissionsAddress: permissions,
      message: {
        nonce: 0n,
        granteeId,
        grant: grantUrl,
        fileUrls: [fileUrl],
        schemaIds: [0n],
        serverAddress: server.address,
        serverUrl: personalServer.url,
        serverPublicKey: server.public_key,
        filePermissions: [[{ account: server.address, key: eciesEncrypt(server.public_key, key) }]],
      },
    });
    const relay = await post('/api/relay', serializeSignedRelayRequest(request));
    expect(relay.status).toBe(200);
    const receipt = await client.waitForTransactionReceipt({ hash: relay.json.hash, pollingInterval: 50 });
    const [added] = parseEventLogs({ abi: dataPortabilityPermissionsAbi, logs: receipt.logs, eventName: 'PermissionAdded' });
    const permissionId = added!.args.permissionId;

    const submitted = await post('/api/trusted-server', { permissionId: permissionId.toString() });
    expect(submitted).toEqual({ status: 200, json: { success: true, data: { id: expect.any(String) } } });
    let poll = await post('/api/trusted-server/poll', { operationId: submitted.json.data.id, chainId: anvil.chainId });
    for (let i = 0; i < 100 && ['pending', 'running'].includes(poll.json.data?.status); i++) {
      await new Promise((r) => setTimeout(r, 50));
      poll = await post('/api/trusted-server/poll', { operationId: submitted.json.data.id, chainId: anvil.chainId });
    }
    expect(poll.status).toBe(200);
    expect(poll.json.data.status).toBe('succeeded');
    const result = JSON.parse(poll.json.data.result as string) as { plaintext_sha256: string };
    expect(result.plaintext_sha256).toBe(createHash('sha256').update(plaintext).digest('hex'));
  });

  it('error: propagates the 404 of a permission that does not exist', async () => {
    const { status, json } = await post('/api/trusted-server', { permissionId: 999 });
    expect(status).toBe(404);
    expect(json.success).toBe(false);
    expect(json.error).toMatch(/^personal server answered 404: NOT_FOUND_ERROR: /);
  });

  it('error: propagates the 404 of an unknown operation id', async () => {
    const { status, json } = await post('/api/trusted-server/poll', { operationId: 'no-such-operation' });
    expect(status).toBe(404);
    expect(json.success).toBe(false);
    expect(json.error).toMatch(/^personal server answered 404: NOT_FOUND_ERROR: /);
  });
});
