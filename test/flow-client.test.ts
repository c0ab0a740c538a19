import { createHash } from 'node:crypto';
import { getEventListeners, setMaxListeners } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/loadConfig.ts';
import { InfrastructureError } from '../src/errors.ts';
import { openFlowEnvironment, type FlowEnvironment } from '../src/run/flowEnvironment.ts';
import { generateUserData } from '../src/client/syntheticData.ts';
import { freePort } from '../src/util/freePort.ts';
import { deployerAccount } from '../src/stack/devAccounts.ts';
import { VanaLoadTestClient } from '../src/client/VanaLoadTestClient.ts';
import { createWalletClient, parseEther } from 'viem';
import { rpcHttp } from '../src/chain/rpcTransport.ts';
import { createDirectRelay } from '../src/client/relay/directRelay.ts';

/**
 * Signals made by `AbortSignal.any()` over `signal` (Node keeps them in an internal set; on Node 20
 * one that had an abort listener is never let go: src/util/deadlineSignal.ts). 0 if none.
 */
function anySignalsFollowing(signal: AbortSignal): number {
  const key = Object.getOwnPropertySymbols(signal).find((s) => s.description === 'kDependantSignals');
  const set = key === undefined ? undefined : (signal as unknown as Record<symbol, Set<unknown> | undefined>)[key];
  return set?.size ?? 0;
}

// The flow client against a real local stack (spawned in its own process on free ports).
const PROMPT = 'Summarize this data as JSON: {{data}}';

describe('VanaLoadTestClient on the local stack', () => {
  let env: FlowEnvironment;
  beforeAll(async () => {
    env = await openFlowEnvironment({ config: loadConfig({ env: {} }), attach: false });
  });
  afterAll(async () => {
    await env?.close();
  });

  it('runs every step in order and verifies the server decrypted exactly our bytes', async () => {
    const steps: string[] = [];
    const data = generateUserData(1, 'medium');
    const result = await env.client.executeDataPortabilityFlow(data, PROMPT, 'test', env.personalServerUrl, {
      account: env.wallets.account(1),
      userIndex: 1,
      dataSize: 'medium',
      onStep: (step, _ms, ok) => steps.push(`${step}:${ok}`),
    });
    expect(result.error).toBeUndefined();
    expect(result.success).toBe(true);
    expect(steps).toEqual(['encrypt', 'upload_data', 'upload_grant', 'identity', 'wrap_key', 'sign', 'relay', 'confirm', 'inference_submit', 'inference_wait', 'verify'].map((s) => `${s}:true`));
    expect(result.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(Number(result.permissionId)).toBeGreaterThan(0);
    expect(result.result?.plaintextSha256).toBe(createHash('sha256').update(JSON.stringify(data)).digest('hex'));
    expect(result.e2eMs).toBeGreaterThanOrEqual(Object.values(result.steps).reduce((a, b) => a + b, 0) - 5);
  });

  it('runs 20 flows of different users at once, all confirmed through the one receipt watcher, leaving nothing on the run\'s signal', async () => {
    const run = new AbortController(); // lives as long as a load run: flows must not hang on to it
    setMaxListeners(0, run.signal); // as the runner does: every flow in flight listens to it
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        env.client.executeDataPortabilityFlow(generateUserData(100 + i, 'small'), PROMPT, 'test', env.personalServerUrl, {
          account: env.wallets.account(100 + i),
          flowId: i,
          userIndex: 100 + i,
          signal: run.signal,
        }),
      ),
    );
    expect(results.filter((r) => !r.success).map((r) => r.error)).toEqual([]);
    expect(new Set(results.map((r) => r.permissionId)).size).toBe(20);
    expect(env.receiptWatcher.stats().pending).toBe(0);
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(0);
    expect(anySignalsFollowing(run.signal)).toBe(0);
  });

  it('runs a second flow of the same user (nonce read from chain) and a direct-mode flow where the user pays gas', async () => {
    const again = await env.client.executeDataPortabilityFlow({ n: 1 }, PROMPT, 'test', env.personalServerUrl, { account: env.wallets.account(1) });
    expect(again.success).toBe(true);

    const m = env.stack!.manifest;
    const direct = await VanaLoadTestClient.create({
      chainId: env.chainId,
      publicClient: env.publicClient,
      receiptWatcher: env.receiptWatcher,
      permissionsAddress: m.contracts.dataPortabilityPermissions,
      granteeId: BigInt(m.granteeId),
      storage: env.storage,
      relay: createDirectRelay({ publicClient: env.publicClient, permissionsAddress: m.contracts.dataPortabilityPermissions }),
      inference: env.inference,
    });
    const user = env.wallets.account(7);
    const funder = createWalletClient({ account: deployerAccount(), transport: rpcHttp(m.rpcUrl) });
    await env.receiptWatcher.waitForReceipt(await funder.sendTransaction({ chain: null, to: user.address, value: parseEther('1') }), { timeoutMs: 10_000 });
    const before = await env.publicClient.getBalance({ address: user.address });
    const result = await direct.executeDataPortabilityFlow({ n: 2 }, PROMPT, 'test', env.personalServerUrl, { account: user });
    expect(result.error).toBeUndefined();
    const tx = await env.publicClient.getTransaction({ hash: result.txHash! });
    expect(tx.from.toLowerCase()).toBe(user.address.toLowerCase());
    expect(await env.publicClient.getBalance({ address: user.address })).toBeLessThan(before);
  });

  it('error: a flow whose server URL is wrong fails at identity with a network class, and does not throw', async () => {
    const port = await freePort();
    const result = await env.client.executeDataPortabilityFlow({ n: 1 }, PROMPT, 'test', `http://127.0.0.1:${port}`, { account: env.wallets.account(2) });
    expect(result.success).toBe(false);
    expect(result.error).toMatchObject({ step: 'identity', errorClass: 'network' });
    expect(result.steps.identity).toBeGreaterThanOrEqual(0);
    expect(result.steps.wrap_key).toBeUndefined();
  });
});

describe('VanaLoadTestClient against failing or missing parts', () => {
  it('error: a personal server whose inference always fails ends the flow at inference_wait, class http_5xx', async () => {
    const env = await openFlowEnvironment({ config: loadConfig({ env: { VANA_SIM_FAILURE_RATE: '1' } }), attach: false });
    try {
      const result = await env.client.executeDataPortabilityFlow({ n: 1 }, PROMPT, 'test', env.personalServerUrl, { account: env.wallets.account(3) });
      expect(result.success).toBe(false);
      expect(result.error).toMatchObject({ step: 'inference_wait', errorClass: 'http_5xx', code: 'OPERATION_FAILED' });
      expect(result.permissionId).toBeDefined();
    } finally {
      await env.close();
    }
  });

  it('error: a presigned URL that expired before the personal server read the file fails at inference_submit as STORAGE_URL_EXPIRED, signature kept out', async () => {
    // S3 storage with 1 s URLs, and 3 s blocks between the upload and the personal server's read.
    const env = await openFlowEnvironment({ config: loadConfig({ env: { VANA_STACK_STORAGE: 's3', VANA_S3_PRESIGN_EXPIRY: '1s', VANA_BLOCK_TIME: '3' } }), attach: false });
    try {
      const result = await env.client.executeDataPortabilityFlow({ n: 1 }, PROMPT, 'test', env.personalServerUrl, { account: env.wallets.account(4) });
      expect(result.error).toMatchObject({ step: 'inference_submit', errorClass: 'http_4xx', code: 'STORAGE_URL_EXPIRED' });
      expect(result.error?.message).toMatch(/^presigned URL expired before the personal server read it \(raise VANA_S3_PRESIGN_EXPIRY\): Failed to fetch grant file from http:\/\/127\.0\.0\.1:\d+\/vana-load\/\S+\?…: status 403 \(AccessDenied: Request has expired\)$/);
      expect(JSON.stringify(result)).not.toMatch(/X-Amz-Signature|X-Amz-Credential/);
    } finally {
      await env.close();
    }
  });

  it('error: a remote target on a closed port is an infrastructure error naming the RPC', async () => {
    const port = await freePort();
    const config = loadConfig({
      env: {
        VANA_TARGET: 'remote',
        VANA_RPC_URLS: `http://127.0.0.1:${port}`,
        VANA_CHAIN_ID: '14800',
        VANA_PERMISSIONS_ADDRESS: '0xD54523048AdD05b4d734aFaE7C68324Ebb7373eF',
        VANA_GRANTEE_ID: '1',
        VANA_PERSONAL_SERVER_URL: `http://127.0.0.1:${port}`,
        VANA_STORAGE_URL: `http://127.0.0.1:${port}`,
        VANA_API_URL: `http://127.0.0.1:${port}`,
        VANA_MNEMONIC: 'test test test test test test test test test test test junk',
      },
    });
    const error = await openFlowEnvironment({ config }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfrastructureError);
    expect((error as Error).message).toContain(`127.0.0.1:${port}`);
    expect((error as Error).message).not.toContain('test junk');
  });

  it('error: a remote target without its endpoints names every missing variable', async () => {
    expect(() => loadConfig({ env: { VANA_TARGET: 'remote' } })).toThrow(/VANA_RPC_URLS.*VANA_PERMISSIONS_ADDRESS.*VANA_PERSONAL_SERVER_URL.*VANA_STORAGE_URL/);
  });
});
