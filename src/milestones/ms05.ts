/**
 * MS-05 — Streaming load: users arrive as a Poisson process at `--rate` per second (exponential
 * inter-arrival times, seeded), each runs one flow with a fresh HD wallet derived on demand; at most
 * `--concurrency` flows are in flight and arrivals beyond it are counted as dropped, never queued.
 * Latency is measured from each user's scheduled arrival (no coordinated omission). In direct mode a
 * background worker keeps `--pool-size` funded wallets ahead of arrivals with `--funding-workers`
 * funding transactions in flight, and its request → funded latency is a threshold.
 */
import { MILESTONE_THRESHOLDS } from './thresholds.ts';
import { loadMilestoneConfig, milestoneProgram } from '../cli/milestoneCli.ts';
import { durationFlag, durationMs, intFlag, numberFlag } from '../cli/flagParsers.ts';
import type { PoissonLoadModel } from '../load/types.ts';
import { runLoadTest } from '../run/runLoadTest.ts';
import { dryRun } from '../run/dryRun.ts';

interface Ms05Options {
  users?: number;
  rate?: number;
  duration?: string;
  concurrency: number;
  poolSize: number;
  fundingWorkers: number;
  quick?: boolean;
  threshold: string[];
}

/** Full profile (seed: 1000+ users, ~10-20 minutes at the 2.5 users/s target) and `--quick` (CI). */
export const MS05_PROFILES = {
  full: { users: 2_000, rate: 2.5 },
  quick: { users: 1_000, rate: 20 },
} as const;

/**
 * S2K count byte of MS-05's user files unless --s2k-count-byte / VANA_S2K_COUNT_BYTE says
 * otherwise: 96 (64 KiB hashed) instead of the SDK's 224 (16 MiB). At 224 every flow costs ~40 ms
 * of CPU in the harness (encrypt) and again in the personal server (decrypt); on a 2-core machine
 * that runs both, that alone caps the rate near 10 flows/s and makes the load generator the
 * bottleneck. The wire format is the same (readers take the count from the packet).
 */
export const MS05_S2K_COUNT_BYTE = 96;

export async function runStreamingMilestone(argv: readonly string[]): Promise<number> {
  const program = milestoneProgram('test-streaming-load', 'MS-05: Poisson arrivals of 1000+ users, live dashboard, seed targets as thresholds', (c) =>
    c
      .option('--users <n>', `users (arrivals) in all; default ${MS05_PROFILES.full.users}, ${MS05_PROFILES.quick.users} with --quick`, intFlag('--users', 1, 100_000_000))
      .option('--rate <per-second>', `mean arrivals per second; default ${MS05_PROFILES.full.rate}, ${MS05_PROFILES.quick.rate} with --quick`, numberFlag('--rate', 0.001, 100_000))
      .option('--duration <duration>', 'stop arrivals after this long even if users remain', durationFlag('--duration'))
      .option('--concurrency <n>', 'cap on flows in flight; arrivals beyond it are dropped and counted', intFlag('--concurrency', 1, 1_000_000), 200)
      .option('--pool-size <n>', 'direct mode: funded wallets kept ready ahead of arrivals', intFlag('--pool-size', 1, 1_000_000), 100)
      .option('--funding-workers <n>', 'direct mode: funding transactions in flight at once', intFlag('--funding-workers', 1, 64), 2)
      .option('--quick', `CI profile: ${MS05_PROFILES.quick.users} users at ${MS05_PROFILES.quick.rate}/s unless --users/--rate say otherwise`),
  );
  program.parse(argv as string[]);
  const opts = program.opts<Ms05Options>();
  const profile = opts.quick ? MS05_PROFILES.quick : MS05_PROFILES.full;
  const users = opts.users ?? profile.users;
  const rate = opts.rate ?? profile.rate;
  const loaded = loadMilestoneConfig(program, {
    loadModel: 'poisson',
    users,
    rate,
    maxInFlight: opts.concurrency,
    ...(opts.duration !== undefined ? { duration: opts.duration } : {}),
  });
  // MS-05 measures how many flows/s the stack sustains; see MS05_S2K_COUNT_BYTE.
  const config = loaded.data.s2kCountByte === undefined ? { ...loaded, data: { ...loaded.data, s2kCountByte: MS05_S2K_COUNT_BYTE } } : loaded;
  const model: PoissonLoadModel = {
    kind: 'poisson',
    rate,
    users,
    ...(opts.duration !== undefined ? { durationMs: durationMs(opts.duration) } : {}),
    maxInFlight: opts.concurrency,
    ...(config.load.seed !== undefined ? { seed: config.load.seed } : {}),
  };
  const direct = config.relay.mode === 'direct';
  if (program.opts<{ dryRun?: boolean }>().dryRun) return await dryRun({ milestone: 'ms-05', defaultThresholds: MILESTONE_THRESHOLDS['ms-05'], config, model, thresholds: opts.threshold });
  const { exitCode } = await runLoadTest({
    defaultThresholds: MILESTONE_THRESHOLDS['ms-05'],
    milestone: 'ms-05',
    title: 'Milestone 5: Streaming Load Test',
    config,
    model,
    thresholds: opts.threshold,
    funding: { poolSize: opts.poolSize, workers: opts.fundingWorkers },
    intro: [
      `🌊 ${users} users arriving at ${rate}/s (Poisson; ~${Math.round(users / rate)}s of arrivals) · in-flight cap ${opts.concurrency}` +
        ` · data ${config.data.size} · relay ${config.relay.mode} · inference ${config.inference.mode} · S2K count byte ${config.data.s2kCountByte}`,
      direct
        ? `💰 background funding: pool ${opts.poolSize} wallets, ${opts.fundingWorkers} funding tx in flight`
        : `💰 relay ${config.relay.mode}: a relayer pays gas, no user funding (--relay direct to fund wallets in the background)`,
    ],
  });
  return exitCode;
}
