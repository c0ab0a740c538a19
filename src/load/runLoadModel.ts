/**
 * The load-run engine: turns a load model's planned timeline into `runFlow` calls.
 *
 * Timing: every event has an absolute planned time (run start + offset); one timer sleeps until the
 * next one, and a tick starts every event that is due, so a late timer is caught up in one tick and
 * delays never accumulate. Scheduler lag (actual start - planned) is measured on every timer-driven
 * start. Memory stays flat: only flows in flight (and closed-model users) are held.
 */
import { setMaxListeners } from 'node:events';
import { ConfigError } from '../errors.ts';
import { createLagMeter } from './schedulerLag.ts';
import { createWakeableSleeps } from './wakeableSleeps.ts';
import { phasedRateAt, phasedTargetRate, scheduleOf } from './schedules.ts';
import type {
  BatchedLoadModel,
  DropReason,
  FlowTask,
  LoadModel,
  LoadRun,
  LoadRunExtras,
  LoadRunOptions,
  LoadRunStats,
  ScheduleEvent,
} from './types.ts';
import { validateLoadModel } from './validateLoadModel.ts';

/** Floor of the pause of a user waiting for the gate (breaker) to let a flow through. */
const GATE_POLL_MIN_MS = 50;

/**
 * Runs `model` to completion and resolves with its stats; shorthand for `startLoadRun(...).done`.
 *
 * @example
 * const stats = await runLoadModel({ kind: 'poisson', rate: 20, users: 1_000, maxInFlight: 200, seed: 7 }, { runFlow });
 */
export function runLoadModel(model: LoadModel, options: LoadRunOptions): Promise<LoadRunStats> {
  return startLoadRun(model, options).done;
}

/**
 * Starts `model`; the returned handle exposes live `stats()` and the sampler's `extras()`.
 * Aborting `options.signal` stops new flows, gives flows in flight `drainTimeoutMs` to finish,
 * then aborts the signal they were given; `done` then resolves with `interrupted: true`.
 *
 * @example
 * const run = startLoadRun({ kind: 'closed', users: 25, staggerMs: 200 }, { runFlow, signal });
 * setInterval(() => sample(run.extras()), 1_000);
 * const stats = await run.done;
 */
export function startLoadRun(model: LoadModel, options: LoadRunOptions): LoadRun {
  validateLoadModel(model);
  const { runFlow, hooks = {}, signal, gate, drainTimeoutMs = 30_000, now = Date.now } = options;
  if (typeof runFlow !== 'function') throw new ConfigError(`runFlow: Expected a function, got ${typeof runFlow}`, { code: 'LOAD_RUN_INVALID' });
  if (!Number.isFinite(drainTimeoutMs) || drainTimeoutMs < 0) {
    throw new ConfigError(`drainTimeoutMs: Expected a finite number >= 0, got ${drainTimeoutMs}`, { code: 'LOAD_RUN_INVALID' });
  }

  const seed = model.kind === 'poisson' ? (model.seed ?? Math.floor(Math.random() * 2 ** 32)) : null;
  const schedule = scheduleOf(model, seed);
  const maxInFlight = model.kind === 'poisson' || model.kind === 'phased' ? model.maxInFlight : Infinity;
  const flowLimit = model.kind === 'phased' ? (model.totalUsers ?? Infinity) : Infinity;
  const iterations = model.kind === 'closed' ? (model.iterations ?? 1) : 0;
  const targetRate = model.kind === 'poisson' ? model.rate : model.kind === 'phased' ? phasedTargetRate(model.phases) : null;
  const flowsController = new AbortController();
  // Every flow in flight may listen on this one signal: no listener-leak warning at 1000 in flight.
  setMaxListeners(0, flowsController.signal);
  const startedAt = now();

  const counts = { scheduled: 0, started: 0, finished: 0, succeeded: 0, failed: 0, dropped: 0, inFlight: 0, peakInFlight: 0 };
  const droppedBy: Record<DropReason, number> = { max_in_flight: 0, circuit_open: 0 };
  const lag = createLagMeter();
  let phase: string | undefined;
  let nextFlowId = 0;
  let nextUserIndex = 0;
  // Closed users hold no target; phased `users` phases set one.
  let targetUsers = model.kind === 'phased' ? 0 : Infinity;
  let activeUsers = 0;
  let producers = 0;
  let scheduleActive = false;
  let stopping = false;
  let interrupted = false;
  let abortedAfterDrain = 0;
  let scheduleEndedAt: number | undefined;
  let endedAt: number | null = null;
  let fatal: { error: unknown } | undefined;
  let tickTimer: ReturnType<typeof setTimeout> | undefined;
  let drainTimer: ReturnType<typeof setTimeout> | undefined;
  const sleeps = createWakeableSleeps();
  const sleep = sleeps.sleep;

  let resolveDone!: (stats: LoadRunStats) => void;
  let rejectDone!: (error: unknown) => void;
  const done = new Promise<LoadRunStats>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });

  function stats(): LoadRunStats {
    const scheduleMs = (scheduleEndedAt ?? now()) - startedAt;
    const open = targetRate !== null;
    const perSecond = (n: number) => (open && scheduleMs > 0 ? n / (scheduleMs / 1000) : null);
    return {
      model: model.kind,
      startedAt,
      endedAt,
      ...counts,
      droppedBy: { ...droppedBy },
      interrupted,
      abortedAfterDrain,
      seed,
      targetRate,
      achievedRate: perSecond(counts.started),
      arrivalRate: perSecond(counts.started + counts.dropped),
      scheduleMs,
      schedulerLagMs: lag.summary(),
    };
  }

  function extras(): LoadRunExtras {
    const schedulerLagMs = lag.takeInterval();
    let rate: number | undefined;
    if (!stopping && model.kind === 'poisson') rate = model.rate;
    if (!stopping && model.kind === 'phased') rate = phasedRateAt(model.phases, now() - startedAt).rate;
    return { targetRate: rate, schedulerLagMs, phase };
  }

  const recordLag = (ms: number): void => {
    const value = lag.record(ms);
    if (hooks.onSchedulerLag) guard(() => hooks.onSchedulerLag!(value));
  };

  /** Runs a hook (or gate call); one that throws is a harness bug and ends the run. */
  function guard(call: () => void): void {
    try {
      call();
    } catch (error) {
      fail(error);
    }
  }

  function fail(error: unknown): void {
    fatal ??= { error };
    stopScheduling();
    flowsController.abort(error);
  }

  function newTask(scheduledAt: number, userIndex: number): FlowTask {
    counts.scheduled++;
    const task: FlowTask = { flowId: nextFlowId++, userIndex, scheduledAt };
    if (phase !== undefined) task.phase = phase;
    return task;
  }

  function launch(task: FlowTask): Promise<void> {
    counts.started++;
    counts.inFlight++;
    counts.peakInFlight = Math.max(counts.peakInFlight, counts.inFlight);
    guard(() => hooks.onFlowStarted?.(task));
    let pending: Promise<Awaited<ReturnType<typeof runFlow>>>;
    try {
      pending = Promise.resolve(runFlow(task, flowsController.signal));
    } catch (error) {
      pending = Promise.reject(error);
    }
    return pending.then(
      (result) => {
        counts.inFlight--;
        counts.finished++;
        if (result.success) counts.succeeded++;
        else counts.failed++;
        // Flows the harness aborted say nothing about the system under test.
        if (gate && !flowsController.signal.aborted) guard(() => gate.record(result.success));
        guard(() => hooks.onFlowFinished?.(result));
        maybeFinish();
      },
      (error: unknown) => {
        counts.inFlight--;
        fail(error);
        maybeFinish();
      },
    );
  }

  function drop(task: FlowTask, reason: DropReason): void {
    counts.dropped++;
    droppedBy[reason]++;
    guard(() => hooks.onDropped?.(task, reason));
  }

  /** An open-model arrival: started, or dropped when at the in-flight cap or refused by the gate; never queued. */
  function arrive(plannedAt: number): void {
    if (counts.scheduled >= flowLimit) return stopScheduling();
    recordLag(now() - plannedAt);
    const task = newTask(plannedAt, nextUserIndex++);
    if (counts.inFlight >= maxInFlight) return drop(task, 'max_in_flight');
    if (gate && !gate.allow()) return drop(task, 'circuit_open');
    void launch(task);
  }

  /**
   * Sleeps while the gate refuses; true once it lets a flow through, false when `mayGoOn` says
   * stop. `mayGoOn` runs right after each pause, before the gate is asked again, so a stopping
   * user never takes a half-open probe it will not use.
   */
  async function waitForGate(mayGoOn: () => boolean): Promise<boolean> {
    if (!gate) return mayGoOn();
    do {
      await sleep(Math.max(GATE_POLL_MIN_MS, gate.msUntilAllowed?.() ?? 0));
      if (!mayGoOn()) return false;
    } while (!gate.allow());
    return true;
  }

  /** A virtual user running flows back to back, from `firstPlannedAt` on. */
  async function runUser(userIndex: number, firstPlannedAt: number): Promise<void> {
    producers++;
    activeUsers++;
    let counted = true;
    const leave = () => {
      if (counted) activeUsers--;
      counted = false;
    };
    // Decided and acted on in one synchronous step: a user above the target leaves at once, so
    // two users never both leave for the same surplus.
    const mayGoOn = () => {
      if (counts.scheduled >= flowLimit) stopScheduling();
      if (!stopping && activeUsers <= targetUsers) return true;
      leave();
      return false;
    };
    try {
      let readyAt = firstPlannedAt;
      let timerDriven = true;
      for (let iteration = 0; iterations === 0 || iteration < iterations; iteration++) {
        if (!mayGoOn()) break;
        if (gate && !gate.allow()) {
          if (!(await waitForGate(mayGoOn))) break;
          // Held back by the gate: the flow is scheduled when the gate lets it go.
          readyAt = now();
        } else if (timerDriven) {
          recordLag(now() - readyAt);
        }
        timerDriven = false;
        await launch(newTask(readyAt, userIndex));
        readyAt = now();
      }
    } catch (error) {
      fail(error);
    } finally {
      leave();
      producers--;
      maybeFinish();
    }
  }

  async function runBatches(batched: BatchedLoadModel): Promise<void> {
    producers++;
    try {
      let remaining = batched.users;
      let batchAt = startedAt;
      while (remaining > 0 && !stopping) {
        const wait = batchAt - now();
        if (wait > 0) await sleep(wait);
        if (stopping) break;
        const size = Math.min(batched.batchSize, remaining);
        remaining -= size;
        const flows: Array<Promise<void>> = [];
        for (let k = 0; k < size; k++) flows.push(runBatchFlow(batchAt));
        await Promise.all(flows);
        batchAt = now() + batched.delayMs;
      }
      stopScheduling();
    } catch (error) {
      fail(error);
    } finally {
      producers--;
      maybeFinish();
    }
  }

  async function runBatchFlow(plannedAt: number): Promise<void> {
    let scheduledAt = plannedAt;
    if (gate && !gate.allow()) {
      if (!(await waitForGate(() => !stopping))) return;
      scheduledAt = now();
    } else {
      recordLag(now() - plannedAt);
    }
    await launch(newTask(scheduledAt, nextUserIndex++));
  }

  function handle(event: ScheduleEvent, plannedAt: number): void {
    switch (event.kind) {
      case 'phase':
        phase = event.name;
        guard(() => hooks.onPhase?.(event.name));
        return;
      case 'arrival':
        return arrive(plannedAt);
      case 'user':
        void runUser(event.userIndex, plannedAt);
        return;
      case 'users':
        targetUsers = Math.min(event.target, maxInFlight);
        while (activeUsers < targetUsers && !stopping) void runUser(nextUserIndex++, plannedAt);
        return;
      case 'end':
        return stopScheduling(plannedAt);
    }
  }

  let pending = schedule?.next();
  function tick(): void {
    tickTimer = undefined;
    let t = now();
    while (!stopping && pending) {
      if (pending.done) return releaseSchedule();
      const plannedAt = startedAt + pending.value.at;
      if (plannedAt > t) {
        t = now();
        if (plannedAt > t) {
          tickTimer = setTimeout(tick, Math.ceil(plannedAt - t));
          return;
        }
      }
      try {
        handle(pending.value, plannedAt);
      } catch (error) {
        return fail(error);
      }
      pending = schedule?.next();
    }
  }

  function releaseSchedule(): void {
    if (!scheduleActive) return;
    scheduleActive = false;
    producers--;
    maybeFinish();
  }

  /** No flow starts from now on; flows in flight go on. */
  function stopScheduling(at: number = now()): void {
    if (stopping) return;
    stopping = true;
    phase = undefined;
    scheduleEndedAt = Math.min(at, now());
    if (tickTimer !== undefined) clearTimeout(tickTimer);
    tickTimer = undefined;
    sleeps.wakeAll();
    releaseSchedule();
  }

  function onAbort(): void {
    interrupted = true;
    stopScheduling();
    if (counts.inFlight === 0 || drainTimer !== undefined || flowsController.signal.aborted) return maybeFinish();
    drainTimer = setTimeout(() => {
      drainTimer = undefined;
      abortedAfterDrain = counts.inFlight;
      flowsController.abort(signal?.reason);
    }, drainTimeoutMs);
  }

  function maybeFinish(): void {
    if (endedAt !== null || producers > 0 || counts.inFlight > 0) return;
    endedAt = now();
    scheduleEndedAt ??= endedAt;
    if (drainTimer !== undefined) clearTimeout(drainTimer);
    if (tickTimer !== undefined) clearTimeout(tickTimer);
    signal?.removeEventListener('abort', onAbort);
    if (fatal) rejectDone(fatal.error);
    else resolveDone(stats());
  }

  // Hold one producer while starting, so nothing below can finish the run early.
  producers++;
  if (schedule) {
    scheduleActive = true;
    producers++;
  }
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  if (model.kind === 'batched') void runBatches(model);
  tick();
  producers--;
  maybeFinish();

  return { done, extras, stats };
}
