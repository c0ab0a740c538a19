/**
 * One MS-06 scenario as one run of the shared runner: the fault proxies (and, locally, a private
 * stack behind them and the process faults) are placed, armed the moment arrivals begin, and
 * taken down after; then the survival is computed from the run's own files and judged against
 * the scenario's expectations.
 */
import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { VanaLoadConfig } from '../../config/schema.ts';
import { computeSurvival, type Survival } from '../../faults/computeSurvival.ts';
import { evaluateSurvival, isSurvivalMetric } from '../../faults/evaluateSurvival.ts';
import type { Expectation, Scenario } from '../../faults/scenario.ts';
import { lastWindowEndMs } from '../../faults/scenarioTime.ts';
import { startBoundaryProxies, type BoundaryProxies, type BoundaryProxyStats } from '../../faults/startBoundaryProxies.ts';
import type { ProcessFaultStats } from '../../faults/startProcessFaults.ts';
import type { FlowResult } from '../../flow.ts';
import type { PoissonLoadModel } from '../../load/types.ts';
import { createLogger } from '../../logger.ts';
import { RESULT_FILES } from '../../metrics/resultsWriter.ts';
import type { RunSummary, ThresholdVerdict } from '../../metrics/types.ts';
import type { OutputStream } from '../../report/terminal.ts';
import { runLoadTest } from '../../run/runLoadTest.ts';
import { remoteTargets, withProxiedEndpoints } from './remoteTargets.ts';
import { startFaultStack, type FaultStack } from './startFaultStack.ts';

export interface ScenarioOutcome {
  scenario: Scenario;
  /** `results/<ms06-run-id>/<n>-<scenario>`. */
  dir: string;
  /** The runner's exit code (0, 1 thresholds, 3 infrastructure stopped the run, 130/143 interrupted). */
  runExitCode: number;
  summary: RunSummary;
  survival: Survival;
  /** The run's thresholds (the scenario's run metrics and --threshold) and the survival expectations. */
  verdicts: ThresholdVerdict[];
  pass: boolean;
  /** Epoch ms the faults were armed (arrivals began). */
  launchedAt: number;
  proxies: BoundaryProxyStats[];
  processFaults: ProcessFaultStats[];
}

export interface RunScenarioParameters {
  scenario: Scenario;
  config: Readonly<VanaLoadConfig>;
  model: PoissonLoadModel;
  /** Survival expectations that replace the scenario's of the same metric (--threshold). */
  survivalOverrides: readonly Expectation[];
  /** Run-metric --threshold expressions, over the scenario's. */
  thresholds: readonly string[];
  /** Parent of the scenario's run directory (`results/<ms06-run-id>`) and its run id (`<n>-<name>`). */
  resultsDir: string;
  runId: string;
  title: string;
  intro: readonly string[];
  stdout?: OutputStream;
  signals?: readonly NodeJS.Signals[];
}

const placed = (urls: Partial<Record<string, readonly string[]>>): string =>
  Object.entries(urls)
    .map(([boundary, list]) => `${boundary} → ${list!.join(', ')}`)
    .join(' · ') || 'no proxy (process faults only)';

/**
 * The span of the faults, ms after `faultsFrom`: the earliest start, and the latest end (undefined
 * when a fault lasts the whole run). A process fault that was undone later than planned (its
 * timer ran late, its undoing took time) ends when it was undone.
 */
function faultWindow(scenario: Scenario, processFaults: readonly ProcessFaultStats[], faultsFrom: number): { fromMs: number; untilMs: number | undefined } {
  const planned = lastWindowEndMs(scenario);
  const undone = processFaults.filter((f) => f.endedAt !== null).map((f) => f.endedAt! - faultsFrom);
  return {
    fromMs: Math.min(...[...scenario.faults, ...scenario.processFaults].map((f) => f.fromMs ?? 0)),
    untilMs: planned === undefined ? undefined : Math.max(planned, ...undone),
  };
}

/** The scenario's expectations with the overrides in place (same metric: the override wins). */
function withOverrides(expectations: readonly Expectation[], overrides: readonly Expectation[]): Expectation[] {
  const overridden = new Set(overrides.map((o) => o.metric));
  return [...expectations.filter((e) => !overridden.has(e.metric)), ...overrides];
}

async function readFlows(dir: string): Promise<FlowResult[]> {
  const text = await readFile(join(dir, RESULT_FILES.flows), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as FlowResult);
}

/**
 * Runs the scenario; throws what the runner throws before a run starts (a `ConfigError`, exit 2; an
 * `InfrastructureError` when the stack or the target cannot be reached, exit 3).
 *
 * @example
 * const outcome = await runScenario({ scenario, config, model, survivalOverrides: [], thresholds: [], resultsDir, runId: '1-storage-5xx-10pct', title, intro: [] });
 * outcome.pass; // true
 */
export async function runScenario(params: RunScenarioParameters): Promise<ScenarioOutcome> {
  const { scenario, config, model, resultsDir, runId } = params;
  const dir = join(resultsDir, runId);
  // The run directory is the runner's to create; the fault log and the stack's log wait beside it.
  const faultLogPath = join(resultsDir, `${runId}.faults.log`);
  const stackLogPath = join(resultsDir, `${runId}.stack.log`);
  const faultLog = createWriteStream(faultLogPath, { flags: 'a' });
  const logger = createLogger({ level: config.log.level, destination: faultLog, base: { scenario: scenario.name } });

  const out = params.stdout ?? process.stdout;
  let local: FaultStack | undefined;
  let remote: BoundaryProxies | undefined;
  let launchedAt: number | undefined;
  try {
    let runConfig = config;
    const t0 = performance.now();
    if (config.target.kind === 'local') {
      out.write(`\n${'━'.repeat(72)}\n🧪 ${params.title}\n🔧 Starting a private local stack behind the scenario's fault proxies...\n`);
      local = await startFaultStack({ scenario, config, logFile: stackLogPath, logger });
    } else {
      out.write(`\n${'━'.repeat(72)}\n🧪 ${params.title}\n🔧 Starting fault proxies in front of the remote endpoints...\n`);
      remote = await startBoundaryProxies({ scenario, targets: remoteTargets(config), rewriteHost: true, logger });
      runConfig = withProxiedEndpoints(config, remote.urls);
    }
    const proxies = local?.proxies ?? remote!;
    out.write(`✅ Ready in ${((performance.now() - t0) / 1000).toFixed(1)}s; fault proxies (armed when arrivals begin): ${placed(proxies.urls)}\n`);
    const expectations = withOverrides(scenario.expect, params.survivalOverrides);
    const result = await runLoadTest({
      milestone: 'ms-06',
      title: params.title,
      config: { ...runConfig, output: { ...runConfig.output, resultsDir, runId } },
      model,
      defaultThresholds: expectations.filter((e) => !isSurvivalMetric(e.metric)),
      thresholds: params.thresholds,
      intro: params.intro,
      ...(local ? { stack: local.stack } : {}),
      ...(params.stdout ? { stdout: params.stdout } : {}),
      ...(params.signals ? { signals: params.signals } : {}),
      reporters: [
        {
          onLaunch: () => {
            launchedAt = Date.now();
            proxies.arm();
            local?.processFaults.arm();
            logger.info({ launchedAt }, 'faults armed: arrivals begin');
          },
        },
      ],
    });
    const processFaults = local ? (await local.processFaults.stop(), local.processFaults.stats()) : [];
    const proxyStats = proxies.stats();
    const faultsFrom = launchedAt ?? result.summary.startedAt;
    const injected = proxies.injected() + processFaults.reduce((sum, f) => sum + f.injected, 0);
    const survival = computeSurvival({ flows: await readFlows(result.dir), summary: result.summary, faultsFrom, window: faultWindow(scenario, processFaults, faultsFrom), injected });
    const verdicts = [...result.summary.thresholds, ...evaluateSurvival(expectations, survival)];
    const pass = result.exitCode === 0 || result.exitCode === 1 ? verdicts.every((v) => v.pass) : false;
    await writeFile(
      join(result.dir, 'faults.json'),
      `${JSON.stringify({ scenario: scenario.name, source: scenario.source, launchedAt: faultsFrom, proxies: proxyStats, processFaults }, null, 2)}\n`,
    );
    return { scenario, dir: result.dir, runExitCode: result.exitCode, summary: result.summary, survival, verdicts, pass, launchedAt: faultsFrom, proxies: proxyStats, processFaults };
  } finally {
    await local?.stop();
    await remote?.stop();
    faultLog.end();
    await once(faultLog, 'close').catch(() => {});
    // Into the run directory, as the other milestones keep stack.log there.
    if (existsSync(dir)) {
      await rename(faultLogPath, join(dir, 'faults.log')).catch(() => {});
      if (existsSync(stackLogPath)) await rename(stackLogPath, join(dir, 'stack.log')).catch(() => {});
    }
  }
}
