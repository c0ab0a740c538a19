/**
 * Load models (ARCHITECTURE.md 5) and the contract between a load run and the flow it drives.
 *
 * A load model only decides *when* a flow starts and *which user* runs it; what a flow does is the
 * caller's `RunFlow`. All times are epoch milliseconds, all durations milliseconds.
 */
import type { FlowResult } from '../flow.ts';

/** One flow the load model asks the caller to run. */
export interface FlowTask {
  /** Sequence number in scheduling order (0-based). Open models number every arrival, dropped ones included. */
  flowId: number;
  /** HD index of the user wallet that runs the flow. */
  userIndex: number;
  /**
   * Epoch ms the flow was due: an open model's planned arrival time (even when the timer fired
   * late), or when a closed-model user was ready for its next flow. e2e is measured from here.
   */
  scheduledAt: number;
  /** Phase the flow was scheduled in, for phased models. */
  phase?: string;
}

/**
 * Runs one flow. It reports failures in the returned `FlowResult` (errors are data) and rejects
 * only on a harness bug, which ends the run. It must settle promptly once `signal` aborts: the
 * run waits for every flow it started.
 */
export type RunFlow = (task: FlowTask, signal: AbortSignal) => Promise<FlowResult>;

/** Why an arrival was not started. It is counted and reported, never queued. */
export type DropReason = 'max_in_flight' | 'circuit_open';

/** Optional observers of a run; all are called synchronously from the scheduler. */
export interface LoadRunHooks {
  onFlowStarted?(task: FlowTask): void;
  onFlowFinished?(result: FlowResult): void;
  onDropped?(task: FlowTask, reason: DropReason): void;
  onPhase?(name: string): void;
  /** A timer-driven start happened `ms` after it was planned (every value the lag stats count). */
  onSchedulerLag?(ms: number): void;
}

/**
 * Something that may refuse to start flows and learns from their outcome: the circuit breaker
 * (`createCircuitBreaker`) fits. A refused open-model arrival is dropped (`circuit_open`); a
 * refused closed-model user waits and then tries the same flow again.
 */
export interface FlowGate {
  allow(): boolean;
  record(success: boolean): void;
  /** Milliseconds until `allow()` may return true again (0 when it may now); paces waiting users. */
  msUntilAllowed?(): number;
}

/**
 * Closed model (MS-03 `--concurrent`): `users` virtual users, each running flows back to back.
 * User i runs with userIndex i for all its iterations.
 */
export interface ClosedLoadModel {
  kind: 'closed';
  users: number;
  /** Flows per user. Default 1; 0 = repeat until `durationMs` ends (then `durationMs` is required). */
  iterations?: number;
  /** No flow starts after this long; flows in flight finish. */
  durationMs?: number;
  /** User i starts its first flow at i × staggerMs (MS-03 staggered start). Default 0. */
  staggerMs?: number;
  /** HD index of user 0; user i runs with `firstUserIndex + i` (MS-02 `--user-index`). Default 0. */
  firstUserIndex?: number;
}

/** One phase of a phased model: a linear ramp from `from` to `to` over `durationMs`. */
export interface LoadPhase {
  /** `ramp_up`, `sustain`, `ramp_down`, ...: reported in FlowTask.phase and `onPhase`. */
  name: string;
  durationMs: number;
  from: number;
  to: number;
  /** `rate`: arrivals per second (open). `users`: concurrent virtual users (closed). */
  unit: 'rate' | 'users';
}

/**
 * Phased model (MS-04): phases run one after another. A `rate` phase schedules arrivals evenly
 * along its linear rate ramp (deterministic; the count is the area under the ramp); a `users` phase
 * holds round(users(t)) virtual users running flows back to back, each with a fresh userIndex.
 * When the user target falls, users leave after their current flow.
 */
export interface PhasedLoadModel {
  kind: 'phased';
  phases: readonly LoadPhase[];
  /** Cap on flows in flight: arrivals beyond it are dropped; `users` targets are clamped to it. */
  maxInFlight: number;
  /** Cap on flows scheduled over the run (dropped ones included), e.g. the number of funded wallets. */
  totalUsers?: number;
}

/**
 * Batched model (MS-04 batch processing): start `batchSize` flows together, wait until all of them
 * have finished, pause `delayMs`, start the next batch; `users` flows in all, fresh userIndex each.
 * In flight never exceeds `batchSize`, and a slow batch delays the next one (a closed pattern).
 */
export interface BatchedLoadModel {
  kind: 'batched';
  users: number;
  batchSize: number;
  delayMs: number;
}

/**
 * Poisson model (MS-05): an open model with exponential inter-arrival times of mean 1/rate,
 * seeded so runs are reproducible. Arrivals stop after `users` arrivals or `durationMs`,
 * whichever comes first (at least one is required).
 */
export interface PoissonLoadModel {
  kind: 'poisson';
  /** Mean arrivals per second. */
  rate: number;
  /** Total arrivals, dropped ones included. */
  users?: number;
  durationMs?: number;
  maxInFlight: number;
  /** PRNG seed; unset = a random one, reported in `LoadRunStats.seed`. */
  seed?: number;
}

export type LoadModel = ClosedLoadModel | PhasedLoadModel | BatchedLoadModel | PoissonLoadModel;

export interface LoadRunOptions {
  runFlow: RunFlow;
  hooks?: LoadRunHooks;
  /** Aborting it stops new flows; flows in flight get `drainTimeoutMs` to finish, then are aborted. */
  signal?: AbortSignal;
  /** Default 30_000. */
  drainTimeoutMs?: number;
  /** Consulted before every flow starts, told every outcome. */
  gate?: FlowGate;
  /** Epoch-ms clock. Default `Date.now`, the clock of FlowResult's timestamps. */
  now?: () => number;
}

/** Scheduler lag: actual start - planned start, in ms, over timer-driven starts. */
export interface SchedulerLagStats {
  mean: number;
  max: number;
  /** Lag of the most recent timer-driven start. */
  current: number;
  /** Starts measured. */
  count: number;
}

export interface LoadRunStats {
  model: LoadModel['kind'];
  startedAt: number;
  /** null while the run is going. */
  endedAt: number | null;
  /** Flows the model scheduled: started + dropped. */
  scheduled: number;
  started: number;
  finished: number;
  succeeded: number;
  failed: number;
  dropped: number;
  droppedBy: Record<DropReason, number>;
  inFlight: number;
  peakInFlight: number;
  /** The run was stopped through its signal. */
  interrupted: boolean;
  /** Flows still in flight when the drain timeout expired, and therefore aborted. */
  abortedAfterDrain: number;
  /** PRNG seed of a poisson model, else null. */
  seed: number | null;
  /** Open models: mean planned arrivals per second over the schedule, else null. */
  targetRate: number | null;
  /** Open models: flows started per second of schedule, else null. */
  achievedRate: number | null;
  /** Open models: arrivals (started + dropped) per second of schedule, else null. */
  arrivalRate: number | null;
  /** How long the model kept scheduling, in ms (until its end, its flow cap or the abort). */
  scheduleMs: number;
  schedulerLagMs: SchedulerLagStats;
}

/** What the metrics sampler adds to each `TimeseriesSample`. */
export interface LoadRunExtras {
  /** Open models: the target arrival rate right now. */
  targetRate: number | undefined;
  /** Largest scheduler lag since the previous `extras()` call, or the latest lag when nothing started since. */
  schedulerLagMs: number;
  phase: string | undefined;
}

/** A run in progress. */
export interface LoadRun {
  /** Resolves when every flow has finished; rejects only on a harness bug (`RunFlow` or a hook threw). */
  done: Promise<LoadRunStats>;
  extras(): LoadRunExtras;
  stats(): LoadRunStats;
}

/**
 * One event of a model's planned timeline, `at` ms after the run started. The pure schedules in
 * `schedules.ts` produce them in time order; `startLoadRun` sleeps until each one is due.
 */
export type ScheduleEvent =
  /** A phase begins. */
  | { kind: 'phase'; at: number; name: string }
  /** An open-model arrival. */
  | { kind: 'arrival'; at: number }
  /** Closed model: virtual user `userIndex` starts its first flow. */
  | { kind: 'user'; at: number; userIndex: number }
  /** Phased `users` unit: from now on, hold this many virtual users. */
  | { kind: 'users'; at: number; target: number }
  /** No flow starts from now on. */
  | { kind: 'end'; at: number };
