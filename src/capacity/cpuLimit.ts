/**
 * The CPU limit of a capacity search, measured in the same run so the found rate survives a move
 * to another machine (issue 17): cores ÷ (CPU seconds per flow summed over the processes that do
 * the work). On the local target every process is on this machine (harness, stack, anvil); on a
 * remote one only the harness is, so its limit is the harness's alone.
 */
import type { CpuLimit } from './types.ts';

/** A process's CPU per flow, as `RunSummary.resources` and `CapacityStep.cpu` both give it. */
export interface ProcessCpuPerFlow {
  name: string;
  cpuMsPerFlow: number | null;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

/**
 * The CPU limit of one step; null when a process in scope has no CPU per flow (no flow completed)
 * or none was sampled.
 *
 * @example
 * cpuLimit([{ name: 'harness', cpuMsPerFlow: 11.8 }, { name: 'stack', cpuMsPerFlow: 21.2 }, { name: 'anvil', cpuMsPerFlow: 15.5 }], { cores: 2, scope: 'local' });
 * // { cores: 2, scope: 'local', cpuMsPerFlow: 48.5, flowsPerS: 41.24, ... }
 */
export function cpuLimit(processes: readonly ProcessCpuPerFlow[], { cores, scope }: { cores: number; scope: CpuLimit['scope'] }): CpuLimit | null {
  const counted = scope === 'harness' ? processes.filter((p) => p.name === 'harness') : processes;
  if (counted.length === 0 || counted.some((p) => p.cpuMsPerFlow === null) || !(cores > 0)) return null;
  const cpuMsPerFlow = counted.reduce((sum, p) => sum + p.cpuMsPerFlow!, 0);
  if (!(cpuMsPerFlow > 0)) return null;
  return {
    cores,
    scope,
    processes: counted.map((p) => ({ name: p.name, msPerFlow: p.cpuMsPerFlow! })),
    cpuMsPerFlow,
    flowsPerS: (cores * 1000) / cpuMsPerFlow,
  };
}

/**
 * The found rate as a share of the CPU limit, in one sentence:
 * `33.5 flows/s = 0.81 of the CPU limit 41.2 flows/s (2 cores ÷ 48.5 ms CPU per flow: harness 11.8 + stack 21.2 + anvil 15.5)`.
 *
 * @example
 * const { ratio, text } = capacityRatio(33.5, limit);
 */
export function capacityRatio(rate: number, limit: CpuLimit): { ratio: number; text: string } {
  const ratio = rate / limit.flowsPerS;
  const parts = limit.processes.map((p) => `${p.name} ${round1(p.msPerFlow).toFixed(1)}`).join(' + ');
  const cores = `${limit.cores} core${limit.cores === 1 ? '' : 's'}`;
  const text =
    limit.scope === 'harness'
      ? `${rate} flows/s = ${ratio.toFixed(2)} of the harness's CPU limit ${round1(limit.flowsPerS).toFixed(1)} flows/s ` +
        `(${cores} ÷ ${limit.cpuMsPerFlow.toFixed(1)} ms harness CPU per flow; remote target: only the harness is measured)`
      : `${rate} flows/s = ${ratio.toFixed(2)} of the CPU limit ${round1(limit.flowsPerS).toFixed(1)} flows/s ` +
        `(${cores} ÷ ${limit.cpuMsPerFlow.toFixed(1)} ms CPU per flow: ${parts})`;
  return { ratio, text };
}
