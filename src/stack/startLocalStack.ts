import type { Logger } from 'pino';
import { silentLogger } from '../logger.ts';
import { startAnvil } from './anvil.ts';
import { deployContracts, registerGrantee } from './deployContracts.ts';
import { appAccount, deployerAccount, relayerAccount, LOCAL_SERVER_MNEMONIC } from './devAccounts.ts';
import { startStorageService } from './storageService.ts';
import { startPersonalServer, type PersonalServerBackend } from './personalServer/startPersonalServer.ts';
import { createRelayerPool, fundRelayers } from './relayerPool.ts';
import { startApiServer } from './apiServer.ts';
import type { StackManifest } from './manifest.ts';

export interface LocalStackOptions {
  host?: string;
  /** 0 picks a free port. */
  anvilPort?: number;
  apiPort?: number;
  storagePort?: number;
  personalServerPort?: number;
  /**
   * Whole seconds between blocks once the contracts are deployed (deployment itself automines,
   * so start-up stays fast). Default 1, like a real chain; 0 = automine, one block per
   * transaction, which stalls under concurrent relays and is only meant for unit tests.
   */
  blockTime?: number;
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
    blockTime = 1,
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
    if (!Number.isInteger(blockTime) || blockTime < 0) {
      throw new RangeError(`Expected blockTime to be a whole number of seconds >= 0, got ${blockTime}`);
    }
    const anvil = await startAnvil({ host, port: anvilPort, logger, ...(signal ? { signal } : {}) });
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
    if (blockTime > 0) await setIntervalMining(anvil.rpcUrl, blockTime);
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

async function setIntervalMining(rpcUrl: string, seconds: number): Promise<void> {
  const response = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'evm_setIntervalMining', params: [seconds] }),
  });
  const body = (await response.json()) as { error?: { message: string } };
  if (body.error) throw new Error(`anvil refused evm_setIntervalMining(${seconds}): ${body.error.message}`);
}
