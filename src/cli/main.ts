#!/usr/bin/env node
/**
 * The `vana-load` command: `stack` (the local stack in the foreground, = `npm run dev`),
 * `report <dir>` (rebuild a run's summary.json and report.html, = `npm run report -- <dir>`) and
 * `memory <dir>` (is a process's memory flat over the run? = `npm run memory -- <dir>`) and
 * `compare <baseline> <candidate>` (did a run get significantly worse? = `npm run compare -- <a> <b>`),
 * `artillery init|run` (distributed runs on Artillery with artillery-engine-vana; `report
 * --from-artillery` reads their output), `capacity` (the highest rate within an SLO, its
 * bottleneck and its ratio to the CPU limit, = `npm run capacity -- …`).
 * Other subcommands (run, wallets) are added by their issues.
 */
import { Command, InvalidArgumentError } from 'commander';
import type { LevelWithSilent } from 'pino';
import type { FieldParser } from '../config/parsers.ts';
import { configField } from '../config/schema.ts';
import { createLogger } from '../logger.ts';
import { runStackCommand } from './stackCommand.ts';
import { configOptions } from '../config/configOptions.ts';
import { loadConfig } from '../config/loadConfig.ts';
import { stackOptionsFromConfig } from '../stack/stackOptionsFromConfig.ts';
import { runReportCommand } from './reportCommand.ts';
import { addHealthOptions, healthOverrides } from './healthFlags.ts';
import { artilleryOutputOf, runArtilleryReportCommand } from './artilleryReportCommand.ts';
import { registerArtilleryCommand } from './artilleryCommand.ts';
import { ConfigError } from '../errors.ts';
import { MILESTONE_IDS, type MilestoneId } from '../milestones/milestoneIds.ts';
import { DEFAULT_MANIFEST_PATH } from '../stack/manifest.ts';

import { exitCodeFor, exitOnUncaught, formatError } from './errorOutput.ts';
import { durationFlag, durationMs, numberFlag } from './flagParsers.ts';
import { runMemoryCommand } from './memoryCommand.ts';
import { runCompareCommand } from './compareCommand.ts';
import { MAX_REGRESSION_HELP } from '../report/maxRegression.ts';
import { registerCapacityCommand } from '../capacity/capacityCommand.ts';

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

// `vana-load stack` takes the config's stack settings (and the block time) as flags, env or .env,
// so VANA_STACK_* mean the same for `npm run dev` as for a stack a milestone spawns.
const stackConfigOptions = configOptions().filter((o) => o.key.startsWith('stack.') || o.key === 'chain.blockTimeSeconds' || o.key === 'contracts.permissionsAddress');
const stackCommand = program
  .command('stack')
  .description('start the local stack (anvil + contracts, storage, personal server, API server) in the foreground; every option also reads its env var and .env');
for (const option of stackConfigOptions) stackCommand.option(option.flags, option.help);
stackCommand
  .option('--storage <kind>', 'same as --stack-storage: local or s3')
  .option('--manifest <path>', 'where to write the stack manifest', DEFAULT_MANIFEST_PATH)
  .option('--log-level <level>', `stack log level (logs go to stderr as JSON lines): ${logLevelParser.expected}`, logLevelFlag, 'warn')
  .action(async (opts: Record<string, string | boolean | undefined> & { manifest: string; logLevel: LevelWithSilent; storage?: string }) => {
    const { manifest, logLevel, storage, ...flags } = opts;
    // The target is local by definition here: a .env written for a remote run must not make it ask for remote settings.
    const config = loadConfig({
      env: process.env,
      envFile: { path: '.env', optional: true },
      flags: { ...flags, ...(storage !== undefined ? { stackStorage: storage } : {}), target: 'local', logLevel },
    });
    const s = config.stack;
    await runStackCommand({
      ...stackOptionsFromConfig(config),
      apiPort: s.apiPort,
      storagePort: s.storagePort,
      personalServerPort: s.personalServerPort,
      anvilPort: s.anvilPort,
      manifestPath: manifest,
      logger: createLogger({ level: logLevel }),
      print: (line) => process.stdout.write(`${line}\n`),
    });
  });

const reportCommand = program
  .command('report')
  .description(
    'rebuild summary.json and report.html of a run from flows.jsonl + timeseries.jsonl, or build them from an Artillery run (--from-artillery), judge it and print the final report (exit 0 pass, 1 fail, 5 invalid: the load generator fell behind)',
  )
  .argument('[dir]', 'results directory, e.g. results/2026-11-23T11-40-00Z-ms03-ab12')
  .option('--threshold <expr>', "k6-style threshold, repeatable, e.g. 'e2e.p95<120s'; overrides the run's threshold for the same metric", (value: string, previous: string[]) => [...previous, value], [] as string[])
  .option('--force', 'replace summary.json even when the rebuild counts fewer flows than it (a line of flows.jsonl left out)')
  .option('--from-artillery <file>', 'build the report of an artillery-engine-vana run from its `artillery run --output <file>` JSON')
  .option('--milestone <id>', `with --from-artillery: judge by this milestone's default thresholds too (${MILESTONE_IDS.join(', ')})`, milestoneFlag)
  .option('--out-dir <dir>', 'with --from-artillery: where summary.json and report.html go (default results/<run id>)');
addHealthOptions(reportCommand);
reportCommand
  .action(async (dir: string | undefined, opts: { threshold: string[]; force?: boolean; fromArtillery?: string; milestone?: MilestoneId; outDir?: string } & Record<string, unknown>) => {
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
    const { exitCode } = await runReportCommand({ dir, thresholds: opts.threshold, force: opts.force === true, health: healthOverrides(opts) });
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

program
  .command('compare')
  .description(
    'compare a candidate run with a baseline: latency per step with bootstrap confidence intervals, success rates, throughput, errors, CPU per flow; ' +
      'writes compare.html; exit 1 only when a metric is worse beyond its tolerance and significantly so: the --max-regression rules, or without them the default gate ' +
      "(e2e and every step's p95 +10%, success -1pp, dropped +1pp, Bonferroni-corrected)",
  )
  .argument('<baseline>', 'results directory of the baseline run')
  .argument('<candidate>', 'results directory of the candidate run (compare.html is written there)')
  .option('--max-regression <rule>', `tolerated worsening, repeatable; ${MAX_REGRESSION_HELP}`, (value: string, previous: string[]) => [...previous, value], [] as string[])
  .option('--figures-only', 'print and write the comparison, judge nothing (exit 0)')
  .option('--alpha <p>', 'two-sided significance level of the tests; intervals are 1 - alpha', numberFlag('--alpha', 0.0001, 0.5), 0.05)
  .option('--force', 'compare runs with another target or load model kind (other differences only warn)')
  .option('--out <file>', 'where to write compare.html (default <candidate>/compare.html)')
  .action(async (baseline: string, candidate: string, opts: { maxRegression: string[]; figuresOnly?: boolean; alpha: number; force?: boolean; out?: string }) => {
    const { exitCode } = await runCompareCommand({
      baseline,
      candidate,
      maxRegressions: opts.maxRegression,
      figuresOnly: opts.figuresOnly === true,
      alpha: opts.alpha,
      force: opts.force === true,
      ...(opts.out !== undefined ? { out: opts.out } : {}),
    });
    process.exitCode = exitCode;
  });
registerArtilleryCommand(program);
registerCapacityCommand(program);

exitOnUncaught();
try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`${formatError(err)}\n`);
  process.exit(exitCodeFor(err));
}
