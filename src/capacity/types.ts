/**
 * The on-disk format of a capacity search (`results/capacity-<stamp>/capacity.json`) and the
 * options it ran with. `vana-load capacity` writes it after every step; its report.html
 * (src/report/capacityHtml.ts) is drawn from it alone. Durations are milliseconds.
 */
import { type StepName } from '../flow.ts';
import type { ChainLoad } from '../metrics/chainSignal.ts';
import type { Percentiles, ProcessResourceSummary } from '../metrics/types.ts';

/** What a step must meet to count as sustained; each becomes a k6-style threshold of the step's run. */
export interface CapacitySlo {
  /** Lowest success rate, 0..1 (`success_rate>=`). */
  success: number;
  /** e2e p95 must stay below this (`e2e.p95<`). */
  p95Ms: number;
  /** Lowest achieved arrival rate as a fraction of the step's target rate (`achieved_rate>=`). */
  achieved: number;
  /** Most arrivals a step may drop at the in-flight cap (`dropped_count<=`). */
  drops: number;
}

/** How the rate rises between ramp steps: `1.5x` multiplies, `+5` adds. */
export interface RateStep {
  kind: 'multiply' | 'add';
  by: number;
  /** As shown: `×1.5`, `+5/s`. */
  text: string;
}

export interface CapacityOptions {
  target: 'local' | 'remote';
  slo: CapacitySlo;
  startRate: number;
  step: RateStep;
  maxRate: number;
  stepDurationMs: number;
  bisectSteps: number;
  /** Local target only: seconds per block, 0 = automine. */
  blockTime: number;
  s2kCountByte: number;
  maxInFlight: number;
  seed: number;
  /** Local target only: one stack for the whole search instead of a fresh one per step. */
  reuseStack: boolean;
  quick: boolean;
  /** Parent of the search's own `capacity-<stamp>/` directory. */
  resultsDir: string;
}

/** One process's CPU over a step. */
export interface ProcessCpu {
  /** Mean over the step, percent of one core. */
  avgPercent: number;
  /** CPU milliseconds over the step ÷ flows completed; null when none completed. */
  msPerFlow: number | null;
}

/**
 * The CPU limit of a step: the flows per second the cores could carry if the measured processes'
 * CPU per flow were all that limited them, cores ÷ (CPU seconds per flow summed over the processes).
 */
export interface CpuLimit {
  cores: number;
  /** `local`: every process of the local stack and the harness; `harness`: the harness alone (remote target). */
  scope: 'local' | 'harness';
  /** The processes summed, with their CPU ms per flow. */
  processes: Array<{ name: string; msPerFlow: number }>;
  cpuMsPerFlow: number;
  flowsPerS: number;
}

/** The chain over a step's blocks, from `eth_feeHistory` (the step's newest, at most 1024): the shape the run's timeline shares. */
export type { ChainLoad };

/** One step of the search, as printed and as written to capacity.json. */
export interface CapacityStep {
  index: number;
  phase: 'ramp' | 'bisect';
  /** Target arrival rate, flows/s. */
  rate: number;
  seed: number;
  arrivals: number;
  achievedRate: number | null;
  successRate: number;
  e2eP50Ms: number | null;
  e2eP95Ms: number | null;
  /** p95 of each flow step that ran. */
  stepP95Ms: Partial<Record<StepName, number>>;
  dropped: number;
  schedulerLagMaxMs: number;
  /** By process name: `harness`, `stack`, `anvil`. */
  cpu: Record<string, ProcessCpu>;
  /** Whole machine over the step, percent of one core (200 % = both cores of a 2-core machine): shows CPU taken by other work. */
  machineCpuPercent: number;
  /** 1-minute load average at the end of the step. */
  loadAverage: number;
  /** The CPU limit measured in this step; null when no flow completed. */
  cpuLimit: CpuLimit | null;
  /** Null when the chain could not be read (the error is in `chainNote`). */
  chain: ChainLoad | null;
  chainNote?: string;
  /** Failed SLO thresholds, e.g. `e2e.p95<2000ms (got 2.31s)`; empty when the step passed. */
  breaches: string[];
  pass: boolean;
  interrupted: boolean;
  /** The step's own results directory (a `runLoadTest` run: summary.json, report.html, ...). */
  dir: string;
}

/** What limited the rate, in one sentence, with the figures behind it. */
export interface Bottleneck {
  /**
   * `process`: a process was nearest its CPU limit; `machine`: the machine's CPU was full and other
   * work (not the search's processes) took most of it; `step`: no process was near its limit, and
   * this flow step's p95 grew most; `chain`: blocks over half full or the base fee rising; `none`:
   * nothing measured.
   */
  kind: 'process' | 'machine' | 'step' | 'chain' | 'none';
  /** The process, the flow step, `chain` or `other work`; empty for `none`. */
  name: string;
  /** The step (rate) that was diagnosed: the lowest failing one, else the highest passing one. */
  atRate: number | null;
  /** One line, e.g. `stack process at 94 % of its CPU limit at 35.1/s (…)`. */
  text: string;
  /** The other signals looked at, one line each, for the report. */
  evidence: string[];
}

export interface CapacityResult {
  version: 2;
  /** As typed, for the record. */
  command: string;
  date: string;
  environment: { node: string; platform: string; cpus: number; loadAverageAtStart: number; vanaLoad: string };
  options: Omit<CapacityOptions, 'step'> & { step: string };
  conditions: Record<string, string | number | boolean>;
  result: {
    /** Highest target rate that met the SLO, null when none did. */
    sustainableRate: number | null;
    /** True when the highest step, at `--max-rate`, still met the SLO: the capacity is at least that. */
    ceilingReached: boolean;
    firstFailingRate: number | null;
    interrupted: boolean;
    error: string | null;
    /** The CPU limit measured in the sustainable step. */
    cpuLimit: CpuLimit | null;
    /** sustainableRate ÷ cpuLimit.flowsPerS. */
    ratioToCpuLimit: number | null;
    /** e.g. `33.5 flows/s = 0.81 of the CPU limit 41.2 flows/s (2 cores ÷ 48.5 ms CPU per flow: …)`. */
    ratioText: string | null;
    bottleneck: Bottleneck;
  };
  /** The sustainable step's per-step latency and per-process resources. */
  best: { step: number; steps: Partial<Record<StepName | 'e2e', Percentiles>>; resources: ProcessResourceSummary[] } | null;
  steps: CapacityStep[];
}
