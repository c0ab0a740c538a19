/**
 * `vana-load capacity`: the highest Poisson arrival rate the target sustains within an SLO
 * (searchCapacity.ts), each step a `runLoadTest` run judged by the SLO as thresholds.
 *
 * On the local target every step runs on a fresh stack: anvil's CPU per transaction grows with
 * the storage our contracts accumulate (12 ms at the start, 20+ ms after a few thousand flows), so
 * on one stack a later step would be judged on a slower chain than an earlier one. `--reuse-stack`
 * keeps one stack for the whole search (faster, order-dependent).
 *
 * Writes `<results-dir>/capacity-<stamp>/`: `capacity.json` and `report.html` after every step
 * (so a stopped search keeps what it measured), and one run directory per step. Ctrl-C stops the
 * step in flight (runLoadTest drains it), stops the search and writes the result so far; a second
 * Ctrl-C between steps exits at once.
 *
 * Exit codes: 0 a sustainable rate was found, 1 none was (the start rate failed the SLO),
 * 3 the stack or target failed, 128 + signal when interrupted (130 for Ctrl-C).
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, constants as osConstants, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import type { VanaLoadConfig } from '../config/schema.ts';
import { exitCodeFor, formatError } from '../cli/errorOutput.ts';
import { InfrastructureError } from '../errors.ts';
import { EXIT_CODES } from '../exitCodes.ts';
import type { PoissonLoadModel } from '../load/types.ts';
import { VANA_LOAD_VERSION } from '../metrics/summary.ts';
import type { RunSummary } from '../metrics/types.ts';
import { writeCapacityHtml } from '../report/capacityHtml.ts';
import type { OutputStream } from '../report/terminal.ts';
import { RUN_SIGNALS } from '../run/interruption.ts';
import { runLoadTest } from '../run/runLoadTest.ts';
import { ensureStack, isStackHealthy, type StackHandle } from '../stack/ensureStack.ts';
import { writeManifest } from '../stack/manifest.ts';
import { stackOptionsFromConfig } from '../stack/stackOptionsFromConfig.ts';
import { describeSlo, detailLines, resultLines, sloThresholds, stepLine, stepStartLine } from './formatCapacity.ts';
import { readBlockNumber, readChainLoad } from './readChainLoad.ts';
import { searchCapacity } from './searchCapacity.ts';
import { seedForRate } from './seedForRate.ts';
import { summarizeCapacity } from './summarizeCapacity.ts';
import { toCapacityStep } from './toCapacityStep.ts';
import type { CapacityOptions, CapacityResult, CapacityStep } from './types.ts';

export interface RunCapacityParameters {
  options: Readonly<CapacityOptions>;
  /** From `loadCapacityConfig`: hermetic for the local target, the remote target's otherwise. */
  config: Readonly<VanaLoadConfig>;
  /** As typed, for the record (`vana-load capacity --quick`). The flags hold no secret. */
  command: string;
  stdout?: OutputStream;
  /** Signals that stop the search; default SIGINT, SIGTERM, SIGHUP. */
  signals?: readonly NodeJS.Signals[];
}

export interface RunCapacityReturnType {
  exitCode: number;
  result: CapacityResult;
  /** `<results-dir>/capacity-<stamp>`. */
  dir: string;
}

/** A repeat this soon is the same Ctrl-C delivered twice (terminal group + tsx relay), not a second one. */
const REPEATED_SIGNAL_WINDOW_MS = 1_000;

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

async function makeRunDir(resultsDir: string): Promise<string> {
  await mkdir(resultsDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z').replaceAll(':', '-');
  for (let n = 1; ; n++) {
    const dir = join(resultsDir, `capacity-${stamp}${n === 1 ? '' : `-${n}`}`);
    try {
      await mkdir(dir);
      return dir;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

async function writeJsonAtomically(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(tmp, path);
}

/**
 * Runs the search; see the module comment. Bad flags are `loadCapacityConfig`'s to refuse, before
 * this starts anything.
 *
 * @example
 * const { options, config } = loadCapacityConfig({ flags: { quick: true } });
 * const { exitCode } = await runCapacity({ options, config, command: 'vana-load capacity --quick' });
 */
export async function runCapacity({ options, config, command, stdout = process.stdout, signals = RUN_SIGNALS }: RunCapacityParameters): Promise<RunCapacityReturnType> {
  const print = (line = ''): void => void stdout.write(`${line}\n`);
  const local = config.target.kind === 'local';
  // As the step summaries count them (their CPU limit uses this).
  const cores = availableParallelism();
  const dir = await makeRunDir(options.resultsDir);
  const date = new Date().toISOString();
  const loadAverageAtStart = loadavg()[0]!;

  print(`${command}   (${date}, node ${process.version}, ${cores} cores, load ${loadAverageAtStart.toFixed(1)})`);
  print(
    `SLO: ${describeSlo(options.slo)} · steps of ${options.stepDurationMs / 1000}s from ${options.startRate}/s ${options.step.text}` +
      ` up to ${options.maxRate}/s, then ${options.bisectSteps} bisection(s)`,
  );
  print(
    local
      ? `Target: local stack (hermetic: .env and VANA_* not read), block time ${options.blockTime === 0 ? '0 (automine)' : `${options.blockTime}s`},` +
          ` ${config.stack.relayerCount} relayers, sim inference latency 0 · data ${config.data.size}, relay ${config.relay.mode},` +
          ` inference ${config.inference.mode}, S2K count byte ${options.s2kCountByte}, max in flight ${options.maxInFlight}, base seed ${options.seed}`
      : `Target: remote (settings from .env and the environment) · data ${config.data.size}, relay ${config.relay.mode}, inference ${config.inference.mode},` +
          ` S2K count byte ${options.s2kCountByte}, max in flight ${options.maxInFlight}, base seed ${options.seed}` +
          ' · CPU limit: only the harness is measured on a remote target',
  );
  print(`Results: ${dir}/`);

  let interruptedBy: NodeJS.Signals | undefined;
  let interruptedAt = 0;
  let inStep = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    // Inside a step, runLoadTest's own handler drains (and on a second signal aborts) the step.
    if (interruptedBy === undefined) {
      interruptedBy = signal;
      interruptedAt = performance.now();
      if (!inStep) print(`\n⚠️  ${signal}: stopping the search after writing what was measured (again to exit at once)`);
    } else if (!inStep && performance.now() - interruptedAt > REPEATED_SIGNAL_WINDOW_MS) {
      process.exit(128 + osConstants.signals[signal]);
    }
  };
  for (const signal of signals) process.on(signal, onSignal);

  const steps: CapacityStep[] = [];
  const summaries = new Map<number, RunSummary>();
  let failure: unknown;
  let stepExit: number | undefined;
  let stack: StackHandle | undefined;
  const manifestPath = join(dir, 'stack.json');
  const rpcUrl = (): string => (local ? stack!.manifest.rpcUrl : config.chain.rpcUrls[0]!);

  const snapshot = (interrupted: boolean): CapacityResult => {
    const best = summarizeCapacity(steps, { maxRate: options.maxRate, cores, interrupted, error: failure === undefined ? null : formatError(failure) });
    const bestStep = steps.find((s) => !s.interrupted && s.pass && s.rate === best.sustainableRate);
    const bestSummary = bestStep ? summaries.get(bestStep.index) : undefined;
    return {
      version: 2,
      command,
      date,
      environment: { node: process.version, platform: process.platform, cpus: cores, loadAverageAtStart, vanaLoad: VANA_LOAD_VERSION },
      options: { ...options, step: options.step.text },
      conditions: {
        target: config.target.kind,
        ...(local ? { blockTimeSeconds: options.blockTime, relayers: config.stack.relayerCount, inference: 'sim, latency 0, failures 0' } : {}),
        dataSize: config.data.size,
        relay: config.relay.mode,
        inferenceMode: config.inference.mode,
        s2kCountByte: options.s2kCountByte,
        freshStackPerStep: local && !options.reuseStack,
      },
      result: best,
      best: bestStep && bestSummary ? { step: bestStep.index, steps: bestSummary.steps, resources: bestSummary.resources } : null,
      steps,
    };
  };
  const save = async (result: CapacityResult): Promise<void> => {
    await writeJsonAtomically(join(dir, 'capacity.json'), result);
    await writeCapacityHtml(join(dir, 'report.html'), result);
  };

  const startStack = async (): Promise<void> => {
    const t = performance.now();
    stack = await ensureStack({
      attach: false,
      stack: { ...stackOptionsFromConfig(config), logFile: join(dir, 'stack.log'), logLevel: 'warn' },
    });
    await writeManifest(manifestPath, stack.manifest);
    print(`   stack up in ${((performance.now() - t) / 1000).toFixed(1)}s: chain ${stack.manifest.chainId}, API ${stack.manifest.apiUrl}`);
  };

  const runStep = async (phase: CapacityStep['phase'], rate: number): Promise<CapacityStep | undefined> => {
    if (interruptedBy !== undefined) return undefined;
    if (local) {
      if (stack === undefined || (!options.reuseStack && steps.length > 0)) {
        await stack?.stop();
        stack = undefined;
        if (interruptedBy !== undefined) return undefined;
        await startStack();
        if (interruptedBy !== undefined) return undefined;
      }
      if (!(await isStackHealthy(stack!.manifest, 5_000))) {
        throw new InfrastructureError('the local stack stopped answering between steps', { code: 'STACK_UNHEALTHY', metaMessages: [`stack log: ${dir}/stack.log`] });
      }
    }
    const index = steps.length + 1;
    const arrivals = Math.max(1, Math.round(rate * (options.stepDurationMs / 1000)));
    const seed = seedForRate(rate, arrivals, options.seed);
    const model: PoissonLoadModel = { kind: 'poisson', rate, users: arrivals, maxInFlight: options.maxInFlight, seed };
    const runId = `step-${String(index).padStart(2, '0')}-${rate}rps`;
    const startLine = stepStartLine({ index, phase, rate, arrivals, seed }, options.stepDurationMs);
    if (stdout.isTTY) stdout.write(startLine);
    else print(startLine);
    // runLoadTest's live view and final report go to the step's console.txt; only warnings reach the terminal.
    const captured: string[] = [];
    const stepOut: OutputStream = {
      isTTY: false,
      write: (chunk: string): boolean => {
        captured.push(chunk);
        for (const line of chunk.split('\n')) if (/^\s*(⚠️\s+SIG|⚡ circuit breaker|❌ .*stopping the run)/.test(line)) print(`     ${line.trim()}`);
        return true;
      },
    };
    const blockBefore = await readBlockNumber(rpcUrl()).catch((err: unknown) => new Error(`chain not read: ${(err as Error).message.split('\n')[0]}`));
    if (interruptedBy !== undefined) return undefined;
    inStep = true;
    const cpu0 = machineCpuTimes();
    let step: CapacityStep | undefined;
    try {
      const run = await runLoadTest({
        milestone: null,
        title: `Capacity step #${index}: ${rate}/s`,
        config: { ...config, output: { ...config.output, resultsDir: dir, runId } },
        model,
        thresholds: sloThresholds(options.slo, rate),
        stdout: stepOut,
        ...(local ? { manifestPath } : {}),
        signals,
      });
      const cpu1 = machineCpuTimes();
      inStep = false;
      const machineCpuPercent = ((cpu1.busy - cpu0.busy) / Math.max(1, cpu1.total - cpu0.total)) * cpus().length * 100;
      const chain = blockBefore instanceof Error ? { note: blockBefore.message } : await readChainLoad(rpcUrl(), blockBefore);
      step = toCapacityStep({
        index,
        phase,
        rate,
        seed,
        arrivals,
        summary: run.summary,
        dir: run.dir,
        machineCpuPercent,
        loadAverage: loadavg()[0]!,
        cpuScope: local ? 'local' : 'harness',
        ...('note' in chain ? { chain: null, chainNote: chain.note } : { chain }),
      });
      steps.push(step);
      summaries.set(index, run.summary);
      if (run.summary.stopped) failure = new InfrastructureError(run.summary.stopped.message, { code: run.summary.stopped.code });
      else if (step.interrupted && run.exitCode >= 128) stepExit = run.exitCode;
      await writeFile(join(run.dir, 'console.txt'), captured.join(''));
      await save(snapshot(step.interrupted));
      return step;
    } finally {
      inStep = false;
      if (stdout.isTTY) stdout.write('\r\u001b[K');
      if (step) print(stepLine(step));
    }
  };

  try {
    if (local) print(`\n📡 Local stack: ${options.reuseStack ? 'one for the whole search' : 'a fresh one for every step'}`);
    print('');
    await searchCapacity({ startRate: options.startRate, step: options.step, maxRate: options.maxRate, bisectSteps: options.bisectSteps, runStep });
  } catch (err) {
    failure = err;
  } finally {
    if (stack) print('\n🧹 Stopping the local stack...');
    await stack?.stop();
    await rm(manifestPath, { force: true });
    for (const signal of signals) process.off(signal, onSignal);
  }

  const interrupted = interruptedBy !== undefined || stepExit !== undefined;
  const result = snapshot(interrupted);
  print('');
  if (interrupted) print('⚠️  Interrupted: the figures below are what was measured so far.');
  // After a Ctrl-C an error is usually its consequence (e.g. a stack start cut short); capacity.json keeps it.
  if (failure !== undefined && !interrupted) print(`❌ Search stopped: ${formatError(failure)}`);
  for (const line of resultLines(result)) print(line);
  const best = result.best && summaries.get(result.best.step);
  const bestStep = result.best && steps.find((s) => s.index === result.best!.step);
  if (best && bestStep) {
    print(`\nStep #${bestStep.index} at ${bestStep.rate}/s (${bestStep.arrivals} arrivals, seed ${bestStep.seed}): ${bestStep.dir}/`);
    for (const line of detailLines(best, bestStep.machineCpuPercent)) print(line);
  }
  await save(result).catch((err: unknown) => print(`could not write ${dir}: ${(err as Error).message}`));
  print(`\n📁 ${join(dir, 'capacity.json')}\n📊 ${join(dir, 'report.html')}`);

  const exitCode =
    interruptedBy !== undefined
      ? 128 + osConstants.signals[interruptedBy]
      : stepExit !== undefined
        ? stepExit
        : failure !== undefined
          ? exitCodeFor(failure)
          : result.result.sustainableRate === null
            ? EXIT_CODES.thresholdFailed
            : EXIT_CODES.ok;
  return { exitCode, result, dir };
}
