#!/usr/bin/env node
/**
 * The `vana-load` command: `stack` (the local stack in the foreground, = `npm run dev`),
 * `report <dir>` (rebuild a run's summary.json and report.html, = `npm run report -- <dir>`) and
 * `memory <dir>` (is a process's memory flat over the run? = `npm run memory -- <dir>`) and
 * `compare <baseline> <candidate>` (did a run get significantly worse? = `npm run compare -- <a> <b>`).
 * Other subcommands (run, wallets) are added by their issues.
 */
import { Command } from 'commander';
import { createLogger } from '../logger.ts';
import { DEFAULT_STACK_PORTS, runStackCommand } from './stackCommand.ts';
import { runReportCommand } from './reportCommand.ts';
import { DEFAULT_MANIFEST_PATH } from '../stack/manifest.ts';
import { DEFAULT_BLOCK_GAS_LIMIT, DEFAULT_BLOCK_TIME_SECONDS } from '../stack/startLocalStack.ts';

interface StackOptions {
  blockTime: number;
  blockGasLimit: number;
  relayers: number;
  apiPort: number;
  storagePort: number;
  personalServerPort: number;
  anvilPort: number;
  manifest: string;
  logLevel: string;
}
import { exitCodeFor, formatError } from './exitWithError.ts';
import { durationFlag, durationMs, intFlag, numberFlag } from './milestoneCli.ts';
import { runMemoryCommand } from './memoryCommand.ts';
import { runCompareCommand } from './compareCommand.ts';
import { MAX_REGRESSION_HELP } from '../report/maxRegression.ts';

// Before the subcommands are added, so they inherit it: a usage error exits 2 (ARCHITECTURE.md 7).
const program = new Command('vana-load')
  .description('Load-test harness for the Vana data-portability flow')
  .showHelpAfterError()
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

program
  .command('stack')
  .description('start the local stack (anvil + contracts, storage, personal server, API server) in the foreground')
  .option('--block-time <seconds>', 'seconds between blocks, fractions allowed; 0 = automine', numberFlag('--block-time', 0, 3600), DEFAULT_BLOCK_TIME_SECONDS)
  .option('--block-gas-limit <gas>', 'block gas limit of the anvil chain (a first flow of a user costs ~1.26M)', intFlag('--block-gas-limit', 30_000_000, 2_000_000_000), DEFAULT_BLOCK_GAS_LIMIT)
  .option('--relayers <n>', 'relayer accounts in the API server pool', intFlag('--relayers', 1, 64), 4)
  .option('--api-port <port>', 'API server port', intFlag('--api-port', 0, 65535), DEFAULT_STACK_PORTS.api)
  .option('--storage-port <port>', 'storage service port', intFlag('--storage-port', 0, 65535), DEFAULT_STACK_PORTS.storage)
  .option('--personal-server-port <port>', 'personal server port', intFlag('--personal-server-port', 0, 65535), DEFAULT_STACK_PORTS.personalServer)
  .option('--anvil-port <port>', 'anvil JSON-RPC port', intFlag('--anvil-port', 0, 65535), DEFAULT_STACK_PORTS.anvil)
  .option('--manifest <path>', 'where to write the stack manifest', DEFAULT_MANIFEST_PATH)
  .option('--log-level <level>', 'stack log level (logs go to stderr as JSON lines)', 'warn')
  .action(async (opts: StackOptions) => {
    const logger = createLogger({ level: opts.logLevel as 'warn' });
    await runStackCommand({
      blockTime: opts.blockTime,
      blockGasLimit: opts.blockGasLimit,
      relayerCount: opts.relayers,
      apiPort: opts.apiPort,
      storagePort: opts.storagePort,
      personalServerPort: opts.personalServerPort,
      anvilPort: opts.anvilPort,
      manifestPath: opts.manifest,
      logger,
      print: (line) => process.stdout.write(`${line}\n`),
    });
  });

program
  .command('report')
  .description('rebuild summary.json and report.html of a run from flows.jsonl + timeseries.jsonl, judge it again and print the final report (exit 0 pass, 1 fail)')
  .argument('<dir>', 'results directory, e.g. results/2026-11-23T11-40-00Z-ms03-ab12')
  .option('--threshold <expr>', "k6-style threshold, repeatable, e.g. 'e2e.p95<120s'; overrides the run's threshold for the same metric", (value: string, previous: string[]) => [...previous, value], [] as string[])
  .action(async (dir: string, opts: { threshold: string[] }) => {
    const { exitCode } = await runReportCommand({ dir, thresholds: opts.threshold });
    process.exitCode = exitCode;
  });

program
  .command('memory')
  .description("a process's memory over a run, from timeseries.jsonl: RSS and heap per time bucket, and the slope against flows completed (is it flat?)")
  .argument('<dir>', 'results directory, e.g. results/stream-100k-r25')
  .option('--process <name>', 'harness, stack or anvil', 'harness')
  .option('--bucket <duration>', 'bucket length, e.g. 5m', durationFlag('--bucket'), '5m')
  .option('--warmup <duration>', 'samples before this are left out of the slope (V8 grows its heap at first)', durationFlag('--warmup'), '5m')
  .action(async (dir: string, opts: { process: string; bucket: string; warmup: string }) => {
    await runMemoryCommand({ dir, process: opts.process, bucketS: durationMs(opts.bucket) / 1000, warmupS: durationMs(opts.warmup) / 1000 });
  });

program
  .command('compare')
  .description(
    'compare a candidate run with a baseline: latency per step with bootstrap confidence intervals, success rates, throughput, errors, CPU per flow; ' +
      'writes compare.html; exit 1 only when a --max-regression metric is worse beyond its tolerance and significantly so',
  )
  .argument('<baseline>', 'results directory of the baseline run')
  .argument('<candidate>', 'results directory of the candidate run (compare.html is written there)')
  .option('--max-regression <rule>', `tolerated worsening, repeatable; ${MAX_REGRESSION_HELP}`, (value: string, previous: string[]) => [...previous, value], [] as string[])
  .option('--alpha <p>', 'two-sided significance level of the tests; intervals are 1 - alpha', numberFlag('--alpha', 0.0001, 0.5), 0.05)
  .option('--force', 'compare runs with another target or load model kind (other differences only warn)')
  .option('--out <file>', 'where to write compare.html (default <candidate>/compare.html)')
  .action(async (baseline: string, candidate: string, opts: { maxRegression: string[]; alpha: number; force?: boolean; out?: string }) => {
    const { exitCode } = await runCompareCommand({
      baseline,
      candidate,
      maxRegressions: opts.maxRegression,
      alpha: opts.alpha,
      force: opts.force === true,
      ...(opts.out !== undefined ? { out: opts.out } : {}),
    });
    process.exitCode = exitCode;
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`${formatError(err)}\n`);
  process.exit(exitCodeFor(err));
}
