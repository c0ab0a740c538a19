/**
 * Everything a flow needs, wired from the config: the chain client and receipt watcher, storage,
 * the API and personal-server URLs, the user wallets, and — for the local target — the stack
 * process (attached to, or spawned and owned). `close()` stops what was started here.
 */
import { createPublicClient, fallback, type Address, type LocalAccount, type PublicClient } from 'viem';
import type { Logger } from 'pino';
import { createReceiptWatcher, type ReceiptWatcher } from '../chain/receiptWatcher.ts';
import type { VanaLoadConfig } from '../config/schema.ts';
import { ConfigError, InfrastructureError, VanaLoadError } from '../errors.ts';
import { silentLogger } from '../logger.ts';
import { ensureStack, type StackHandle } from '../stack/ensureStack.ts';
import type { StackProcessOptions } from '../stack/stackProcess.ts';
import { createLocalStorageProvider } from '../storage/localStorageProvider.ts';
import type { StorageProvider } from '../storage/StorageProvider.ts';
import { createUserWallets, LOCAL_USERS_MNEMONIC, type UserWallets } from './userWallets.ts';
import { VanaLoadTestClient, type StepRetry } from './VanaLoadTestClient.ts';
import { rpcHttp } from '../chain/stateRaceRetry.ts';

export interface FlowEnvironment {
  target: 'local' | 'remote';
  chainId: number;
  client: VanaLoadTestClient;
  publicClient: PublicClient;
  receiptWatcher: ReceiptWatcher;
  storage: StorageProvider;
  apiUrl: string;
  personalServerUrl: string;
  wallets: UserWallets;
  /** The local stack, when the target is local. */
  stack: StackHandle | undefined;
  /** Processes to sample besides the harness (the stack's node process and anvil), when known. */
  processes: Array<{ name: string; pid: number }>;
  /** Stops the receipt watcher and, if this environment started it, the stack. Safe to call twice. */
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
  manifestPath?: string;
  /** OpenPGP S2K count byte for the user data; undefined = openpgp's default. */
  s2kIterationCountByte?: number;
}

/** Stack process options taken from the config's `stack.*` and `chain.blockTimeSeconds`. */
export function stackOptionsFromConfig(config: VanaLoadConfig): StackProcessOptions {
  const s = config.stack;
  return {
    blockTime: config.chain.blockTimeSeconds,
    blockGasLimit: s.blockGasLimit,
    relayerCount: s.relayerCount,
    maxUploadBytes: s.maxUploadBytes,
    personalServerRateLimit: s.rateLimit,
    backend:
      s.inferenceBackend === 'openai'
        ? { kind: 'openai', baseUrl: s.openaiBaseUrl, model: s.openaiModel, ...(s.openaiApiKey ? { apiKey: s.openaiApiKey } : {}) }
        : {
            kind: 'sim',
            latency: { p50Ms: s.simLatencyP50Ms, p95Ms: s.simLatencyP95Ms },
            failureRate: s.simFailureRate,
            rateLimited429Rate: s.sim429Rate,
            // --seed seeds the simulated latencies and errors of a stack this run spawns.
            ...(config.load.seed !== undefined ? { seed: config.load.seed } : {}),
          },
  } as StackProcessOptions;
}

export async function openFlowEnvironment(params: OpenFlowEnvironmentParameters): Promise<FlowEnvironment> {
  const { config, logger = silentLogger() } = params;
  let stack: StackHandle | undefined;
  let rpcUrls: readonly string[];
  let chainId: number;
  let permissionsAddress: Address;
  let granteeId: bigint;
  let apiUrl: string;
  let personalServerUrl: string;
  let storage: StorageProvider;
  let wallets: UserWallets;

  if (config.target.kind === 'local') {
    stack = await ensureStack({
      ...(params.attach === false ? { attach: false } : {}),
      ...(params.manifestPath ? { manifestPath: params.manifestPath } : {}),
      stack: { ...stackOptionsFromConfig(config), ...params.stackOptions },
      logger,
    });
    const m = stack.manifest;
    rpcUrls = [m.rpcUrl];
    chainId = m.chainId;
    permissionsAddress = m.contracts.dataPortabilityPermissions;
    granteeId = BigInt(m.granteeId);
    apiUrl = m.apiUrl;
    personalServerUrl = m.personalServerUrl;
    storage = createLocalStorageProvider({ baseUrl: m.storageUrl, timeoutMs: config.timeouts.httpMs, logger });
    wallets = createUserWallets(config.wallets.mnemonic ?? LOCAL_USERS_MNEMONIC);
  } else {
    const missing = [
      config.chain.rpcUrls.length === 0 ? 'VANA_RPC_URLS' : undefined,
      config.contracts.permissionsAddress ? undefined : 'VANA_PERMISSIONS_ADDRESS',
      config.contracts.granteeId === undefined ? 'VANA_GRANTEE_ID' : undefined,
      config.services.personalServerUrl ? undefined : 'VANA_PERSONAL_SERVER_URL',
      config.storage.provider === 'local' && !config.storage.url ? 'VANA_STORAGE_URL' : undefined,
      config.wallets.mnemonic ? undefined : 'VANA_MNEMONIC',
    ].filter((v): v is string => v !== undefined);
    if (missing.length > 0) {
      throw new ConfigError(`--target remote needs ${missing.join(', ')} (set them in .env; see .env.example)`, { code: 'REMOTE_CONFIG_MISSING' });
    }
    if (config.storage.provider === 's3') {
      throw new ConfigError('storage provider s3 is not available in this version; use VANA_STORAGE_PROVIDER=local with VANA_STORAGE_URL', { code: 'STORAGE_PROVIDER_UNAVAILABLE' });
    }
    rpcUrls = config.chain.rpcUrls;
    chainId = config.chain.chainId;
    permissionsAddress = config.contracts.permissionsAddress!;
    granteeId = config.contracts.granteeId!;
    apiUrl = config.services.apiUrl;
    personalServerUrl = config.services.personalServerUrl!;
    storage = createLocalStorageProvider({ baseUrl: config.storage.url!, timeoutMs: config.timeouts.httpMs, logger });
    wallets = createUserWallets(config.wallets.mnemonic!);
  }

  const transports = rpcUrls.map((url) => rpcHttp(url, { batch: { batchSize: 100, wait: 2 }, timeout: config.timeouts.httpMs, retryCount: 0 }));
  const publicClient = createPublicClient({ transport: transports.length === 1 ? transports[0]! : fallback(transports, { rank: false }) }) as PublicClient;
  const receiptWatcher = createReceiptWatcher({ client: publicClient, pollIntervalMs: config.target.kind === 'local' ? 50 : 500, logger });

  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    receiptWatcher.stop();
    await stack?.stop();
  };

  try {
    const client = await VanaLoadTestClient.create({
      chainId,
      publicClient,
      receiptWatcher,
      permissionsAddress,
      granteeId,
      apiUrl,
      storage,
      txMode: config.chain.txMode,
      timeouts: { httpMs: config.timeouts.httpMs, confirmMs: config.timeouts.confirmMs, inferenceMs: config.timeouts.inferenceMs, flowMs: config.timeouts.flowMs },
      maxPollIntervalMs: config.timeouts.pollIntervalMs,
      ...(params.s2kIterationCountByte !== undefined ? { s2kIterationCountByte: params.s2kIterationCountByte } : {}),
      ...(params.retry ? { retry: params.retry } : {}),
      logger,
    });
    await checkHealth(apiUrl, config.timeouts.httpMs);
    const processes = stack ? [{ name: 'stack', pid: stack.manifest.pids.stack }, { name: 'anvil', pid: stack.manifest.pids.anvil }] : [];
    return { target: config.target.kind, chainId, client, publicClient, receiptWatcher, storage, apiUrl, personalServerUrl, wallets, stack, processes, close };
  } catch (err) {
    await close();
    if (err instanceof ConfigError || err instanceof InfrastructureError) throw err;
    const where = config.target.kind === 'remote' ? `RPC ${rpcUrls.map(redact).join(', ')}` : 'the local stack';
    throw new InfrastructureError(`cannot reach ${where}: ${err instanceof VanaLoadError ? err.shortMessage : err instanceof Error ? err.message.split('\n')[0] : String(err)}`, {
      code: 'TARGET_UNREACHABLE',
      cause: err,
    });
  }
}

/** Host and path only: RPC URLs often carry an API key in the path or query. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '<bad url>';
  }
}

async function checkHealth(apiUrl: string, timeoutMs: number): Promise<void> {
  let response: Response;
  try {
    response = await fetch(`${apiUrl}/health`, { signal: AbortSignal.timeout(Math.min(timeoutMs, 10_000)) });
  } catch (err) {
    throw new InfrastructureError(`API server ${redact(apiUrl)} is unreachable: ${(err as Error).message}`, { code: 'API_UNREACHABLE', cause: err });
  }
  if (!response.ok) throw new InfrastructureError(`API server ${redact(apiUrl)}/health answered ${response.status}`, { code: 'API_UNHEALTHY' });
}

export type { LocalAccount };
