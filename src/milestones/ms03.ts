/**
 * MS-03 — Multi-user validation: N virtual users (`--concurrent`, 10–50 typical) each run the whole
 * flow at the same time, once by default or back to back for `--duration`; thresholds are the
 * seed's success criteria (MILESTONE_THRESHOLDS['ms-03']).
 */
import { MILESTONE_THRESHOLDS } from './thresholds.ts';
import { loadMilestoneConfig, milestoneProgram } from '../cli/milestoneCli.ts';
import { durationFlag, durationMs as toMs, intFlag } from '../cli/flagParsers.ts';
import type { ClosedLoadModel } from '../load/types.ts';
import { runLoadTest } from '../run/runLoadTest.ts';
import { dryRun } from '../run/dryRun.ts';

interface Ms03Options {
  concurrent: number;
  duration?: string;
  staggeredStart?: string | true;
  dataVariation?: boolean;
  threshold: string[];
}

/** Spread of the first flows when `--staggered-start` has no value: 200 ms per user, at most 10 s. */
export function defaultStaggerWindowMs(users: number): number {
  return Math.min(10_000, users * 200);
}

export async function runMultiUserMilestone(argv: readonly string[]): Promise<number> {
  const program = milestoneProgram('test-multi-user', 'MS-03: N concurrent users each run the full data-portability flow; checks the seed success criteria', (c) =>
    c
      .option('--concurrent <n>', 'concurrent virtual users (10-50 typical)', intFlag('--concurrent', 1, 100_000), 25)
      .option('--duration <duration>', 'keep each user running flows back to back for this long (e.g. 5m); default: one flow per user', durationFlag('--duration'))
      .option('--staggered-start [window]', 'spread the users\' first flows evenly over a window (default 200 ms per user, at most 10s)', durationFlag('--staggered-start'))
      .option('--data-variation', 'mixed data sizes per flow (60% small, 30% medium, 10% large) instead of --data-size'),
  );
  program.parse(argv as string[]);
  const opts = program.opts<Ms03Options>();
  const users = opts.concurrent;
  const durationMs = opts.duration === undefined ? undefined : toMs(opts.duration);
  const staggerMs =
    opts.staggeredStart === undefined ? 0 : opts.staggeredStart === true ? defaultStaggerWindowMs(users) : toMs(opts.staggeredStart);
  const config = loadMilestoneConfig(program, {
    users,
    concurrency: users,
    ...(opts.dataVariation ? { dataSize: 'mixed' } : {}),
    ...(opts.duration !== undefined ? { duration: opts.duration } : {}),
  });
  const model: ClosedLoadModel = {
    kind: 'closed',
    users,
    ...(durationMs !== undefined ? { iterations: 0, durationMs } : { iterations: 1 }),
    ...(staggerMs > 0 ? { staggerMs: staggerMs / users } : {}),
  };
  if (program.opts<{ dryRun?: boolean }>().dryRun) return await dryRun({ milestone: 'ms-03', defaultThresholds: MILESTONE_THRESHOLDS['ms-03'], config, model, thresholds: opts.threshold });
  const { exitCode } = await runLoadTest({
    defaultThresholds: MILESTONE_THRESHOLDS['ms-03'],
    milestone: 'ms-03',
    title: 'Milestone 3: Multi-User Validation',
    config,
    model,
    thresholds: opts.threshold,
    flowLines: users <= 100 && durationMs === undefined,
    intro: [
      `👥 ${users} concurrent users${durationMs !== undefined ? `, flows back to back for ${opts.duration}` : ', one flow each'}` +
        `${staggerMs > 0 ? `, first flows spread over ${staggerMs / 1000}s` : ''} · data ${config.data.size} · relay ${config.relay.mode} · inference ${config.inference.mode}`,
    ],
  });
  return exitCode;
}
