/**
 * MS-04 — Load patterns. Two patterns from the seed ("Ramp-up/sustain/ramp-down, batch
 * processing"):
 *
 * - phased (default): concurrent users ramp from 0 to `--concurrency` over `--ramp-up`, hold for
 *   `--sustain`, ramp back to 0 over `--ramp-down`; every flow is a new user (fresh HD wallet) and
 *   `--users` caps the total. With `--rate` the phases ramp an arrival rate instead (open model,
 *   `--concurrency` then caps the flows in flight and arrivals beyond it are dropped).
 * - batched (`--batch-size`): `--users` flows in batches, each batch started together, the next
 *   `--delay` after the previous one has finished.
 *
 * The run ends when the timeline ends or `--users` flows were scheduled, whichever is first.
 * Per-phase figures, errors by step and class, retries and breaker counts are in the report.
 */
import { MILESTONE_THRESHOLDS } from './thresholds.ts';
import { loadMilestoneConfig, milestoneProgram } from '../cli/milestoneCli.ts';
import { durationFlag, durationMs, intFlag, numberFlag } from '../cli/flagParsers.ts';
import type { LoadModel, LoadPhase } from '../load/types.ts';
import { runLoadTest } from '../run/runLoadTest.ts';
import { dryRun } from '../run/dryRun.ts';

interface Ms04Options {
  users: number;
  concurrency: number;
  rampUp: string;
  sustain: string;
  rampDown: string;
  rate?: number;
  batchSize?: number;
  delay: string;
  threshold: string[];
}

/** The load model of MS-04's flags; exported for tests. */
export function ms04Model(opts: Omit<Ms04Options, 'threshold'>): LoadModel {
  if (opts.batchSize !== undefined) {
    return { kind: 'batched', users: opts.users, batchSize: opts.batchSize, delayMs: durationMs(opts.delay) };
  }
  const unit: LoadPhase['unit'] = opts.rate === undefined ? 'users' : 'rate';
  const peak = opts.rate ?? opts.concurrency;
  return {
    kind: 'phased',
    phases: [
      { name: 'ramp_up', durationMs: durationMs(opts.rampUp), from: 0, to: peak, unit },
      { name: 'sustain', durationMs: durationMs(opts.sustain), from: peak, to: peak, unit },
      { name: 'ramp_down', durationMs: durationMs(opts.rampDown), from: peak, to: 0, unit },
    ].filter((phase) => phase.durationMs > 0),
    maxInFlight: opts.concurrency,
    totalUsers: opts.users,
  };
}

export async function runLoadPatternsMilestone(argv: readonly string[]): Promise<number> {
  const program = milestoneProgram('test-load-patterns', 'MS-04: ramp-up / sustain / ramp-down (or batched) load with per-phase figures', (c) =>
    c
      .option('--users <n>', 'total users (flows, one fresh wallet each); the run ends when they are used', intFlag('--users', 1, 10_000_000), 200)
      .option('--concurrency <n>', 'peak concurrent users (phased) or in-flight cap (with --rate)', intFlag('--concurrency', 1, 100_000), 20)
      .option('--ramp-up <duration>', 'time to ramp from 0 to the peak', durationFlag('--ramp-up'), '5s')
      .option('--sustain <duration>', 'time held at the peak', durationFlag('--sustain'), '5s')
      .option('--ramp-down <duration>', 'time to ramp from the peak back to 0', durationFlag('--ramp-down'), '5s')
      .option('--rate <per-second>', 'ramp an arrival rate (flows/s) instead of concurrent users', numberFlag('--rate', 0.001, 100_000))
      .option('--batch-size <n>', 'batched pattern: flows started together per batch', intFlag('--batch-size', 1, 100_000))
      .option('--delay <duration>', 'batched pattern: pause after a batch has finished', durationFlag('--delay'), '2s'),
  );
  program.parse(argv as string[]);
  const opts = program.opts<Ms04Options>();
  const model = ms04Model(opts);
  const config = loadMilestoneConfig(program, {
    users: opts.users,
    concurrency: opts.concurrency,
    maxInFlight: opts.concurrency,
    rampUp: opts.rampUp,
    sustain: opts.sustain,
    rampDown: opts.rampDown,
    loadModel: model.kind === 'batched' ? 'closed' : 'phased',
    ...(opts.rate !== undefined ? { rate: opts.rate } : {}),
  });
  const pattern =
    model.kind === 'batched'
      ? `batched: ${opts.users} users in batches of ${opts.batchSize}, ${opts.delay} between batches`
      : `phased: ramp-up ${opts.rampUp} → sustain ${opts.sustain} at ${opts.rate === undefined ? `${opts.concurrency} concurrent users` : `${opts.rate}/s`} → ramp-down ${opts.rampDown}; at most ${opts.users} users`;
  if (program.opts<{ dryRun?: boolean }>().dryRun) return await dryRun({ milestone: 'ms-04', defaultThresholds: MILESTONE_THRESHOLDS['ms-04'], config, model, thresholds: opts.threshold });
  const { exitCode, summary } = await runLoadTest({
    defaultThresholds: MILESTONE_THRESHOLDS['ms-04'],
    milestone: 'ms-04',
    title: 'Milestone 4: Load Pattern Testing',
    config,
    model,
    thresholds: opts.threshold,
    intro: [`📈 ${pattern} · data ${config.data.size} · relay ${config.relay.mode} · inference ${config.inference.mode}`],
  });
  if (model.kind === 'phased' && !summary.interrupted) {
    const ran = new Set(summary.phases.map((p) => p.name));
    const skipped = model.phases.filter((p) => !ran.has(p.name)).map((p) => p.name);
    if (skipped.length > 0 && summary.counts.started >= opts.users) {
      console.log(`ℹ️  All ${opts.users} users were used before ${skipped.join(' and ')}: raise --users or shorten the phases to see every phase.`);
    }
  }
  return exitCode;
}
