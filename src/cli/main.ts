#!/usr/bin/env node
/**
 * The `vana-load` command: `stack` (the local stack in the foreground, = `npm run dev`),
 * `report <dir>` (rebuild a run's summary.json and report.html, = `npm run report -- <dir>`) and
 * `memory <dir>` (is a process's memory flat over the run? = `npm run memory -- <dir>`) and
 * `artillery init|run` (distributed runs on Artillery with artillery-engine-vana; `report
 * --from-artillery` reads their output).
 * Other subcommands (run, wallets) are added by their issues.
 */
import { Command, InvalidArgumentError } from 'commander';
import type { LevelWithSilent } from 'pino';
import type { FieldParser } from '../config/parsers.ts';
import { configField } from '../config/schema.ts';
import { createLogger } from '../logger.ts';
import { DEFAULT_STACK_PORTS, runStackCommand } from './stackCommand.ts';
import { runReportCommand } from './reportCommand.ts';
import { artilleryOutputOf, runArtilleryReportCommand } from './artilleryReportCommand.ts';
import { registerArtilleryCommand } from './artilleryCommand.ts';
import { ConfigError } from '../errors.ts';
import { MILESTONE_IDS, type MilestoneId } from '../metrics/thresholds.ts';
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
  logLevel: LevelWithSilent;
}
import { exitCodeFor, formatError } from './exitWithError.ts';
import { durationFlag, durationMs, intFlag, numberFlag } from './milestoneCli.ts';
import { runMemoryCommand } from './memoryCommand.ts';

// The config's own parser (VANA_LOG_LEVEL): a level pino would throw on is a usage error here.
const logLevelParser = configField('log.level').spec.parser as FieldParser<LevelWithSilent>;
function logLevelFlag(value: string): LevelWithSilent {
  const parsed = logLevelParser.parse(value.trim());
  if (!parsed.ok) throw new InvalidArgumentError(`--log-level must be ${logLevelParser.expected}, got "${value}"`);
  return parsed.value;
}

function milestoneFlag(value: string): MilestoneId {
  if (!(MILESTONE_IDS as readonly string[]).includes(value)) throw new InvalidArgumentError(`--milestone must be one of ${MILESTONE_IDS.join(', ')}, got "${value}"`);
  return value as MilestoneId;
}

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
  .option('--log-level <level>', `stack log level (logs go to stderr as JSON lines): ${logLevelParser.expected}`, logLevelFlag, 'warn')
  .action(async (opts: StackOptions) => {
    const logger = createLogger({ level: opts.logLevel });
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
  .description(
    'rebuild summary.json and report.html of a run from flows.jsonl + timeseries.jsonl, or build them from an Artillery run (--from-artillery), judge it and print the final report (exit 0 pass, 1 fail)',
  )
  .argument('[dir]', 'results directory, e.g. results/2026-11-23T11-40-00Z-ms03-ab12')
  .option('--threshold <expr>', "k6-style threshold, repeatable, e.g. 'e2e.p95<120s'; overrides the run's threshold for the same metric", (value: string, previous: string[]) => [...previous, value], [] as string[])
  .option('--force', 'replace summary.json even when the rebuild counts fewer flows than it (a line of flows.jsonl left out)')
  .option('--from-artillery <file>', 'build the report of an artillery-engine-vana run from its `artillery run --output <file>` JSON')
  .option('--milestone <id>', `with --from-artillery: judge by this milestone's default thresholds too (${MILESTONE_IDS.join(', ')})`, milestoneFlag)
  .option('--out-dir <dir>', 'with --from-artillery: where summary.json and report.html go (default results/<run id>)')
  .action(async (dir: string | undefined, opts: { threshold: string[]; force?: boolean; fromArtillery?: string; milestone?: MilestoneId; outDir?: string }) => {
    if (opts.fromArtillery !== undefined) {
      if (dir !== undefined) throw new ConfigError(`Give a results directory or --from-artillery, not both (got ${dir} and ${opts.fromArtillery})`, { code: 'USAGE' });
      const { exitCode } = await runArtilleryReportCommand({
        output: opts.fromArtillery,
        milestone: opts.milestone ?? null,
        thresholds: opts.threshold,
        ...(opts.outDir !== undefined ? { dir: opts.outDir } : {}),
      });
      process.exitCode = exitCode;
      return;
    }
    if (dir === undefined) throw new ConfigError('Expected a results directory, or --from-artillery <file>', { code: 'USAGE' });
    if (opts.milestone !== undefined || opts.outDir !== undefined) throw new ConfigError('--milestone and --out-dir go with --from-artillery', { code: 'USAGE' });
    const artilleryOutput = artilleryOutputOf(dir);
    if (artilleryOutput !== undefined) {
      throw new ConfigError(`${dir} holds the report of an Artillery run, which has no flows.jsonl to rebuild from`, {
        code: 'RESULTS_DIR_ARTILLERY',
        metaMessages: [`fix: vana-load report --from-artillery ${artilleryOutput} --out-dir ${dir}`],
      });
    }
    const { exitCode } = await runReportCommand({ dir, thresholds: opts.threshold, force: opts.force === true });
    process.exitCode = exitCode;
  });

program
  .command('memory')
  .description("a process's memory over a run, from timeseries.jsonl: RSS and heap per time bucket, and the slope against flows completed (is it flat?)")
  .argument('<dir>', 'results directory, e.g. results/stream-100k-r25')
  .option('--process <name>', 'harness, stack or anvil', 'harness')
  .option('--bucket <duration>', 'bucket length, at least 1s, e.g. 5m', durationFlag('--bucket', 1_000), '5m')
  .option('--warmup <duration>', 'samples before this are left out of the slope (V8 grows its heap at first)', durationFlag('--warmup'), '5m')
  .action(async (dir: string, opts: { process: string; bucket: string; warmup: string }) => {
    await runMemoryCommand({ dir, process: opts.process, bucketS: durationMs(opts.bucket) / 1000, warmupS: durationMs(opts.warmup) / 1000 });
  });

registerArtilleryCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`${formatError(err)}\n`);
  process.exit(exitCodeFor(err));
}
