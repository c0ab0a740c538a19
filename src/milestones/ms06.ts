/**
 * MS-06 — Resilience: each fault scenario (milestones/ms-06/scenarios/*.json, `--scenario` files
 * or `--fault` flags) is one run of the shared runner under a Poisson load, with fault proxies in
 * front of the boundaries it breaks and, on the local stack, its process faults. Each run writes
 * `results/<ms06-run-id>/<n>-<scenario>/`; the survival of every scenario (flows ok / retried /
 * failed by step × class, breaker transitions, recovery after the last window, unaccounted flows,
 * faults injected) is judged against the scenario's `expect` and written to
 * `results/<ms06-run-id>/survival.json` as each finishes. Exit 0 when every scenario survives, 1
 * naming those that did not, 2 for bad input, 3 when the infrastructure failed.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { durationFlag, durationMs, numberFlag } from '../cli/flagParsers.ts';
import { milestoneProgram } from '../cli/milestoneCli.ts';
import { loadConfig, type ConfigFlags } from '../config/loadConfig.ts';
import type { ConfigOverrides } from '../config/presets.ts';
import type { VanaLoadConfig } from '../config/schema.ts';
import { ConfigError, InfrastructureError } from '../errors.ts';
import { EXIT_CODES } from '../exitCodes.ts';
import { RECOVERY_STREAK } from '../faults/computeSurvival.ts';
import { isSurvivalMetric } from '../faults/evaluateSurvival.ts';
import { loadScenarioFile, parseExpectationFlag, scenarioFromFlags, type Scenario } from '../faults/scenario.ts';
import { scaleScenarioTime, scenarioDurationMs } from '../faults/scenarioTime.ts';
import type { PoissonLoadModel } from '../load/types.ts';
import { makeRunId } from '../metrics/resultsWriter.ts';
import { formatSurvivalTable } from '../report/formatSurvivalTable.ts';
import { dryRun } from '../run/dryRun.ts';
import { checkScenarioTarget } from './ms06/checkScenarioTarget.ts';
import { describeScenario } from './ms06/describeScenario.ts';
import { runScenario, type ScenarioOutcome } from './ms06/runScenario.ts';

/** The shipped scenarios the default run takes (files directly in it; `unsurvivable/` is left out). */
export const MS06_SCENARIOS_DIR = fileURLToPath(new URL('../../milestones/ms-06/scenarios/', import.meta.url));

/** Load and time scale: the full profile, and `--quick` (CI): windows 4× shorter, more arrivals per second. */
export const MS06_PROFILES = {
  full: { rate: 2, timeScale: 1 },
  quick: { rate: 5, timeScale: 0.25 },
} as const;

/**
 * Config MS-06 uses unless a preset, `.env`, the environment or a flag says otherwise. A 5 s HTTP
 * deadline (instead of 30 s) so a black-holed request times out, and is retried, within a fault
 * window; S2K count byte 96 as in MS-05, so encryption does not make the harness the bottleneck.
 */
export const MS06_CONFIG_DEFAULTS: ConfigOverrides = { load: { model: 'poisson' }, timeouts: { httpMs: 5_000 }, data: { s2kCountByte: 96 } };

interface Ms06Options {
  scenario: string[];
  fault: string[];
  expect: string[];
  threshold: string[];
  rate?: number;
  duration?: string;
  timeScale?: number;
  quick?: boolean;
  dryRun?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

const HELP_AFTER = `
Scenarios are data: JSON files (milestones/ms-06/scenarios/README.md documents every key) or
--fault flags, '<boundary>:<kind>[=<value>][,<key>=<value>…]', boundaries rpc, storage, api,
personal_server; proxy faults latency, status, rate_limit, reset, blackhole, truncate; process
faults (local stack only) personal_server_restart, relayer_drain, chain_pause:
  --fault 'storage:status=503,rate=0.1,from=10s,until=40s' --expect 'success_rate>=0.95' --expect 'recovery<10s'
  --fault 'rpc:chain_pause,from=10s,until=20s'

Each scenario runs for its 'duration' (default: end of its last window + 20s) with Poisson
arrivals at --rate; its proxies and process faults are armed as arrivals begin. Survival (per
scenario, from the run's flows.jsonl and summary.json): flows ok / ok after a retry / failed by
step × class / dropped, breaker transitions, recovery = time from the end of the last fault
window until the first of ${RECOVERY_STREAK} flows in a row (in arrival order, scheduled after the window)
succeeded, unaccounted = scheduled − (ok + failed + dropped with a reason), injected.

Exit codes: 0 every scenario survived · 1 one did not (named) · 2 bad scenario or flag · 3 the
stack or the target failed.`;

/** The scenarios of the flags, or every shipped one; each file checked before anything starts. */
function selectScenarios(opts: Ms06Options): Scenario[] {
  const scenarios = opts.scenario.map((file) => loadScenarioFile(file));
  if (opts.fault.length > 0) scenarios.push(scenarioFromFlags({ faults: opts.fault, expect: opts.expect }));
  else if (opts.expect.length > 0) throw new ConfigError('--expect goes with --fault (a scenario file has its own expect block; --threshold overrides every scenario)', { code: 'USAGE' });
  if (opts.scenario.length > 0 || opts.fault.length > 0) return scenarios;
  const files = readdirSync(MS06_SCENARIOS_DIR, { withFileTypes: true }).filter((entry) => entry.isFile() && entry.name.endsWith('.json'));
  return files.map((entry) => entry.name).sort().map((name) => loadScenarioFile(relative(process.cwd(), join(MS06_SCENARIOS_DIR, name))));
}

function modelOf(scenario: Scenario, config: Readonly<VanaLoadConfig>, opts: Ms06Options, rate: number): PoissonLoadModel {
  return {
    kind: 'poisson',
    rate,
    durationMs: opts.duration !== undefined ? durationMs(opts.duration) : scenarioDurationMs(scenario),
    maxInFlight: config.load.maxInFlight,
    seed: config.load.seed ?? scenario.seed,
  };
}

export async function runResilienceMilestone(argv: readonly string[]): Promise<number> {
  const program = milestoneProgram('test-resilience', 'MS-06: fault scenarios against the flow (proxies at each boundary, process faults), survival table and verdict', (c) =>
    c
      .option('--scenario <file>', 'scenario file (JSON), repeatable; default every file in milestones/ms-06/scenarios/', collect, [])
      .option('--fault <spec>', "a fault as a flag (see below), repeatable: all of them make one scenario named 'flags'", collect, [])
      .option('--expect <expr>', "an expectation of the --fault scenario, e.g. 'recovery<10s', 'success_rate>=0.95'", collect, [])
      .option('--threshold <expr>', "overrides the same metric's expectation in every scenario (survival metrics recovery, unaccounted, injected, or any run threshold)", collect, [])
      .option('--rate <per-second>', `Poisson arrivals per second; default ${MS06_PROFILES.full.rate}, ${MS06_PROFILES.quick.rate} with --quick`, numberFlag('--rate', 0.01, 10_000))
      .option('--duration <duration>', "arrivals per scenario, instead of each scenario's own (fault windows are not moved)", durationFlag('--duration', 1_000))
      .option('--time-scale <factor>', `multiplies every fault window and scenario duration (0.25 = 4× shorter); default 1, ${MS06_PROFILES.quick.timeScale} with --quick`, numberFlag('--time-scale', 0.01, 100))
      .option('--quick', `CI scale: windows × ${MS06_PROFILES.quick.timeScale} and ${MS06_PROFILES.quick.rate} arrivals/s unless --time-scale/--rate say otherwise`)
      .addHelpText('after', HELP_AFTER),
  );
  program.parse(argv as string[]);
  const opts = program.opts<Ms06Options>();
  const profile = opts.quick ? MS06_PROFILES.quick : MS06_PROFILES.full;
  const rate = opts.rate ?? profile.rate;
  const timeScale = opts.timeScale ?? profile.timeScale;

  // 1. Everything is checked before anything starts: scenarios, flags, config, target.
  const scenarios = selectScenarios(opts).map((scenario) => scaleScenarioTime(scenario, timeScale));
  const names = new Set<string>();
  for (const scenario of scenarios) {
    if (names.has(scenario.name)) throw new ConfigError(`Two scenarios are named ${scenario.name}; names must be unique in a run`, { code: 'SCENARIO_INVALID' });
    names.add(scenario.name);
  }
  const overrides = opts.threshold.map((expression) => parseExpectationFlag(expression, '--threshold'));
  const survivalOverrides = overrides.filter((e) => isSurvivalMetric(e.metric));
  const runThresholds = overrides.filter((e) => !isSurvivalMetric(e.metric)).map((e) => e.expression);
  const flags: ConfigFlags = program.opts() as ConfigFlags;
  const config = loadConfig({ env: process.env, envFile: { path: '.env', optional: true }, flags, defaults: MS06_CONFIG_DEFAULTS });
  for (const scenario of scenarios) checkScenarioTarget(scenario, config);

  if (opts.dryRun) {
    for (const [i, scenario] of scenarios.entries()) {
      process.stdout.write(`\n━━ [${i + 1}/${scenarios.length}] ${scenario.name} (${scenario.source})\n${describeScenario(scenario).map((l) => `  ${l}\n`).join('')}`);
      const expectations = scenario.expect.filter((e) => !isSurvivalMetric(e.metric));
      await dryRun({ milestone: 'ms-06', defaultThresholds: expectations, config, model: modelOf(scenario, config, opts, rate), thresholds: runThresholds });
    }
    return EXIT_CODES.ok;
  }

  // 2. The MS-06 run directory: survival.json, and one run directory per scenario.
  const runId = config.output.runId ?? makeRunId('ms-06');
  const dir = join(config.output.resultsDir, runId);
  try {
    mkdirSync(config.output.resultsDir, { recursive: true });
    mkdirSync(dir);
  } catch (err) {
    throw new ConfigError(`Cannot create the MS-06 run directory ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (a --run-id used before?)`, { code: 'RESULTS_DIR_EXISTS', cause: err });
  }
  const startedAt = Date.now();
  const outcomes: ScenarioOutcome[] = [];
  let stoppedBy: { scenario: string; exitCode: number; reason: string } | undefined;

  const writeSurvival = async (): Promise<void> => {
    const document = {
      version: 1,
      runId,
      startedAt,
      target: config.target.kind,
      rate,
      timeScale,
      scenarios: outcomes.map((o) => ({
        name: o.scenario.name,
        source: o.scenario.source,
        dir: o.dir,
        verdict: scenarioVerdict(o),
        runExitCode: o.runExitCode,
        ...(o.summary.stopped ? { stopped: o.summary.stopped } : {}),
        expectations: o.verdicts,
        survival: o.survival,
        launchedAt: o.launchedAt,
        proxies: o.proxies,
        processFaults: o.processFaults,
      })),
      ...(stoppedBy ? { stoppedBy } : {}),
      verdict:
        stoppedBy === undefined && outcomes.some(isInvalid)
          ? 'invalid'
          : stoppedBy === undefined && outcomes.every((o) => o.pass) && outcomes.length === scenarios.length
            ? 'pass'
            : 'fail',
    };
    const path = join(dir, 'survival.json');
    await writeFile(`${path}.tmp`, `${JSON.stringify(document, null, 2)}\n`);
    await rename(`${path}.tmp`, path);
  };

  // 3. One run per scenario.
  for (const [i, scenario] of scenarios.entries()) {
    const model = modelOf(scenario, config, opts, rate);
    let outcome: ScenarioOutcome;
    try {
      outcome = await runScenario({
        scenario,
        config,
        model,
        survivalOverrides,
        thresholds: runThresholds,
        resultsDir: dir,
        runId: `${i + 1}-${scenario.name}`,
        title: `Milestone 6: Resilience [${i + 1}/${scenarios.length}] ${scenario.name}`,
        intro: [...describeScenario(scenario), `🌊 Poisson ${rate}/s for ${(model.durationMs! / 1000).toFixed(1)}s · in-flight cap ${config.load.maxInFlight} (--max-in-flight) · relay ${config.relay.mode} · inference ${config.inference.mode}`],
      });
    } catch (err) {
      if (!(err instanceof InfrastructureError)) throw err;
      stoppedBy = { scenario: scenario.name, exitCode: EXIT_CODES.infrastructure, reason: err.shortMessage };
      process.stderr.write(`\n❌ Scenario ${scenario.name}: ${err.shortMessage} (${err.code})\n`);
      break;
    }
    outcomes.push(outcome);
    await writeSurvival();
    // Ctrl-C (130) or SIGTERM (143) ends the milestone; a run its infrastructure stopped (3) as well.
    // An INVALID run (5: the generator fell behind) does not: the next scenarios are judged on their own.
    if (outcome.runExitCode > EXIT_CODES.thresholdFailed && !isInvalid(outcome)) {
      stoppedBy = { scenario: scenario.name, exitCode: outcome.runExitCode, reason: outcome.summary.stopped?.message ?? 'interrupted' };
      break;
    }
  }
  await writeSurvival();

  // 4. The survival table and the verdict.
  const rows = outcomes.map((o) => ({
    name: o.scenario.name,
    pass: o.pass,
    survival: o.survival,
    verdicts: o.verdicts,
    ...(o.summary.stopped ? { note: `the run stopped: ${o.summary.stopped.message} (${o.summary.stopped.code})` } : {}),
    ...(isInvalid(o) ? { invalid: `INVALID: the load generator fell behind: ${o.summary.generatorHealth?.reasons.join('; ') ?? ''}` } : {}),
  }));
  process.stdout.write(`\n${'═'.repeat(72)}\n🛡️  MS-06 survival (${config.target.kind} target, ${rate} arrivals/s, time scale ${timeScale})\n${formatSurvivalTable(rows)}\n`);
  process.stdout.write(`\n📁 ${join(dir, 'survival.json')}\n`);
  const failed = outcomes.filter((o) => !o.pass).map((o) => o.scenario.name);
  const notRun = scenarios.filter((s) => !outcomes.some((o) => o.scenario === s) && s.name !== stoppedBy?.scenario).map((s) => s.name);
  if (stoppedBy !== undefined) {
    process.stdout.write(`\nVERDICT: FAIL — stopped at ${stoppedBy.scenario}: ${stoppedBy.reason} (exit ${stoppedBy.exitCode})${failed.length > 0 ? `; did not survive: ${failed.join(', ')}` : ''}${notRun.length > 0 ? `; not run: ${notRun.join(', ')}` : ''}\n`);
    return stoppedBy.exitCode;
  }
  const invalid = outcomes.filter(isInvalid).map((o) => o.scenario.name);
  if (invalid.length > 0) {
    // As in a single run: a scenario whose generator fell behind measured the harness, so the survival verdict is not given.
    process.stdout.write(
      `\nVERDICT: INVALID — the load generator fell behind in ${invalid.length}/${outcomes.length} scenarios: ${invalid.join(', ')}${failed.length > invalid.length ? `; did not survive besides: ${failed.filter((n) => !invalid.includes(n)).join(', ')}` : ''}\n`,
    );
    return EXIT_CODES.invalid;
  }
  if (failed.length > 0) {
    process.stdout.write(`\nVERDICT: FAIL — ${failed.length}/${outcomes.length} scenarios did not survive: ${failed.join(', ')}\n`);
    return EXIT_CODES.thresholdFailed;
  }
  process.stdout.write(`\nVERDICT: PASS — all ${outcomes.length} scenarios survived\n`);
  return EXIT_CODES.ok;
}

/** A scenario whose run ended INVALID: its harness fell behind, so its figures describe the harness. */
const isInvalid = (o: ScenarioOutcome): boolean => o.summary.verdict === 'invalid';

/** A scenario's verdict in survival.json. */
const scenarioVerdict = (o: ScenarioOutcome): 'pass' | 'fail' | 'invalid' => (isInvalid(o) ? 'invalid' : o.pass ? 'pass' : 'fail');
