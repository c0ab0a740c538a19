/**
 * What every milestone script shares: a commander program with the config flags, config loading
 * (defaults ← preset ← .env ← environment ← flags) and the mapping of errors to exit codes
 * (ARCHITECTURE.md 7: 0 pass, 1 threshold failed, 2 usage/config, 3 infrastructure, 5 invalid:
 * the load generator fell behind).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { constants as osConstants } from 'node:os';
import { Command, Option } from 'commander';
import { configOptions, type ConfigOptionsOverrides } from '../config/configOptions.ts';
import { loadConfig, type ConfigFlags } from '../config/loadConfig.ts';
import type { VanaLoadConfig } from '../config/schema.ts';
import { EXIT_CODES } from '../exitCodes.ts';
import { TSX_LOADER_URL } from '../util/tsxLoader.ts';
import { RUN_SIGNALS } from '../run/interruption.ts';
import { exitCodeFor, exitOnUncaught, formatError } from './errorOutput.ts';
import { NO_HEALTH_CHECK_HELP } from './healthFlags.ts';

/**
 * A milestone's command: its own flags (`configure`), `--dry-run`, `--threshold`, and every config
 * flag, told with the milestone's defaults and wording (`config`). A flag the milestone defines
 * itself wins over the config flag of the same name.
 */
export function milestoneProgram(name: string, description: string, configure: (command: Command) => void = () => {}, config: ConfigOptionsOverrides = {}): Command {
  const command = new Command(name).description(description).showHelpAfterError().allowExcessArguments(false);
  configure(command);
  command.option('--dry-run', 'print what the run would send and spend (transactions, gas × fee cap, wallets to fund, bytes to store) and exit 0, sending nothing');
  const own = new Set(command.options.map((o) => o.long));
  if (!own.has('--threshold')) {
    command.option('--threshold <expr>', "k6-style threshold, repeatable, e.g. 'e2e.p95<120s' or 'success_rate>=0.9'; overrides the milestone's default for the same metric", collect, []);
  }
  for (const option of configOptions(config)) if (!own.has(option.flag)) command.addOption(new Option(option.flags, option.help).hideHelp(option.hidden));
  if (!own.has('--no-health-check')) command.option('--no-health-check', NO_HEALTH_CHECK_HELP);
  command.exitOverride((err) => {
    process.exit(err.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage);
  });
  return command;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Loads the config with the command's flags; `overrides` are flags the milestone maps itself (e.g. --concurrent → --concurrency). */
export function loadMilestoneConfig(command: Command, overrides: ConfigFlags = {}): Readonly<VanaLoadConfig> {
  const flags: Record<string, string | number | boolean | undefined> = { ...(command.opts() as ConfigFlags), ...overrides };
  return loadConfig({ env: process.env, envFile: { path: '.env', optional: true }, flags });
}

/** Runs a milestone's main and exits with its code; known errors print without a stack trace. */
export async function runMilestoneMain(main: () => Promise<number>): Promise<never> {
  if (process.execArgv.some((arg) => /tsx[\\/]dist[\\/]preflight/.test(arg))) return await rerunOutsideTsxCli();
  exitOnUncaught();
  let code: number;
  try {
    code = await main();
  } catch (err) {
    process.stderr.write(`\n❌ ${formatError(err)}\n`);
    code = exitCodeFor(err);
  }
  // Let stdout drain before exiting (piped output in CI).
  await new Promise<void>((resolve) => (process.stdout.write('') ? resolve() : process.stdout.once('drain', () => resolve())));
  process.exit(code);
}

/**
 * Under the tsx CLI (`npx tsx milestones/...`, the documented way), tsx's own parent process
 * relays Ctrl-C to the script and SIGKILLs it when the script's event loop has not acknowledged
 * the signal within 60 ms, which a load test busy encrypting often has not: no drain, no
 * summary.json. So the script runs again as `node --import tsx`, whose parent is this idle process:
 * it acknowledges tsx at once, passes signals on (runLoadTest takes a repeat within 1 s as the same
 * Ctrl-C) and exits with the script's code.
 */
async function rerunOutsideTsxCli(): Promise<never> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER_URL, ...process.argv.slice(1)], { stdio: 'inherit' });
  for (const signal of RUN_SIGNALS) process.on(signal, () => child.kill(signal));
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  process.exit(code ?? 128 + (signal === null ? 1 : osConstants.signals[signal]));
}
