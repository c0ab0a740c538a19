/**
 * One virtual user's data-portability flow, step by step (ARCHITECTURE.md 2), against the local
 * stack or a real network: the client only speaks the wire formats of PROTOCOL.md, and it finds
 * the data registry, servers and grantees contracts through the Permissions contract's views, as
 * it would on Moksha.
 */
import { createHash } from 'node:crypto';
import {
  BaseError,
  parseEventLogs,
  type Address,
  type Hash,
  type LocalAccount,
  type Log,
  type PublicClient,
} from 'viem';
import type { Logger } from 'pino';
import { InfrastructureError, VanaLoadError } from '../errors.ts';
import { type StepName } from '../flow.ts';
import { silentLogger } from '../logger.ts';
import { dataPortabilityGranteesAbi, dataPortabilityPermissionsAbi } from '../protocol/abis.ts';
import { eciesEncrypt } from '../protocol/ecies.ts';
import type { ServerFilesAndPermissionMessage } from '../protocol/eip712.ts';
import { deriveEncryptionKey } from '../protocol/encryptionKey.ts';
import { buildGrantFile, serializeGrantFile, type GrantFile } from '../protocol/grantFile.ts';
import { encryptWithPassword } from '../protocol/openpgp.ts';
import { FINAL_OPERATION_STATUSES, identityResponseSchema } from '../protocol/personalServerApi.ts';
import { signRelayRequest } from '../protocol/relayerRequest.ts';
import type { RelayedReceipt } from '../protocol/relayerResponse.ts';
import type { ReceiptWatcher } from '../chain/receiptWatcher.ts';
import type { StorageProvider } from '../storage/StorageProvider.ts';
import { httpJson } from './httpJson.ts';
import type { FlowInference } from './inference/flowInference.ts';
import type { FlowRelay, RelayMode, RelayOutcome } from './relay/flowRelay.ts';
import type { DataSize, FlowError, FlowResult } from '../flow.ts';
import { flowError, toFlowError } from './flowErrors.ts';
import { findLandedPermission } from './relay/landedPermission.ts';
import { sleepUnlessAborted, startDeadline } from '../util/deadlineSignal.ts';

export interface FlowTimeouts {
  /** One HTTP request. */
  httpMs: number;
  /** From relay answer to receipt. */
  confirmMs: number;
  /** From inference submit to a final status. */
  inferenceMs: number;
  /** The whole flow. */
  flowMs: number;
}

/** Runs `fn` for `step`, possibly again; reports retries through `onRetry`. The default runs it once. */
export type StepRetry = <T>(step: StepName, fn: () => Promise<T>, onRetry: () => void) => Promise<T>;

export interface VanaLoadTestClientParameters {
  chainId: number;
  publicClient: PublicClient;
  receiptWatcher: ReceiptWatcher;
  permissionsAddress: Address;
  granteeId: bigint;
  storage: StorageProvider;
  /** How the signed permission reaches the chain (api, keys, direct). */
  relay: FlowRelay;
  /** How the inference is requested (proxy, personal-server). */
  inference: FlowInference;
  /** Where the grant file goes; default: `storage`, as pretty-printed JSON like the original load test. */
  storeGrant?: (grant: GrantFile, ctx: { signal: AbortSignal }) => Promise<string>;
  timeouts?: Partial<FlowTimeouts>;
  /** Longest pause between inference polls; polling starts at 25 ms and backs off to it. */
  maxPollIntervalMs?: number;
  /** OpenPGP S2K iteration count byte; undefined = openpgp's default (what the real app uses). */
  s2kIterationCountByte?: number;
  retry?: StepRetry;
  logger?: Logger;
}

export interface FlowOptions {
  account: LocalAccount;
  flowId?: number;
  userIndex?: number;
  dataSize?: DataSize;
  /** Epoch ms the load model scheduled the flow at; e2e counts from here. Default: now. */
  scheduledAt?: number;
  phase?: string;
  signal?: AbortSignal;
  /** Called as each step ends (MS-02 prints them live). */
  onStep?: (step: StepName, ms: number, ok: boolean) => void;
}

export interface ContractAddresses {
  permissions: Address;
  dataRegistry: Address;
  servers: Address;
  grantees: Address;
  granteeAddress: Address;
}

const DEFAULT_TIMEOUTS: FlowTimeouts = { httpMs: 30_000, confirmMs: 120_000, inferenceMs: 180_000, flowMs: 600_000 };

const runOnce: StepRetry = (_step, fn) => fn();

/** The personal server's `sim` and `openai` results carry the sha256 of the plaintext they decrypted. */
interface InferenceResultFields {
  plaintext_sha256?: unknown;
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export class VanaLoadTestClient {
  readonly contracts: ContractAddresses;
  readonly chainId: number;
  readonly relayMode: RelayMode;
  private readonly params: VanaLoadTestClientParameters;
  private readonly timeouts: FlowTimeouts;
  private readonly retry: StepRetry;
  private readonly log: Logger;

  private constructor(params: VanaLoadTestClientParameters, contracts: ContractAddresses) {
    this.params = params;
    this.contracts = contracts;
    this.chainId = params.chainId;
    this.relayMode = params.relay.mode;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...params.timeouts };
    this.retry = params.retry ?? runOnce;
    this.log = (params.logger ?? silentLogger()).child({ module: 'client' });
  }

  /**
   * Reads the other contracts' addresses from the Permissions contract and the grantee's address
   * from the Grantees contract (once: `grantees(id)` grows with every permission). Fails with an
   * `InfrastructureError`-style `VanaLoadError` (code `CHAIN_UNREACHABLE` / `CONTRACTS_NOT_FOUND`).
   */
  static async create(params: VanaLoadTestClientParameters): Promise<VanaLoadTestClient> {
    const { publicClient: client, permissionsAddress: permissions } = params;
    let dataRegistry: Address, servers: Address, grantees: Address;
    try {
      const chainId = await client.getChainId();
      if (chainId !== params.chainId) {
        throw new VanaLoadError(`RPC serves chain ${chainId}, expected ${params.chainId}`, { code: 'WRONG_CHAIN' });
      }
      [dataRegistry, servers, grantees] = await Promise.all([
        client.readContract({ address: permissions, abi: dataPortabilityPermissionsAbi, functionName: 'dataRegistry' }),
        client.readContract({ address: permissions, abi: dataPortabilityPermissionsAbi, functionName: 'dataPortabilityServers' }),
        client.readContract({ address: permissions, abi: dataPortabilityPermissionsAbi, functionName: 'dataPortabilityGrantees' }),
      ]);
    } catch (err) {
      if (err instanceof VanaLoadError) throw err;
      throw new VanaLoadError(`could not read the Permissions contract at ${permissions}`, {
        code: 'CONTRACTS_NOT_FOUND',
        errorClass: 'network',
        metaMessages: [`cause: ${err instanceof BaseError ? err.shortMessage : String(err)}`],
        cause: err,
      });
    }
    const grantee = await client.readContract({ address: grantees, abi: dataPortabilityGranteesAbi, functionName: 'grantees', args: [params.granteeId] });
    const granteeAddress = (grantee as { granteeAddress: Address }).granteeAddress;
    if (!granteeAddress || /^0x0{40}$/.test(granteeAddress)) {
      throw new VanaLoadError(`grantee ${params.granteeId} is not registered in ${grantees}`, { code: 'GRANTEE_NOT_FOUND' });
    }
    return new VanaLoadTestClient(params, { permissions, dataRegistry, servers, grantees, granteeAddress });
  }

  /**
   * Runs one flow and never throws: a failure is a `FlowResult` with `success: false` and the
   * step, class and message of the error. `serverUrl` is the personal server's base URL.
   */
  async executeDataPortabilityFlow(userData: unknown, prompt: string, testId: string, serverUrl: string, options: FlowOptions): Promise<FlowResult> {
    const { account, flowId = 0, userIndex = 0, dataSize = 'small', phase } = options;
    const startedAt = Date.now();
    const scheduledAt = options.scheduledAt ?? startedAt;
    // Cleared when the flow ends: neither its timer nor a listener on the run's signal outlives it.
    const deadline = startDeadline(this.timeouts.flowMs, options.signal);
    const signal = deadline.signal;
    const steps: Partial<Record<StepName, number>> = {};
    // The plaintext and the encrypted file are dropped after their last step: the step closures
    // below keep every variable they name for the whole flow, and a flow spends most of its life
    // waiting for a block or an inference with nothing left to send.
    let plaintext: Uint8Array | undefined = new TextEncoder().encode(JSON.stringify(userData));
    let encrypted: Uint8Array | undefined;
    const plaintextSha256 = sha256Hex(plaintext);
    const result: FlowResult = {
      flowId,
      userIndex,
      userAddress: account.address,
      testId,
      dataSize,
      dataBytes: plaintext.byteLength,
      scheduledAt,
      startedAt,
      endedAt: startedAt,
      success: false,
      steps,
      e2eMs: 0,
      retries: 0,
      ...(phase !== undefined ? { phase } : {}),
    };
    const onRetry = (): void => {
      result.retries += 1;
    };

    const step = async <T>(name: StepName, fn: () => Promise<T>, retryable = true): Promise<T> => {
      const t0 = performance.now();
      try {
        if (signal.aborted) {
          throw deadline.timedOut()
            ? flowError(name, 'timeout', 'FLOW_TIMEOUT', `flow exceeded ${this.timeouts.flowMs} ms`)
            : flowError(name, 'other', 'ABORTED', 'flow aborted');
        }
        const value = await (retryable ? this.retry(name, fn, onRetry) : fn());
        steps[name] = performance.now() - t0;
        options.onStep?.(name, steps[name]!, true);
        return value;
      } catch (err) {
        steps[name] = performance.now() - t0;
        options.onStep?.(name, steps[name]!, false);
        throw Object.assign(new Error('step failed'), { flowError: toFlowError(err, name) });
      }
    };

    try {
      const key = await step(
        'encrypt',
        async () => {
          const key = await deriveEncryptionKey(account);
          encrypted = await encryptWithPassword(plaintext!, key, this.params.s2kIterationCountByte === undefined ? {} : { s2kIterationCountByte: this.params.s2kIterationCountByte });
          return key;
        },
        false,
      );
      plaintext = undefined;
      const tag = `${testId}_${flowId}_${account.address.slice(2, 10).toLowerCase()}`;
      const fileUrl = await step('upload_data', async () => (await this.params.storage.upload(encrypted!, `vana_loadtest_${tag}.bin`, { signal, step: 'upload_data' })).url);
      encrypted = undefined;
      const grantUrl = await step('upload_grant', async () => {
        const grant = buildGrantFile({ grantee: this.contracts.granteeAddress, prompt, responseFormat: 'json_object' });
        if (this.params.storeGrant) return await this.params.storeGrant(grant, { signal });
        return (await this.params.storage.upload(new TextEncoder().encode(serializeGrantFile(grant)), `vana_loadtest_${tag}_grant.json`, { signal, step: 'upload_grant', contentType: 'application/json' })).url;
      });
      const server = await step('identity', async () => {
        const body = await httpJson({ method: 'GET', url: `${serverUrl}/identity?address=${account.address}`, step: 'identity', timeoutMs: this.timeouts.httpMs, signal });
        // The SDK's normalization: `0x04…`, `0x` + 128 hex and bare 128 hex all become `0x04…`.
        const identity = identityResponseSchema.safeParse(body);
        if (!identity.success) {
          const issue = identity.error.issues[0];
          throw flowError('identity', 'other', 'BAD_IDENTITY', `identity response: ${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'invalid'}`);
        }
        return { address: identity.data.personal_server.address, publicKey: identity.data.personal_server.public_key };
      });
      const wrappedKey = await step('wrap_key', async () => eciesEncrypt(server.publicKey, key), false);
      const request = await step('sign', async () => {
        const nonce = await this.params.publicClient.readContract({
          address: this.contracts.permissions,
          abi: dataPortabilityPermissionsAbi,
          functionName: 'userNonce',
          args: [account.address],
        });
        const message: ServerFilesAndPermissionMessage = {
          nonce,
          granteeId: this.params.granteeId,
          grant: grantUrl,
          fileUrls: [fileUrl],
          schemaIds: [0n],
          serverAddress: server.address,
          serverUrl,
          serverPublicKey: server.publicKey,
          filePermissions: [[{ account: server.address, key: wrappedKey }]],
        };
        return await signRelayRequest({ account, chainId: this.chainId, permissionsAddress: this.contracts.permissions, message });
      });
      const relay = this.params.relay;
      // A relay that timed out may have submitted; only the api relay is asked again. If a repeat
      // fails, the first attempt may have landed all the same (src/client/relay/landedPermission.ts).
      let relayAttempts = 0;
      const landedEarlier = async (): Promise<Hash | undefined> =>
        relayAttempts > 1
          ? await findLandedPermission({ publicClient: this.params.publicClient, permissionsAddress: this.contracts.permissions, user: account.address, granteeId: this.params.granteeId, grant: grantUrl })
          : undefined;
      const outcome = await step(
        'relay',
        async (): Promise<RelayOutcome> => {
          relayAttempts++;
          try {
            return await relay.submit(request, { account, signal });
          } catch (err) {
            const hash = await landedEarlier();
            if (hash === undefined) throw err;
            return { kind: 'confirmed', hash };
          }
        },
        relay.retryable,
      );
      if (outcome.kind !== 'pending') result.txHash = outcome.hash;
      const permissionId = await step(
        'confirm',
        async () => {
          let hash: Hash;
          let relayed: RelayedReceipt | undefined;
          if (outcome.kind === 'pending') {
            ({ hash, receipt: relayed } = await relay.awaitOperation(outcome.operationId, { signal, timeoutMs: this.timeouts.confirmMs }));
            result.txHash = hash;
          } else {
            hash = outcome.hash;
            relayed = outcome.kind === 'confirmed' ? outcome.receipt : undefined;
          }
          // A relayer's receipt spares the wait; the chain is asked otherwise.
          let receipt = relayed ?? (await this.params.receiptWatcher.waitForReceipt(hash, { timeoutMs: this.timeouts.confirmMs, signal }));
          const landed = receipt.status === 'success' ? undefined : await landedEarlier();
          if (landed !== undefined) receipt = await this.params.receiptWatcher.waitForReceipt((result.txHash = landed), { timeoutMs: this.timeouts.confirmMs, signal });
          result.txBlock = Number(receipt.blockNumber);
          if (receipt.status !== 'success') throw flowError('confirm', 'revert', 'TX_REVERTED', `transaction ${hash} reverted in block ${receipt.blockNumber}`);
          const events = parseEventLogs({ abi: dataPortabilityPermissionsAbi, logs: receipt.logs as Log[], eventName: 'PermissionAdded' }).filter(
            (e) => e.address.toLowerCase() === this.contracts.permissions.toLowerCase(),
          );
          const added = events[0];
          if (!added) throw flowError('confirm', 'other', 'NO_PERMISSION_EVENT', `transaction ${hash} emitted no PermissionAdded`);
          return added.args.permissionId;
        },
        false,
      );
      result.permissionId = permissionId.toString();
      const operationId = await step('inference_submit', async () => this.params.inference.submit(permissionId, { signal }));
      result.operationId = operationId;
      const inference = await step('inference_wait', async () => this.waitForOperation(operationId, signal, onRetry), false);
      await step(
        'verify',
        async () => {
          let fields: InferenceResultFields;
          try {
            fields = JSON.parse(inference) as InferenceResultFields;
          } catch {
            throw flowError('verify', 'integrity', 'RESULT_NOT_JSON', 'the inference result is not JSON, so it proves nothing about the decrypted bytes');
          }
          const expected = plaintextSha256;
          if (fields.plaintext_sha256 !== expected) {
            throw flowError('verify', 'integrity', 'INTEGRITY_MISMATCH', `server decrypted bytes with sha256 ${String(fields.plaintext_sha256).slice(0, 16)}…, ours are ${expected.slice(0, 16)}…`);
          }
          result.result = { plaintextSha256: expected, excerpt: inference.slice(0, 160) };
        },
        false,
      );
      result.success = true;
    } catch (err) {
      const fe = (err as { flowError?: FlowError }).flowError ?? toFlowError(err, 'encrypt');
      // A flow cut off because the run's infrastructure went away is counted as that, not as the
      // abort or timeout its last request saw.
      const reason: unknown = signal.aborted ? signal.reason : undefined;
      result.error =
        reason instanceof InfrastructureError ? { step: fe.step, errorClass: 'infra', code: reason.code, message: reason.shortMessage.slice(0, 300) } : fe;
      this.log.debug({ flowId, error: result.error }, 'flow failed');
    } finally {
      deadline.clear();
    }
    result.endedAt = Date.now();
    result.e2eMs = result.endedAt - scheduledAt;
    return result;
  }

  /**
   * Polls until a final status (succeeded, failed, cancelled) or the inference deadline. A poll is
   * a read, so one that fails on the way (network, timeout, 5xx, 429) is asked again under the
   * run's retry policy; the operation's own `failed` status is final.
   */
  private async waitForOperation(operationId: string, signal: AbortSignal, onRetry: () => void): Promise<string> {
    const deadline = Date.now() + this.timeouts.inferenceMs;
    const maxPause = this.params.maxPollIntervalMs ?? 1_000;
    let pause = 25;
    for (;;) {
      const { status, result } = await this.retry('inference_wait', () => this.params.inference.poll(operationId, { signal }), onRetry);
      if (FINAL_OPERATION_STATUSES.has(status)) {
        if (status === 'succeeded') return result ?? '';
        // A failed operation is the server failing our request: counted with the 5xx class.
        const detail = (result ?? '').slice(0, 200);
        throw flowError('inference_wait', status === 'failed' ? 'http_5xx' : 'other', status === 'failed' ? 'OPERATION_FAILED' : 'OPERATION_CANCELLED', `operation ${operationId} ${status}${detail ? `: ${detail}` : ''}`);
      }
      if (Date.now() + pause > deadline) {
        throw flowError('inference_wait', 'timeout', 'INFERENCE_TIMEOUT', `operation ${operationId} still ${status} after ${this.timeouts.inferenceMs} ms`);
      }
      await sleepUnlessAborted(pause, signal, () => flowError('inference_wait', 'other', 'ABORTED', 'flow aborted while polling'));
      pause = Math.min(maxPause, Math.ceil(pause * 1.5));
    }
  }
}
