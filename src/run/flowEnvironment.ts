/**
 * Everything a flow needs, wired from the config: the chain client and receipt watcher, storage,
 * the API and personal-server URLs, the user wallets, and — for the local target — the stack
 * process (attached to, or spawned and owned). `close()` stops what was started here.
 */
import { createPublicClient, fallback, toHex, type Address, type LocalAccount, type PublicClient } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { Logger } from 'pino';
import { fundRelayers } from '../chain/fundRelayers.ts';
import { createReceiptWatcher, type ReceiptWatcher } from '../chain/receiptWatcher.ts';
import { createRelayerPool, type RelayerPool } from '../chain/relayerPool.ts';
import { createJsonRpc } from '../chain/jsonRpc.ts';
import { createRelayPreflight, RELAY_ERRORS_ABI } from '../chain/relayPreflight.ts';
import { privateKeyToNativeSigningAccount } from '../chain/nativeSigningAccount.ts';
import { dataPortabilityGranteesAbi, dataPortabilityPermissionsAbi } from '../protocol/abis.ts';
import { appAccount, deployerAccount, devAccount } from '../stack/devAccounts.ts';
import type { StackManifest } from '../stack/manifest.ts';
import { createPersonalServerInference } from '../client/inference/personalServerInference.ts';
import { createProxyInference } from '../client/inference/proxyInference.ts';
import type { FlowInference } from '../client/inference/flowInference.ts';
import { createApiRelay } from '../client/relay/apiRelay.ts';
import { createDirectRelay } from '../client/relay/directRelay.ts';
import type { FlowRelay } from '../client/relay/flowRelay.ts';
import { createKeysRelay } from '../client/relay/keysRelay.ts';
import type { VanaLoadConfig } from '../config/schema.ts';
import { ConfigError, InfrastructureError, VanaLoadError } from '../errors.ts';
import { silentLogger } from '../logger.ts';
import { ensureStack, watchStack, type StackHandle } from '../stack/ensureStack.ts';
import type { StackProcessOptions } from '../stack/stackProcess.ts';
import { stackOptionsFromConfig } from '../stack/stackOptionsFromConfig.ts';
import { createStorageProvider } from '../storage/createStorageProvider.ts';
import { createS3StorageProvider } from '../storage/s3StorageProvider.ts';
import type { StorageProvider } from '../storage/StorageProvider.ts';
import { createUserWallets, LOCAL_USERS_MNEMONIC, type UserWallets } from '../client/userWallets.ts';
import { VanaLoadTestClient, type StepRetry } from '../client/VanaLoadTestClient.ts';
import { rpcHttp } from '../chain/rpcTransport.ts';
import { urlOrigin } from '../util/urlOrigin.ts';

export interface FlowEnvironment {
  target: 'local' | 'remote';
  chainId: number;
  client: VanaLoadTestClient;
  publicClient: PublicClient;
  receiptWatcher: ReceiptWatcher;
  storage: StorageProvider;
  relay: FlowRelay;
  /** Relay mode `keys`: the harness's own relayer pool (its addresses and figures, for the chain timeline). */
  relayerPool: Pick<RelayerPool, 'addresses' | 'stats'> | undefined;
  inference: FlowInference;
  /** The app's API (/api/relay, /api/trusted-server), when the run uses one. */
  apiUrl: string | undefined;
  personalServerUrl: string;
  wallets: UserWallets;
  /** The local stack, when the target is local. */
  stack: StackHandle | undefined;
  /** Processes to sample besides the harness (the stack's node process and anvil), when known. */
  processes: Array<{ name: string; pid: number }>;
  /**
   * Aborted, with an `InfrastructureError` as its reason, when the run cannot go on: the relayer
   * keys ran dry or hit the spend cap, or the stack process this environment started exited.
   */
  fatal: AbortSignal;
  /**
   * Checks the local stack's processes now and returns the failure (aborting `fatal`) when one is
   * gone: a flow that just failed on the network may have met a dead stack before the watcher did.
   */
  confirmAlive(): InfrastructureError | undefined;
  /** Stops the receipt watcher, the relay and, if this environment started it, the stack. Safe to call twice. */
  close(): Promise<void>;
}

export interface OpenFlowEnvironmentParameters {
  config: VanaLoadConfig;
  logger?: Logger;
  retry?: StepRetry;
  /** Options for a stack this call spawns (ports are free ones unless set). */
  stackOptions?: StackProcessOptions;
  /** Attach to a running stack named by the manifest (default true). */
  attach?: boolean;
  /**
   * A local stack the caller started and stops, used instead of attaching to or spawning one; the
   * flows use the endpoints of its `manifest` (MS-06 puts fault proxies' URLs there). Its processes
   * are watched like a spawned stack's.
   */
  stack?: StackHandle;
  manifestPath?: string;
  /** OpenPGP S2K count byte for the user data; undefined = openpgp's default. */
  s2kIterationCountByte?: number;
}

/** Relayer keys of the harness on the local target when VANA_RELAYER_PRIVATE_KEYS is unset: dev accounts 200.., funded by the deployer. */
const LOCAL_HARNESS_RELAYERS = 4;
const LOCAL_HARNESS_RELAYER_OFFSET = 200;

/**
 * Wires a run: the chain client, storage, relay and inference modes of the config, and the local
 * stack (attached to or spawned) when the target is local. Throws a `ConfigError` (exit 2) for a
 * setting the target needs and an `InfrastructureError` (exit 3) when the target cannot be reached.
 *
 * @example
 * const env = await openFlowEnvironment({ config, logger });
 * try { await env.client.executeDataPortabilityFlow(...); } finally { await env.close(); }
 */
export async function openFlowEnvironment(params: OpenFlowEnvironmentParameters): Promise<FlowEnvironment> {
  const { config, logger = silentLogger() } = params;
  const fatal = new AbortController();
  const closers: Array<() => Promise<void> | void> = [];
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    for (const stop of closers.reverse()) await stop();
  };

  let stack: StackHandle | undefined;
  let target: TargetEndpoints;
  try {
    if (config.target.kind === 'local') {
      const onExit = (how: string): void => fatal.abort(new InfrastructureError(`the local stack process exited during the run (${how})`, { code: 'STACK_EXITED' }));
      // A stack the caller gave is the caller's to stop: closing stops only the watching.
      stack = params.stack
        ? watchStack({ ...params.stack, owned: false, stop: async () => {} }, onExit, 500)
        : await ensureStack({
            ...(params.attach === false ? { attach: false } : {}),
            ...(params.manifestPath ? { manifestPath: params.manifestPath } : {}),
            stack: { ...stackOptionsFromConfig(config), ...params.stackOptions },
            logger,
            onExit,
          });
      const owned = stack;
      closers.push(() => owned.stop());
      target = localEndpoints(config, stack.manifest, logger);
    } else {
      target = remoteEndpoints(config, logger);
    }
  } catch (err) {
    await close();
    throw err;
  }

  const transports = target.rpcUrls.map((url) => rpcHttp(url, { batch: { batchSize: 100, wait: 2 }, timeout: config.timeouts.httpMs, retryCount: 0 }));
  const publicClient = createPublicClient({ transport: transports.length === 1 ? transports[0]! : fallback(transports, { rank: false }) }) as PublicClient;
  const receiptWatcher = createReceiptWatcher({ client: publicClient, pollIntervalMs: config.target.kind === 'local' ? 50 : 500, logger });
  closers.push(() => receiptWatcher.stop());

  try {
    const granteeId = target.granteeId ?? (await granteeIdOf(publicClient, target.permissionsAddress, target.app!));
    const { relay, pool: relayerPool } = await openRelay(config, target, publicClient, fatal, logger);
    closers.push(() => relay.close());
    const apiRelay = target.relayerUrl ? createApiRelay({ url: target.relayerUrl, httpTimeoutMs: config.timeouts.httpMs }) : undefined;
    const inference =
      config.inference.mode === 'personal-server'
        ? createPersonalServerInference({ personalServerUrl: target.personalServerUrl, app: target.app!, httpTimeoutMs: config.timeouts.httpMs })
        : createProxyInference({ apiUrl: target.apiUrl!, chainId: target.chainId, httpTimeoutMs: config.timeouts.httpMs });
    const client = await VanaLoadTestClient.create({
      chainId: target.chainId,
      publicClient,
      receiptWatcher,
      permissionsAddress: target.permissionsAddress,
      granteeId,
      storage: target.storage,
      relay,
      inference,
      ...(config.storage.grantStorage === 'relayer' ? { storeGrant: (grant, ctx) => apiRelay!.storeGrantFile(grant, ctx) } : {}),
      timeouts: { httpMs: config.timeouts.httpMs, confirmMs: config.timeouts.confirmMs, inferenceMs: config.timeouts.inferenceMs, flowMs: config.timeouts.flowMs },
      maxPollIntervalMs: config.timeouts.pollIntervalMs,
      ...(params.s2kIterationCountByte !== undefined ? { s2kIterationCountByte: params.s2kIterationCountByte } : {}),
      ...(params.retry ? { retry: params.retry } : {}),
      logger,
    });
    if (stack) await checkHealth(stack.manifest.apiUrl, config.timeouts.httpMs);
    const processes = stack ? [{ name: 'stack', pid: stack.manifest.pids.stack }, { name: 'anvil', pid: stack.manifest.pids.anvil }] : [];
    return {
      target: config.target.kind,
      chainId: target.chainId,
      client,
      publicClient,
      receiptWatcher,
      storage: target.storage,
      relay,
      relayerPool,
      inference,
      apiUrl: target.apiUrl,
      personalServerUrl: target.personalServerUrl,
      wallets: target.wallets,
      stack,
      processes,
      fatal: fatal.signal,
      confirmAlive: () => {
        stack?.checkNow?.();
        return fatal.signal.aborted && fatal.signal.reason instanceof InfrastructureError ? fatal.signal.reason : undefined;
      },
      close,
    };
  } catch (err) {
    await close();
    if (err instanceof ConfigError || err instanceof InfrastructureError) throw err;
    const where = config.target.kind === 'remote' ? `RPC ${target.rpcUrls.map(urlOrigin).join(', ')}` : 'the local stack';
    throw new InfrastructureError(`cannot reach ${where}: ${err instanceof VanaLoadError ? err.shortMessage : err instanceof Error ? err.message.split('\n')[0] : String(err)}`, {
      code: 'TARGET_UNREACHABLE',
      cause: err,
    });
  }
}

/** Where the flow's requests go, and with which keys, once the target is known. */
interface TargetEndpoints {
  rpcUrls: readonly string[];
  chainId: number;
  permissionsAddress: Address;
  /** Undefined: look it up from the app key's address. */
  granteeId: bigint | undefined;
  apiUrl: string | undefined;
  /** The relayer endpoint (relay api, grant storage relayer). */
  relayerUrl: string | undefined;
  personalServerUrl: string;
  storage: StorageProvider;
  wallets: UserWallets;
  /** The app (grantee) key, when the run needs it. */
  app: LocalAccount | undefined;
  /** Relayer keys for relay mode keys; `fund` tops them up first (local chain only). */
  relayerKeys: { accounts: readonly LocalAccount[]; fund: ((logger: Logger) => Promise<unknown>) | undefined } | undefined;
}

function localEndpoints(config: VanaLoadConfig, m: StackManifest, logger: Logger): TargetEndpoints {
  const keys = config.wallets.relayerPrivateKeys;
  const accounts = (keys.length > 0 ? keys : Array.from({ length: LOCAL_HARNESS_RELAYERS }, (_, i) => toHex(devAccount(LOCAL_HARNESS_RELAYER_OFFSET + i).getHdKey().privateKey!))).map((key) =>
    privateKeyToNativeSigningAccount(key),
  );
  return {
    rpcUrls: [m.rpcUrl],
    chainId: m.chainId,
    permissionsAddress: m.contracts.dataPortabilityPermissions,
    granteeId: BigInt(m.granteeId),
    apiUrl: m.apiUrl,
    relayerUrl: config.relay.url ?? `${m.apiUrl}/api/relay`,
    personalServerUrl: m.personalServerUrl,
    storage: storageOfStack(config, m, logger),
    wallets: createUserWallets(config.wallets.mnemonic ?? LOCAL_USERS_MNEMONIC),
    app: config.wallets.appPrivateKey ? privateKeyToAccount(config.wallets.appPrivateKey) : appAccount(),
    relayerKeys: {
      accounts,
      // The dev keys are topped up by the local chain's deployer; keys the user gave are used as they are.
      fund:
        keys.length > 0
          ? undefined
          : (log) => fundRelayers({ rpcUrl: m.rpcUrl, chainId: m.chainId, funder: deployerAccount(), relayers: accounts.map((a) => a.address), logger: log }),
    },
  };
}

/** The provider for the stack's own storage: its storage service, or its local S3 server. */
function storageOfStack(config: VanaLoadConfig, m: StackManifest, logger: Logger): StorageProvider {
  if (m.s3) {
    const { endpoint, bucket, region, accessKeyId, secretAccessKey } = m.s3;
    return createS3StorageProvider({ endpoint, bucket, region, accessKeyId, secretAccessKey, presignExpiryMs: config.storage.s3PresignExpiryMs, timeoutMs: config.timeouts.httpMs, logger });
  }
  return createStorageProvider(config, logger, { storageUrl: m.storageUrl! });
}

function remoteEndpoints(config: VanaLoadConfig, logger: Logger): TargetEndpoints {
  // loadConfig checked that every setting the modes need is there (checkRequired).
  const apiUrl = config.services.apiUrl;
  return {
    rpcUrls: config.chain.rpcUrls,
    chainId: config.chain.chainId,
    permissionsAddress: config.contracts.permissionsAddress!,
    granteeId: config.contracts.granteeId,
    apiUrl,
    relayerUrl: config.relay.url ?? (apiUrl ? `${apiUrl}/api/relay` : undefined),
    personalServerUrl: config.services.personalServerUrl!,
    storage: createStorageProvider(config, logger),
    wallets: createUserWallets(config.wallets.mnemonic!),
    app: config.wallets.appPrivateKey ? privateKeyToAccount(config.wallets.appPrivateKey) : undefined,
    relayerKeys: config.wallets.relayerPrivateKeys.length > 0 ? { accounts: config.wallets.relayerPrivateKeys.map((key) => privateKeyToNativeSigningAccount(key)), fund: undefined } : undefined,
  };
}

async function openRelay(
  config: VanaLoadConfig,
  target: TargetEndpoints,
  publicClient: PublicClient,
  fatal: AbortController,
  logger: Logger,
): Promise<{ relay: FlowRelay; pool: RelayerPool | undefined }> {
  switch (config.relay.mode) {
    case 'api':
      return { relay: createApiRelay({ url: target.relayerUrl!, httpTimeoutMs: config.timeouts.httpMs }), pool: undefined };
    case 'direct':
      return { relay: createDirectRelay({ publicClient, permissionsAddress: target.permissionsAddress }), pool: undefined };
    case 'keys': {
      const keys = target.relayerKeys!;
      await keys.fund?.(logger);
      const pool = await createRelayerPool({
        rpcUrl: target.rpcUrls[0]!,
        chainId: target.chainId,
        accounts: keys.accounts,
        logger,
        gas: {
          ...(config.chain.maxFeePerGasWei !== undefined ? { maxFeePerGasCap: config.chain.maxFeePerGasWei } : {}),
          ...(config.chain.maxPriorityFeePerGasWei !== undefined ? { maxPriorityFeePerGasCap: config.chain.maxPriorityFeePerGasWei } : {}),
        },
        funds: { maxSpendWei: config.wallets.maxSpendWei, onExhausted: (error) => fatal.abort(error) },
      });
      const preflightRpc = createJsonRpc(target.rpcUrls[0]!, config.timeouts.httpMs);
      const preflight = createRelayPreflight({ rpc: preflightRpc, to: target.permissionsAddress, from: pool.addresses[0]!, abi: RELAY_ERRORS_ABI });
      const relay = createKeysRelay({ pool, permissionsAddress: target.permissionsAddress, preflight });
      const close = async (): Promise<void> => {
        await relay.close();
        preflightRpc.close();
      };
      return { relay: { ...relay, close }, pool };
    }
  }
}

/** The grantee id of the app key's address (`granteeAddressToId`), read through the Permissions contract's Grantees address. */
async function granteeIdOf(client: PublicClient, permissions: Address, app: LocalAccount): Promise<bigint> {
  const grantees = await client.readContract({ address: permissions, abi: dataPortabilityPermissionsAbi, functionName: 'dataPortabilityGrantees' });
  const id = await client.readContract({ address: grantees, abi: dataPortabilityGranteesAbi, functionName: 'granteeAddressToId', args: [app.address] });
  if (id === 0n) {
    throw new ConfigError(`VANA_APP_PRIVATE_KEY's address ${app.address} is not a registered grantee in ${grantees}; register it, or set VANA_GRANTEE_ID`, { code: 'GRANTEE_NOT_FOUND' });
  }
  return id;
}

async function checkHealth(apiUrl: string, timeoutMs: number): Promise<void> {
  let response: Response;
  try {
    response = await fetch(`${apiUrl}/health`, { signal: AbortSignal.timeout(Math.min(timeoutMs, 10_000)) });
  } catch (err) {
    throw new InfrastructureError(`API server ${urlOrigin(apiUrl)} is unreachable: ${(err as Error).message}`, { code: 'API_UNREACHABLE', cause: err });
  }
  if (!response.ok) throw new InfrastructureError(`API server ${urlOrigin(apiUrl)}/health answered ${response.status}`, { code: 'API_UNHEALTHY' });
}

export type { LocalAccount };
