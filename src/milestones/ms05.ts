/**
 * MS-05 — Streaming load: users arrive as a Poisson process at `--rate` per second (exponential
 * inter-arrival times, seeded), each runs one flow with a fresh HD wallet derived on demand; at most
 * `--max-in-flight` flows are in flight and arrivals beyond it are counted as dropped, never queued.
 * Latency is measured from each user's scheduled arrival (no coordinated omission). In direct mode a
 * background worker keeps `--pool-size` funded wallets ahead of arrivals with `--funding-workers`
 * funding transactions in flight, and its request → funded latency is a threshold.
 */
import { intFlag } from '../cli/flagParsers.ts';
import { isUserGiven } from '../config/loadConfig.ts';
import type { PoissonLoadModel } from '../load/types.ts';
import { defineMilestone, runMilestone } from './defineMilestone.ts';
import { MILESTONE_THRESHOLDS } from './thresholds.ts';

interface Ms05Options {
  poolSize: number;
  fundingWorkers: number;
  quick?: boolean;
}

/** Full profile (seed: 1000+ users, ~10-20 minutes at the 2.5 users/s target) and `--quick` (CI). */
export const MS05_PROFILES = {
  full: { users: 2_000, rate: 2.5 },
  quick: { users: 1_000, rate: 20 },
} as const;

/** README default of the in-flight cap. */
export const MS05_MAX_IN_FLIGHT = 200;

/**
 * S2K count byte of MS-05's user files unless --s2k-count-byte / VANA_S2K_COUNT_BYTE says
 * otherwise: 96 (64 KiB hashed) instead of the SDK's 224 (16 MiB). At 224 every flow costs ~40 ms
 * of CPU in the harness (encrypt) and again in the personal server (decrypt); on a 2-core machine
 * that runs both, that alone caps the rate near 10 flows/s and makes the load generator the
 * bottleneck. The wire format is the same (readers take the count from the packet).
 */
export const MS05_S2K_COUNT_BYTE = 96;

export const ms05 = defineMilestone<Ms05Options>({
  id: 'ms-05',
  command: 'test-streaming-load',
  description: 'MS-05: Poisson arrivals of 1000+ users, live dashboard, seed targets as thresholds',
  title: 'Milestone 5: Streaming Load Test',
  loadFields: ['load.users', 'load.rate', 'load.durationMs', 'load.maxInFlight'],
  optionalLoadFields: ['load.durationMs'],
  thresholds: MILESTONE_THRESHOLDS['ms-05'],
  options: (c) =>
    c
      .option('--pool-size <n>', 'direct mode: funded wallets kept ready ahead of arrivals', intFlag('--pool-size', 1, 1_000_000), 100)
      .option('--funding-workers <n>', 'direct mode: funding transactions in flight at once', intFlag('--funding-workers', 1, 64), 2)
      .option('--quick', `CI profile: ${MS05_PROFILES.quick.users} users at ${MS05_PROFILES.quick.rate}/s unless --users/--rate (or VANA_USERS/VANA_RATE) say otherwise`),
  descriptions: {
    'load.users': `Users (arrivals) in all; ${MS05_PROFILES.quick.users} with --quick.`,
    'load.rate': `Mean arrivals per second (Poisson); ${MS05_PROFILES.quick.rate} with --quick.`,
    'load.durationMs': 'Stop arrivals after this long even if users remain; unset: when --users have arrived.',
    'load.maxInFlight': 'Cap on flows in flight; arrivals beyond it are dropped and counted, never queued.',
  },
  defaults: (own) => {
    const profile = own.quick ? MS05_PROFILES.quick : MS05_PROFILES.full;
    return { load: { model: 'poisson', users: profile.users, rate: profile.rate, maxInFlight: MS05_MAX_IN_FLIGHT }, data: { s2kCountByte: MS05_S2K_COUNT_BYTE } };
  },
  model: ({ config, sources }): PoissonLoadModel => ({
    kind: 'poisson',
    rate: config.load.rate,
    users: config.load.users,
    ...(isUserGiven(sources['load.durationMs']) ? { durationMs: config.load.durationMs } : {}),
    maxInFlight: config.load.maxInFlight,
    ...(config.load.seed !== undefined ? { seed: config.load.seed } : {}),
  }),
  run: ({ config, own }) => {
    const { users, rate, maxInFlight } = config.load;
    return {
      funding: { poolSize: own.poolSize, workers: own.fundingWorkers },
      intro: [
        `🌊 ${users} users arriving at ${rate}/s (Poisson; ~${Math.round(users / rate)}s of arrivals) · in-flight cap ${maxInFlight}` +
          ` · data ${config.data.size} · relay ${config.relay.mode} · inference ${config.inference.mode} · S2K count byte ${config.data.s2kCountByte}`,
        config.relay.mode === 'direct'
          ? `💰 background funding: pool ${own.poolSize} wallets, ${own.fundingWorkers} funding tx in flight`
          : `💰 relay ${config.relay.mode}: a relayer pays gas, no user funding (--relay direct to fund wallets in the background)`,
      ],
    };
  },
});

/** MS-05's main: `npx tsx milestones/ms-05/test-streaming-load.ts`. */
export function runStreamingMilestone(argv: readonly string[]): Promise<number> {
  return runMilestone(ms05, argv);
}
