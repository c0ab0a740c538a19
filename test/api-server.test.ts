import { createServer, type Server } from 'node:http';
import { createPublicClient, createTestClient, hexToBytes, keccak256, parseEventLogs, toHex, type Address, type Log, type PublicClient } from 'viem';
import { HDKey, hdKeyToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataPortabilityPermissionsAbi } from '../src/protocol/abis.ts';
import type { ServerFilesAndPermissionMessage } from '../src/protocol/eip712.ts';
import { serializeSignedRelayRequest, signRelayRequest } from '../src/protocol/relayerRequest.ts';
import { startAnvil } from '../src/stack/anvil.ts';
import { startApiServer, type ApiServer, type TrustedServerResponse } from '../src/servers/api/apiServer.ts';
import { deployContracts, registerGrantee } from '../src/stack/deployContracts.ts';
import { appAccount, deployerAccount, relayerAccount } from '../src/stack/devAccounts.ts';
import { freePort } from '../src/util/freePort.ts';
import { createRelayerPool, type RelayerPool } from '../src/chain/relayerPool.ts';
import { fundRelayers } from '../src/chain/fundRelayers.ts';
import { rpcHttp } from '../src/chain/rpcTransport.ts';
import { parseRelayResponse, type RelayResponse } from '../src/protocol/relayerResponse.ts';
import { startStorageService } from '../src/servers/storage/storageService.ts';
import { createLocalStorageProvider } from '../src/storage/localStorageProvider.ts';

type Anvil = Awaited<ReturnType<typeof startAnvil>>;

// Users are derived on demand from a fixed test seed: nothing here is a real key.
const users = HDKey.fromMasterSeed(hexToBytes(keccak256(toHex('vana-load api-server test users'))));
const user = (i: number) => hdKeyToAccount(users, { addressIndex: i });

let anvil: Anvil;
let client: PublicClient;
let pool: RelayerPool;
let api: ApiServer;
let permissions: Address;
let granteeId: bigint;

function messageFor(i: number, overrides: Partial<ServerFilesAndPermissionMessage> = {}): ServerFilesAndPermissionMessage {
  const server = user(100_000 + i).address;
  return {
    nonce: 0n,
    granteeId,
    grant: `http://127.0.0.1:1/grants/${i}.json`,
    fileUrls: [`http://127.0.0.1:1/files/api-test-${i}.bin`],
    schemaIds: [0n],
    serverAddress: server,
    serverUrl: 'http://127.0.0.1:1',
    serverPublicKey: `0x04${'ab'.repeat(64)}`,
    filePermissions: [[{ account: server, key: 'cd'.repeat(257) }]],
    ...overrides,
  };
}

async function relayBody(i: number, overrides: Partial<ServerFilesAndPermissionMessage> = {}): Promise<string> {
  const request = await signRelayRequest({ account: user(i), chainId: anvil.chainId, permissionsAddress: permissions, message: messageFor(i, overrides), nameSigner: true });
  return serializeSignedRelayRequest(request);
}

async function post(path: string, body: string | object): Promise<{ status: number; json: any; headers: Headers }> {
  const response = await fetch(`${api.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json(), headers: response.headers };
}

beforeAll(async () => {
  anvil = await startAnvil({ port: await freePort() });
  client = createPublicClient({ transport: rpcHttp(anvil.rpcUrl) });
  const contracts = await deployContracts({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, deployer: deployerAccount() });
  permissions = contracts.dataPortabilityPermissions;
  granteeId = await registerGrantee({
    rpcUrl: anvil.rpcUrl,
    chainId: anvil.chainId,
    grantees: contracts.dataPortabilityGrantees,
    account: appAccount(),
  });
  const relayers = [0, 1, 2, 3].map((i) => relayerAccount(i));
  await fundRelayers({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, funder: deployerAccount(), relayers: relayers.map((r) => r.address) });
  // 'estimate' mode, so that a replayed signature is refused at the door with its revert (422).
  pool = await createRelayerPool({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, accounts: relayers, gas: { mode: 'estimate' } });
  api = await startApiServer({
    port: 0,
    chainId: anvil.chainId,
    rpcUrl: anvil.rpcUrl,
    permissionsAddress: permissions,
    relayerPool: pool,
    personalServerUrl: 'http://127.0.0.1:1', // the /api/trusted-server tests start their own
    appAccount: appAccount(),
  });
});

afterAll(async () => {
  await api?.stop();
  await pool?.stop();
  await anvil?.stop();
});

describe('GET /health', () => {
  it('reports the chain, the relayer count, the pending txs and the preflight counts', async () => {
    const response = await fetch(`${api.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ok',
      chainId: anvil.chainId,
      relayers: 4,
      pending: 0,
      preflight: { checked: 0, passed: 0, refused: {}, inFlight: 0, simulateMs: { p50: 0, p95: 0, max: 0 } },
    });
  });
});

describe('GET /stats', () => {
  it("tells the relayer pool's figures: each relayer's address, next nonce and transactions in flight", async () => {
    const response = await fetch(`${api.url}/stats`);
    expect(response.status).toBe(200);
    const { relayerPool } = (await response.json()) as { relayerPool: { relayers: Array<{ address: string; nextNonce: number; pending: number }>; submitted: number } };
    const stats = pool.stats();
    expect(relayerPool.relayers.map((r) => [r.address, r.nextNonce, r.pending])).toEqual(stats.relayers.map((r) => [r.address, r.nextNonce, r.pending]));
    expect(relayerPool.submitted).toBe(stats.submitted);
  });
});

describe('POST /api/relay', () => {
  it('relays a signed ServerFilesAndPermission that lands on chain with PermissionAdded', async () => {
    const { status, json } = await post('/api/relay', await relayBody(1));
    expect(status).toBe(200);
    expect(json).toEqual({ type: 'submitted', hash: expect.stringMatching(/^0x[0-9a-f]{64}$/) });
    const receipt = await client.waitForTransactionReceipt({ hash: json.hash, pollingInterval: 50 });
    expect(receipt.status).toBe('success');
    const [added] = parseEventLogs({ abi: dataPortabilityPermissionsAbi, logs: receipt.logs, eventName: 'PermissionAdded' });
    expect(added?.args).toEqual({
      permissionId: 1n,
      user: user(1).address,
      granteeId,
      grant: 'http://127.0.0.1:1/grants/1.json',
      fileIds: [1n],
    });
  });

  it('answers a repeated request (a client retrying after a timeout) with the first hash, sending one transaction', async () => {
    const body = await relayBody(3);
    const sentBefore = pool.stats().submitted;
    const [a, b] = await Promise.all([post('/api/relay', body), post('/api/relay', body)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(b.json.hash).toBe(a.json.hash);
    expect((await client.waitForTransactionReceipt({ hash: a.json.hash, pollingInterval: 50 })).status).toBe('success');
    const later = await post('/api/relay', body);
    expect(later.json).toEqual(a.json);
    expect(pool.stats().submitted - sentBefore).toBe(1);
  });

  it('error: answers 422 naming the revert for a request signed with a used nonce', async () => {
    // Another message (grant) with user 1's nonce 0, which the first test used.
    const { status, json } = await post('/api/relay', await relayBody(1, { grant: 'http://127.0.0.1:1/grants/1-late.json' }));
    expect(status).toBe(422);
    expect(json).toEqual({ type: 'error', error: 'Refused before sending: the transaction would revert with InvalidNonce(expected 1, got 0)' });
  });

  it('error: answers 401 when the signature recovers to someone other than expectedUserAddress', async () => {
    const request = JSON.parse(await relayBody(2)) as { expectedUserAddress: string };
    request.expectedUserAddress = user(3).address;
    const { status, json } = await post('/api/relay', request);
    expect(status).toBe(401);
    expect(json).toEqual({ type: 'error', error: `signature: recovers to ${user(2).address}, expected ${user(3).address}` });
  });

  it('error: answers 401 when the message was changed after signing', async () => {
    const request = JSON.parse(await relayBody(2)) as { typedData: { message: { grant: string } } };
    request.typedData.message.grant = 'http://evil.example/grant.json';
    const { status, json } = await post('/api/relay', request);
    expect(status).toBe(401);
    expect(json.error).toMatch(/^signature: recovers to 0x[0-9a-fA-F]{40}, expected /);
  });

  it('relays a request without expectedUserAddress, exactly as the SDK client sends it', async () => {
    const request = await signRelayRequest({ account: user(4), chainId: anvil.chainId, permissionsAddress: permissions, message: messageFor(4) });
    expect(request.expectedUserAddress).toBeUndefined();
    const { status, json } = await post('/api/relay', serializeSignedRelayRequest(request));
    expect(status).toBe(200);
    expect((await client.waitForTransactionReceipt({ hash: json.hash, pollingInterval: 50 })).status).toBe('success');
  });

  it('error: answers a status_check with the stateless handler\'s refusal', async () => {
    const { status, json } = await post('/api/relay', { type: 'status_check', operationId: 'x1' });
    expect(status).toBe(400);
    expect(json).toEqual({ type: 'error', error: 'Stateless relayer does not support operation status checks.' });
  });

  it('error: refuses storeGrantFile when it has no grant storage', async () => {
    const params = { grantee: appAccount().address, operation: 'llm_inference', parameters: { prompt: 'p' } };
    const { status, json } = await post('/api/relay', { type: 'direct', operation: 'storeGrantFile', params });
    expect(status).toBe(400);
    expect(json).toEqual({ type: 'error', error: 'storeGrantFile: this relayer has no grant storage' });
  });

  it('error: answers 400 naming signature when the body has none', async () => {
    const request = JSON.parse(await relayBody(2)) as Record<string, unknown>;
    delete request.signature;
    const { status, json } = await post('/api/relay', request);
    expect(status).toBe(400);
    expect(json).toEqual({
      type: 'error',
      error: 'Invalid relay request: signature: Expected a 65-byte 0x signature (132 hex chars), got nothing',
    });
  });

  it('error: answers 400 for a domain of another chain', async () => {
    const request = await signRelayRequest({ account: user(2), chainId: 1, permissionsAddress: permissions, message: messageFor(2) });
    const { status, json } = await post('/api/relay', serializeSignedRelayRequest(request));
    expect(status).toBe(400);
    expect(json).toEqual({ type: 'error', error: `Invalid relay request: typedData.domain.chainId: Expected ${anvil.chainId}, got 1` });
  });

  it('error: answers 400 for a domain of another verifying contract', async () => {
    const other = '0x000000000000000000000000000000000000dEaD';
    const request = await signRelayRequest({ account: user(2), chainId: anvil.chainId, permissionsAddress: other, message: messageFor(2) });
    const { status, json } = await post('/api/relay', serializeSignedRelayRequest(request));
    expect(status).toBe(400);
    expect(json).toEqual({
      type: 'error',
      error: `Invalid relay request: typedData.domain.verifyingContract: Expected ${permissions}, got ${other}`,
    });
  });

  it('error: answers 400 for a body that is not JSON', async () => {
    const { status, json } = await post('/api/relay', '{"type":');
    expect(status).toBe(400);
    expect(json).toEqual({ type: 'error', error: 'Body is not valid JSON' });
  });

  it('error: answers 400 for a request without a body', async () => {
    const response = await fetch(`${api.url}/api/relay`, { method: 'POST' });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ type: 'error', error: 'Invalid relay request: (body): Expected a JSON object, got nothing' });
  });

  it('error: answers 400 for a text/plain body', async () => {
    const response = await fetch(`${api.url}/api/relay`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ type: 'error', error: 'Invalid relay request: (body): Expected a JSON object, got "hello"' });
  });

  it('error: answers 415 with a JSON body for an application/xml body', async () => {
    const response = await fetch(`${api.url}/api/relay`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<a/>' });
    expect(response.status).toBe(415);
    expect(await response.json()).toEqual({ type: 'error', error: 'Unsupported Media Type' });
  });

  it('error: answers 413 with a JSON body for a 2 MB body', async () => {
    const { status, json } = await post('/api/relay', JSON.stringify({ padding: 'x'.repeat(2 * 1024 * 1024) }));
    expect(status).toBe(413);
    expect(json).toEqual({ type: 'error', error: 'Body exceeds the 1048576-byte limit' });
  });

  it('lands 50 concurrent relays from 50 users through 4 relayers with no nonce error', async () => {
    const bodies = await Promise.all(Array.from({ length: 50 }, (_, k) => relayBody(1_000 + k)));
    const responses = await Promise.all(bodies.map((body) => post('/api/relay', body)));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    const receipts = await Promise.all(responses.map((r) => client.waitForTransactionReceipt({ hash: r.json.hash, pollingInterval: 50 })));
    expect(receipts.map((r) => r.status)).toEqual(Array(50).fill('success'));
    const ids = receipts.map((r) => parseEventLogs({ abi: dataPortabilityPermissionsAbi, logs: r.logs, eventName: 'PermissionAdded' })[0]!.args.permissionId);
    expect(new Set(ids).size).toBe(50);
    const senders = new Set(receipts.map((r) => r.from.toLowerCase()));
    expect(senders.size).toBe(4);
    const stats = pool.stats();
    expect(stats.errorsByClass.nonce).toBe(0);
    expect(stats.resyncs).toBe(0);
  });
});

describe('POST /api/relay refuses before sending what would revert (cached gas limits, the default)', () => {
  let cachedPool: RelayerPool;
  let cachedApi: ApiServer;
  const relayer = relayerAccount(4);
  beforeAll(async () => {
    await fundRelayers({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, funder: deployerAccount(), relayers: [relayer.address] });
    cachedPool = await createRelayerPool({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, accounts: [relayer] });
    cachedApi = await startApiServer({
      port: 0,
      chainId: anvil.chainId,
      rpcUrl: anvil.rpcUrl,
      permissionsAddress: permissions,
      relayerPool: cachedPool,
      personalServerUrl: 'http://127.0.0.1:1',
      appAccount: appAccount(),
    });
  });
  afterAll(async () => {
    await cachedApi?.stop();
    await cachedPool?.stop();
  });

  const relay = async (body: string) => {
    const response = await fetch(`${cachedApi.url}/api/relay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    return { status: response.status, json: (await response.json()) as { type: string; hash: `0x${string}`; error: string } };
  };
  const relayerState = async () => ({
    nonce: await client.getTransactionCount({ address: relayer.address, blockTag: 'pending' }),
    balance: await client.getBalance({ address: relayer.address }),
    submitted: cachedPool.stats().submitted,
  });
  /** Posts a request that must be refused, and checks that the relayer sent nothing. */
  const refused = async (body: string) => {
    const before = await relayerState();
    const answer = await relay(body);
    expect(await relayerState()).toEqual(before);
    return answer;
  };

  it('lands a valid request, which caches the gas limit of its shape', async () => {
    const first = await relay(await relayBody(5_000));
    expect(first.status).toBe(200);
    expect((await client.waitForTransactionReceipt({ hash: first.json.hash, pollingInterval: 50 })).status).toBe('success');
    expect(cachedPool.stats().gasEstimates).toBe(1);
  });

  it('error: refuses a used nonce with 422 InvalidNonce, sending nothing, although the gas limit is cached', async () => {
    // The same user nonce in another message of the same shape (a repeat of the same request
    // would only get the first hash back).
    const answer = await refused(await relayBody(5_000, { grant: 'http://127.0.0.1:1/grantz/5000.json' }));
    expect(answer).toEqual({ status: 422, json: { type: 'error', error: 'Refused before sending: the transaction would revert with InvalidNonce(expected 1, got 0)' } });
    expect(cachedPool.stats().gasEstimates).toBe(1);
  });

  it('error: refuses a nonce ahead of the chain with 422 InvalidNonce', async () => {
    const answer = await refused(await relayBody(5_001, { nonce: 3n }));
    expect(answer).toEqual({ status: 422, json: { type: 'error', error: 'Refused before sending: the transaction would revert with InvalidNonce(expected 0, got 3)' } });
  });

  it('error: refuses an unknown grantee with 422 GranteeNotFound', async () => {
    const answer = await refused(await relayBody(5_002, { granteeId: 999n }));
    expect(answer).toEqual({ status: 422, json: { type: 'error', error: 'Refused before sending: the transaction would revert with GranteeNotFound' } });
  });

  it('error: refuses a file URL another user owns with 422 NotFileOwner', async () => {
    const answer = await refused(await relayBody(5_003, { fileUrls: ['http://127.0.0.1:1/files/api-test-5000.bin'] }));
    expect(answer).toEqual({
      status: 422,
      json: { type: 'error', error: `Refused before sending: the transaction would revert with NotFileOwner(owner ${user(5_000).address}, signer ${user(5_003).address})` },
    });
  });

  it('error: refuses the high-s twin of a valid signature with 401, and the valid one still lands', async () => {
    const body = await relayBody(5_004);
    const request = JSON.parse(body) as { signature: string };
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const s = BigInt(`0x${request.signature.slice(66, 130)}`);
    const v = Number.parseInt(request.signature.slice(130), 16);
    const twin = `${request.signature.slice(0, 66)}${(n - s).toString(16).padStart(64, '0')}${(v === 27 ? 28 : 27).toString(16)}`;
    const answer = await refused(JSON.stringify({ ...request, signature: twin }));
    expect(answer).toEqual({
      status: 401,
      json: { type: 'error', error: 'Refused before sending: non-canonical signature (high s); the contract would revert with ECDSAInvalidSignatureS' },
    });
    const valid = await relay(body);
    expect(valid.status).toBe(200);
    expect((await client.waitForTransactionReceipt({ hash: valid.json.hash, pollingInterval: 50 })).status).toBe('success');
  });

  it('of two concurrent requests of one user with the same nonce and different grants, lands one and refuses the other', async () => {
    const before = await relayerState();
    const bodies = await Promise.all(['a', 'b'].map((g) => relayBody(5_005, { grant: `http://127.0.0.1:1/grants/5005-${g}.json` })));
    const answers = await Promise.all(bodies.map((body) => relay(body)));
    const landed = answers.filter((a) => a.status === 200);
    const other = answers.filter((a) => a.status !== 200);
    expect(landed).toHaveLength(1);
    expect(other).toHaveLength(1);
    // 409 while the winner is in flight; 422 InvalidNonce if it was already mined.
    expect([409, 422]).toContain(other[0]!.status);
    expect(other[0]!.json.error).toMatch(/^Refused before sending: (this user's relay (0x[0-9a-f]{64}|being sent) \(nonce 0\) is not mined yet|the transaction would revert with InvalidNonce\(expected 1, got 0\))/);
    expect((await client.waitForTransactionReceipt({ hash: landed[0]!.json.hash, pollingInterval: 50 })).status).toBe('success');
    expect((await relayerState()).nonce).toBe(before.nonce + 1);
  });

  it('of two concurrent requests of two users naming one new file URL, lands one and refuses the other', async () => {
    const before = await relayerState();
    const fileUrls = ['http://127.0.0.1:1/files/shared-5006.bin'];
    const bodies = await Promise.all([5_006, 5_007].map((i) => relayBody(i, { fileUrls })));
    const answers = await Promise.all(bodies.map((body) => relay(body)));
    const landed = answers.filter((a) => a.status === 200);
    const other = answers.filter((a) => a.status !== 200);
    expect(landed).toHaveLength(1);
    expect(other).toHaveLength(1);
    expect(other[0]!.json.error).toMatch(/^Refused before sending: (file URL http:\/\/127\.0\.0\.1:1\/files\/shared-5006\.bin is registered by another user's relay|the transaction would revert with NotFileOwner)/);
    expect((await client.waitForTransactionReceipt({ hash: landed[0]!.json.hash, pollingInterval: 50 })).status).toBe('success');
    expect((await relayerState()).nonce).toBe(before.nonce + 1);
  });

  it("error: answers 503 when the relayer cannot send, and that failed relay does not block the user's retry", async () => {
    const broke = relayerAccount(12); // never funded
    const brokePool = await createRelayerPool({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, accounts: [broke] });
    const brokeApi = await startApiServer({
      port: 0,
      chainId: anvil.chainId,
      rpcUrl: anvil.rpcUrl,
      permissionsAddress: permissions,
      relayerPool: brokePool,
      personalServerUrl: 'http://127.0.0.1:1',
      appAccount: appAccount(),
    });
    try {
      const body = await relayBody(5_008);
      const send = async () => {
        const response = await fetch(`${brokeApi.url}/api/relay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        return { status: response.status, json: (await response.json()) as { hash: `0x${string}`; error: string } };
      };
      const failed = await send();
      expect(failed.status).toBe(503);
      expect(failed.json.error).toMatch(/insufficient funds/);
      await fundRelayers({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, funder: deployerAccount(), relayers: [broke.address] });
      const retried = await send();
      expect(retried.status).toBe(200);
      expect((await client.waitForTransactionReceipt({ hash: retried.json.hash, pollingInterval: 50 })).status).toBe('success');
    } finally {
      await brokeApi.stop();
      await brokePool.stop();
    }
  });

  it("relays a user's next nonce once its previous relay is mined", async () => {
    const next = await relay(await relayBody(5_000, { nonce: 1n, grant: 'http://127.0.0.1:1/grants/5000-next.json', fileUrls: ['http://127.0.0.1:1/files/5000-next.bin'] }));
    expect(next.status).toBe(200);
    expect((await client.waitForTransactionReceipt({ hash: next.json.hash, pollingInterval: 50 })).status).toBe('success');
  });

  it('counts every refusal by reason in /health', async () => {
    const health = (await (await fetch(`${cachedApi.url}/health`)).json()) as { preflight: { checked: number; passed: number; refused: Record<string, number> } };
    const { refused: byReason } = health.preflight;
    expect(byReason.InvalidNonce! + (byReason.NonceInFlight ?? 0)).toBe(3);
    expect(byReason.NotFileOwner! + (byReason.FileInFlight ?? 0)).toBe(2);
    expect(byReason).toMatchObject({ GranteeNotFound: 1, ECDSAInvalidSignatureS: 1 });
    expect(health.preflight.passed).toBe(5);
    expect(health.preflight.checked).toBe(12);
  });
});

describe('POST /api/relay while a relay is not mined yet (automine off)', () => {
  const test = () => createTestClient({ mode: 'anvil', transport: rpcHttp(anvil.rpcUrl) });
  afterAll(async () => {
    await test().setAutomine(true);
  });
  const relay = async (body: string) => {
    const response = await fetch(`${api.url}/api/relay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    return { status: response.status, json: (await response.json()) as { hash: `0x${string}`; error: string } };
  };

  it("error: refuses a user's next nonce with 409 until the previous relay is mined, then relays it", async () => {
    await test().setAutomine(false);
    const first = await relay(await relayBody(6_000));
    expect(first.status).toBe(200);
    const next = await relayBody(6_000, { nonce: 1n, grant: 'http://127.0.0.1:1/grants/6000-next.json', fileUrls: ['http://127.0.0.1:1/files/6000-next.bin'] });
    expect(await relay(next)).toEqual({
      status: 409,
      json: {
        type: 'error',
        error: `Refused before sending: this user's relay ${first.json.hash} (nonce 0) is not mined yet; another one now would revert with InvalidNonce, send it after that one is mined`,
      },
    });
    const otherUser = await relay(await relayBody(6_001, { fileUrls: ['http://127.0.0.1:1/files/api-test-6000.bin'] }));
    expect(otherUser).toEqual({
      status: 409,
      json: {
        type: 'error',
        error: `Refused before sending: file URL http://127.0.0.1:1/files/api-test-6000.bin is registered by another user's relay ${first.json.hash}, not mined yet; this one would revert with NotFileOwner`,
      },
    });
    await test().mine({ blocks: 1 });
    expect((await client.getTransactionReceipt({ hash: first.json.hash })).status).toBe('success');
    await test().setAutomine(true);
    const later = await relay(next);
    expect(later.status).toBe(200);
    expect((await client.waitForTransactionReceipt({ hash: later.json.hash, pollingInterval: 50 })).status).toBe('success');
  });
});

describe('POST /api/relay as a stateful relayer (pending + status_check) with grant storage', () => {
  let stateful: ApiServer;
  let statefulPool: RelayerPool;
  let storage: Awaited<ReturnType<typeof startStorageService>>;
  const postTo = async (body: object): Promise<{ status: number; json: any }> => {
    const response = await fetch(`${stateful.url}/api/relay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, json: await response.json() };
  };

  beforeAll(async () => {
    // Relayers of their own: two pools on one chain must not share a nonce.
    const relayers = [10, 11].map((i) => relayerAccount(i));
    await fundRelayers({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, funder: deployerAccount(), relayers: relayers.map((r) => r.address) });
    statefulPool = await createRelayerPool({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, accounts: relayers });
    storage = await startStorageService({ port: 0 });
    stateful = await startApiServer({
      port: 0,
      chainId: anvil.chainId,
      rpcUrl: anvil.rpcUrl,
      permissionsAddress: permissions,
      relayerPool: statefulPool,
      personalServerUrl: 'http://127.0.0.1:1',
      appAccount: appAccount(),
      relayResponse: 'pending',
      grantStorage: createLocalStorageProvider({ baseUrl: storage.url, timeoutMs: 5_000 }),
    });
  });
  afterAll(async () => {
    await stateful?.stop();
    await statefulPool?.stop();
    await storage?.stop();
  });

  it('answers pending, then status_check answers confirmed with a receipt that holds PermissionAdded', async () => {
    const first = await postTo(JSON.parse(await relayBody(20)) as object);
    expect(first).toEqual({ status: 200, json: { type: 'pending', operationId: expect.stringMatching(/^[0-9a-f-]{36}$/) } });
    let answer: RelayResponse | undefined;
    for (let i = 0; i < 100; i++) {
      const { json } = await postTo({ type: 'status_check', operationId: first.json.operationId });
      answer = parseRelayResponse(json);
      if (answer.type !== 'pending') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(answer?.type).toBe('confirmed');
    const confirmed = answer as Extract<RelayResponse, { type: 'confirmed' }>;
    expect(confirmed.receipt?.status).toBe('success');
    const [added] = parseEventLogs({ abi: dataPortabilityPermissionsAbi, logs: confirmed.receipt!.logs as Log[], eventName: 'PermissionAdded' });
    expect(added?.args.user).toBe(user(20).address);
    expect(confirmed.receipt!.blockNumber).toBe((await client.getTransactionReceipt({ hash: confirmed.hash })).blockNumber);
  });

  it('error: answers a status_check for an unknown operation with 404 "Operation not found"', async () => {
    expect(await postTo({ type: 'status_check', operationId: 'no-such-op' })).toEqual({ status: 404, json: { type: 'error', error: 'Operation not found' } });
  });

  it('stores a grant file (storeGrantFile) and answers its URL, which serves the grant', async () => {
    const params = { grantee: appAccount().address, operation: 'llm_inference', parameters: { prompt: 'Summarize: {{data}}' } };
    const { status, json } = await postTo({ type: 'direct', operation: 'storeGrantFile', params });
    expect(status).toBe(200);
    expect(json).toEqual({ type: 'direct_result_untracked', result: { url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\//) } });
    expect(JSON.parse(await (await fetch(json.result.url)).text())).toEqual(params);
  });

  it('error: refuses the direct operations it does not offer, and a grant file that breaks the schema', async () => {
    expect(await postTo({ type: 'direct', operation: 'submitFileAddition', params: { url: 'x', userAddress: user(1).address } })).toEqual({
      status: 400,
      json: { type: 'error', error: 'Invalid relay request: operation: submitFileAddition is not offered by this relayer; it serves storeGrantFile' },
    });
    const bad = await postTo({ type: 'direct', operation: 'storeGrantFile', params: { grantee: 'me', operation: 'x', parameters: {} } });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/^Invalid relay request: params: Invalid grant file: grantee: /);
  });
});

describe('POST /api/trusted-server against a local HTTP peer', () => {
  // A real HTTP server standing in for the personal server: it records what it receives and
  // answers what each test sets.
  let peer: Server;
  let peerApi: ApiServer;
  let answer: { status: number; body: unknown; headers?: Record<string, string> } = { status: 202, body: {} };
  const received: Array<{ method: string; url: string; body: string }> = [];
  beforeAll(async () => {
    peer = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push({ method: req.method ?? '', url: req.url ?? '', body });
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(JSON.stringify(answer.body));
      });
    });
    const port = await freePort();
    await new Promise<void>((resolve) => peer.listen(port, '127.0.0.1', resolve));
    peerApi = await startApiServer({
      port: 0,
      chainId: anvil.chainId,
      rpcUrl: anvil.rpcUrl,
      permissionsAddress: permissions,
      relayerPool: pool,
      personalServerUrl: `http://127.0.0.1:${port}/api/v1/`,
      appAccount: appAccount(),
    });
  });
  afterAll(async () => {
    await peerApi?.stop();
    await new Promise((resolve) => peer?.close(resolve));
  });
  const postPeer = async (path: string, body: object) => {
    const response = await fetch(`${peerApi.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, json: (await response.json()) as any, headers: response.headers };
  };

  it('signs {"permission_id":N} with the app key and returns the operation id', async () => {
    answer = { status: 202, body: { kind: 'OperationCreated', id: 'op-1', created_at: '2026-11-23T00:00:00Z' } };
    received.length = 0;
    const { status, json } = await postPeer('/api/trusted-server', { permissionId: '42' });
    expect(status).toBe(200);
    expect(json).toEqual({ success: true, data: { id: 'op-1' } });
    expect(received).toHaveLength(1);
    expect(received[0]!.method).toBe('POST');
    expect(received[0]!.url).toBe('/api/v1/operations');
    const sent = JSON.parse(received[0]!.body) as { app_signature: `0x${string}`; operation_request_json: string };
    expect(sent.operation_request_json).toBe('{"permission_id":42}');
    expect(sent.app_signature).toBe(await appAccount().signMessage({ message: '{"permission_id":42}' }));
  });

  it('polls the operation and returns its status and result', async () => {
    answer = { status: 200, body: { kind: 'OperationStatus', id: 'op-1', status: 'succeeded', result: '{"ok":true}' } };
    received.length = 0;
    const { status, json } = await postPeer('/api/trusted-server/poll', { operationId: 'op-1', chainId: anvil.chainId });
    expect(status).toBe(200);
    expect(json).toEqual({ success: true, data: { status: 'succeeded', result: '{"ok":true}' } });
    expect(received[0]).toMatchObject({ method: 'GET', url: '/api/v1/operations/op-1' });
  });

  it('error: propagates a 429 with its Retry-After', async () => {
    answer = {
      status: 429,
      body: { detail: { kind: 'Error', detail: 'Too many requests', error_code: 'RATE_LIMIT_ERROR' } },
      headers: { 'retry-after': '17' },
    };
    const { status, json, headers } = await postPeer('/api/trusted-server', { permissionId: 42 });
    expect(status).toBe(429);
    expect(headers.get('retry-after')).toBe('17');
    expect(json).toEqual({ success: false, error: 'personal server answered 429: RATE_LIMIT_ERROR: Too many requests' });
  });

  it('error: propagates a 401 from the personal server', async () => {
    answer = { status: 401, body: { detail: { kind: 'Error', detail: 'app signature is not the grantee', error_code: 'AUTHENTICATION_ERROR' } } };
    const { status, json } = await postPeer('/api/trusted-server', { permissionId: 42 });
    expect(status).toBe(401);
    expect(json).toEqual({ success: false, error: 'personal server answered 401: AUTHENTICATION_ERROR: app signature is not the grantee' });
  });

  it('error: propagates a 500 from the poll', async () => {
    answer = { status: 500, body: { detail: { kind: 'Error', detail: 'boom', error_code: 'INTERNAL_SERVER_ERROR' } } };
    const { status, json } = await postPeer('/api/trusted-server/poll', { operationId: 'op-1' });
    expect(status).toBe(500);
    expect(json).toEqual({ success: false, error: 'personal server answered 500: INTERNAL_SERVER_ERROR: boom' });
  });

  it('error: answers 502 when the personal server answers 202 without an id', async () => {
    answer = { status: 202, body: { kind: 'OperationCreated' } };
    const { status, json } = await postPeer('/api/trusted-server', { permissionId: 42 });
    expect(status).toBe(502);
    expect(json.success).toBe(false);
    expect(json.error).toMatch(/^personal server answered 202 with no OperationCreated body: id: /);
  });

  it('error: answers 400 naming permissionId when it is missing or not an integer', async () => {
    expect(await postPeer('/api/trusted-server', {})).toMatchObject({
      status: 400,
      json: { success: false, error: 'permissionId: Expected a permission id as a positive integer or decimal string, got nothing' },
    });
    expect(await postPeer('/api/trusted-server', { permissionId: 1.5 })).toMatchObject({
      status: 400,
      json: { success: false, error: 'permissionId: Expected a permission id as a positive integer or decimal string, got 1.5' },
    });
  });

  it('error: answers 400 naming operationId and chainId', async () => {
    expect(await postPeer('/api/trusted-server/poll', { operationId: '../etc' })).toMatchObject({
      status: 400,
      json: { success: false, error: 'operationId: Expected an operation id (1-200 of [A-Za-z0-9_.:-]), got "../etc"' },
    });
    expect(await postPeer('/api/trusted-server/poll', { operationId: 'op-1', chainId: 14800 })).toMatchObject({
      status: 400,
      json: { success: false, error: `chainId: Expected ${anvil.chainId}, got 14800` },
    });
  });

  it('error: answers 502 when the personal server is unreachable', async () => {
    const { status, json } = await post('/api/trusted-server', { permissionId: 42 });
    expect(status).toBe(502);
    expect(json.success).toBe(false);
    expect(json.error).toMatch(/^personal server http:\/\/127\.0\.0\.1:1 unreachable: /);
  });
});

describe('/api/trusted-server connections to the personal server', () => {
  // A slow peer that counts the connections it is given; permission 666 never gets an answer.
  let peer: Server;
  let peerUrl: string;
  let connections = 0;
  let open = 0;
  let maxOpen = 0;
  const received: number[] = [];
  beforeAll(async () => {
    peer = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const { permission_id: id } = JSON.parse((JSON.parse(body) as { operation_request_json: string }).operation_request_json) as { permission_id: number };
        received.push(id);
        if (id === 666) return;
        setTimeout(() => {
          res.writeHead(202, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ kind: 'OperationCreated', id: `op-${id}`, created_at: '2026-12-05T00:00:00Z' }));
        }, 20);
      });
    });
    peer.on('connection', (socket) => {
      connections++;
      maxOpen = Math.max(maxOpen, ++open);
      socket.on('close', () => open--);
    });
    const port = await freePort();
    await new Promise<void>((resolve) => peer.listen(port, '127.0.0.1', resolve));
    peerUrl = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    peer?.closeAllConnections();
    await new Promise((resolve) => peer?.close(resolve));
  });
  const startApi = (options: { personalServerMaxConnections?: number; personalServerTimeoutMs?: number }) =>
    startApiServer({ port: 0, chainId: anvil.chainId, rpcUrl: anvil.rpcUrl, permissionsAddress: permissions, relayerPool: pool, personalServerUrl: peerUrl, appAccount: appAccount(), ...options });
  const operate = async (apiUrl: string, permissionId: number) => {
    const response = await fetch(`${apiUrl}/api/trusted-server`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ permissionId }) });
    return { status: response.status, json: (await response.json()) as TrustedServerResponse<{ id: string }> };
  };

  it('serves a burst of 300 concurrent requests over at most 8 kept-alive connections, all successfully', async () => {
    const capped = await startApi({ personalServerMaxConnections: 8 });
    try {
      connections = 0;
      maxOpen = open;
      const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => operate(capped.url, i + 1)));
      expect(answers.filter((a) => a.status !== 200)).toEqual([]);
      expect(answers.map((a) => a.json)).toEqual(Array.from({ length: 300 }, (_, i) => ({ success: true, data: { id: `op-${i + 1}` } })));
      expect(connections).toBeLessThanOrEqual(8);
      expect(maxOpen).toBeLessThanOrEqual(8);
    } finally {
      await capped.stop();
    }
  });

  it('error: answers 504 to a request that waited for a connection past its timeout, which never reaches the peer', async () => {
    const capped = await startApi({ personalServerMaxConnections: 1, personalServerTimeoutMs: 400 });
    try {
      received.length = 0;
      const answers = await Promise.all([operate(capped.url, 666), operate(capped.url, 666)]);
      expect(answers).toEqual(
        Array(2).fill({ status: 504, json: { success: false, error: `personal server ${peerUrl} unreachable: no answer within 400 ms` } }),
      );
      expect(received).toEqual([666]);
    } finally {
      await capped.stop();
    }
  });

  it('error: refuses a connection cap below 1', async () => {
    await expect(startApi({ personalServerMaxConnections: 0 })).rejects.toThrow('Expected personalServerMaxConnections to be an integer >= 1, got 0');
  });
});
