import { parseEther, toHex, type Address, type Hex, type LocalAccount } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import type { Logger } from 'pino';
import { ConfigError } from '../errors.ts';
import { silentLogger } from '../logger.ts';
import { createLocalStorageProvider } from '../storage/localStorageProvider.ts';
import { createS3StorageProvider } from '../storage/s3StorageProvider.ts';
import type { StorageProvider } from '../storage/StorageProvider.ts';
import { startLocalChain } from './localChain.ts';
import { deployContracts, discoverContracts, registerGrantee } from './deployContracts.ts';
import { appAccount, deployerAccount, relayerAccount, LOCAL_SERVER_MNEMONIC } from './devAccounts.ts';
import { startS3Server } from '../servers/storage/s3Server.ts';
import { startStorageService } from '../servers/storage/storageService.ts';
import { startPersonalServer, type PersonalServer, type PersonalServerBackend } from '../servers/personalServer/startPersonalServer.ts';
import { createRelayerPool } from '../chain/relayerPool.ts';
import { privateKeyToNativeSigningAccount } from '../chain/nativeSigningAccount.ts';
import { fundRelayers } from '../chain/fundRelayers.ts';
import { startApiServer } from '../servers/api/apiServer.ts';
import type { StackManifest } from './manifest.ts';

export const DEFAULT_BLOCK_TIME_SECONDS = 0.2;

/** Anvil block gas limit of the local stack (gas units). */
export const DEFAULT_BLOCK_GAS_LIMIT = 100_000_000;

export interface LocalStackOptions {
  host?: string;
  /** 0 picks a free port. */
  anvilPort?: number;
  apiPort?: number;
  storagePort?: number;
  personalServerPort?: number;
  /**
   * Seconds between blocks (fractions allowed). Default 0.2: interval mining keeps many
   * pipelined relays from one relayer flowing, which anvil's automine does not always do (a tx
   * queued behind a nonce gap can wait for the next transaction). 0 = automine.
   */
  blockTime?: number;
  /**
   * Anvil's block gas limit. Default 100M: ~80 first flows of a user per block. Blocks more than
   * half full raise the base fee (EIP-1559), so long blocks at a high rate need twice
   * rate × block time × 1.26M gas (a user's first flow).
   */
  blockGasLimit?: number;
  /**
   * Let anvil compute every block's state root (a plain anvil: its cost per block grows with the
   * chain's storage, see src/stack/localChain.ts). Default false: the chain is a fork of an empty
   * anvil, whose blocks carry a zero state root and cost the same at the end of a run as at its start.
   */
  stateRoot?: boolean;
  relayerCount?: number;
  /**
   * Keys of the API server's relayers, as a deployment is given them (secrets). Default:
   * `relayerCount` dev accounts. Funded by the deployer up to 100 ETH each: local chain only.
   */
  relayerKeys?: readonly Hex[];
  /** The app (grantee) key. Default: dev account 1. Funded by the deployer when it needs gas. */
  appKey?: Hex;
  /** Chain id of the anvil chain. Default 31337; 14800 rehearses Moksha. */
  chainId?: number;
  /** Where files go: `local` (the storage service, default) or `s3` (a local S3-compatible server). */
  storage?: 'local' | 's3';
  /** How `/api/relay` answers: `submitted` (default) or `pending` + `status_check`. */
  relayResponse?: 'submitted' | 'pending';
  /**
   * Fork a real chain instead of starting an empty one: anvil `--fork-url`, the contracts already
   * deployed there (found from `forkPermissionsAddress`), our own BatchFunder added. Give
   * `chainId` the forked chain's id (14800 for Moksha).
   */
  forkUrl?: string;
  forkPermissionsAddress?: Address;
  maxUploadBytes?: number;
  backend?: PersonalServerBackend;
  personalServerRateLimit?: boolean;
  /**
   * How the stack's parts reach each other, when not directly: URLs of fault proxies in front of
   * anvil (`rpcUrl`: the personal server, the API server and its relayers), of the storage service
   * (`storageUrl`: the base of the file URLs it hands out, so the personal server downloads through
   * it) and of the personal server (`personalServerUrl`: the API server's calls). MS-06 sets them;
   * the proxies forward to the parts' fixed ports (`anvilPort`, `storagePort`, `personalServerPort`).
   */
  internalUrls?: { rpcUrl?: string; storageUrl?: string; personalServerUrl?: string };
  logger?: Logger;
  signal?: AbortSignal;
}

/** Process faults the harness may inject into a running stack (MS-06). */
export interface LocalStackControls {
  /** Stops the personal server: its listener closes and the operations it held are lost. */
  stopPersonalServer(): Promise<void>;
  /** Starts a stopped personal server again on the same port, with the same keys; a no-op when it runs. */
  startPersonalServer(): Promise<void>;
}

export interface LocalStack {
  manifest: StackManifest;
  controls: LocalStackControls;
  /** Stops every part in reverse start order; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts the whole local Vana stack in this process: anvil (child process), contracts, storage,
 * personal server and API server. Used by the stack process (`npm run dev` or one spawned by
 * `ensureStack`), never inside the harness. A failure part-way stops what already started.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const {
    host = '127.0.0.1',
    anvilPort = 0,
    apiPort = 0,
    storagePort = 0,
    personalServerPort = 0,
    blockTime = DEFAULT_BLOCK_TIME_SECONDS,
    blockGasLimit = DEFAULT_BLOCK_GAS_LIMIT,
    stateRoot = false,
    relayerCount = 4,
    relayerKeys,
    appKey,
    chainId = 31_337,
    storage: storageKind = 'local',
    relayResponse = 'submitted',
    forkUrl,
    forkPermissionsAddress,
    maxUploadBytes = 10 * 1_048_576,
    backend = { kind: 'sim', latency: { p50Ms: 0, p95Ms: 0 }, failureRate: 0 },
    personalServerRateLimit = false,
    internalUrls = {},
    logger = silentLogger(),
    signal,
  } = options;

  const stops: Array<() => Promise<void>> = [];
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const s of stops.reverse()) {
      try {
        await s();
      } catch (err) {
        logger.warn({ err }, 'stack part failed to stop cleanly');
      }
    }
  };

  try {
    const t0 = performance.now();
    if (!Number.isFinite(blockTime) || blockTime < 0) {
      throw new RangeError(`Expected blockTime >= 0 seconds (0 = automine), got ${blockTime}`);
    }
    if (forkUrl !== undefined && forkPermissionsAddress === undefined) {
      throw new ConfigError('A fork needs the Permissions contract of the forked chain: VANA_PERMISSIONS_ADDRESS (--permissions-address)', { code: 'CONFIG_MISSING' });
    }
    const anvil = await startLocalChain({
      host,
      port: anvilPort,
      chainId,
      gasLimit: BigInt(blockGasLimit),
      stateRoot,
      ...(blockTime > 0 ? { blockTime } : {}),
      // Forking reads the chain over the network: a slower start.
      ...(forkUrl !== undefined ? { forkUrl, startTimeoutMs: 120_000 } : {}),
      logger,
      ...(signal ? { signal } : {}),
    });
    stops.push(() => anvil.stop());
    signal?.throwIfAborted();

    const deployer = deployerAccount();
    const app: LocalAccount = appKey ? privateKeyToAccount(appKey) : appAccount();
    // Relayers sign natively (libsecp256k1): one signature per relayed tx is the pool's hot path.
    const relayers: LocalAccount[] = (relayerKeys ?? Array.from({ length: relayerCount }, (_, i) => toHex(relayerAccount(i).getHdKey().privateKey!))).map((key) =>
      privateKeyToNativeSigningAccount(key),
    );
    const contracts = forkPermissionsAddress !== undefined && forkUrl !== undefined
      ? await discoverContracts({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, permissions: forkPermissionsAddress, deployer, logger })
      : await deployContracts({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, deployer, logger });
    // The app pays for its own registration: a key given from outside starts without funds.
    await fundRelayers({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, funder: deployer, relayers: [app.address], balance: parseEther('1') });
    const granteeId = await registerGrantee({
      rpcUrl: anvil.rpcUrl,
      chainId: anvil.chainId,
      grantees: contracts.dataPortabilityGrantees,
      account: app,
    });
    await fundRelayers({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, funder: deployer, relayers: relayers.map((r) => r.address) });
    logger.info({ ms: Math.round(performance.now() - t0), contracts, blockTime }, 'chain ready');
    signal?.throwIfAborted();

    let files: { storageUrl: string } | { s3: { endpoint: string; bucket: string; region: string; accessKeyId: string; secretAccessKey: string } };
    let grantStorage: StorageProvider;
    if (storageKind === 's3') {
      const s3 = await startS3Server({ host, port: storagePort, bucket: 'vana-load', logger });
      stops.push(() => s3.stop());
      const { endpoint, bucket, region, accessKeyId, secretAccessKey } = s3;
      files = { s3: { endpoint, bucket, region, accessKeyId, secretAccessKey } };
      grantStorage = createS3StorageProvider({ endpoint, bucket, region, accessKeyId, secretAccessKey, presignExpiryMs: 3_600_000, timeoutMs: 30_000, logger });
    } else {
      const storage = await startStorageService({ host, port: storagePort, maxUploadBytes, ...(internalUrls.storageUrl !== undefined ? { publicBaseUrl: internalUrls.storageUrl } : {}), logger });
      stops.push(() => storage.stop());
      files = { storageUrl: storage.url };
      grantStorage = createLocalStorageProvider({ baseUrl: storage.url, timeoutMs: 30_000, logger });
    }

    const rpcUrl = internalUrls.rpcUrl ?? anvil.rpcUrl;
    const personalServerParams = {
      host,
      rpcUrl,
      permissionsAddress: contracts.dataPortabilityPermissions,
      serverMnemonic: LOCAL_SERVER_MNEMONIC,
      backend,
      maxFileBytes: Math.max(maxUploadBytes, 16 * 1_048_576),
      ...(personalServerRateLimit ? { rateLimit: { perIpPerMinute: 60, operationsPerHour: 100, identityPerMinute: 120 } } : {}),
      logger,
    };
    let personalServer: PersonalServer | undefined = await startPersonalServer({ ...personalServerParams, port: personalServerPort });
    // A restart (controls) binds the same port, so every URL handed out stays valid.
    const personalServerBoundPort = personalServer.port;
    const personalServerUrl = personalServer.url;
    stops.push(async () => {
      await personalServer?.stop();
    });
    const controls: LocalStackControls = {
      async stopPersonalServer() {
        const running = personalServer;
        personalServer = undefined;
        await running?.stop();
        logger.warn({ url: personalServerUrl }, 'personal server stopped (fault injected)');
      },
      async startPersonalServer() {
        if (personalServer !== undefined || stopped) return;
        personalServer = await startPersonalServer({ ...personalServerParams, port: personalServerBoundPort });
        logger.warn({ url: personalServerUrl }, 'personal server started again (fault ended)');
      },
    };

    const relayerPool = await createRelayerPool({ rpcUrl, chainId: anvil.chainId, accounts: relayers, logger });
    stops.push(() => relayerPool.stop());

    const api = await startApiServer({
      host,
      port: apiPort,
      chainId: anvil.chainId,
      rpcUrl,
      permissionsAddress: contracts.dataPortabilityPermissions,
      relayerPool,
      personalServerUrl: internalUrls.personalServerUrl ?? personalServerUrl,
      appAccount: app,
      relayResponse,
      grantStorage,
      logger,
    });
    stops.push(() => api.stop());

    const manifest: StackManifest = {
      version: 1,
      startedAt: new Date().toISOString(),
      chainId: anvil.chainId,
      rpcUrl: anvil.rpcUrl,
      apiUrl: api.url,
      relayResponse,
      ...files,
      personalServerUrl,
      granteeId: granteeId.toString(),
      contracts,
      pids: { stack: process.pid, anvil: anvil.pid, ...(anvil.upstreamPid !== undefined ? { anvilUpstream: anvil.upstreamPid } : {}) },
      accounts: { deployer: deployer.address, app: app.address, relayers: relayers.map((r) => r.address) },
    };
    logger.info({ ms: Math.round(performance.now() - t0) }, 'stack ready');
    return { manifest, controls, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

