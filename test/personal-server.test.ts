/**
 * The local personal server against a real local chain and storage: permissions are created the
 * way the flow creates them (encrypt, upload, identity, wrap the key, sign, relay), then
 * operations are submitted, polled and cancelled over HTTP.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPublicClient,
  createWalletClient,
  parseEventLogs,
  type Address,
  type Hex,
  type LocalAccount,
} from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { dataPortabilityPermissionsAbi } from '../src/protocol/abis.ts';
import { eciesEncrypt } from '../src/protocol/ecies.ts';
import { permissionsDomain, serverFilesAndPermissionTypes } from '../src/protocol/eip712.ts';
import { deriveEncryptionKey } from '../src/protocol/encryptionKey.ts';
import { encryptWithPassword } from '../src/protocol/openpgp.ts';
import { operationRequestJson, type OperationStatus } from '../src/protocol/personalServerApi.ts';
import { startAnvil } from '../src/stack/anvil.ts';
import { deployContracts, registerGrantee } from '../src/stack/deployContracts.ts';
import { LOCAL_SERVER_MNEMONIC, appAccount, deployerAccount } from '../src/stack/devAccounts.ts';
import { startPersonalServer, type PersonalServer } from '../src/servers/personalServer/startPersonalServer.ts';
import { startStorageService } from '../src/servers/storage/storageService.ts';
import { rpcHttp } from '../src/chain/rpcTransport.ts';

type Stop = () => Promise<void>;
const stops: Stop[] = [];

let rpcUrl: string;
let chainId: number;
let permissionsAddress: Address;
let granteeId: bigint;
let storageUrl: string;
let ps: PersonalServer;
let app: LocalAccount;
let submitter: LocalAccount;

async function startServer(overrides: Partial<Parameters<typeof startPersonalServer>[0]> = {}): Promise<PersonalServer> {
  const server = await startPersonalServer({ rpcUrl, permissionsAddress, serverMnemonic: LOCAL_SERVER_MNEMONIC, ...overrides });
  stops.push(() => server.stop());
  return server;
}

async function upload(name: string, bytes: Uint8Array): Promise<string> {
  const response = await fetch(`${storageUrl}/files/${name}`, { method: 'PUT', body: bytes });
  expect(response.status).toBeLessThan(300);
  return ((await response.json()) as { url: string }).url;
}

/** Creates a permission the way the flow does; returns its id and the plaintext. */
async function createPermission({
  plaintext,
  grant,
  wrapTo,
}: {
  plaintext: Uint8Array;
  grant?: unknown;
  /** Wrap the file key to this public key instead of the server's (a broken permission). */
  wrapTo?: Hex;
}): Promise<{ permissionId: bigint; user: LocalAccount }> {
  const user = privateKeyToAccount(generatePrivateKey());
  const key = await deriveEncryptionKey(user);
  const encrypted = await encryptWithPassword(plaintext, key);
  const tag = user.address.slice(2, 10).toLowerCase();
  const fileUrl = await upload(`data_${tag}.bin`, encrypted);
  const grantFile = grant ?? { grantee: app.address, operation: 'llm_inference', parameters: { prompt: 'Analyse: {{data}}', response_format: { type: 'json_object' } } };
  const grantUrl = await upload(`grant_${tag}.json`, new TextEncoder().encode(JSON.stringify(grantFile, null, 2)));

  const identity = (await (await fetch(`${ps.url}/identity?address=${user.address}`)).json()) as {
    personal_server: { address: Address; public_key: Hex };
  };
  const serverAddress = identity.personal_server.address;
  const serverPublicKey = identity.personal_server.public_key;
  const wrappedKey = eciesEncrypt(wrapTo ?? serverPublicKey, key);

  const publicClient = createPublicClient({ transport: rpcHttp(rpcUrl) });
  const nonce = await publicClient.readContract({ address: permissionsAddress, abi: dataPortabilityPermissionsAbi, functionName: 'userNonce', args: [user.address] });
  const message = {
    nonce,
    granteeId,
    grant: grantUrl,
    fileUrls: [fileUrl],
    schemaIds: [0n],
    serverAddress,
    serverUrl: ps.url,
    serverPublicKey,
    filePermissions: [[{ account: serverAddress, key: wrappedKey }]],
  };
  const signature = await user.signTypedData({
    domain: permissionsDomain(chainId, permissionsAddress),
    types: serverFilesAndPermissionTypes,
    primaryType: 'ServerFilesAndPermission',
    message,
  });
  const wallet = createWalletClient({ account: submitter, transport: rpcHttp(rpcUrl) });
  const hash = await wallet.writeContract({
    chain: null,
    address: permissionsAddress,
    abi: dataPortabilityPermissionsAbi,
    functionName: 'addServerFilesAndPermissions',
    args: [message, signature],
  });
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  const [added] = parseEventLogs({ abi: dataPortabilityPermissionsAbi, eventName: 'PermissionAdded', logs: receipt.logs });
  if (!added) throw new Error('PermissionAdded not found');
  return { permissionId: added.args.permissionId, user };
}

async function postOperation(server: PersonalServer, body: unknown): Promise<{ status: number; body: unknown; retryAfter: string | null }> {
  const response = await fetch(`${server.url}/operations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null, retryAfter: response.headers.get('retry-after') };
}

async function signedBody(permissionId: bigint, signer: LocalAccount): Promise<{ app_signature: Hex; operation_request_json: string }> {
  const json = operationRequestJson(permissionId);
  return { app_signature: await signer.signMessage({ message: json }), operation_request_json: json };
}

async function getOperation(server: PersonalServer, id: string): Promise<OperationStatus> {
  return (await (await fetch(`${server.url}/operations/${id}`)).json()) as OperationStatus;
}

async function waitForFinal(server: PersonalServer, id: string): Promise<OperationStatus> {
  for (let i = 0; i < 200; i++) {
    const status = await getOperation(server, id);
    if (status.status !== 'pending' && status.status !== 'running') return status;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`operation ${id} did not finish`);
}

const plaintext = new TextEncoder().encode(JSON.stringify({ user: 'load-test', items: [1, 2, 3], note: 'x'.repeat(200) }));
let permissionId: bigint;

beforeAll(async () => {
  const anvil = await startAnvil({ port: 0 });
  stops.push(() => anvil.stop());
  rpcUrl = anvil.rpcUrl;
  chainId = anvil.chainId;
  const deployer = deployerAccount();
  app = appAccount();
  submitter = deployer;
  const contracts = await deployContracts({ rpcUrl, chainId, deployer });
  permissionsAddress = contracts.dataPortabilityPermissions;
  granteeId = await registerGrantee({ rpcUrl, chainId, grantees: contracts.dataPortabilityGrantees, account: app });
  const storage = await startStorageService({ port: 0 });
  stops.push(() => storage.stop());
  storageUrl = storage.url;
  ps = await startServer();
  ({ permissionId } = await createPermission({ plaintext }));
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

describe('GET /identity', () => {
  it('answers the per-user server identity, the same on every call', async () => {
    const user = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
    const first = await (await fetch(`${ps.url}/identity?address=${user.toLowerCase()}`)).json();
    const second = await (await fetch(`${ps.url}/identity?address=${user}`)).json();
    expect(first).toEqual(second);
    expect(first).toMatchInlineSnapshot(`
      {
        "kind": "Identity",
        "personal_server": {
          "address": "0x8b3C897787Ae037DE1873c708B6ab4b4D35565C2",
          "kind": "PersonalServer",
          "public_key": "0x0441825b978414d86caed5f63a9e75cc9839fc6816dc99bd6591ae3883f8fedaed1b8a9f704a6a52ddf41e59ee62f902b8d0ce0fa1446f9340018e6f6c328b1cb8",
        },
        "user_address": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
      }
    `);
  });

  it('error: answers 400 VALIDATION_ERROR_USER_ADDRESS for a malformed address', async () => {
    const response = await fetch(`${ps.url}/identity?address=0x1234`);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      detail: { kind: 'Error', detail: 'Expected address as a 0x-prefixed 20-byte hex address, got "0x1234"', error_code: 'VALIDATION_ERROR_USER_ADDRESS', field: 'address' },
    });
  });

  it('error: answers 400 VALIDATION_ERROR_USER_ADDRESS without an address', async () => {
    const response = await fetch(`${ps.url}/identity`);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { detail: { error_code: string } }).detail.error_code).toBe('VALIDATION_ERROR_USER_ADDRESS');
  });
});

describe('POST /operations', () => {
  it('accepts an operation signed by the grantee and finishes it with the sha256 of the plaintext', async () => {
    const created = await postOperation(ps, await signedBody(permissionId, app));
    expect(created.status).toBe(202);
    const { id, kind, created_at } = created.body as { id: string; kind: string; created_at: string };
    expect(kind).toBe('OperationCreated');
    expect(Number.isNaN(Date.parse(created_at))).toBe(false);
    const final = await waitForFinal(ps, id);
    expect(final.status).toBe('succeeded');
    expect(JSON.parse(final.result!)).toMatchObject({
      backend: 'sim',
      operation: 'llm_inference',
      prompt: 'Analyse: {{data}}',
      plaintext_sha256: createHash('sha256').update(plaintext).digest('hex'),
      byte_count: plaintext.byteLength,
      analysis: { format: 'json', top_level_type: 'object', key_count: 3, top_level_keys: ['user', 'items', 'note'] },
    });
  });

  it('error: answers 401 AUTHENTICATION_ERROR when a non-grantee signs', async () => {
    const stranger = privateKeyToAccount(generatePrivateKey());
    const response = await postOperation(ps, await signedBody(permissionId, stranger));
    expect(response.status).toBe(401);
    expect(response.body).toEqual({
      detail: {
        kind: 'Error',
        detail: `Signature recovered address ${stranger.address} does not match on-chain grantee address ${app.address}`,
        error_code: 'AUTHENTICATION_ERROR',
        field: null,
      },
    });
  });

  it('error: answers 401 when the signed JSON differs from the sent JSON by one space', async () => {
    const body = await signedBody(permissionId, app);
    const response = await postOperation(ps, { ...body, operation_request_json: body.operation_request_json.replace(':', ': ') });
    expect(response.status).toBe(401);
  });

  it('error: answers 400 naming app_signature when it is missing', async () => {
    const response = await postOperation(ps, { operation_request_json: operationRequestJson(permissionId) });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      detail: {
        kind: 'Error',
        detail: 'Expected app_signature as a 0x-prefixed 65-byte hex signature, got nothing',
        error_code: 'VALIDATION_ERROR_APP_SIGNATURE',
        field: 'app_signature',
      },
    });
  });

  it('error: answers 400 naming permission_id when it is not a positive integer', async () => {
    const json = '{"permission_id":0}';
    const response = await postOperation(ps, { app_signature: await app.signMessage({ message: json }), operation_request_json: json });
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      detail: { kind: 'Error', detail: 'Expected permission_id as a positive integer, got 0', error_code: 'VALIDATION_ERROR_PERMISSION_ID', field: 'permission_id' },
    });
  });

  it('error: answers 404 NOT_FOUND_ERROR for an unknown permission', async () => {
    const response = await postOperation(ps, await signedBody(999_999n, app));
    expect(response.status).toBe(404);
    expect(response.body).toEqual({
      detail: { kind: 'Error', detail: 'Permission with ID 999999 not found', error_code: 'NOT_FOUND_ERROR', field: null },
    });
  });

  it('error: answers 400 GRANT_VALIDATION_ERROR for a grant file without an operation', async () => {
    const bad = await createPermission({ plaintext, grant: { grantee: app.address, parameters: { prompt: 'p' } } });
    const response = await postOperation(ps, await signedBody(bad.permissionId, app));
    expect(response.status).toBe(400);
    expect((response.body as { detail: { error_code: string } }).detail.error_code).toBe('GRANT_VALIDATION_ERROR');
  });

  it('error: answers 400 GRANT_VALIDATION_ERROR when the grant names another grantee, or ours in lower case, as the real server does', async () => {
    const stranger = privateKeyToAccount(generatePrivateKey());
    for (const grantee of [stranger.address, app.address.toLowerCase() as Address]) {
      const other = await createPermission({ plaintext, grant: { grantee, operation: 'llm_inference', parameters: { prompt: 'p' } } });
      const response = await postOperation(ps, await signedBody(other.permissionId, app));
      expect(response.status).toBe(400);
      expect(response.body).toEqual({
        detail: {
          kind: 'Error',
          detail: 'Grant validation failed: App address does not match the app address in the access permissions',
          error_code: 'GRANT_VALIDATION_ERROR',
          field: null,
        },
      });
    }
  });

  it('error: answers 500 DECRYPTION_ERROR when the file key was wrapped to another key', async () => {
    const other = privateKeyToAccount(generatePrivateKey());
    const broken = await createPermission({ plaintext, wrapTo: other.publicKey });
    const response = await postOperation(ps, await signedBody(broken.permissionId, app));
    expect(response.status).toBe(500);
    expect((response.body as { detail: { error_code: string; detail: string } }).detail).toMatchObject({
      error_code: 'DECRYPTION_ERROR',
      detail: expect.stringMatching(/^Failed to unwrap the key of file \d+: /),
    });
    expect(ps.stats().errors.DECRYPTION_ERROR).toBe(1);
  });
});

describe('operations lifecycle', () => {
  it('ends failed with an error result when the sim failure rate is 1', async () => {
    const failing = await startServer({ backend: { kind: 'sim', latency: { p50Ms: 0, p95Ms: 0 }, failureRate: 1, seed: 1 } });
    const created = await postOperation(failing, await signedBody(permissionId, app));
    expect(created.status).toBe(202);
    const final = await waitForFinal(failing, (created.body as { id: string }).id);
    expect(final).toMatchObject({ status: 'failed', result: '{"error":"simulated inference failure","error_code":"COMPUTE_ERROR","backend":"sim"}' });
    expect(typeof final.finished_at).toBe('string');
  });

  it('cancels a running operation: 204, then status cancelled with no result', async () => {
    const slow = await startServer({ backend: { kind: 'sim', latency: { p50Ms: 60_000, p95Ms: 60_000 }, failureRate: 0 } });
    const created = await postOperation(slow, await signedBody(permissionId, app));
    const id = (created.body as { id: string }).id;
    expect((await getOperation(slow, id)).status).toBe('running');
    const cancel = await fetch(`${slow.url}/operations/${id}/cancel`, { method: 'POST' });
    expect(cancel.status).toBe(204);
    expect(await getOperation(slow, id)).toMatchObject({ kind: 'OperationStatus', id, status: 'cancelled', result: null });
    expect(slow.stats().operations).toMatchObject({ created: 1, cancelled: 1, live: 0 });
  });

  it('tells its queue on GET /stats: a running operation counts until it ends, a refused one never stays counted', async () => {
    const slow = await startServer({ backend: { kind: 'sim', latency: { p50Ms: 60_000, p95Ms: 60_000 }, failureRate: 0 } });
    const stats = async (): Promise<unknown> => ((await (await fetch(`${slow.url}/stats`)).json()) as { queue: unknown }).queue;
    expect(await stats()).toEqual({ preparing: 0, running: 0 });
    const created = await postOperation(slow, await signedBody(permissionId, app));
    expect(await stats()).toEqual({ preparing: 0, running: 1 });
    expect((await postOperation(slow, await signedBody(999_999n, app))).status).toBe(404);
    await fetch(`${slow.url}/operations/${(created.body as { id: string }).id}/cancel`, { method: 'POST' });
    expect(await stats()).toEqual({ preparing: 0, running: 0 });
    expect(slow.stats().queue).toEqual({ preparing: 0, running: 0 });
  });

  it('error: answers 404 NOT_FOUND_ERROR for an unknown operation id', async () => {
    const response = await fetch(`${ps.url}/operations/nope`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ detail: { kind: 'Error', detail: 'Operation nope not found', error_code: 'NOT_FOUND_ERROR', field: null } });
  });
});

describe('rate limits', () => {
  it('error: answers 429 RATE_LIMIT_ERROR with Retry-After once an IP exceeds the identity limit', async () => {
    const limited = await startServer({ rateLimit: { perIpPerMinute: 60, operationsPerHour: 100, identityPerMinute: 2 } });
    const url = `${limited.url}/identity?address=0x70997970C51812dc3A010C7d01b50e0d17dc79C8`;
    expect((await fetch(url)).status).toBe(200);
    expect((await fetch(url, { headers: { 'x-forwarded-for': '10.0.0.9' } })).status).toBe(200);
    expect((await fetch(url)).status).toBe(200);
    const refused = await fetch(url);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter >= 1 && retryAfter <= 60).toBe(true);
    expect(((await refused.json()) as { detail: { error_code: string } }).detail.error_code).toBe('RATE_LIMIT_ERROR');
  });

  it('error: answers 429 with Retry-After 1 when the sim injects a rate limit', async () => {
    const throttled = await startServer({ backend: { kind: 'sim', latency: { p50Ms: 0, p95Ms: 0 }, failureRate: 0, rateLimited429Rate: 1 } });
    const response = await postOperation(throttled, await signedBody(permissionId, app));
    expect({ status: response.status, retryAfter: response.retryAfter }).toEqual({ status: 429, retryAfter: '1' });
  });
});
