/**
 * MS-06 on the local target: a private stack with fault proxies on both sides of each boundary the
 * scenario breaks. The parts' ports are picked first, the proxies start in front of them
 * (unarmed), and the stack starts with its parts calling each other through the proxies
 * (`internalUrls`); the handle given to the runner names the proxies as the stack's endpoints, so
 * the harness's own requests cross them too. Process faults get the stack's controls and anvil's.
 */
import type { Address } from 'viem';
import type { VanaLoadConfig } from '../../config/schema.ts';
import { createAnvilControls, type AnvilControls } from '../../faults/createAnvilControls.ts';
import type { Scenario } from '../../faults/scenario.ts';
import { startBoundaryProxies, type BoundaryProxies } from '../../faults/startBoundaryProxies.ts';
import { startProcessFaults, type ProcessFaults } from '../../faults/startProcessFaults.ts';
import type { Logger } from '../../logger.ts';
import { ensureStack, type StackHandle } from '../../stack/ensureStack.ts';
import type { StackManifest } from '../../stack/manifest.ts';
import type { StackProcessOptions } from '../../stack/stackProcess.ts';
import { stackOptionsFromConfig } from '../../stack/stackOptionsFromConfig.ts';
import { freePort } from '../../util/freePort.ts';

export interface FaultStack {
  /** For the runner: the stack as the harness sees it, its endpoints the proxies' where a boundary is proxied. */
  stack: StackHandle;
  /** The stack's own endpoints. */
  manifest: StackManifest;
  proxies: BoundaryProxies;
  processFaults: ProcessFaults;
  /** Stops the process faults (undoing them), the stack, then the proxies. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartFaultStackParameters {
  scenario: Scenario;
  config: Readonly<VanaLoadConfig>;
  /** The stack process's log file. */
  logFile: string;
  logger: Logger;
}

const HOST = '127.0.0.1';

/**
 * Throws an `InfrastructureError` (exit 3) when the stack does not start; whatever started is stopped.
 *
 * @example
 * const faults = await startFaultStack({ scenario, config, logFile, logger });
 * try { await runLoadTest({ …, stack: faults.stack, reporters: [{ onLaunch: () => { faults.proxies.arm(); faults.processFaults.arm(); } }] }); }
 * finally { await faults.stop(); }
 */
export async function startFaultStack({ scenario, config, logFile, logger }: StartFaultStackParameters): Promise<FaultStack> {
  const ports = { anvil: await freePort(HOST), api: await freePort(HOST), storage: await freePort(HOST), personalServer: await freePort(HOST) };
  const direct = (port: number): string => `http://${HOST}:${port}`;
  const proxies = await startBoundaryProxies({
    scenario,
    targets: { rpc: [direct(ports.anvil)], api: [direct(ports.api)], storage: [direct(ports.storage)], personal_server: [direct(ports.personalServer)] },
    logger,
  });
  const via = (boundary: 'rpc' | 'storage' | 'personal_server'): string | undefined => proxies.urls[boundary]?.[0];
  let handle: StackHandle | undefined;
  let chain: AnvilControls | undefined;
  try {
    const options: StackProcessOptions = {
      ...stackOptionsFromConfig(config),
      host: HOST,
      anvilPort: ports.anvil,
      apiPort: ports.api,
      storagePort: ports.storage,
      personalServerPort: ports.personalServer,
      internalUrls: {
        ...(via('rpc') !== undefined ? { rpcUrl: via('rpc') } : {}),
        ...(via('storage') !== undefined ? { storageUrl: via('storage') } : {}),
        ...(via('personal_server') !== undefined ? { personalServerUrl: via('personal_server') } : {}),
      },
      logFile,
      logLevel: config.log.level === 'debug' || config.log.level === 'trace' ? config.log.level : 'info',
    };
    handle = await ensureStack({ attach: false, stack: options, logger });
    const manifest = handle.manifest;
    const seen: StackManifest = {
      ...manifest,
      rpcUrl: via('rpc') ?? manifest.rpcUrl,
      apiUrl: proxies.urls.api?.[0] ?? manifest.apiUrl,
      ...(manifest.storageUrl !== undefined ? { storageUrl: via('storage') ?? manifest.storageUrl } : {}),
      personalServerUrl: via('personal_server') ?? manifest.personalServerUrl,
    };
    chain = scenario.processFaults.some((f) => f.kind !== 'personal_server_restart')
      ? createAnvilControls({ rpcUrl: manifest.rpcUrl, blockTimeSeconds: config.chain.blockTimeSeconds, logger })
      : undefined;
    const processFaults = startProcessFaults({
      faults: scenario.processFaults,
      stack: handle.controls,
      chain,
      relayers: manifest.accounts.relayers as readonly Address[],
      logger,
    });
    const started = handle;
    const controls = chain;
    let stopping: Promise<void> | undefined;
    return {
      stack: { ...started, manifest: seen },
      manifest,
      proxies,
      processFaults,
      stop() {
        stopping ??= (async () => {
          await processFaults.stop();
          controls?.close();
          await started.stop();
          await proxies.stop();
        })();
        return stopping;
      },
    };
  } catch (err) {
    chain?.close();
    await handle?.stop();
    await proxies.stop();
    throw err;
  }
}
