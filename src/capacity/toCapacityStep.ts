/**
 * A capacity step's record (capacity.json) from its run's `summary.json` and what the search
 * measured around the run (machine CPU, load average, the chain).
 */
import { STEP_NAMES, type StepName } from '../flow.ts';
import type { RunSummary } from '../metrics/types.ts';
import { cpuLimit } from './cpuLimit.ts';
import type { CapacityStep, ChainLoad, CpuLimit } from './types.ts';

export interface ToCapacityStepParameters {
  index: number;
  phase: CapacityStep['phase'];
  rate: number;
  seed: number;
  arrivals: number;
  summary: RunSummary;
  dir: string;
  /** Whole machine over the step, percent of one core. */
  machineCpuPercent: number;
  loadAverage: number;
  /** Which processes the CPU limit sums: all of them (local) or the harness (remote). */
  cpuScope: CpuLimit['scope'];
  chain: ChainLoad | null;
  chainNote?: string;
}

/**
 * @example
 * const step = toCapacityStep({ index: 1, phase: 'ramp', rate: 5, seed: 3, arrivals: 150, summary, dir, machineCpuPercent: 80, loadAverage: 1.2, cpuScope: 'local', chain: null });
 */
export function toCapacityStep(params: ToCapacityStepParameters): CapacityStep {
  const { summary } = params;
  const stepP95Ms: Partial<Record<StepName, number>> = {};
  for (const name of STEP_NAMES) {
    const p = summary.steps[name];
    if (p) stepP95Ms[name] = p.p95;
  }
  return {
    index: params.index,
    phase: params.phase,
    rate: params.rate,
    seed: params.seed,
    arrivals: params.arrivals,
    achievedRate: summary.rates.achievedRate,
    successRate: summary.rates.successRate,
    e2eP50Ms: summary.steps.e2e?.p50 ?? null,
    e2eP95Ms: summary.steps.e2e?.p95 ?? null,
    stepP95Ms,
    dropped: summary.counts.dropped,
    schedulerLagMaxMs: summary.scheduler?.lagMs.max ?? 0,
    cpu: Object.fromEntries(summary.resources.map((r) => [r.name, { avgPercent: r.cpuAvgPercent, msPerFlow: r.cpuMsPerFlow }])),
    machineCpuPercent: params.machineCpuPercent,
    loadAverage: params.loadAverage,
    cpuLimit: cpuLimit(summary.resources, { cores: summary.environment.cpus, scope: params.cpuScope }),
    chain: params.chain,
    ...(params.chainNote !== undefined ? { chainNote: params.chainNote } : {}),
    // An INVALID step measured the harness: its reasons are the breaches, it does not pass.
    breaches: [
      ...(summary.verdict === 'invalid' ? (summary.generatorHealth?.reasons ?? []).map((r) => `INVALID: ${r}`) : []),
      ...summary.thresholds.filter((t) => !t.pass).map((t) => `${t.expression} (got ${t.actualText})`),
    ],
    pass: !summary.interrupted && summary.verdict === 'pass',
    interrupted: summary.interrupted,
    dir: params.dir,
  };
}
