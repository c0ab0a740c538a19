/**
 * One definition per milestone: its id and title, its own flags, its README defaults, how its load
 * model comes from the validated config, and its thresholds. `runMilestone` gives every milestone
 * the same road: flags → config (defaults ← milestone ← preset ← .env ← environment ← flags, each
 * value validated whichever layer it came from) → model → `--dry-run` or the shared runner →
 * `summary.json`, whose `config.load` is the model as run.
 */
import type { Command } from 'commander';
import { milestoneProgram } from '../cli/milestoneCli.ts';
import type { ConfigOptionsOverrides } from '../config/configOptions.ts';
import { loadConfigWithSources, type ConfigFlags, type ConfigSource } from '../config/loadConfig.ts';
import type { ConfigOverrides } from '../config/presets.ts';
import { CONFIG_FIELDS, configField, type ConfigKey, type VanaLoadConfig } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';
import { loadAsRun } from '../load/loadAsRun.ts';
import type { LoadModel } from '../load/types.ts';
import type { Threshold } from '../metrics/thresholds.ts';
import type { RunSummary } from '../metrics/types.ts';
import { dryRun } from '../run/dryRun.ts';
import { runLoadTest, type RunLoadTestParameters } from '../run/runLoadTest.ts';
import type { MilestoneId } from './milestoneIds.ts';

/** What a milestone's model and run are built from. */
export interface MilestoneInput<Own> {
  config: Readonly<VanaLoadConfig>;
  /** Which layer each config value came from (a user's value or the milestone's default). */
  sources: Readonly<Record<ConfigKey, ConfigSource>>;
  /** The milestone's own flags (those that are not config fields). */
  own: Own;
}

/** The parts of a run a milestone chooses beyond its model. */
export type MilestoneRunOptions = Pick<RunLoadTestParameters, 'flowLines' | 'funding' | 'intro' | 'reporters'>;

export interface MilestoneDefinition<Own extends object> {
  id: MilestoneId;
  /** Script name in `--help` (`test-multi-user`). */
  command: string;
  /** One line for `--help`. */
  description: string;
  /** First line of the output: `Milestone 3: Multi-User Validation`. */
  title: string;
  /** The README's success criteria; `--threshold` overrides a metric. */
  thresholds: readonly Threshold[];
  /** The milestone's own flags (register them on the command); config fields are registered for it. */
  options?(command: Command): void;
  /** The load fields the milestone takes (`load.users`, `load.rate`…); the others are left out of `--help` and refused as flags. */
  loadFields: readonly ConfigKey[];
  /** Load fields that are unset unless given (an optional `--duration`). */
  optionalLoadFields?: readonly ConfigKey[];
  /** What a config flag means for this milestone, in `--help`. */
  descriptions?: ConfigOptionsOverrides['descriptions'];
  /** The README's defaults: config values unless a preset, `.env`, the environment or a flag sets them. */
  defaults(own: Partial<Own>): ConfigOverrides;
  /** Own flags that set config fields (`--concurrent` → users and concurrency), as config flag values. */
  configFlags?(own: Own): ConfigFlags;
  /** The load model, from the validated config only. Throws a `ConfigError` for a combination it cannot run. */
  model(input: MilestoneInput<Own>): LoadModel;
  /** Intro lines, flow lines, funding, reporters. */
  run?(input: MilestoneInput<Own> & { model: LoadModel }): MilestoneRunOptions;
  /** Called with the summary of a run that ended (e.g. a hint about phases that never ran). */
  after?(summary: RunSummary, input: MilestoneInput<Own> & { model: LoadModel }): void;
}

/** Types a definition so `own` is checked against its flags. */
export function defineMilestone<Own extends object>(definition: MilestoneDefinition<Own>): MilestoneDefinition<Own> {
  return definition;
}

/** A milestone ready to run: its validated config, its model and what the user asked for. */
export interface PreparedMilestone<Own> extends MilestoneInput<Own> {
  model: LoadModel;
  /** `--threshold` expressions. */
  thresholds: readonly string[];
  dryRun: boolean;
}

/** Where `prepareMilestone` reads the environment from (tests pass their own). */
export interface MilestoneSources {
  env?: Readonly<Record<string, string | undefined>>;
  /** Default `.env` in the working directory, skipped when missing. */
  envFile?: { path: string; optional: boolean };
}

/**
 * Parses `argv` and loads the config with the milestone's defaults (every layer validated), then
 * builds its model. Throws a `ConfigError` (exit 2) for any bad value, including a load flag the
 * model would not use.
 *
 * @example
 * const { model } = prepareMilestone(ms05, ['node', 'ms05', '--quick'], { env: { VANA_USERS: '3' } });
 * model; // { kind: 'poisson', rate: 20, users: 3, maxInFlight: 200 }
 */
export function prepareMilestone<Own extends object>(definition: MilestoneDefinition<Own>, argv: readonly string[], from: MilestoneSources = {}): PreparedMilestone<Own> {
  const program = milestoneProgram(definition.command, definition.description, (c) => definition.options?.(c), {
    defaults: definition.defaults({}),
    omit: ['load.model'],
    hidden: CONFIG_FIELDS.map((f) => f.key).filter((key) => key.startsWith('load.') && key !== 'load.seed' && !definition.loadFields.includes(key)),
    ...(definition.optionalLoadFields ? { noDefault: definition.optionalLoadFields } : {}),
  });
  program.parse(argv as string[]);
  const all = program.opts<Own & { threshold: string[]; dryRun?: boolean }>();
  const own = all as Own;
  const loaded = loadConfigWithSources({
    env: from.env ?? process.env,
    envFile: from.envFile ?? { path: '.env', optional: true },
    flags: { ...(program.opts() as ConfigFlags), ...definition.configFlags?.(own) },
    defaults: definition.defaults(own),
  });
  const input: MilestoneInput<Own> = { config: loaded.config, sources: loaded.sources, own };
  const model = definition.model(input);
  refuseLoadFlagsNotRun(definition.id, model, loaded.config, loaded.sources, definition.loadFields);
  return { ...input, model, thresholds: all.threshold, dryRun: all.dryRun === true };
}

/**
 * A milestone's main: `prepareMilestone`, then the plan (`--dry-run`) or the run through the shared
 * runner. Returns the exit code.
 *
 * @example
 * await runMilestoneMain(() => runMilestone(ms03, process.argv));
 */
export async function runMilestone<Own extends object>(definition: MilestoneDefinition<Own>, argv: readonly string[]): Promise<number> {
  const prepared = prepareMilestone(definition, argv);
  const { config, model, thresholds } = prepared;
  if (prepared.dryRun) return await dryRun({ milestone: definition.id, defaultThresholds: definition.thresholds, config, model, thresholds });
  const { exitCode, summary } = await runLoadTest({
    milestone: definition.id,
    title: definition.title,
    defaultThresholds: definition.thresholds,
    config,
    model,
    thresholds,
    ...definition.run?.(prepared),
  });
  definition.after?.(summary, prepared);
  return exitCode;
}

/**
 * A load flag must describe the run: one the model does not use, or whose value the milestone
 * overrides (MS-02 runs one user whatever `--users` says), would be silently ignored, so it is
 * refused, naming what the milestone does take. Values from the environment or `.env` are not
 * refused (one `.env` serves every milestone).
 */
export function refuseLoadFlagsNotRun(id: string, model: LoadModel, config: Readonly<VanaLoadConfig>, sources: Readonly<Record<ConfigKey, ConfigSource>>, takes: readonly ConfigKey[]): void {
  const asRun = loadAsRun(model, config.load.seed);
  const problems: string[] = [];
  for (const key of Object.keys(sources) as ConfigKey[]) {
    if (!key.startsWith('load.') || sources[key] !== 'flag' || key === 'load.seed') continue;
    const name = key.slice('load.'.length);
    const { spec } = configField(key);
    const given = (config.load as Readonly<Record<string, unknown>>)[name];
    const ran = asRun[name];
    if (name === 'model' || ran === undefined) {
      problems.push(`${spec.flag} is not used by ${id.toUpperCase()} (its ${model.kind} model)`);
    } else if (typeof given === 'number' && typeof ran === 'number' ? Math.abs(given - ran) > 1e-6 * Math.max(1, Math.abs(ran)) : given !== ran) {
      problems.push(`${spec.flag} ${spec.parser.format(given as never)} is not what ${id.toUpperCase()} runs: ${spec.parser.format(ran as never)}`);
    }
  }
  if (problems.length === 0) return;
  throw new ConfigError(problems.join('; '), {
    code: 'FLAG_NOT_USED',
    metaMessages: [`${id.toUpperCase()} takes ${[...takes, 'load.seed' as const].map((key) => configField(key).spec.flag).join(', ')}; see --help.`],
  });
}
