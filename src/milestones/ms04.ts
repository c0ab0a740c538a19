/**
 * MS-04 — Load patterns. Two patterns from the seed ("Ramp-up/sustain/ramp-down, batch
 * processing"):
 *
 * - phased (default): concurrent users ramp from 0 to `--concurrency` over `--ramp-up`, hold for
 *   `--sustain`, ramp back to 0 over `--ramp-down`; every flow is a new user (fresh HD wallet) and
 *   `--users` caps the total. With a rate (`--rate` / `VANA_RATE`) the phases ramp an arrival rate
 *   instead (open model): `--max-in-flight` caps the flows in flight and arrivals beyond it are
 *   dropped.
 * - batched (`--batch-size`): `--users` flows in batches, each batch started together, the next
 *   `--delay` after the previous one has finished.
 *
 * The run ends when the timeline ends or `--users` flows were scheduled, whichever is first.
 * Per-phase figures, errors by step and class, retries and breaker counts are in the report.
 */
import { durationFlag, durationMs, intFlag } from '../cli/flagParsers.ts';
import { isUserGiven, type ConfigSource } from '../config/loadConfig.ts';
import type { ConfigKey, VanaLoadConfig } from '../config/schema.ts';
import type { LoadModel, LoadPhase } from '../load/types.ts';
import { formatDuration } from '../util/format.ts';
import { defineMilestone, runMilestone } from './defineMilestone.ts';
import { MILESTONE_THRESHOLDS } from './thresholds.ts';

interface Ms04Options {
  batchSize?: number;
  delay: string;
}

/** The README's defaults. */
export const MS04_DEFAULTS = { users: 200, concurrency: 20, rampUpMs: 5_000, sustainMs: 5_000, rampDownMs: 5_000, maxInFlight: 100 } as const;

/** The load model of MS-04's config and flags; exported for tests. */
export function ms04Model(load: Readonly<VanaLoadConfig['load']>, sources: Readonly<Record<ConfigKey, ConfigSource>>, own: Ms04Options): LoadModel {
  if (own.batchSize !== undefined) return { kind: 'batched', users: load.users, batchSize: own.batchSize, delayMs: durationMs(own.delay) };
  const byRate = isUserGiven(sources['load.rate']);
  const unit: LoadPhase['unit'] = byRate ? 'rate' : 'users';
  const peak = byRate ? load.rate : load.concurrency;
  return {
    kind: 'phased',
    phases: [
      { name: 'ramp_up', durationMs: load.rampUpMs, from: 0, to: peak, unit },
      { name: 'sustain', durationMs: load.sustainMs, from: peak, to: peak, unit },
      { name: 'ramp_down', durationMs: load.rampDownMs, from: peak, to: 0, unit },
    ].filter((phase) => phase.durationMs > 0),
    maxInFlight: byRate ? load.maxInFlight : load.concurrency,
    totalUsers: load.users,
  };
}

export const ms04 = defineMilestone<Ms04Options>({
  id: 'ms-04',
  command: 'test-load-patterns',
  description: 'MS-04: ramp-up / sustain / ramp-down (or batched) load with per-phase figures',
  title: 'Milestone 4: Load Pattern Testing',
  loadFields: ['load.users', 'load.concurrency', 'load.rate', 'load.rampUpMs', 'load.sustainMs', 'load.rampDownMs', 'load.maxInFlight'],
  thresholds: MILESTONE_THRESHOLDS['ms-04'],
  options: (c) =>
    c
      .option('--batch-size <n>', 'batched pattern: flows started together per batch', intFlag('--batch-size', 1, 100_000))
      .option('--delay <duration>', 'batched pattern: pause after a batch has finished', durationFlag('--delay'), '2s'),
  descriptions: {
    'load.users': 'Total users (flows, one fresh wallet each); the run ends when they are used.',
    'load.concurrency': 'Peak concurrent users of the phases (unless a rate is given).',
    'load.rate': 'Ramp an arrival rate (flows/s) to this peak instead of concurrent users.',
    'load.rampUpMs': 'Time to ramp from 0 to the peak.',
    'load.sustainMs': 'Time held at the peak.',
    'load.rampDownMs': 'Time to ramp from the peak back to 0.',
    'load.maxInFlight': 'With a rate: cap on flows in flight; arrivals beyond it are dropped and counted.',
  },
  defaults: () => ({ load: { model: 'phased', ...MS04_DEFAULTS } }),
  model: ({ config, sources, own }) => ms04Model(config.load, sources, own),
  run: ({ config, model, own }) => {
    const { load } = config;
    const pattern =
      model.kind === 'batched'
        ? `batched: ${load.users} users in batches of ${own.batchSize}, ${own.delay} between batches`
        : `phased: ramp-up ${formatDuration(load.rampUpMs)} → sustain ${formatDuration(load.sustainMs)} at ${
            model.kind === 'phased' && model.phases.some((p) => p.unit === 'rate') ? `${load.rate}/s (at most ${load.maxInFlight} in flight)` : `${load.concurrency} concurrent users`
          } → ramp-down ${formatDuration(load.rampDownMs)}; at most ${load.users} users`;
    return { intro: [`📈 ${pattern} · data ${config.data.size} · relay ${config.relay.mode} · inference ${config.inference.mode}`] };
  },
  after: (summary, { config, model }) => {
    if (model.kind !== 'phased' || summary.interrupted) return;
    const ran = new Set(summary.phases.map((p) => p.name));
    const skipped = model.phases.filter((p) => !ran.has(p.name)).map((p) => p.name);
    if (skipped.length > 0 && summary.counts.started >= config.load.users) {
      console.log(`ℹ️  All ${config.load.users} users were used before ${skipped.join(' and ')}: raise --users or shorten the phases to see every phase.`);
    }
  },
});

/** MS-04's main: `npx tsx milestones/ms-04/test-load-patterns.ts`. */
export function runLoadPatternsMilestone(argv: readonly string[]): Promise<number> {
  return runMilestone(ms04, argv);
}
