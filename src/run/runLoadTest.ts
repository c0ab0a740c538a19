/**
 * The shared runner behind MS-02..MS-05 (ARCHITECTURE.md 7): wiring only. It checks what the user
 * typed, opens `results/<run-id>/`, opens the flow environment (local stack or remote target),
 * drives the load model with retries and a circuit breaker around the client, samples every second,
 * and builds the summary once at the end. Outputs are reporters (runReporter.ts): the results
 * files, the terminal, Prometheus and the milestone's own; how a run ends early is interruption.ts;
 * direct-mode funding is runFunding.ts.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { configForDisplay } from '../config/configForDisplay.ts';
import type { VanaLoadConfig } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';
import { exitCodeOfVerdict } from '../exitCodes.ts';
import { describeModel, plannedDurationS, plannedFlows } from '../load/modelFacts.ts';
import { startLoadRun } from '../load/runLoadModel.ts';
import type { LoadModel, LoadRunStats } from '../load/types.ts';
import { validateLoadModel } from '../load/validateLoadModel.ts';
import { createLogger } from '../logger.ts';
import { createMetricsCollector } from '../metrics/collector.ts';
import { createLagRecorder } from '../metrics/lagDistribution.ts';
import { createResultsWriter, makeRunId } from '../metrics/resultsWriter.ts';
import { startSampler } from '../metrics/sampler.ts';
import { mergeThresholds, parseThresholds, type Threshold } from '../metrics/thresholds.ts';
import type { RunSummary } from '../metrics/types.ts';
import { readTimeseries } from '../metrics/rebuildSummary.ts';
import type { OutputStream } from '../report/terminal.ts';
import type { StackHandle } from '../stack/ensureStack.ts';
import { createFlowRunner } from './createFlowRunner.ts';
import { openChainTimeline, type OpenedChainTimeline } from './openChainTimeline.ts';
import type { FlowEnvironment } from './flowEnvironment.ts';
import { openRunEnvironment } from './openRunEnvironment.ts';
import { watchInterruption } from './interruption.ts';
import { limitHeapGrowth } from './limitHeapGrowth.ts';
import { createHeapSnapshotReporter, HEAP_SNAPSHOTS_ENV, parseHeapSnapshotPlan } from './reporters/heapSnapshotReporter.ts';
import { createResultsReporter } from './reporters/resultsReporter.ts';
import { startPrometheusReporter } from './reporters/prometheusReporter.ts';
import { createTerminalReporter } from './reporters/terminalReporter.ts';
import { DEFAULT_FUNDING, startRunFunding, type FundingPoolOptions, type RunFunding } from './runFunding.ts';
import { fanOut, type RunReporter } from './runReporter.ts';
import { createRunResilience } from './runResilience.ts';
import { healthSettingsOf, summarizeRun } from './summarizeRun.ts';
import { startTestCpuBurn } from './testCpuBurn.ts';

/** Exit code of a run stopped by Ctrl-C (128 + SIGINT), whatever its figures; SIGTERM gives 143 (interruption.ts). */
export const EXIT_INTERRUPTED = 130;

export interface RunLoadTestParameters {
  /** Names the run (`ms-03` → `MS-03` in the summary and the run id); null for none. */
  milestone: string | null;
  /** The thresholds the run is judged by unless `thresholds` overrides them (a milestone's README criteria). */
  defaultThresholds?: readonly Threshold[];
  /** First line of the output, e.g. `Milestone 3: Multi-User Validation`. */
  title: string;
  config: Readonly<VanaLoadConfig>;
  model: LoadModel;
  /** `--threshold` expressions: add to or override the milestone's defaults. */
  thresholds?: readonly string[];
  /** Print one line per finished flow (small closed runs, as in the MS-03 seed). */
  flowLines?: boolean;
  /** Direct mode only: background funding of user wallets. Defaults apply when unset. */
  funding?: FundingPoolOptions;
  /** Lines printed under the title before the stack starts (what the milestone is about to do). */
  intro?: readonly string[];
  stdout?: OutputStream;
  /** Local target: the manifest of a running stack to attach to (default `.vana-load/stack.json`). */
  manifestPath?: string;
  /** Local target: a stack the caller started and stops, used as it is (MS-06: its manifest names fault proxies). */
  stack?: StackHandle;
  /** Signals that stop the run gracefully. Default SIGINT, SIGTERM, SIGHUP; [] for none (tests). */
  signals?: readonly NodeJS.Signals[];
  /** More outputs of the run (MS-02 prints its flow step by step). */
  reporters?: readonly RunReporter[];
}

export interface RunLoadTestResult {
  exitCode: number;
  summary: RunSummary;
  /** `results/<run-id>`. */
  dir: string;
  stats: LoadRunStats;
}

/**
 * Runs one load test and returns its exit code (0 pass, 1 a threshold failed, 3 its infrastructure
 * failed, 5 invalid: the load generator fell behind, 128 + signal when interrupted: 130 Ctrl-C, 143 SIGTERM). Throws a `ConfigError` (exit 2)
 * for bad thresholds, model or results directory and an `InfrastructureError` (exit 3) when the
 * target cannot be reached.
 *
 * @example
 * const { exitCode } = await runLoadTest({ milestone: 'ms-03', title: 'Milestone 3: Multi-User Validation',
 *   config, model: { kind: 'closed', users: 25 }, thresholds: opts.threshold, flowLines: true });
 */
export async function runLoadTest(params: RunLoadTestParameters): Promise<RunLoadTestResult> {
  const { config, model, milestone, title } = params;
  // 1. Everything the user typed is checked before anything is created.
  const thresholds = mergeThresholds(params.defaultThresholds ?? [], parseThresholds(params.thresholds ?? [], 'flag'));
  const heapSnapshots = parseHeapSnapshotPlan(process.env[HEAP_SNAPSHOTS_ENV]); // development only: heapSnapshotReporter.ts
  try {
    validateLoadModel(model);
  } catch (err) {
    throw err instanceof ConfigError ? err : new ConfigError((err as Error).message, { code: 'LOAD_MODEL_INVALID' });
  }

  // The heap follows what is live instead of growing to 4× it between collections (limitHeapGrowth.ts).
  limitHeapGrowth();

  // 2. The results directory, its log, and the outputs.
  const writer = createResultsWriter({ runId: config.output.runId ?? makeRunId(milestone), resultsDir: config.output.resultsDir });
  const flushOnExit = (): void => writer.flushSync();
  process.on('exit', flushOnExit);
  const logFile = createWriteStream(writer.runLogPath, { flags: 'a' });
  const logger = createLogger({ level: config.log.level, destination: logFile });
  logger.info({ runId: writer.runId, milestone, model, config: configForDisplay(config) }, 'run starting');
  const reporters: RunReporter[] = [
    createResultsReporter(writer, { title }),
    createTerminalReporter({ out: params.stdout ?? process.stdout, title, flowLines: params.flowLines === true, plannedFlows: plannedFlows(model), durationS: plannedDurationS(model) }),
    ...(params.reporters ?? []),
    ...(heapSnapshots ? [createHeapSnapshotReporter({ plan: heapSnapshots, dir: writer.dir, notice: (line) => report.onNotice(line) })] : []),
  ];
  const report = fanOut(reporters);
  report.onRunStart({ title, intro: params.intro ?? [], model: describeModel(model), dir: writer.dir });

  const collector = createMetricsCollector();
  const interruption = watchInterruption({
    ...(params.signals !== undefined ? { signals: params.signals, watchLauncher: params.signals.length > 0 } : {}),
    shutdownGraceMs: config.timeouts.shutdownGraceMs,
    inFlight: () => collector.inFlight,
    notice: report.onNotice,
    logger,
  });
  const { stop, force } = interruption;
  let env: FlowEnvironment | undefined;
  let funding: RunFunding | undefined;
  let chain: OpenedChainTimeline | undefined;
  let stopBurn: (() => void) | undefined;
  try {
    // 3. Retries and the breaker around the client.
    const { retry, breaker } = createRunResilience({ config, collector, logger, force, onBreakerChange: report.onBreakerChange });

    env = await openRunEnvironment({ config, model, logger, retry, interruption, dir: writer.dir, notice: report.onNotice, ...(params.manifestPath !== undefined ? { manifestPath: params.manifestPath } : {}), ...(params.stack !== undefined ? { stack: params.stack } : {}) });
    if (config.relay.mode === 'direct') {
      funding = await startRunFunding({ env, config, options: params.funding ?? DEFAULT_FUNDING, plannedFlows: plannedFlows(model), logger });
      report.onNotice(`✅ Funding worker: keeps ${funding.poolSize} funded wallets ahead of arrivals (direct mode: users pay gas)`);
    } else {
      report.onNotice(`✅ User wallets derived on demand (HD index = user); relay ${config.relay.mode}: the relayer pays gas`);
    }
    chain = await openChainTimeline({ env, config, logger, dir: writer.dir });
    report.onNotice(chain.description);
    const timeline = chain.timeline;
    if (config.output.prometheusPort !== undefined) {
      const prometheus = await startPrometheusReporter(config.output.prometheusPort, healthSettingsOf(config).limits);
      reporters.push(prometheus); // `report` walks this array: it reaches the new reporter too
      report.onNotice(`✅ Prometheus metrics at ${prometheus.url}`);
    }

    // 4. The run.
    const burn = startTestCpuBurn();
    if (burn.kind === 'burning') stopBurn = burn.stop;
    if (burn.kind !== 'off') report.onNotice(burn.notice);
    const startedAt = Date.now();
    const schedulerLag = createLagRecorder();
    const testId = `${milestone ?? 'run'}-${writer.runId.slice(-4)}`;
    report.onNotice(`\n🔄 Launching: ${describeModel(model)}`);
    report.onLaunch();
    const run = startLoadRun(model, {
      runFlow: createFlowRunner({
        env,
        config,
        testId,
        funding,
        force,
        onStep: (flowId, step, ms, ok) => {
          timeline.observeStep(step, ms);
          report.onStep(flowId, step, ms, ok);
        },
      }),
      gate: breaker,
      signal: stop,
      drainTimeoutMs: config.timeouts.shutdownGraceMs,
      hooks: {
        onFlowStarted: (task) => collector.flowStarted(task.flowId, task.scheduledAt, task.phase),
        onFlowFinished: (result) => {
          collector.flowFinished(result);
          report.onFlowFinished(result);
        },
        onDropped: (task, reason) => {
          collector.flowDropped(task.scheduledAt, task.phase);
          logger.debug({ flowId: task.flowId, reason }, 'arrival dropped');
        },
        onPhase: (name) => {
          collector.phaseStarted(name);
          logger.info({ phase: name }, 'phase');
          report.onPhase(name);
        },
        onSchedulerLag: (ms) => schedulerLag.record(ms),
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
          schedulerLag: schedulerLag.take(),
          ...(extras.phase !== undefined ? { phase: extras.phase } : {}),
          breaker: breaker.state(),
          ...timeline.take(),
        };
      },
      onSample: (sample) => {
        chain?.flush();
        report.onSample(sample);
      },
    });
    let stats: LoadRunStats;
    try {
      stats = await run.done;
    } finally {
      await sampler.stop();
      stopBurn?.();
      await chain.close(); // blocks.jsonl ends with the head at the end: every flow's block is in it
    }
    const endedAt = Date.now();
    await funding?.worker.stop();

    // 5. The summary, built once from everything the run measured.
    const cause = interruption.cause;
    // The samples are read back from timeseries.jsonl rather than kept: ~1 kB a second of a run for nothing.
    await writer.flush();
    const { samples } = await readTimeseries(writer.dir);
    const chainNotes = chain.notes();
    const summary = summarizeRun({ config, model, milestone, runId: writer.runId, collector, samples, stats, env, funding, cause, thresholds, chainNotes, startedAt, endedAt });
    const stoppedBy = cause?.kind === 'infrastructure' ? cause.error : undefined;
    await report.onRunEnd(summary);
    logger.info({ verdict: summary.verdict, counts: summary.counts, generatorHealth: summary.generatorHealth?.reasons }, 'run finished');
    const exitCode = interruption.exitCode() ?? exitCodeOfVerdict(summary.verdict);
    if (stoppedBy) report.onNotice(`Stopped: ${stoppedBy.shortMessage} (${stoppedBy.code}); exit ${exitCode}`);
    else if (cause) report.onNotice(`Interrupted: exit ${exitCode}; rebuild the figures later with \`vana-load report ${writer.dir}\``);
    return { exitCode, summary, dir: writer.dir, stats };
  } finally {
    stopBurn?.();
    interruption.dispose();
    await funding?.worker.stop().catch(() => {});
    await chain?.close();
    if (env?.stack?.owned) report.onNotice('🧹 Stopping the local stack...');
    await env?.close();
    await report.close();
    process.off('exit', flushOnExit);
    logFile.end();
    await once(logFile, 'close').catch(() => {});
  }
}
