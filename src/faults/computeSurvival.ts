/**
 * How a run survived its faults, computed from what the run already wrote (its flows and its
 * summary), never measured again: flows ok, ok after a retry, failed by step × class, dropped by
 * reason, unaccounted, circuit-breaker transitions, and the recovery time after the last fault
 * window (definitions in milestones/ms-06/README.md, "Survival").
 */
import type { ErrorClass, FlowResult, StepName } from '../flow.ts';
import type { RunSummary } from '../metrics/types.ts';

/** Consecutive successes that count as "flows succeed again" (see {@link computeSurvival}). */
export const RECOVERY_STREAK = 5;

export interface SurvivalFlows {
  /** Arrivals the load model scheduled: started + dropped (summary). */
  scheduled: number;
  /** Flows the load model started (summary; counted when they start, not when they end). */
  started: number;
  /** Distinct flows with an outcome in flows.jsonl that succeeded. */
  ok: number;
  /** Of `ok`, those that needed at least one step retry. */
  okAfterRetry: number;
  /** Distinct flows with an outcome in flows.jsonl that failed. */
  failed: number;
  /** Arrivals not started, each with its reason (summary). */
  dropped: number;
  droppedBy: Record<string, number>;
  /** scheduled − (ok + failed + dropped with a reason): flows that vanished. */
  unaccounted: number;
  /** ok / (ok + failed), or null when no flow ended. */
  successRate: number | null;
}

export interface SurvivalRecovery {
  /** ms from the end of the last fault window until flows succeeded again; null when not measured or never. */
  ms: number | null;
  /** Epoch ms of the end of the last fault window, or null when no window ends. */
  windowEndAt: number | null;
  /** Epoch ms the first flow of the recovering streak ended, or null. */
  recoveredAt: number | null;
  /** Flows scheduled at or after the window's end. */
  flowsAfter: number;
  /** Why `ms` is null, or how it was found. */
  note: string;
}

export interface Survival {
  flows: SurvivalFlows;
  /** Failed flows by the step and class of their error, largest first. */
  failures: Array<{ step: StepName; errorClass: ErrorClass; count: number }>;
  /** Flows scheduled inside the fault windows and how many succeeded; null when no window is set. */
  duringFaults: { flows: number; ok: number } | null;
  retries: number;
  breaker: RunSummary['breaker'];
  recovery: SurvivalRecovery;
  /** Faults injected (proxies and process faults together). */
  injected: number;
}

export interface ComputeSurvivalParameters {
  /** Every line of the run's flows.jsonl. */
  flows: readonly FlowResult[];
  summary: Pick<RunSummary, 'counts' | 'breaker' | 'scheduler' | 'retries'>;
  /** Epoch ms the fault windows count from (the proxies were armed as the load started). */
  faultsFrom: number;
  /** Window of the faults, ms after `faultsFrom`: the earliest start and the latest end; `untilMs` undefined when a fault lasts the whole run. */
  window: { fromMs: number; untilMs: number | undefined } | undefined;
  injected: number;
  /** Default {@link RECOVERY_STREAK}. */
  streak?: number;
}

/**
 * Recovery: let W be the end of the last fault window. Take the flows scheduled at or after W in
 * the order they were scheduled; find the first run of `streak` consecutive successes; recovery is
 * the end of that run's first flow minus W (so it includes one flow's own duration). Null when no
 * window ends, or when no such run exists among the flows after W (not recovered).
 *
 * @example
 * const survival = computeSurvival({ flows, summary, faultsFrom: launchedAt, window: { fromMs: 10_000, untilMs: 40_000 }, injected: 97 });
 * survival.recovery.ms; // 1_480
 */
export function computeSurvival({ flows, summary, faultsFrom, window, injected, streak = RECOVERY_STREAK }: ComputeSurvivalParameters): Survival {
  // One outcome per flow: a flow written twice must not hide one written never.
  const byId = new Map<number, FlowResult>();
  for (const flow of flows) if (!byId.has(flow.flowId)) byId.set(flow.flowId, flow);
  const outcomes = [...byId.values()];
  const ok = outcomes.filter((f) => f.success);
  const failed = outcomes.filter((f) => !f.success);
  const droppedBy = { ...(summary.scheduler?.droppedBy ?? {}) };
  const droppedWithReason = Object.values(droppedBy).reduce((sum, n) => sum + n, 0);
  const scheduled = summary.counts.started + summary.counts.dropped;

  const failures = new Map<string, { step: StepName; errorClass: ErrorClass; count: number }>();
  for (const flow of failed) {
    const step = flow.error?.step ?? 'encrypt';
    const errorClass = flow.error?.errorClass ?? 'other';
    const key = `${step}.${errorClass}`;
    const entry = failures.get(key) ?? { step, errorClass, count: 0 };
    entry.count++;
    failures.set(key, entry);
  }

  const windowStart = window === undefined ? undefined : faultsFrom + window.fromMs;
  const windowEnd = window?.untilMs === undefined ? undefined : faultsFrom + window.untilMs;
  const during = windowStart === undefined ? [] : outcomes.filter((f) => f.scheduledAt >= windowStart && (windowEnd === undefined || f.scheduledAt < windowEnd));

  return {
    flows: {
      scheduled,
      started: summary.counts.started,
      ok: ok.length,
      okAfterRetry: ok.filter((f) => f.retries > 0).length,
      failed: failed.length,
      dropped: summary.counts.dropped,
      droppedBy,
      unaccounted: scheduled - (ok.length + failed.length + Math.min(droppedWithReason, summary.counts.dropped)),
      successRate: outcomes.length === 0 ? null : ok.length / outcomes.length,
    },
    failures: [...failures.values()].sort((a, b) => b.count - a.count || `${a.step}.${a.errorClass}`.localeCompare(`${b.step}.${b.errorClass}`)),
    duringFaults: window === undefined ? null : { flows: during.length, ok: during.filter((f) => f.success).length },
    retries: summary.retries.total,
    breaker: summary.breaker,
    recovery: recoveryOf(outcomes, windowEnd, streak),
    injected,
  };
}

function recoveryOf(outcomes: readonly FlowResult[], windowEnd: number | undefined, streak: number): SurvivalRecovery {
  if (windowEnd === undefined) {
    return { ms: null, windowEndAt: null, recoveredAt: null, flowsAfter: 0, note: 'no fault window ends: the faults last the whole run' };
  }
  const after = outcomes.filter((f) => f.scheduledAt >= windowEnd).sort((a, b) => a.scheduledAt - b.scheduledAt || a.flowId - b.flowId);
  let run = 0;
  for (const [i, flow] of after.entries()) {
    run = flow.success ? run + 1 : 0;
    if (run < streak) continue;
    const first = after[i - streak + 1]!;
    return {
      ms: Math.max(0, first.endedAt - windowEnd),
      windowEndAt: windowEnd,
      recoveredAt: first.endedAt,
      flowsAfter: after.length,
      note: `flow ${first.flowId} began ${streak} successes in a row`,
    };
  }
  return {
    ms: null,
    windowEndAt: windowEnd,
    recoveredAt: null,
    flowsAfter: after.length,
    note: `not recovered: no ${streak} successes in a row among the ${after.length} flows scheduled after the window`,
  };
}
