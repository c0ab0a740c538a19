/**
 * `npm run bench -- capacity [options]`: the highest Poisson arrival rate the local stack sustains
 * within an SLO (default: success ≥ 99 % and e2e p95 < 2 s). Every step runs on a fresh local stack:
 * anvil's CPU per transaction grows with the storage our contracts accumulate (12 ms at the start,
 * 20+ ms after a few thousand flows), so on one stack a later step would be judged on a slower chain
 * than an earlier one. `--reuse-stack` keeps one stack for the whole search (faster, order-dependent).
 *
 * Search: run the rate from `--start-rate` up by `--step` (`1.5x` multiplies, `+5` adds) for
 * `--step-duration` each (arrivals = rate × duration) until a step breaks the SLO or `--max-rate`
 * passes; then bisect `--bisect-steps` times between the last good and the first bad rate. A step
 * breaks the SLO when success < `--slo-success`, e2e p95 ≥ `--slo-p95`, the achieved rate is below
 * 97 % of the target, or any arrival was dropped. The SLO is passed to each step as k6-style
 * thresholds, so every step's `summary.json` carries its verdicts.
 *
 * Each step's seed is the first one (from `--seed` on) whose planned schedule averages the nominal
 * rate within ±1 %: the 50 arrivals of a 10 s step at 5/s would otherwise span their 10 s only within
 * ±14 % (one σ) by chance, and "sustains 5/s" would not mean 5/s. The gaps stay exponential (bursts).
 *
 * The config is hermetic (defaults + these flags; `.env` and `VANA_*` are not read), so the figures
 * depend on this command alone: local stack, relayed, sim inference with zero latency and no injected
 * failures. Results: `results/bench-capacity-<stamp>/capacity.json` and one run directory per step.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { flagAttribute } from '../src/config/configOptions.ts';
import { loadConfig } from '../src/config/loadConfig.ts';
import { duration } from '../src/config/parsers.ts';
import type { VanaLoadConfig } from '../src/config/schema.ts';
import { stackOptionsFromConfig } from '../src/stack/stackOptionsFromConfig.ts';
import { exitCodeFor, formatError } from '../src/cli/errorOutput.ts';
import { runMilestoneMain } from '../src/cli/milestoneCli.ts';
import { ConfigError, InfrastructureError } from '../src/errors.ts';
import { STEP_NAMES } from '../src/flow.ts';
import { poissonSchedule } from '../src/load/schedules.ts';
import type { PoissonLoadModel } from '../src/load/types.ts';
import type { RunSummary } from '../src/metrics/types.ts';
import { MS05_S2K_COUNT_BYTE } from '../src/milestones/ms05.ts';
import { EXIT_INTERRUPTED, runLoadTest } from '../src/run/runLoadTest.ts';
import { ensureStack, isStackHealthy, type StackHandle } from '../src/stack/ensureStack.ts';
import { writeManifest } from '../src/stack/manifest.ts';
import { createSeededRandom } from '../src/util/seededRandom.ts';

interface CapacityOptions {
  sloSuccess: number;
  sloP95Ms: number;
  startRate: number;
  step: { kind: 'multiply' | 'add'; by: number; text: string };
  maxRate: number;
  stepDurationMs: number;
  bisectSteps: number;
  blockTime: number;
  s2kCountByte: number;
  maxInFlight: number;
  seed: number;
  reuseStack: boolean;
}

/** One step of the search, as printed and written to capacity.json. */
interface CapacityStep {
  index: number;
  phase: 'ramp' | 'bisect';
  rate: number;
  seed: number;
  arrivals: number;
  achievedRate: number | null;
  successRate: number;
  e2eP95Ms: number | null;
  dropped: number;
  schedulerLagMaxMs: number;
  cpu: Record<string, { avgPercent: number; msPerFlow: number | null }>;
  /** Whole machine over the step, percent of one core (200 % = both cores of a 2-core box): shows CPU taken by other work. */
  machineCpuPercent: number;
  /** 1-minute load average at the end of the step. */
  loadAverage: number;
  /** Failed SLO thresholds, e.g. `e2e.p95<2000ms (got 2.31s)`; empty when the step passed. */
  breaches: string[];
  pass: boolean;
  interrupted: boolean;
  dir: string;
}

const ACHIEVED_FLOOR = 0.97;
const SEED_TOLERANCE = 0.01;
const argv = process.argv.slice(2);
const print = (line = ''): void => void process.stdout.write(`${line}\n`);

const FLAGS = {
  'slo-success': { type: 'string', default: '0.99' },
  'slo-p95': { type: 'string', default: '2s' },
  'start-rate': { type: 'string', default: '5' },
  step: { type: 'string', default: '1.5x' },
  'max-rate': { type: 'string', default: '60' },
  'step-duration': { type: 'string' },
  'bisect-steps': { type: 'string', default: '3' },
  quick: { type: 'boolean', default: false },
  'block-time': { type: 'string', default: '0' },
  's2k-count-byte': { type: 'string', default: String(MS05_S2K_COUNT_BYTE) },
  'max-in-flight': { type: 'string' },
  seed: { type: 'string', default: '1' },
  'reuse-stack': { type: 'boolean', default: false },
} as const;

function parseOptions(args: readonly string[]): Readonly<CapacityOptions> {
  const { values } = (() => {
    try {
      return parseArgs({ args: [...args], options: FLAGS });
    } catch (err) {
      throw new ConfigError((err as Error).message, { code: 'BENCH_FLAG_INVALID', metaMessages: [`flags: ${Object.keys(FLAGS).map((f) => `--${f}`).join(' ')}`] });
    }
  })();
  const num = (flag: string, raw: string, min: number, max: number, integer = false): number => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      throw new ConfigError(`--${flag}: Expected ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got "${raw}"`, { code: 'BENCH_FLAG_INVALID' });
    }
    return n;
  };
  const ms = (flag: string, raw: string, min: number, max: number): number => {
    const parser = duration(min, max);
    const parsed = parser.parse(raw);
    if (!parsed.ok) throw new ConfigError(`--${flag}: Expected ${parser.expected}, got "${raw}"`, { code: 'BENCH_FLAG_INVALID' });
    return parsed.value;
  };
  const stepMatch = /^(?:x|\*)?(\d+(?:\.\d+)?)x?$|^\+(\d+(?:\.\d+)?)$/.exec(values.step);
  const step: CapacityOptions['step'] | undefined =
    stepMatch?.[1] !== undefined && /x|\*/.test(values.step) && Number(stepMatch[1]) > 1
      ? { kind: 'multiply', by: Number(stepMatch[1]), text: `×${Number(stepMatch[1])}` }
      : stepMatch?.[2] !== undefined && Number(stepMatch[2]) > 0
        ? { kind: 'add', by: Number(stepMatch[2]), text: `+${Number(stepMatch[2])}/s` }
        : undefined;
  if (!step) throw new ConfigError(`--step: Expected a factor > 1 such as "1.5x" or an increment such as "+5", got "${values.step}"`, { code: 'BENCH_FLAG_INVALID' });
  const sloP95Ms = ms('slo-p95', values['slo-p95'], 1, 3_600_000);
  const startRate = num('start-rate', values['start-rate'], 0.1, 10_000);
  const maxRate = num('max-rate', values['max-rate'], 0.1, 10_000);
  if (maxRate < startRate) throw new ConfigError(`--max-rate: Expected at least --start-rate (${startRate}), got ${maxRate}`, { code: 'BENCH_FLAG_INVALID' });
  const stepDurationMs = ms('step-duration', values['step-duration'] ?? (values.quick ? '10s' : '30s'), 1_000, 3_600_000);
  if (Math.round(startRate * (stepDurationMs / 1000)) < 1) {
    throw new ConfigError(`--start-rate × --step-duration: Expected at least one arrival per step, got ${startRate}/s × ${stepDurationMs / 1000}s`, { code: 'BENCH_FLAG_INVALID' });
  }
  return Object.freeze({
    sloSuccess: num('slo-success', values['slo-success'], 0, 1),
    sloP95Ms,
    startRate,
    step,
    maxRate,
    stepDurationMs,
    bisectSteps: num('bisect-steps', values['bisect-steps'], 0, 20, true),
    blockTime: num('block-time', values['block-time'], 0, 3_600),
    s2kCountByte: num('s2k-count-byte', values['s2k-count-byte'], 0, 255, true),
    // High enough not to bind while the p95 SLO holds (in flight ≈ rate × e2e, with Poisson bursts on top).
    maxInFlight: values['max-in-flight'] !== undefined ? num('max-in-flight', values['max-in-flight'], 1, 1_000_000, true) : Math.max(50, Math.ceil(3 * maxRate * (sloP95Ms / 1000))),
    seed: num('seed', values.seed, 0, 2 ** 31, true),
    reuseStack: values['reuse-stack'],
  });
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

/** Busy and total CPU time of the whole machine so far (ms, summed over cores). */
function machineCpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.irq + times.idle;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

function nextRate(rate: number, step: CapacityOptions['step']): number {
  return Math.max(rate + 0.1, round1(step.kind === 'multiply' ? rate * step.by : rate + step.by));
}

/** The first seed from `from` whose planned schedule of `arrivals` averages `rate` within ±1 % (else the closest of 10 000). */
function seedForRate(rate: number, arrivals: number, from: number): number {
  let best = { seed: from, error: Infinity };
  for (let seed = from; seed < from + 10_000; seed++) {
    let endMs = 0;
    for (const event of poissonSchedule({ rate, users: arrivals }, createSeededRandom(seed))) endMs = event.at;
    const error = endMs > 0 ? Math.abs(arrivals / (endMs / 1000) / rate - 1) : Infinity;
    if (error <= SEED_TOLERANCE) return seed;
    if (error < best.error) best = { seed, error };
  }
  return best.seed;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const secs = (ms: number | null): string => (ms === null ? '–' : `${(ms / 1000).toFixed(2)}s`);
const cpuText = (step: CapacityStep): string =>
  Object.entries(step.cpu)
    .map(([name, c]) => `${name} ${c.avgPercent.toFixed(0)}%`)
    .join(' ');

function stepLine(step: CapacityStep): string {
  if (step.interrupted) return `  #${String(step.index).padEnd(2)} ${step.phase.padEnd(6)} ${`${step.rate}/s`.padStart(7)}  ⚠️  interrupted: not counted`;
  const verdict = step.pass ? '✅' : `❌ ${step.breaches.join('; ')}`;
  return (
    `  #${String(step.index).padEnd(2)} ${step.phase.padEnd(6)} ${`${step.rate}/s`.padStart(7)}  achieved ${`${step.achievedRate?.toFixed(2) ?? '–'}/s`.padStart(8)}` +
    `  success ${pct(step.successRate).padStart(6)}  p95 ${secs(step.e2eP95Ms).padStart(6)}  lag max ${`${Math.round(step.schedulerLagMaxMs)}ms`.padStart(6)}` +
    `  cpu ${cpuText(step)} (machine ${step.machineCpuPercent.toFixed(0)}%, load ${step.loadAverage.toFixed(1)})  ${verdict}`
  );
}

function toStep(
  index: number,
  phase: CapacityStep['phase'],
  rate: number,
  seed: number,
  arrivals: number,
  summary: RunSummary,
  dir: string,
  machineCpuPercent: number,
): CapacityStep {
  const interrupted = summary.interrupted;
  const breaches = summary.thresholds.filter((t) => !t.pass).map((t) => `${t.expression} (got ${t.actualText})`);
  return {
    index,
    phase,
    rate,
    seed,
    arrivals,
    achievedRate: summary.rates.achievedRate,
    successRate: summary.rates.successRate,
    e2eP95Ms: summary.steps.e2e?.p95 ?? null,
    dropped: summary.counts.dropped,
    schedulerLagMaxMs: summary.scheduler?.lagMs.max ?? 0,
    cpu: Object.fromEntries(summary.resources.map((r) => [r.name, { avgPercent: r.cpuAvgPercent, msPerFlow: r.cpuMsPerFlow }])),
    machineCpuPercent,
    loadAverage: loadavg()[0]!,
    breaches,
    pass: !interrupted && summary.verdict === 'pass',
    interrupted,
    dir,
  };
}

/** Per-step latency and per-process CPU of the best step: where the time and the CPU go. */
function detailLines(summary: RunSummary, machineCpuPercent: number): string[] {
  const lines = [`  ${'step'.padEnd(18)}${'p50'.padStart(9)}${'p95'.padStart(9)}${'p99'.padStart(9)}   (ms)`];
  for (const name of [...STEP_NAMES, 'e2e'] as const) {
    const p = summary.steps[name];
    if (p) lines.push(`  ${name.padEnd(18)}${p.p50.toFixed(1).padStart(9)}${p.p95.toFixed(1).padStart(9)}${p.p99.toFixed(1).padStart(9)}`);
  }
  lines.push('', `  ${'process'.padEnd(18)}${'CPU avg'.padStart(9)}${'CPU peak'.padStart(10)}${'CPU ms/flow'.padStart(13)}${'RSS peak'.padStart(10)}`);
  let total = 0;
  for (const r of summary.resources) {
    total += r.cpuAvgPercent;
    lines.push(
      `  ${r.name.padEnd(18)}${`${r.cpuAvgPercent.toFixed(0)}%`.padStart(9)}${`${r.cpuPeakPercent.toFixed(0)}%`.padStart(10)}` +
        `${(r.cpuMsPerFlow?.toFixed(1) ?? '–').padStart(13)}${`${Math.round(r.rssPeakBytes / 1_048_576)}MB`.padStart(10)}`,
    );
  }
  const busiest = [...summary.resources].sort((a, b) => b.cpuAvgPercent - a.cpuAvgPercent)[0];
  lines.push(`  ${'all three'.padEnd(18)}${`${total.toFixed(0)}%`.padStart(9)}   of ${cpus().length * 100}% (${cpus().length} cores)`);
  lines.push(`  ${'whole machine'.padEnd(18)}${`${machineCpuPercent.toFixed(0)}%`.padStart(9)}   (anything above the three is other work on the machine)`);
  if (busiest) lines.push(`  busiest: ${busiest.name} (${busiest.cpuAvgPercent.toFixed(0)}% of one core); CPU % = share of one core, averaged over the step`);
  return lines;
}

async function main(): Promise<number> {
  const options = parseOptions(argv);
  const stamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z').replaceAll(':', '-');
  const resultsDir = join('results', `bench-capacity-${stamp}`);
  const flag = flagAttribute;
  const config: Readonly<VanaLoadConfig> = loadConfig({
    env: {},
    flags: {
      [flag('--target')]: 'local',
      [flag('--block-time')]: String(options.blockTime),
      [flag('--s2k-count-byte')]: String(options.s2kCountByte),
      [flag('--inference-backend')]: 'sim',
      [flag('--sim-latency-p50')]: '0',
      [flag('--sim-latency-p95')]: '0',
      [flag('--results-dir')]: resultsDir,
      // A Ctrl-C'd step is discarded anyway: do not wait long for its flows.
      [flag('--shutdown-grace')]: '10s',
    },
  });
  const thresholdsFor = (rate: number): string[] => [
    `success_rate>=${options.sloSuccess}`,
    `e2e.p95<${options.sloP95Ms}ms`,
    `achieved_rate>=${(ACHIEVED_FLOOR * rate).toFixed(3)}/s`,
    'dropped_count==0',
  ];

  print(`npm run bench -- capacity ${argv.join(' ')}   (${new Date().toISOString()}, node ${process.version}, ${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)})`);
  print(
    `SLO: success ≥ ${pct(options.sloSuccess)}, e2e p95 < ${secs(options.sloP95Ms)}, achieved ≥ ${ACHIEVED_FLOOR * 100}% of target, no dropped arrivals` +
      ` · steps of ${options.stepDurationMs / 1000}s from ${options.startRate}/s ${options.step.text} up to ${options.maxRate}/s, then ${options.bisectSteps} bisection(s)`,
  );
  print(
    `Stack: local, block time ${options.blockTime === 0 ? '0 (automine)' : `${options.blockTime}s`}, ${config.stack.relayerCount} relayers, sim inference latency 0` +
      ` · data ${config.data.size}, relay ${config.relay.mode} · inference ${config.inference.mode}, S2K count byte ${options.s2kCountByte}, max in flight ${options.maxInFlight}, base seed ${options.seed}`,
  );
  print(`Results: ${resultsDir}/`);

  let interrupted = false;
  let interruptedAt = 0;
  let inStep = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    // Inside a step, runLoadTest's own handler drains (and on a second signal aborts) the step.
    if (!interrupted) {
      interrupted = true;
      interruptedAt = performance.now();
      if (!inStep) print(`\n⚠️  ${signal}: stopping the search (again to exit at once)`);
    } else if (!inStep && performance.now() - interruptedAt > 1_000) {
      // Within a second it is the same Ctrl-C relayed once more (tsx does that), not a second one.
      process.exit(EXIT_INTERRUPTED);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const steps: CapacityStep[] = [];
  const summaries = new Map<number, RunSummary>();
  let failure: unknown;
  let stack: StackHandle | undefined;
  const manifestPath = join(resultsDir, 'stack.json');

  const startStack = async (): Promise<void> => {
    const t = performance.now();
    stack = await ensureStack({
      attach: false,
      stack: { ...stackOptionsFromConfig(config), logFile: join(resultsDir, 'stack.log'), logLevel: 'warn' },
    });
    await writeManifest(manifestPath, stack.manifest);
    print(`✅ Stack up in ${((performance.now() - t) / 1000).toFixed(1)}s: chain ${stack.manifest.chainId}, API ${stack.manifest.apiUrl}`);
  };

  const runStep = async (phase: CapacityStep['phase'], rate: number): Promise<CapacityStep | undefined> => {
    if (interrupted) return undefined;
    if (!options.reuseStack && steps.length > 0) {
      await stack?.stop();
      stack = undefined;
      if (interrupted) return undefined;
      await startStack();
    }
    if (!(await isStackHealthy(stack!.manifest, 5_000))) {
      throw new InfrastructureError('the local stack stopped answering between steps', { code: 'STACK_UNHEALTHY', metaMessages: [`stack log: ${resultsDir}/stack.log`] });
    }
    const index = steps.length + 1;
    const arrivals = Math.max(1, Math.round(rate * (options.stepDurationMs / 1000)));
    const seed = seedForRate(rate, arrivals, options.seed);
    const model: PoissonLoadModel = { kind: 'poisson', rate, users: arrivals, maxInFlight: options.maxInFlight, seed };
    const runId = `step-${String(index).padStart(2, '0')}-${rate}rps`;
    const captured: string[] = [];
    // runLoadTest's live view and final report go to the step's console.txt; only warnings reach the terminal.
    const stdout = {
      isTTY: false,
      write: (chunk: string): boolean => {
        captured.push(chunk);
        for (const line of chunk.split('\n')) if (/^\s*(⚠️\s+SIG|⚡ circuit breaker)/.test(line)) print(`     ${line.trim()}`);
        return true;
      },
    };
    if (process.stdout.isTTY) process.stdout.write(`  #${index} ${phase} ${rate}/s: ${arrivals} arrivals…`);
    inStep = true;
    const cpu0 = machineCpuTimes();
    try {
      const result = await runLoadTest({
        milestone: null,
        title: `Capacity step #${index}: ${rate}/s`,
        config: { ...config, output: { ...config.output, runId } },
        model,
        thresholds: thresholdsFor(rate),
        stdout,
        manifestPath,
      });
      const cpu1 = machineCpuTimes();
      const machineCpuPercent = ((cpu1.busy - cpu0.busy) / Math.max(1, cpu1.total - cpu0.total)) * cpus().length * 100;
      const step = toStep(index, phase, rate, seed, arrivals, result.summary, result.dir, machineCpuPercent);
      steps.push(step);
      summaries.set(index, result.summary);
      await writeFile(join(result.dir, 'console.txt'), captured.join(''));
      return step;
    } finally {
      inStep = false;
      if (process.stdout.isTTY) process.stdout.write('\r\u001b[K');
      const last = steps.at(-1);
      if (last?.index === index) print(stepLine(last));
    }
  };

  let good: CapacityStep | undefined;
  let bad: CapacityStep | undefined;
  try {
    print(`\n📡 Starting the local stack (${options.reuseStack ? 'one for the whole search' : 'a fresh one for every step'})...`);
    await mkdir(resultsDir, { recursive: true });
    await startStack();

    for (let rate = options.startRate; ; rate = Math.min(options.maxRate, nextRate(rate, options.step))) {
      const step = await runStep('ramp', rate);
      if (!step || step.interrupted) break;
      if (!step.pass) {
        bad = step;
        break;
      }
      good = step;
      if (rate >= options.maxRate) break;
    }
    for (let i = 0; i < options.bisectSteps && bad && !interrupted; i++) {
      const mid = round1(((good?.rate ?? 0) + bad.rate) / 2);
      if (mid <= (good?.rate ?? 0) || mid >= bad.rate) break;
      const step = await runStep('bisect', mid);
      if (!step || step.interrupted) break;
      if (step.pass) good = step;
      else bad = step;
    }
  } catch (err) {
    failure = err;
  } finally {
    if (stack) print('\n🧹 Stopping the local stack...');
    await stack?.stop();
    await rm(manifestPath, { force: true });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  const ceiling = good !== undefined && bad === undefined && good.rate >= options.maxRate;
  print('');
  if (interrupted) print('⚠️  Interrupted: the figures below are what was found so far.');
  // After a Ctrl-C an error is usually its consequence (e.g. a stack start cut short); capacity.json keeps it.
  if (failure !== undefined && !interrupted) print(`❌ Search stopped: ${formatError(failure)}`);
  if (good) {
    print(
      `🏁 Highest sustainable rate: ${ceiling ? '≥ ' : ''}${good.rate} flows/s` +
        (ceiling ? ` (the search ceiling --max-rate ${options.maxRate} held)` : bad ? ` (first failing: ${bad.rate}/s — ${bad.breaches.join('; ')})` : ''),
    );
    print(`\nStep #${good.index} at ${good.rate}/s (${good.arrivals} arrivals, seed ${good.seed}): ${good.dir}/`);
    for (const line of detailLines(summaries.get(good.index)!, good.machineCpuPercent)) print(line);
  } else {
    print(steps.some((step) => !step.interrupted) ? `🏁 No sustainable rate found${bad ? ` (lowest failing: ${bad.rate}/s — ${bad.breaches.join('; ')})` : ''}.` : '🏁 No step finished.');
  }

  const jsonPath = join(resultsDir, 'capacity.json');
  const output = {
    version: 1,
    command: `npm run bench -- capacity ${argv.join(' ')}`.trim(),
    date: new Date().toISOString(),
    environment: { node: process.version, platform: process.platform, cpus: cpus().length },
    options: { ...options, step: options.step.text },
    conditions: {
      target: 'local',
      blockTimeSeconds: options.blockTime,
      relayers: config.stack.relayerCount,
      inference: 'sim, latency 0, failures 0',
      dataSize: config.data.size,
      relay: config.relay.mode,
      inferenceMode: config.inference.mode,
      s2kCountByte: options.s2kCountByte,
    },
    result: {
      sustainableRate: good?.rate ?? null,
      ceilingReached: ceiling,
      firstFailingRate: bad?.rate ?? null,
      interrupted,
      error: failure === undefined ? null : formatError(failure),
    },
    best: good ? { step: good.index, steps: summaries.get(good.index)!.steps, resources: summaries.get(good.index)!.resources } : null,
    steps,
  };
  await writeFile(jsonPath, `${JSON.stringify(output, null, 2)}\n`).catch((err: unknown) => print(`could not write ${jsonPath}: ${(err as Error).message}`));
  print(`\n📁 ${jsonPath}`);
  if (interrupted) return EXIT_INTERRUPTED;
  return failure === undefined ? 0 : exitCodeFor(failure);
}

await runMilestoneMain(main);
