/**
 * The engine behind index.cjs: one per Artillery worker (a worker thread locally, a container on
 * Fargate, a function on Lambda). It opens one FlowEnvironment when the worker constructs it,
 * runs one data-portability flow per virtual user with a wallet of its own (workerWallets.ts),
 * reports every flow as Artillery metrics (flowMetrics.ts), and closes the environment when the
 * worker's runner is done.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import type { Logger } from 'pino';
import { resolveEngineSettings, type EngineSettings } from './engineSettings.ts';
import { emitMetricEvent, flowMetricEvents, type ArtilleryEvents } from './flowMetrics.ts';
import {
  ARTILLERY_METRICS as M,
  createLogger,
  dataSizeFor,
  generateUserData,
  InfrastructureError,
  isStackHealthy,
  LOCAL_USERS_MNEMONIC,
  openFlowEnvironment,
  readManifest,
  seedFromString,
  withRetry,
  type FlowEnvironment,
  type FlowResult,
  type StepName,
  type StepRetry,
} from './harness.ts';
import { planOfPhases, type ArtilleryPhase } from './phasePlan.ts';
import { createWorkerWallets, type WorkerWallets } from './workerWallets.ts';

/** The part of Artillery's parsed script the engine reads. */
export interface ArtilleryScript {
  config: { vana?: unknown; phases?: readonly ArtilleryPhase[]; [key: string]: unknown };
}

/** The runner's event emitter: it emits `done` when the worker's last virtual user has finished. */
export interface RunnerEvents {
  once(event: 'done', listener: () => void): unknown;
}

export interface VanaEngine {
  /** Resolves once the environment is open; rejects with the reason it could not be. */
  ready: Promise<void>;
  /**
   * Runs one virtual user's flow, e2e counted from `arrivedAt` (epoch ms); resolves with its result
   * (a failed flow is a result too). The caller has emitted `started` and `vana.flows.started`.
   */
  runVirtualUser(events: ArtilleryEvents, arrivedAt: number): Promise<FlowResult>;
  /** Closes the environment (and stops the lag sampler). Safe to call twice. */
  close(): Promise<void>;
}

export interface CreateVanaEngineParameters {
  script: ArtilleryScript;
  runnerEvents?: RunnerEvents;
  /** Default: JSON lines on stderr at the config's log level. */
  logger?: Logger;
  /** Default: `resolveEngineSettings` of `script.config.vana`. */
  settings?: EngineSettings;
  /** Default: the mnemonic of the config, or the local stack's users. */
  wallets?: WorkerWallets;
}

/**
 * Creates the engine of one worker and starts opening its environment at once, so it is ready
 * (or has failed) before Artillery's coordinated start. Throws a `ConfigError` for bad settings.
 *
 * @example
 * const engine = createVanaEngine({ script, runnerEvents: ee });
 * await engine.ready;
 * const result = await engine.runVirtualUser(scenarioEvents);
 */
export function createVanaEngine({ script, runnerEvents, logger, settings: given, wallets: givenWallets }: CreateVanaEngineParameters): VanaEngine {
  const settings = given ?? resolveEngineSettings({ block: script.config.vana });
  const { config } = settings;
  logger ??= createLogger({ level: config.log.level });
  const wallets = givenWallets ?? createWorkerWallets({ mnemonic: config.wallets.mnemonic ?? LOCAL_USERS_MNEMONIC });
  const range = wallets.ranges()[0]!;
  const testId = `artillery-${range.account.toString(36)}-${range.base.toString(36)}`;
  const log = logger.child({ module: 'artillery-engine', worker: threadId, testId });
  log.info({ account: range.account, base: range.base }, 'worker wallets: m/44\'/60\'/{account}\'/0/{base + k}');

  // Set by the first virtual user: the scenario emitter where retries and the lag are reported.
  let events: ArtilleryEvents | undefined;
  const retry: StepRetry = (step, fn, onRetry) =>
    withRetry(() => fn(), {
      step,
      maxAttempts: config.retry.maxAttempts,
      baseDelayMs: config.retry.baseDelayMs,
      maxDelayMs: config.retry.maxDelayMs,
      onRetry: () => {
        onRetry();
        events?.emit('counter', `${M.retryPrefix}${step as StepName}`, 1);
      },
    });

  let env: FlowEnvironment | undefined;
  let readyAt: number | undefined;
  const ready = openEnvironment(settings, retry, log).then((opened) => {
    env = opened;
    readyAt = Date.now();
  });
  // Surfaced through `ready` and each virtual user; not an unhandled rejection meanwhile.
  ready.catch(() => {});

  const lag = monitorEventLoopDelay({ resolution: 10 });
  let lagTimer: NodeJS.Timeout | undefined;
  const startLagSampler = (ee: ArtilleryEvents): void => {
    lag.enable();
    lagTimer = setInterval(() => {
      if (lag.count > 0) ee.emit('histogram', M.eventLoopLagMs, lag.max / 1e6);
      lag.reset();
    }, 1_000);
    lagTimer.unref();
  };

  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    if (lagTimer) clearInterval(lagTimer);
    lag.disable();
    await ready.catch(() => {});
    await env?.close();
    log.info('environment closed');
  };
  runnerEvents?.once('done', () => void close().catch((err: unknown) => log.error({ err }, 'closing the environment failed')));

  let flowId = 0;
  let workerReported = false;
  const plan = planOfPhases(script.config.phases ?? []);

  return {
    ready,
    close,
    async runVirtualUser(ee, scheduledAt) {
      if (events === undefined) {
        events = ee;
        startLagSampler(ee);
        if (plan) {
          ee.emit('counter', M.planArrivals, plan.arrivals);
          ee.emit('histogram', M.planDurationMs, plan.durationMs);
        }
      }
      // Its e2e includes the rest of the worker's start: the report says how many did.
      if (readyAt === undefined || scheduledAt < readyAt) ee.emit('counter', M.startupWaits, 1);
      await ready;
      if (!workerReported) {
        workerReported = true;
        ee.emit('counter', `${M.workerPrefix}target_${config.target.kind}`, 1);
        ee.emit('counter', `${M.workerPrefix}chain_${env!.chainId}`, 1);
      }
      const wallet = wallets.next();
      const id = flowId++;
      const dataSize = dataSizeFor(id, config.data.size);
      const data = generateUserData(seedFromString(`${testId}:${id}`), dataSize);
      const result = await env!.client.executeDataPortabilityFlow(data, config.data.prompt, testId, env!.personalServerUrl, {
        account: wallet.account,
        flowId: id,
        userIndex: wallet.userIndex,
        dataSize,
        scheduledAt,
        signal: env!.fatal,
      });
      for (const event of flowMetricEvents(result)) emitMetricEvent(ee, event);
      return result;
    },
  };
}

/**
 * Opens the worker's environment. A local target must attach to a running stack through the
 * manifest: a stack per worker would give every worker its own chain.
 */
async function openEnvironment(settings: EngineSettings, retry: StepRetry, log: Logger): Promise<FlowEnvironment> {
  const { config, manifestPath } = settings;
  if (config.target.kind === 'local') {
    const manifest = await readManifest(manifestPath).catch(() => undefined);
    if (!manifest || !(await isStackHealthy(manifest, 5_000))) {
      throw new InfrastructureError(`No running local stack at ${manifestPath}: every Artillery worker attaches to one stack through its manifest`, {
        code: 'ARTILLERY_STACK_NOT_RUNNING',
        metaMessages: ['fix: start one first (npm run dev, or vana-load stack --manifest <path>) and point config.vana.manifest at its manifest'],
      });
    }
  }
  const env = await openFlowEnvironment({
    config,
    logger: log,
    retry,
    manifestPath,
    ...(config.data.s2kCountByte !== undefined ? { s2kIterationCountByte: config.data.s2kCountByte } : {}),
  });
  if (env.stack?.owned) {
    await env.close();
    throw new InfrastructureError(`The local stack at ${manifestPath} stopped answering while this Artillery worker attached to it`, { code: 'ARTILLERY_STACK_NOT_RUNNING' });
  }
  log.info({ chainId: env.chainId, apiUrl: env.apiUrl, relay: config.relay.mode, inference: config.inference.mode }, 'environment open');
  return env;
}
