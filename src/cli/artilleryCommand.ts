/**
 * `vana-load artillery init` (write an Artillery script for artillery-engine-vana from a milestone
 * or our load-model flags) and `vana-load artillery run` (run one with the Artillery that
 * `npm run artillery:install` put in .vana-load/artillery, with `--workers` local workers).
 * The report of a run: `vana-load report --from-artillery <output>`.
 */
import { MILESTONE_THRESHOLDS } from '../milestones/thresholds.ts';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { configOptions } from '../config/configOptions.ts';
import { loadConfig, type ConfigFlags } from '../config/loadConfig.ts';
import { ConfigError } from '../errors.ts';
import type { MilestoneId } from '../milestones/milestoneIds.ts';
import { thresholdsForArtillery } from '../report/artilleryThresholds.ts';
import { DEFAULT_MANIFEST_PATH } from '../stack/manifest.ts';
import { checkWritableFile } from '../util/checkPath.ts';
import { buildArtilleryScript, configLoadPlan, milestoneLoadPlan, toYaml, type ArtilleryLoadPlan, type MilestoneLoadFlags } from './artilleryScript.ts';
import { durationFlag, durationMs, intFlag } from './flagParsers.ts';
import { packArtilleryEngine } from './packArtilleryEngine.ts';

/** Where `npm run artillery:install` puts Artillery, from the repository root. */
export const ARTILLERY_BIN = join('.vana-load', 'artillery', 'node_modules', '.bin', 'artillery');
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

// Settings that shape the load (they become phases) or belong to our runner or the stack: not engine settings.
const NOT_ENGINE_GROUPS = new Set(['load', 'output', 'stack']);

interface InitOptions {
  milestone?: MilestoneId;
  bundle?: string;
  arrivals?: 'poisson' | 'uniform';
  out: string;
  manifest: string;
  warmup: string;
  threshold: string[];
  [flag: string]: unknown;
}

/** Adds `artillery init` and `artillery run` to the `vana-load` program. */
export function registerArtilleryCommand(program: Command): void {
  const artillery = program.command('artillery').description('distributed runs on Artillery (artillery-engine-vana): write a script, run it on local workers');

  const init = artillery
    .command('init')
    .description("write an Artillery script for artillery-engine-vana: phases from a milestone's load model or the load-model flags, thresholds as ensure conditions")
    .option('--milestone <id>', 'ms-03, ms-04 (with --rate) or ms-05: its load model and thresholds', (value: string) => {
      if (!(['ms-03', 'ms-04', 'ms-05'] as readonly string[]).includes(value)) throw new InvalidArgumentError(`--milestone must be ms-03, ms-04 or ms-05, got "${value}"`);
      return value as MilestoneId;
    })
    .option('--out <file>', 'script to write: YAML, or JSON for a .json name (with --bundle: its name inside the bundle)', 'artillery.yml')
    .option('--bundle <dir>', 'for run-fargate / run-lambda: write the script into <dir> with the engine as an npm tarball and a package.json that installs it on the workers')
    .option('--manifest <path>', 'local target: manifest of the running stack every worker attaches to', DEFAULT_MANIFEST_PATH)
    .option('--arrivals <mode>', "constant-rate phases: poisson (the default of poisson models) or uniform. Artillery's poisson arrivals chain timeouts, so a worker's event-loop lag stretches every gap and the rate falls short; uniform keeps the count", (value: string) => {
      if (value !== 'poisson' && value !== 'uniform') throw new InvalidArgumentError(`--arrivals must be poisson or uniform, got "${value}"`);
      return value;
    })
    .option('--warmup <duration>', 'pause before the first arrival while workers load the engine and attach (0 for none)', durationFlag('--warmup'), '15s')
    .option('--threshold <expr>', "k6-style threshold, repeatable, e.g. 'e2e.p95<45s'; overrides the milestone's for the same metric", (v: string, prev: string[]) => [...prev, v], [] as string[]);
  for (const option of configOptions()) init.option(option.flags, option.help);
  init.action(async (opts: InitOptions) => {
    const written = await runArtilleryInit(opts, init);
    process.stdout.write(written);
  });

  artillery
    .command('run')
    .description('run an Artillery script with the Artillery of `npm run artillery:install`, on --workers local worker threads')
    .argument('<script>', 'the script, e.g. from `vana-load artillery init`')
    .option('--workers <n>', 'local worker threads (Artillery itself starts cpus − 1 and ignores WORKERS)', intFlag('--workers', 1, 256))
    .option('--output <file>', "Artillery's JSON report, for `vana-load report --from-artillery`", 'artillery-output.json')
    .option('--artillery <path>', `Artillery binary (default ${ARTILLERY_BIN} of this repository)`)
    .action(async (script: string, opts: { workers?: number; output: string; artillery?: string }) => {
      process.exitCode = await runArtillery({ script, output: opts.output, ...(opts.workers !== undefined ? { workers: opts.workers } : {}), ...(opts.artillery ? { artillery: opts.artillery } : {}) });
    });
}

/** Writes the script of `artillery init`; returns what to print. */
async function runArtilleryInit(opts: InitOptions, command: Command): Promise<string> {
  const given = (attribute: string): boolean => command.getOptionValueSource(attribute) === 'cli';
  const flags: Record<string, string> = {};
  for (const option of configOptions()) {
    const value = opts[option.attribute];
    if (value !== undefined) flags[option.attribute] = String(value);
  }
  const config = loadConfig({ env: process.env, envFile: { path: '.env', optional: true }, flags: flags as ConfigFlags });
  const thresholds = thresholdsForArtillery(opts.milestone ? MILESTONE_THRESHOLDS[opts.milestone] : [], opts.threshold);

  const vana: Record<string, string | number | boolean> = { manifest: opts.manifest };
  for (const option of configOptions()) {
    if (!given(option.attribute) || NOT_ENGINE_GROUPS.has(option.key.split('.')[0]!)) continue;
    if (option.secret) {
      throw new ConfigError(`${option.flag} is a secret and is not written into the Artillery script`, {
        code: 'ARTILLERY_SECRET_IN_SCRIPT',
        metaMessages: [`fix: set ${option.env} in the environment or .env of the machine that runs Artillery (run-fargate: --dotenv .env)`],
      });
    }
    vana[option.flag.slice(2)] = String(opts[option.attribute]);
  }
  if (opts.milestone === 'ms-05' && vana['s2k-count-byte'] === undefined && config.data.s2kCountByte === undefined) {
    vana['s2k-count-byte'] = 96; // as MS-05's own script (MS05_S2K_COUNT_BYTE)
  }

  let plan: ArtilleryLoadPlan;
  if (opts.milestone) {
    const load = config.load;
    const loadFlags: MilestoneLoadFlags = {
      ...(given('users') ? { users: load.users } : {}),
      ...(given('rate') ? { rate: load.rate } : {}),
      ...(given('duration') ? { durationS: Math.ceil(load.durationMs / 1_000) } : {}),
      ...(given('concurrency') ? { concurrency: load.concurrency } : {}),
      ...(given('maxInFlight') ? { maxInFlight: load.maxInFlight } : {}),
      ...(given('rampUp') ? { rampUpS: Math.ceil(load.rampUpMs / 1_000) } : {}),
      ...(given('sustain') ? { sustainS: Math.ceil(load.sustainMs / 1_000) } : {}),
      ...(given('rampDown') ? { rampDownS: Math.ceil(load.rampDownMs / 1_000) } : {}),
    };
    plan = milestoneLoadPlan(opts.milestone, loadFlags);
  } else {
    plan = configLoadPlan(config.load);
  }
  if (opts.arrivals !== undefined && plan.kind === 'rate') plan = { ...plan, poisson: opts.arrivals === 'poisson' };
  const warmupS = Math.ceil(durationMs(opts.warmup) / 1_000);
  const out = opts.bundle === undefined ? opts.out : join(opts.bundle, basename(opts.out));
  checkWritableFile(out, 'Artillery script (--out)');
  const packed = opts.bundle === undefined ? undefined : await packArtilleryEngine(opts.bundle);
  const { script, reportOnly, notes } = buildArtilleryScript({ plan, thresholds, vana, warmupS, ...(packed ? { includeFiles: [packed.tarball] } : {}) });

  const json = extname(out).toLowerCase() === '.json';
  const milestoneFlag = opts.milestone ? ` --milestone ${opts.milestone}` : '';
  const header = [
    `Written by \`vana-load artillery init${milestoneFlag}\`.`,
    packed
      ? `Run:    cd ${opts.bundle} && artillery run-fargate ${basename(out)} --count 4 --region <region> --dotenv <path to .env> --output out.json`
      : `Run:    npm run artillery -- run ${out} --workers 2 --output out.json`,
    `Report: npm run report -- --from-artillery out.json${milestoneFlag}${opts.threshold.map((t) => ` --threshold '${t}'`).join('')}`,
    ...(reportOnly.length > 0 ? ['Judged by the report only (Artillery cannot express them):', ...reportOnly.map((r) => `  ${r.expression}: ${r.why}`)] : []),
    ...notes.map((note) => `Note: ${note}`),
  ];
  await writeFile(out, json ? `${JSON.stringify(script, null, 2)}\n` : `${header.map((line) => `# ${line}`).join('\n')}\n${toYaml(script as never)}`);
  const bundled = packed ? [`📦 ${join(opts.bundle!, packed.tarball)}: the engine with ${packed.files} source files and ${Object.keys(packed.dependencies).length} npm dependencies; ${join(opts.bundle!, 'package.json')} installs it`] : [];
  return `${[...bundled, `📝 ${out}: ${script.config.phases.map((p) => p.name).join(' → ')}, ${script.config.plugins?.ensure.conditions.length ?? 0} ensure condition(s)`, ...header.slice(1).map((l) => `   ${l}`)].join('\n')}\n`;
}

export interface RunArtilleryParameters {
  script: string;
  output: string;
  workers?: number;
  /** Default: `.vana-load/artillery/node_modules/.bin/artillery` of this repository. */
  artillery?: string;
  /** Default: inherited; a path: stdout and stderr go to that file. */
  stdio?: 'inherit' | 'ignore' | { logFile: string };
  /** Told the pid of the Artillery process once it is spawned (to sample its CPU, say). */
  onSpawn?: (pid: number) => void;
}

/**
 * Runs `artillery run <script> --output <output>` and returns its exit code. With `workers`, the
 * engine package's local-workers.cjs is preloaded so that Artillery starts that many workers.
 *
 * @example
 * const code = await runArtillery({ script: 'artillery.yml', output: 'out.json', workers: 2 });
 */
export async function runArtillery({ script, output, workers, artillery = join(REPO_ROOT, ARTILLERY_BIN), stdio = 'inherit', onSpawn }: RunArtilleryParameters): Promise<number> {
  if (!existsSync(artillery)) {
    throw new ConfigError(`Artillery is not installed at ${artillery}`, { code: 'ARTILLERY_NOT_INSTALLED', metaMessages: ['fix: npm run artillery:install (Artillery 2.0.21, ~590 MB, outside the project dependencies)'] });
  }
  if (!existsSync(script)) throw new ConfigError(`No such Artillery script: ${script}`, { code: 'ARTILLERY_SCRIPT_MISSING' });
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (workers !== undefined) {
    const preload = createRequire(import.meta.url).resolve('artillery-engine-vana/local-workers.cjs');
    env.WORKERS = String(workers);
    env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --require ${preload}`.trim();
  }
  const log = typeof stdio === 'object' ? openSync(stdio.logFile, 'w') : undefined;
  const child = spawn(artillery, ['run', script, '--output', output], { stdio: log === undefined ? (stdio as 'inherit' | 'ignore') : ['ignore', log, log], env });
  if (log !== undefined) closeSync(log);
  if (child.pid !== undefined) onSpawn?.(child.pid);
  const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    return code ?? 128 + (signal === null ? 1 : osConstants.signals[signal]);
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  }
}
