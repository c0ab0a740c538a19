/**
 * The `capacity` subcommand of `vana-load` (also `npm run capacity -- …` and, as before,
 * `npm run bench -- capacity …`): every flag is parsed and checked here, and the config loaded,
 * before anything starts; then `runCapacity` searches.
 */
import type { Command } from 'commander';
import { runMilestoneMain } from '../cli/milestoneCli.ts';
import { intFlag, numberFlag } from '../cli/flagParsers.ts';
import { CAPACITY_PROFILES, DEFAULT_SLO, capacityDurationFlag, parseRateStep, parseSloAchieved, parseTarget, type CapacityFlags } from './capacityOptions.ts';
import { loadCapacityConfig } from './loadCapacityConfig.ts';
import { runCapacity } from './runCapacity.ts';
import { MS05_S2K_COUNT_BYTE } from '../milestones/ms05.ts';
import { checkWritableDir } from '../util/checkPath.ts';

const { full, quick } = CAPACITY_PROFILES;
const profileDefault = (key: keyof typeof full): string =>
  key === 'stepDurationMs' ? `default ${full[key] / 1000}s, ${quick[key] / 1000}s with --quick` : `default ${full[key]}, ${quick[key]} with --quick`;

const HELP_AFTER = `
Where the settings come from:
  --target local (default)  hermetic: .env and VANA_* are NOT read. A local stack is started for every
                            step (one with --reuse-stack) with its defaults: relayed, sim inference with
                            zero latency and no injected failures; block time and S2K from the flags.
  --target remote           the target (RPC, contracts, personal server, storage, keys, relay and
                            inference modes, data size, timeouts) comes from .env and the environment,
                            as for any run; VANA_TARGET is not read (only this flag makes a search
                            remote); VANA_S2K_COUNT_BYTE and VANA_RESULTS_DIR are defaults for the flags.
                            Each step sends rate × step duration real flows; only the harness's CPU is
                            measured, so the CPU limit is the harness's.

A step passes when it meets every SLO term (each becomes a threshold of the step's run). The search
raises the rate by --step until a step fails or --max-rate passes, then bisects --bisect-steps times.

Output: <results-dir>/capacity-<stamp>/capacity.json and report.html (rewritten after every step),
one run directory per step. Exit: 0 a sustainable rate found, 1 none met the SLO, 2 bad flags or
config, 3 the stack or target failed, 130 Ctrl-C (what was measured is written first).

Example: vana-load capacity --quick
         vana-load capacity --block-time 0.2 --start-rate 10 --step-duration 20s --slo-p95 1.5s`;

/**
 * Adds `vana-load capacity` to the program.
 *
 * @example
 * registerCapacityCommand(program);
 */
export function registerCapacityCommand(program: Command): void {
  program
    .command('capacity')
    .description('highest Poisson arrival rate the target sustains within an SLO (step up, then bisect), the bottleneck, and the ratio to the CPU limit; writes capacity.json and report.html')
    // One line per usage error: the help is one --help away.
    .showHelpAfterError(false)
    .allowExcessArguments(false)
    .option('--target <kind>', 'local (default, hermetic) or remote (settings from .env and the environment)', parseTarget)
    .option('--slo-success <ratio>', `SLO: lowest success rate of a step, 0..1 (default ${DEFAULT_SLO.success})`, numberFlag('--slo-success', 0, 1))
    .option('--slo-p95 <duration>', `SLO: e2e p95 of a step must stay below this, e.g. 1500ms, 2s (default ${DEFAULT_SLO.p95Ms / 1000}s)`, capacityDurationFlag('--slo-p95', 1, 3_600_000))
    .option('--slo-achieved <ratio>', `SLO: lowest achieved arrival rate as a fraction of the target, (0, 1] (default ${DEFAULT_SLO.achieved})`, parseSloAchieved)
    .option('--slo-drops <n>', `SLO: most arrivals a step may drop at the in-flight cap (default ${DEFAULT_SLO.drops})`, intFlag('--slo-drops', 0, 1_000_000_000))
    .option('--start-rate <per-second>', `first step's arrival rate (${profileDefault('startRate')})`, numberFlag('--start-rate', 0.1, 10_000))
    .option('--step <step>', `how the rate rises: a factor ("1.5x") or an increment ("+5") (${profileDefault('step')})`, parseRateStep)
    .option('--max-rate <per-second>', `highest rate tried (${profileDefault('maxRate')}, at least --start-rate)`, numberFlag('--max-rate', 0.1, 10_000))
    .option('--step-duration <duration>', `arrivals of a step span about this long: rate × duration arrivals (${profileDefault('stepDurationMs')})`, capacityDurationFlag('--step-duration', 1_000, 3_600_000))
    .option('--bisect-steps <n>', `bisections between the last good and the first bad rate (${profileDefault('bisectSteps')})`, intFlag('--bisect-steps', 0, 20))
    .option('--quick', 'short profile: the defaults after "with --quick" (about 2 minutes locally)')
    .option('--block-time <seconds>', 'local only: seconds per block, 0 = automine (default 0)', numberFlag('--block-time', 0, 3_600))
    .option('--s2k-count-byte <n>', `OpenPGP S2K count byte of the user files, 0..255 (default ${MS05_S2K_COUNT_BYTE}, as MS-05)`, intFlag('--s2k-count-byte', 0, 255))
    .option('--max-in-flight <n>', 'cap on flows in flight; arrivals beyond it are dropped (default max(50, 3 × max rate × SLO p95 in s))', intFlag('--max-in-flight', 1, 1_000_000))
    .option('--seed <n>', 'base seed: each step takes the first seed from it whose schedule averages the rate within 1 % (default 1)', intFlag('--seed', 0, 2 ** 31))
    .option('--reuse-stack', 'local only: one stack for the whole search instead of a fresh one per step (faster; later steps run on a fuller chain)')
    .option('--results-dir <dir>', 'where capacity-<stamp>/ goes (default results)')
    .addHelpText('after', HELP_AFTER)
    .action(async (flags: CapacityFlags) => {
      const { options, config } = loadCapacityConfig({ flags });
      checkWritableDir(options.resultsDir, 'Results directory (--results-dir)');
      const typed = process.argv.slice(process.argv.indexOf('capacity') + 1);
      await runMilestoneMain(async () => {
        const { exitCode } = await runCapacity({ options, config, command: ['vana-load capacity', ...typed].join(' ') });
        return exitCode;
      });
    });
}
