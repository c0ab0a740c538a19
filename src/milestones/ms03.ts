/**
 * MS-03 — Multi-user validation: N virtual users (`--concurrent`, 10–50 typical) each run the whole
 * flow at the same time, once by default or back to back for `--duration`; thresholds are the
 * seed's success criteria (MILESTONE_THRESHOLDS['ms-03']).
 *
 * N is one value with three names: `--concurrent` (the seed's), `--concurrency` / `VANA_CONCURRENCY`
 * (concurrent users, as in every closed model) and `--users` / `VANA_USERS` (one wallet per user).
 */
import { durationFlag, intFlag } from '../cli/flagParsers.ts';
import { formatDuration } from '../util/format.ts';
import { isUserGiven, type ConfigSource } from '../config/loadConfig.ts';
import type { ConfigKey, VanaLoadConfig } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';
import type { ClosedLoadModel } from '../load/types.ts';
import { defineMilestone, runMilestone } from './defineMilestone.ts';
import { MILESTONE_THRESHOLDS } from './thresholds.ts';

interface Ms03Options {
  concurrent?: number;
  staggeredStart?: string | true;
  dataVariation?: boolean;
}

/** README default: 25 concurrent users. */
export const MS03_DEFAULT_USERS = 25;

/** Spread of the first flows when `--staggered-start` has no value: 200 ms per user, at most 10 s. */
export function defaultStaggerWindowMs(users: number): number {
  return Math.min(10_000, users * 200);
}

/**
 * The number of concurrent users: `--concurrent`, else whichever of concurrency and users the user
 * set (both set and different is an error), else the README's 25.
 */
export function ms03Users(config: Readonly<VanaLoadConfig>, sources: Readonly<Record<ConfigKey, ConfigSource>>, concurrent: number | undefined): number {
  if (concurrent !== undefined) return concurrent;
  const concurrencySet = isUserGiven(sources['load.concurrency']);
  const usersSet = isUserGiven(sources['load.users']);
  if (concurrencySet && usersSet && config.load.concurrency !== config.load.users) {
    throw new ConfigError(`MS-03 runs one user per concurrent slot, but VANA_CONCURRENCY (--concurrency) is ${config.load.concurrency} and VANA_USERS (--users) is ${config.load.users}`, {
      code: 'MS03_USERS_MISMATCH',
      metaMessages: ['Set one of them, or --concurrent, which wins over both.'],
    });
  }
  return concurrencySet ? config.load.concurrency : usersSet ? config.load.users : MS03_DEFAULT_USERS;
}

export const ms03 = defineMilestone<Ms03Options>({
  id: 'ms-03',
  command: 'test-multi-user',
  description: 'MS-03: N concurrent users each run the full data-portability flow; checks the seed success criteria',
  title: 'Milestone 3: Multi-User Validation',
  loadFields: ['load.concurrency', 'load.users', 'load.durationMs', 'load.staggerStartMs'],
  optionalLoadFields: ['load.durationMs'],
  thresholds: MILESTONE_THRESHOLDS['ms-03'],
  options: (c) =>
    c
      .option('--concurrent <n>', `concurrent virtual users, one flow each (10-50 typical; default ${MS03_DEFAULT_USERS}); sets --concurrency and --users`, intFlag('--concurrent', 1, 100_000))
      .option('--staggered-start [window]', "spread the users' first flows evenly over a window (default 200 ms per user, at most 10s); the same as --stagger-start", durationFlag('--staggered-start'))
      .option('--data-variation', 'mixed data sizes per flow (60% small, 30% medium, 10% large); the same as --data-size mixed'),
  descriptions: {
    'load.concurrency': 'Concurrent virtual users (the same as --concurrent and --users).',
    'load.users': 'Virtual users, one wallet each (the same as --concurrent).',
    'load.durationMs': 'Keep each user running flows back to back for this long (e.g. 5m); unset: one flow per user.',
  },
  defaults: () => ({ load: { model: 'closed', users: MS03_DEFAULT_USERS, concurrency: MS03_DEFAULT_USERS } }),
  configFlags: (own) => ({
    ...(own.dataVariation ? { dataSize: 'mixed' } : {}),
    ...(typeof own.staggeredStart === 'string' ? { staggerStart: own.staggeredStart } : {}),
  }),
  model: ({ config, sources, own }): ClosedLoadModel => {
    const users = ms03Users(config, sources, own.concurrent);
    const durationMs = isUserGiven(sources['load.durationMs']) ? config.load.durationMs : undefined;
    const staggerMs = own.staggeredStart === true ? defaultStaggerWindowMs(users) : config.load.staggerStartMs;
    return {
      kind: 'closed',
      users,
      ...(durationMs !== undefined ? { iterations: 0, durationMs } : { iterations: 1 }),
      ...(staggerMs > 0 ? { staggerMs: staggerMs / users } : {}),
    };
  },
  run: ({ config, model }) => {
    const { users, durationMs, staggerMs } = model as ClosedLoadModel;
    return {
      flowLines: users <= 100 && durationMs === undefined,
      intro: [
        `👥 ${users} concurrent users${durationMs !== undefined ? `, flows back to back for ${formatDuration(durationMs)}` : ', one flow each'}` +
          `${staggerMs ? `, first flows spread over ${(staggerMs * users) / 1000}s` : ''} · data ${config.data.size} · relay ${config.relay.mode} · inference ${config.inference.mode}`,
      ],
    };
  },
});

/** MS-03's main: `npx tsx milestones/ms-03/test-multi-user.ts --concurrent 25`. */
export function runMultiUserMilestone(argv: readonly string[]): Promise<number> {
  return runMilestone(ms03, argv);
}
