/**
 * The outcome of a capacity search from its steps alone: the sustainable rate, whether the
 * ceiling held, the first failing rate, the CPU limit of the sustainable step with the ratio of
 * the rate to it, and the bottleneck. A pure function, so a search stopped half-way, a finished
 * one and a fixture are summed up alike.
 */
import { capacityRatio } from './cpuLimit.ts';
import { findBottleneck } from './findBottleneck.ts';
import type { CapacityResult, CapacityStep } from './types.ts';

export interface SummarizeCapacityParameters {
  /** `--max-rate`: a passing step there means the capacity is at least that. */
  maxRate: number;
  cores: number;
  interrupted: boolean;
  error: string | null;
}

/**
 * @example
 * const outcome = summarizeCapacity(steps, { maxRate: 60, cores: 2, interrupted: false, error: null });
 * outcome.ratioText; // '33.5 flows/s = 0.81 of the CPU limit 41.2 flows/s (2 cores ÷ 48.5 ms CPU per flow: …)'
 */
export function summarizeCapacity(steps: readonly CapacityStep[], { maxRate, cores, interrupted, error }: SummarizeCapacityParameters): CapacityResult['result'] {
  const measured = steps.filter((s) => !s.interrupted);
  const passing = measured.filter((s) => s.pass).sort((a, b) => b.rate - a.rate);
  const failing = measured.filter((s) => !s.pass).sort((a, b) => a.rate - b.rate);
  const good = passing[0];
  const bad = failing[0];
  const limit = good?.cpuLimit ?? null;
  const ratio = good && limit ? capacityRatio(good.rate, limit) : null;
  return {
    sustainableRate: good?.rate ?? null,
    ceilingReached: good !== undefined && bad === undefined && good.rate >= maxRate,
    firstFailingRate: bad?.rate ?? null,
    interrupted,
    error,
    cpuLimit: limit,
    ratioToCpuLimit: ratio?.ratio ?? null,
    ratioText: ratio?.text ?? null,
    bottleneck: findBottleneck(steps, { cores }),
  };
}
