/**
 * The shared runner behind MS-03, MS-04 and MS-05 (ARCHITECTURE.md 7): the milestone scripts only
 * parse their flags into a load model and call `runLoadTest`, which
 *
 * 1. parses the thresholds first, so a typo fails (exit 2) before anything starts;
 * 2. opens `results/<run-id>/` and sends `run.log` there;
 * 3. starts or attaches to the stack (`openFlowEnvironment`), with retries and a circuit breaker
 *    around the client, and in direct mode a background funding worker;
 * 4. runs the load model, appending every finished flow to `flows.jsonl` and every 1 s sample to
 *    `timeseries.jsonl`, feeding the live view and the optional Prometheus exporter;
 * 5. on Ctrl-C stops starting flows, lets the ones in flight finish within the shutdown grace
 *    (a second Ctrl-C aborts them at once), and still writes everything below;
 * 6. writes `summary.json` (with the threshold verdicts) and `report.html`, prints the final
 *    report, stops the stack if it started it, and returns the exit code.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import type { LocalAccount } from 'viem';
import { localChainAdvice } from '../stack/chainAdvice.ts';
import { followSignals } from '../util/deadlineSignal.ts';
import { watchInterruption } from './interruption.ts';
import { createSeededRandom } from '../util/seededRandom.ts';
import { openFlowEnvironment, type FlowEnvironment } from './flowEnvironment.ts';
import { LOCAL_USERS_MNEMONIC } from '../client/userWallets.ts';
import { dataSizeFor, flowDataSeed, generateUserData } from '../client/syntheticData.ts';
import { seedFromString } from '../util/seededRandom.ts';
import type { FlowResult } from '../flow.ts';
import type { StepRetry } from '../client/VanaLoadTestClient.ts';
import { configForDisplay } from '../config/configForDisplay.ts';
import type { VanaLoadConfig } from '../config/schema.ts';
import { ConfigError, InfrastructureError } from '../errors.ts';
import { type StepName } from '../flow.ts';
import { EXIT_CODES } from '../exitCodes.ts';
import { createCircuitBreaker, type CircuitBreaker } from '../load/circuitBreaker.ts';
import { withRetry } from '../util/retry.ts';
import { startLoadRun } from '../load/runLoadModel.ts';
import type { FlowTask, LoadModel, LoadRunStats } from '../load/types.ts';
import { validateLoadModel } from '../load/validateLoadModel.ts';
import { createLogger, type Logger } from '../logger.ts';
import { createMetricsCollector } from '../metrics/collector.ts';
import { LatencyHistogram } from '../metrics/latencyHistogram.ts';
import { createResultsWriter, makeRunId, RESULT_FILES } from '../metrics/resultsWriter.ts';
import { startSampler } from '../metrics/sampler.ts';
import { buildSummary } from '../metrics/summary.ts';
import {
  evaluateThresholds,
  mergeThresholds,
  MILESTONE_THRESHOLDS,
  parseThresholds,
  type MilestoneId,
  type Threshold,
} from '../metrics/thresholds.ts';
import type { RunSummary, TimeseriesSample } from '../metrics/types.ts';
import { writeHtmlReport } from '../report/html.ts';
import type { PrometheusExporter } from '../report/prometheus.ts';
import { createLiveView, formatFlowLine, formatFinalReport, shouldUseColor, type OutputStream } from '../report/terminal.ts';
import { deployerAccount } from '../stack/devAccounts.ts';
import { createHdWallets } from '../wallets/hdWallets.ts';
import { startFundingWorker, type FundingWorker } from '../wallets/fundingWorker.ts';
import { privateKeyToAccount } from 'viem/accounts';

/** Exit code of a run stopped by Ctrl-C (128 + SIGINT), whatever its figures; SIGTERM gives 143 (interruption.ts). */
export const EXIT_INTERRUPTED = 130;

export interface FundingPoolOptions {
  /** Funded wallets kept ready ahead of arrivals. */
  poolSize: number;
  /** Funding transactions in flight at once. */
  workers: number;
  /** Wallets per funding transaction. */
  batchSize?: number;
  /** Most wallets funded over the run (its planned flows), so none is paid for and left unused. */
  maxWallets?: number;
}

export interface RunLoadTestParameters {
  /** Selects the default thresholds; null = none but the flags'. */
  milestone: MilestoneId | null;
  /** First line of the output, e.g. `Milestone 3: Multi-User Validation`. */
  title: string;
  config: Readonly<VanaLoadConfig>;
  model: LoadModel;
  /** `--threshold` expressions: add to or override the milestone's defaults. */
  thresholds?: readonly string[];
  /** Print one line per finished flow (small closed runs, as in the MS-03 seed). */
  flowLines?: boolean;
  /** Direct mode only: background funding of user wallets (MS-05). Defaults apply when unset. */
  funding?: FundingPoolOptions;
  /** Lines printed under the title before the stack starts (what the milestone is about to do). */
  intro?: readonly string[];
  stdout?: OutputStream;
  /**
   * Local target: the manifest of a running stack to attach to (default `.vana-load/stack.json`,
   * the `npm run dev` stack). Lets a caller run several load tests on one stack it started itself.
   */
  manifestPath?: string;
  /** Signals that stop the run gracefully. Default SIGINT and SIGTERM; [] for none (tests). */
  signals?: readonly NodeJS.Signals[];
  /** Told as each step of each flow ends (MS-02 prints its single flow step by step). */
  onStep?: (step: StepName, ms: number, ok: boolean) => void;
  /** Told as each flow ends, after it was recorded (MS-02 prints the flow's details). */
  onFlowFinished?: (result: FlowResult) => void;
}

export interface RunLoadTestResult {
  exitCode: number;
  summary: RunSummary;
  /** `results/<run-id>`. */
  dir: string;
  stats: LoadRunStats;
}


const DEFAULT_FUNDING: FundingPoolOptions = { poolSize: 100, workers: 2, batchSize: 50 };

function describeModel(model: LoadModel): string {
  switch (model.kind) {
    case 'closed':
      return `closed · ${model.users} users × ${model.iterations === 0 ? `flows for ${model.durationMs! / 1000}s` : `${model.iterations ?? 1} flow(s)`}`;
    case 'phased':
      return `phased · ${model.phases.map((p) => `${p.name} ${p.from}→${p.to} ${p.unit === 'rate' ? '/s' : 'users'} ${p.durationMs / 1000}s`).join(', ')}`;
    case 'batched':
      return `batched · ${model.users} users in batches of ${model.batchSize}, ${model.delayMs} ms apart`;
    case 'poisson':
      return `poisson · ${model.rate}/s${model.users !== undefined ? ` · ${model.users} users` : ''}${model.durationMs !== undefined ? ` · ≤ ${model.durationMs / 1000}s` : ''} · max in flight ${model.maxInFlight}`;
  }
}

/** Flows the model will start at most, for the eta; undefined when only a duration bounds it. */
function plannedFlows(model: LoadModel): number | undefined {
  switch (model.kind) {
    case 'closed':
      return model.iterations === 0 ? undefined : model.users * (model.iterations ?? 1);
    case 'batched':
      return model.users;
    case 'poisson':
      return model.users;
    case 'phased':
      return model.totalUsers;
  }
}

/** Highest arrival rate of an open model, flows/s; undefined for closed and batched models. */
function peakArrivalRate(model: LoadModel): number | undefined {
  if (model.kind === 'poisson') return model.rate;
  if (model.kind === 'phased') {
    const rates = model.phases.filter((p) => p.unit === 'rate').flatMap((p) => [p.from, p.to]);
    return rates.length > 0 ? Math.max(...rates) : undefined;
  }
  return undefined;
}

function plannedDurationS(model: LoadModel): number | undefined {
  if (model.kind === 'phased') return model.phases.reduce((sum, p) => sum + p.durationMs, 0) / 1000;
  if (model.kind === 'poisson' && model.users === undefined && model.durationMs !== undefined) return model.durationMs / 1000;
  if (model.kind === 'closed' && model.iterations === 0 && model.durationMs !== undefined) return model.durationMs / 1000;
  return undefined;
}

/**
 * Runs one load test and returns its exit code (0 pass, 1 a threshold failed, 3 its infrastructure
 * failed, 128 + signal when interrupted: 130 Ctrl-C, 143 SIGTERM).
 * Throws a `ConfigError` (exit 2) for bad thresholds or a bad model and an `InfrastructureError`
 * (exit 3) when the target cannot be reached; `runMilestoneMain` maps them.
 *
 * @example
 * const { exitCode } = await runLoadTest({ milestone: 'ms-03', title: 'Milestone 3: Multi-User Validation',
 *   config, model: { kind: 'closed', users: 25 }, thresholds: opts.threshold, flowLines: true });
 */
export async function runLoadTest(params: RunLoadTestParameters): Promise<RunLoadTestResult> {
  const { config, model, milestone } = params;
  const out = params.stdout ?? process.stdout;
  const print = (line = ''): void => void out.write(`${line}\n`);
  const color = shouldUseColor(out);

  // 1. Everything the user typed is checked before anything starts.
  const thresholds: Threshold[] = mergeThresholds(milestone ? MILESTONE_THRESHOLDS[milestone] : [], parseThresholds(params.thresholds ?? [], 'flag'));
  try {
    validateLoadModel(model);
  } catch (err) {
    throw err instanceof ConfigError ? err : new ConfigError((err as Error).message, { code: 'LOAD_MODEL_INVALID' });
  }
  const direct = config.relay.mode === 'direct';
  if (direct && config.target.kind === 'remote' && (!config.wallets.funderPrivateKey || !config.contracts.batchFunderAddress)) {
    throw new ConfigError('--tx-mode direct on a remote target needs VANA_FUNDER_PRIVATE_KEY and VANA_BATCH_FUNDER_ADDRESS to fund the user wallets', {
      code: 'FUNDING_CONFIG_MISSING',
    });
  }

  // 2. The results directory and its log.
  const writer = createResultsWriter({ runId: config.output.runId ?? makeRunId(milestone), resultsDir: config.output.resultsDir });
  const onExit = (): void => writer.flushSync();
  process.on('exit', onExit);
  const logFile = createWriteStream(writer.runLogPath, { flags: 'a' });
  const logger: Logger = createLogger({ level: config.log.level, destination: logFile });
  logger.info({ runId: writer.runId, milestone, model, config: configForDisplay(config) }, 'run starting');

  print(`🚀 Starting ${params.title}`);
  for (const line of params.intro ?? []) print(line);
  print(`   load model: ${describeModel(model)}`);
  print(`   results:    ${writer.dir}/`);

  // Ctrl-C, SIGTERM, a gone launcher or a failed infrastructure end the run early (interruption.ts).
  const interruption = watchInterruption({
    ...(params.signals !== undefined ? { signals: params.signals, watchLauncher: params.signals.length > 0 } : {}),
    shutdownGraceMs: config.timeouts.shutdownGraceMs,
    inFlight: () => collector.inFlight,
    notice: print,
    logger,
  });
  const { stop, force } = interruption;

  // 3. Retries and breaker around the client.
  const collector = createMetricsCollector();
  // With --seed the backoff jitter is seeded too; its draws still follow the order flows retry in.
  const jitter = config.load.seed === undefined ? Math.random : createSeededRandom(seedFromString(`retry:${config.load.seed}`));
  const retry: StepRetry = (step, fn, onRetry) =>
    withRetry(() => fn(), {
      step,
      random: jitter,
      maxAttempts: config.retry.maxAttempts,
      baseDelayMs: config.retry.baseDelayMs,
      maxDelayMs: config.retry.maxDelayMs,
      signal: force,
      onRetry: (info) => {
        onRetry();
        collector.stepRetried(step as StepName);
        logger.debug({ step, attempt: info.attempt, delayMs: Math.round(info.delayMs), errorClass: info.errorClass }, 'retrying step');
      },
    });
  let prometheus: PrometheusExporter | undefined;
  const breaker: CircuitBreaker = createCircuitBreaker({
    windowMs: config.breaker.windowMs,
    minRequests: config.breaker.minRequests,
    failureRateToOpen: config.breaker.failureRateThreshold,
    openMs: config.breaker.halfOpenAfterMs,
    onStateChange: (change) => {
      collector.breakerChanged(change.to);
      prometheus?.setBreaker(change.to);
      logger.warn({ from: change.from, to: change.to, reason: change.reason }, 'circuit breaker');
      if (!out.isTTY) print(`   ⚡ circuit breaker ${change.from} → ${change.to}: ${change.reason}`);
    },
  });

  // The run has a breaker from the start: its state is in every sample and in the summary.
  collector.breakerChanged(breaker.state());

  const t0 = performance.now();
  print(config.target.kind === 'local' ? '\n📡 Starting the local stack (anvil, storage, personal server, API)...' : `\n📡 Connecting to ${config.target.kind} target...`);
  let env: FlowEnvironment;
  try {
    env = await openFlowEnvironment({
      config,
      logger,
      retry,
      ...(params.manifestPath !== undefined ? { manifestPath: params.manifestPath } : {}),
      ...(config.data.s2kCountByte !== undefined ? { s2kIterationCountByte: config.data.s2kCountByte } : {}),
      // A stack this run spawns logs next to the run's own log.
      stackOptions: { logFile: join(writer.dir, 'stack.log'), logLevel: config.log.level === 'debug' || config.log.level === 'trace' ? config.log.level : 'info' },
    });
  } catch (err) {
    interruption.dispose();
    process.off('exit', onExit);
    await writer.close();
    logFile.end();
    throw err;
  }

  let funding: FundingWorker | undefined;
  const fundingLatency = new LatencyHistogram();
  // The stack or anvil died, or the relayer keys ran dry: nothing more can succeed. Stop starting
  // flows, cut off the ones in flight (they are recorded as failed, class `infra`), write
  // everything, and exit 3.
  const onFatal = (): void => {
    const reason: unknown = env.fatal.reason;
    const fatal = reason instanceof InfrastructureError ? reason : new InfrastructureError(String(reason), { code: 'INFRA_FAILED' });
    logger.error({ code: fatal.code, err: fatal.message }, 'infrastructure failed: stopping the run');
    print(`\n❌ ${fatal.shortMessage}: stopping the run (flows in flight are cut off)`);
    for (const line of fatal.metaMessages) print(`   ${line}`);
    interruption.fail(fatal);
  };
  if (env.fatal.aborted) onFatal();
  else env.fatal.addEventListener('abort', onFatal, { once: true });
  try {
    print(
      env.stack
        ? `✅ Stack ${env.stack.owned ? 'started' : 'attached'} in ${((performance.now() - t0) / 1000).toFixed(1)}s: chain ${env.chainId}, API ${env.apiUrl}`
        : `✅ Connected: chain ${env.chainId}, API ${env.apiUrl}`,
    );
    if (env.stack?.owned) { // an attached stack has its own settings, unknown here
      const advice = localChainAdvice({
        flows: plannedFlows(model) ?? (model.kind === 'poisson' && model.durationMs !== undefined ? Math.ceil((model.rate * model.durationMs) / 1000) : undefined),
        peakRate: peakArrivalRate(model),
        blockTimeSeconds: config.chain.blockTimeSeconds,
        blockGasLimit: config.stack.blockGasLimit,
      });
      for (const line of advice) {
        print(`⚠️  ${line}`);
        logger.warn({ advice: line }, 'local chain');
      }
    }
    if (direct) {
      // Never fund more wallets than the run can use: on a real network each one costs money.
      const planned = plannedFlows(model);
      const asked = params.funding ?? DEFAULT_FUNDING;
      const pool =
        planned === undefined
          ? asked
          : { ...asked, poolSize: Math.min(asked.poolSize, planned), batchSize: Math.min(asked.batchSize ?? DEFAULT_FUNDING.batchSize!, planned), maxWallets: planned };
      funding = await startFunding(env, config, pool, logger, (latencyMs) => fundingLatency.record(latencyMs));
      print(`✅ Funding worker: keeps ${pool.poolSize} funded wallets ahead of arrivals (direct mode: users pay gas)`);
    } else {
      print('✅ User wallets derived on demand (HD index = user); relayed mode: the relayer pays gas');
    }
    if (config.output.prometheusPort !== undefined) {
      // Loaded only when asked for: prom-client is ~10 MB of harness RSS.
      const { startPrometheusExporter } = await import('../report/prometheus.ts');
      prometheus = await startPrometheusExporter({ port: config.output.prometheusPort });
      print(`✅ Prometheus metrics at ${prometheus.url}`);
    }

    // 4. The run.
    const startedAt = Date.now();
    const samples: TimeseriesSample[] = [];
    const flowLines: string[] = [];
    const digits = String(plannedFlows(model) ?? 99).length;
    const liveFlowLines = params.flowLines === true;
    // Per-flow lines and an in-place TTY view cannot share the screen: with lines, the view prints plain lines.
    const live = createLiveView({
      stream: liveFlowLines ? { write: (s: string) => out.write(s), isTTY: false } : out,
      plainIntervalS: liveFlowLines || !out.isTTY ? 5 : 10,
      color,
      ...(plannedDurationS(model) !== undefined ? { durationS: plannedDurationS(model)! } : {}),
      ...(plannedFlows(model) !== undefined ? { plannedFlows: plannedFlows(model)! } : {}),
    });
    const testId = `${milestone ?? 'run'}-${writer.runId.slice(-4)}`;
    const dataChoice = config.data.size;

    const runFlow = async (task: FlowTask, signal: AbortSignal): Promise<FlowResult> => {
      // Not AbortSignal.any(): over these two run-long signals it would keep every flow's signal (src/util/deadlineSignal.ts).
      const followed = followSignals([signal, force]);
      try {
        const result = await runOneFlow(task, followed.signal);
        // A network failure may be the stack dying before the watcher saw it: then it is that.
        const infra = !result.success && (result.error?.errorClass === 'network' || result.error?.errorClass === 'timeout') ? env.confirmAlive() : undefined;
        return infra && result.error ? { ...result, error: { ...result.error, errorClass: 'infra', code: infra.code, message: infra.shortMessage.slice(0, 300) } } : result;
      } finally {
        followed.clear();
      }
    };
    const runOneFlow = async (task: FlowTask, flowSignal: AbortSignal): Promise<FlowResult> => {
      let account: LocalAccount;
      let userIndex = task.userIndex;
      if (funding) {
        const wallet = await funding.acquire({ signal: flowSignal }).catch((err: unknown) => err as Error);
        if (wallet instanceof Error) return fundingFailure(task, testId, wallet);
        account = wallet.account;
        userIndex = wallet.index;
      } else {
        account = env.wallets.account(task.userIndex);
      }
      const dataSize = dataSizeFor(task.flowId, dataChoice);
      const data = generateUserData(flowDataSeed(task.flowId, { seed: config.load.seed, testId }), dataSize);
      return env.client.executeDataPortabilityFlow(data, config.data.prompt, testId, env.personalServerUrl, {
        account,
        flowId: task.flowId,
        userIndex,
        dataSize,
        scheduledAt: task.scheduledAt,
        ...(task.phase !== undefined ? { phase: task.phase } : {}),
        ...(params.onStep ? { onStep: params.onStep } : {}),
        signal: flowSignal,
      });
    };

    print(`\n🔄 Launching: ${describeModel(model)}`);
    const run = startLoadRun(model, {
      runFlow,
      gate: breaker,
      signal: stop,
      drainTimeoutMs: config.timeouts.shutdownGraceMs,
      hooks: {
        onFlowStarted: (task) => collector.flowStarted(task.flowId, task.scheduledAt, task.phase),
        onFlowFinished: (result) => {
          collector.flowFinished(result);
          writer.writeFlow(result);
          prometheus?.observeFlow(result);
          if (params.flowLines) {
            const line = formatFlowLine(result, digits);
            flowLines.push(line);
            print(`  ${line}`);
          }
          params.onFlowFinished?.(result);
        },
        onDropped: (task, reason) => {
          collector.flowDropped(task.scheduledAt, task.phase);
          logger.debug({ flowId: task.flowId, reason }, 'arrival dropped');
        },
        onPhase: (name) => {
          collector.phaseStarted(name);
          logger.info({ phase: name }, 'phase');
          if (!out.isTTY || liveFlowLines) print(`   ▶ phase ${name}`);
        },
      },
    });
    const sampler = startSampler(collector, {
      logger,
      processes: env.processes,
      startedAt,
      extras: () => {
        const extras = run.extras();
        return {
          ...(extras.targetRate !== undefined ? { targetRate: extras.targetRate } : {}),
          schedulerLagMs: extras.schedulerLagMs,
          ...(extras.phase !== undefined ? { phase: extras.phase } : {}),
          breaker: breaker.state(),
        };
      },
      onSample: (sample) => {
        samples.push(sample);
        writer.writeSample(sample);
        prometheus?.update(sample);
        live.update(sample);
      },
    });

    let stats: LoadRunStats;
    try {
      stats = await run.done;
    } finally {
      await sampler.stop();
      live.stop();
    }
    const endedAt = Date.now();
    await funding?.stop();
    const fundingStats = funding?.stats();

    // 5. Summary, verdicts, report.
    const cause = interruption.cause;
    const stoppedBy = cause?.kind === 'infrastructure' ? cause.error : undefined;
    const totals = collector.totals(endedAt);
    const fundingSummary = funding ? { funded: fundingStats?.funded ?? 0, latencyMs: fundingLatency.percentiles() } : null;
    const summary = buildSummary({
      totals,
      samples,
      runId: writer.runId,
      milestone: milestone ? milestone.toUpperCase() : null,
      startedAt,
      endedAt,
      interrupted: interruption.cause !== undefined,
      ...(stoppedBy ? { stopped: { code: stoppedBy.code, message: stoppedBy.shortMessage } } : {}),
      config: configForDisplay(config) as unknown as Record<string, unknown>,
      environment: { chainId: env.chainId, target: env.target, loadModel: model.kind, loadModelParams: { ...model } },
      targetRate: stats.targetRate,
      achievedRate: stats.achievedRate,
      thresholds: (subject) => evaluateThresholds(thresholds, { ...subject, funding: fundingSummary }),
    });
    summary.funding = fundingSummary;
    // --seed, or the seed a poisson model drew without one (it reproduces the arrivals, not the data).
    const seed = stats.seed ?? config.load.seed;
    if (seed !== undefined) summary.environment.seed = seed;
    summary.scheduler = {
      targetRate: stats.targetRate,
      achievedRate: stats.achievedRate,
      arrivalRate: stats.arrivalRate,
      lagMs: { mean: stats.schedulerLagMs.mean, max: stats.schedulerLagMs.max },
      peakInFlight: stats.peakInFlight,
      droppedBy: stats.droppedBy,
      abortedAfterDrain: stats.abortedAfterDrain,
    };
    await writer.writeSummary(summary);
    await writer.close();
    await writeHtmlReport(writer.dir, { summary, title: params.title });
    logger.info({ verdict: summary.verdict, counts: summary.counts }, 'run finished');

    print('');
    print(formatFinalReport(summary, { color, title: params.title }));
    print(`\n📁 ${writer.dir}/: ${RESULT_FILES.flows}, ${RESULT_FILES.timeseries}, ${RESULT_FILES.summary}, ${RESULT_FILES.runLog}, report.html`);
    const exitCode = interruption.exitCode() ?? (summary.verdict === 'pass' ? EXIT_CODES.ok : EXIT_CODES.thresholdFailed);
    if (stoppedBy) print(`Stopped: ${stoppedBy.shortMessage} (${stoppedBy.code}); exit ${exitCode}`);
    else if (interruption.cause) print(`Interrupted: exit ${exitCode}; rebuild the figures later with \`vana-load report ${writer.dir}\``);
    return { exitCode, summary, dir: writer.dir, stats };
  } finally {
    env.fatal.removeEventListener('abort', onFatal);
    interruption.dispose();
    await funding?.stop().catch(() => {});
    await prometheus?.stop().catch(() => {});
    if (env.stack?.owned) print('🧹 Stopping the local stack...');
    await env.close();
    await writer.close().catch(() => {});
    process.off('exit', onExit);
    logFile.end();
    await once(logFile, 'close').catch(() => {});
  }
}

/** A flow that never started because no funded wallet could be had: a failure at `relay`'s prerequisite. */
function fundingFailure(task: FlowTask, testId: string, error: Error): FlowResult {
  const now = Date.now();
  return {
    flowId: task.flowId,
    userIndex: task.userIndex,
    userAddress: '0x0000000000000000000000000000000000000000',
    testId,
    dataSize: 'small',
    dataBytes: 0,
    scheduledAt: task.scheduledAt,
    startedAt: now,
    endedAt: now,
    e2eMs: now - task.scheduledAt,
    success: false,
    steps: {},
    retries: 0,
    ...(task.phase !== undefined ? { phase: task.phase } : {}),
    error: { step: 'encrypt', errorClass: 'other', code: 'FUNDING_FAILED', message: `no funded wallet: ${error.message.split('\n')[0]}` },
  };
}

async function startFunding(
  env: FlowEnvironment,
  config: Readonly<VanaLoadConfig>,
  options: FundingPoolOptions,
  logger: Logger,
  onLatency: (ms: number) => void,
): Promise<FundingWorker> {
  const local = env.stack !== undefined;
  const funder = local ? deployerAccount() : privateKeyToAccount(config.wallets.funderPrivateKey!);
  const batchFunder = local ? env.stack!.manifest.contracts.batchFunder : config.contracts.batchFunderAddress!;
  const rpcUrl = local ? env.stack!.manifest.rpcUrl : config.chain.rpcUrls[0]!;
  const mnemonic = config.wallets.mnemonic ?? LOCAL_USERS_MNEMONIC;
  const batchSize = Math.max(1, Math.min(options.batchSize ?? DEFAULT_FUNDING.batchSize!, options.poolSize));
  return startFundingWorker({
    rpcUrl,
    chainId: env.chainId,
    funder,
    batchFunder,
    wallets: createHdWallets(mnemonic),
    amountWei: config.wallets.fundingAmountWei,
    batchSize,
    bufferSize: Math.max(options.poolSize, batchSize),
    workers: options.workers,
    ...(options.maxWallets !== undefined ? { lastIndex: options.maxWallets - 1 } : {}),
    // The local chain's dev funds cost nothing: the spend cap guards real networks only.
    ...(!local && config.wallets.maxSpendWei !== undefined ? { maxSpendWei: config.wallets.maxSpendWei } : {}),
    allowMainnet: config.wallets.allowMainnet,
    onFunded: (event) => onLatency(event.latencyMs),
    logger,
  });
}
