import { createHash } from 'node:crypto';
import { getEventListeners, setMaxListeners } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/loadConfig.ts';
import { InfrastructureError, VanaLoadError } from '../src/errors.ts';
import { openFlowEnvironment, type FlowEnvironment } from '../src/run/flowEnvironment.ts';
import { generateUserData } from '../src/client/syntheticData.ts';
import { freePort } from '../src/util/freePort.ts';
import { deployerAccount } from '../src/stack/devAccounts.ts';
import { VanaLoadTestClient, type StepRetry, type VanaLoadTestClientParameters } from '../src/client/VanaLoadTestClient.ts';
import { createWalletClient, parseEther, type Address, type Hash } from 'viem';
import { dataPortabilityPermissionsAbi } from '../src/protocol/abis.ts';
import { normalizeSignatureV } from '../src/protocol/signature.ts';
import type { FlowRelay } from '../src/client/relay/flowRelay.ts';
import { rpcHttp } from '../src/chain/rpcTransport.ts';
import { createDirectRelay } from '../src/client/relay/directRelay.ts';
import type { FlowInference } from '../src/client/inference/flowInference.ts';
import { withRetry } from '../src/util/retry.ts';

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

  /** A client on this stack as env.client is, with some of its parts replaced. */
  const clientWith = (parts: Partial<Pick<VanaLoadTestClientParameters, 'relay' | 'inference' | 'retry'>>): Promise<VanaLoadTestClient> => {
    const m = env.stack!.manifest;
    return VanaLoadTestClient.create({
      chainId: env.chainId,
      publicClient: env.publicClient,
      receiptWatcher: env.receiptWatcher,
      permissionsAddress: m.contracts.dataPortabilityPermissions,
      granteeId: BigInt(m.granteeId),
      storage: env.storage,
      relay: env.relay,
      inference: env.inference,
      ...parts,
    });
  };
  /** Up to 3 attempts, 10 ms apart at most: the run's retry policy, fast. */
  const quickRetry: StepRetry = (step, fn, onRetry) => withRetry(fn, { step, maxAttempts: 3, baseDelayMs: 10, onRetry });
  /** Sends `address` 1 ETH from the deployer and waits until it is mined. */
  const fundUser = async (address: Address): Promise<void> => {
    const funder = createWalletClient({ account: deployerAccount(), transport: rpcHttp(env.stack!.manifest.rpcUrl) });
    await env.receiptWatcher.waitForReceipt(await funder.sendTransaction({ chain: null, to: address, value: parseEther('1') }), { timeoutMs: 10_000 });
  };

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

    const direct = await clientWith({ relay: createDirectRelay({ publicClient: env.publicClient, permissionsAddress: env.stack!.manifest.contracts.dataPortabilityPermissions }) });
    const user = env.wallets.account(7);
    await fundUser(user.address);
    const before = await env.publicClient.getBalance({ address: user.address });
    const result = await direct.executeDataPortabilityFlow({ n: 2 }, PROMPT, 'test', env.personalServerUrl, { account: user });
    expect(result.error).toBeUndefined();
    const tx = await env.publicClient.getTransaction({ hash: result.txHash! });
    expect(tx.from.toLowerCase()).toBe(user.address.toLowerCase());
    expect(await env.publicClient.getBalance({ address: user.address })).toBeLessThan(before);
  });

  it('asks again after an inference poll that failed on the way (a read), counting the retry; a 4xx poll still fails the flow', async () => {
    const failingPolls = (errorClass: 'network' | 'http_4xx', times: number): FlowInference => {
      let left = times;
      return {
        mode: env.inference.mode,
        submit: (permissionId, ctx) => env.inference.submit(permissionId, ctx),
        poll: async (operationId, ctx) => {
          if (left-- > 0) throw new VanaLoadError(`poll failed (${errorClass})`, { code: 'POLL_FAILED', errorClass });
          return await env.inference.poll(operationId, ctx);
        },
      };
    };
    const recovered = await (await clientWith({ inference: failingPolls('network', 2), retry: quickRetry })).executeDataPortabilityFlow({ n: 3 }, PROMPT, 'test', env.personalServerUrl, { account: env.wallets.account(8) });
    expect(recovered.error).toBeUndefined();
    expect(recovered.retries).toBe(2);

    const refused = await (await clientWith({ inference: failingPolls('http_4xx', 1), retry: quickRetry })).executeDataPortabilityFlow({ n: 4 }, PROMPT, 'test', env.personalServerUrl, { account: env.wallets.account(9) });
    expect(refused.error).toMatchObject({ step: 'inference_wait', errorClass: 'http_4xx', code: 'POLL_FAILED' });
    expect(refused.retries).toBe(0);
  });

  it('a relay asked again after a timeout whose repeat is refused or reverts (a relayer that does not know repeats) finds the permission its first attempt landed', async () => {
    const m = env.stack!.manifest;
    const transport = rpcHttp(m.rpcUrl);
    // Attempt 1 lands through the API server but "times out"; attempt 2 sends the same signed
    // request again as a relayer without dedup would: simulated first (refused) or sent blind (reverts).
    const repeatingRelay = (resend: 'simulated' | 'blind', landed: Hash[]): FlowRelay => {
      let attempts = 0;
      return {
        mode: 'api',
        retryable: true,
        async submit(request, ctx) {
          if (++attempts === 1) {
            const first = await env.relay.submit(request, ctx);
            if (first.kind === 'pending') throw new Error('expected a submitted answer');
            landed.push(first.hash);
            await env.receiptWatcher.waitForReceipt(first.hash, { timeoutMs: 10_000 });
            throw new VanaLoadError('relay timed out', { code: 'RELAY_TIMEOUT', errorClass: 'timeout' });
          }
          const hash = await createWalletClient({ account: ctx.account, transport }).writeContract({
            chain: null,
            address: m.contracts.dataPortabilityPermissions,
            abi: dataPortabilityPermissionsAbi,
            functionName: 'addServerFilesAndPermissions',
            args: [request.typedData.message, normalizeSignatureV(request.signature)],
            ...(resend === 'blind' ? { gas: 3_000_000n } : {}),
          });
          return { kind: 'submitted', hash };
        },
        awaitOperation: (id, ctx) => env.relay.awaitOperation(id, ctx),
        close: async () => {},
      };
    };
    for (const [i, resend] of [[10, 'simulated'], [11, 'blind']] as const) {
      const user = env.wallets.account(i);
      await fundUser(user.address);
      const landed: Hash[] = [];
      const client = await clientWith({ relay: repeatingRelay(resend, landed), retry: quickRetry });
      const result = await client.executeDataPortabilityFlow({ n: i }, PROMPT, 'test', env.personalServerUrl, { account: user });
      expect(result.error, resend).toBeUndefined();
      expect(result.retries, resend).toBe(1);
      expect(result.txHash, resend).toBe(landed[0]);
    }
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
