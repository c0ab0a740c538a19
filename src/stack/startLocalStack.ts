import type { Logger } from 'pino';
import { silentLogger } from '../logger.ts';
import { startAnvil } from './anvil.ts';
import { deployContracts, registerGrantee } from './deployContracts.ts';
import { appAccount, deployerAccount, relayerAccount, LOCAL_SERVER_MNEMONIC } from './devAccounts.ts';
import { startStorageService } from './storageService.ts';
import { startPersonalServer, type PersonalServerBackend } from './personalServer/startPersonalServer.ts';
import { createRelayerPool } from '../chain/relayerPool.ts';
import { fundRelayers } from '../chain/fundRelayers.ts';
import { startApiServer } from './apiServer.ts';
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
  relayerCount?: number;
  maxUploadBytes?: number;
  backend?: PersonalServerBackend;
  personalServerRateLimit?: boolean;
  logger?: Logger;
  signal?: AbortSignal;
}

export interface LocalStack {
  manifest: StackManifest;
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
    relayerCount = 4,
    maxUploadBytes = 1_048_576,
    backend = { kind: 'sim', latency: { p50Ms: 0, p95Ms: 0 }, failureRate: 0 },
    personalServerRateLimit = false,
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
    const anvil = await startAnvil({ host, port: anvilPort, gasLimit: BigInt(blockGasLimit), ...(blockTime > 0 ? { blockTime } : {}), logger, ...(signal ? { signal } : {}) });
    stops.push(() => anvil.stop());
    signal?.throwIfAborted();

    const deployer = deployerAccount();
    const app = appAccount();
    const contracts = await deployContracts({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, deployer, logger });
    const granteeId = await registerGrantee({
      rpcUrl: anvil.rpcUrl,
      chainId: anvil.chainId,
      grantees: contracts.dataPortabilityGrantees,
      account: app,
    });
    const relayers = Array.from({ length: relayerCount }, (_, i) => relayerAccount(i));
    await fundRelayers({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, funder: deployer, relayers: relayers.map((r) => r.address) });
    logger.info({ ms: Math.round(performance.now() - t0), contracts, blockTime }, 'chain ready');
    signal?.throwIfAborted();

    const storage = await startStorageService({ host, port: storagePort, maxUploadBytes, logger });
    stops.push(() => storage.stop());

    const personalServer = await startPersonalServer({
      host,
      port: personalServerPort,
      rpcUrl: anvil.rpcUrl,
      permissionsAddress: contracts.dataPortabilityPermissions,
      serverMnemonic: LOCAL_SERVER_MNEMONIC,
      backend,
      ...(personalServerRateLimit ? { rateLimit: { perIpPerMinute: 60, operationsPerHour: 100, identityPerMinute: 120 } } : {}),
      logger,
    });
    stops.push(() => personalServer.stop());

    const relayerPool = await createRelayerPool({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, accounts: relayers, logger });
    stops.push(() => relayerPool.stop());

    const api = await startApiServer({
      host,
      port: apiPort,
      chainId: anvil.chainId,
      rpcUrl: anvil.rpcUrl,
      permissionsAddress: contracts.dataPortabilityPermissions,
      relayerPool,
      personalServerUrl: personalServer.url,
      appAccount: app,
      logger,
    });
    stops.push(() => api.stop());

    const manifest: StackManifest = {
      version: 1,
      startedAt: new Date().toISOString(),
      chainId: anvil.chainId,
      rpcUrl: anvil.rpcUrl,
      apiUrl: api.url,
      storageUrl: storage.url,
      personalServerUrl: personalServer.url,
      granteeId: granteeId.toString(),
      contracts,
      pids: { stack: process.pid, anvil: anvil.pid },
      devAccounts: { deployer: deployer.address, app: app.address, relayers: relayers.map((r) => r.address) },
    };
    logger.info({ ms: Math.round(performance.now() - t0) }, 'stack ready');
    return { manifest, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

