/**
 * What limited a capacity search, named from the steps it measured. The step diagnosed is the
 * lowest failing one (else, when no step failed, the highest), compared with the highest passing
 * one below it. Three signals, in this order:
 *
 * 1. **the chain**, when it was read: blocks over half full on average, or the base fee rising by
 *    more than 10 % over the step (src/metrics/chainSignal.ts, the rule a run's verdict uses too);
 * 2. **the machine**, when its CPU was full (under 15 % idle) and other work, not the search's
 *    processes, took most of it: then the figures are the shared machine's, not the target's;
 * 3. **a process** near its CPU limit: a process can use at most one core (one event loop; anvil
 *    mines one block at a time) and at most what the machine leaves idle, so its limit is
 *    min(100 %, its CPU + the machine's idle CPU); at 85 % of that or more it is the bottleneck
 *    (the nearest such process when several are);
 * 4. otherwise **the flow step whose p95 grew most** (in ms) between the two steps: where the
 *    waiting piled up.
 */
import { STEP_NAMES } from '../flow.ts';
import { formatMs } from '../report/htmlFormat.ts';
import { chainSignal, describeChainLoad } from '../metrics/chainSignal.ts';
import type { Bottleneck, CapacityStep } from './types.ts';

/** A process at this share of the CPU it could get, or above, is the bottleneck. */
export const PROCESS_NEAR_LIMIT = 0.85;
/** The machine is full below this share of its CPU idle. */
export const MACHINE_FULL_IDLE = 0.15;

const pct = (x: number): string => `${Math.round(x * 100)} %`;

/** Each process's CPU at a step as a share of what it could get there (see the module comment). */
export function processHeadroom(step: Pick<CapacityStep, 'cpu' | 'machineCpuPercent'>, cores: number): Array<{ name: string; cpuPercent: number; limitPercent: number; share: number }> {
  const idle = Math.max(0, cores * 100 - step.machineCpuPercent);
  return Object.entries(step.cpu)
    .map(([name, { avgPercent }]) => {
      const limitPercent = Math.min(100, avgPercent + idle);
      return { name, cpuPercent: avgPercent, limitPercent, share: limitPercent > 0 ? avgPercent / limitPercent : 0 };
    })
    .sort((a, b) => b.share - a.share || b.cpuPercent - a.cpuPercent);
}

/** Flow steps by p95 growth (ms) from `before` to `at`, largest first; from 0 when there is no `before`. */
function stepGrowth(at: CapacityStep, before: CapacityStep | undefined): Array<{ name: string; from: number | undefined; to: number; growth: number }> {
  return STEP_NAMES.flatMap((name) => {
    const to = at.stepP95Ms[name];
    if (to === undefined) return [];
    const from = before?.stepP95Ms[name];
    return [{ name, from, to, growth: to - (from ?? 0) }];
  }).sort((a, b) => b.growth - a.growth);
}

/**
 * The bottleneck of a search from its steps; see the module comment. Interrupted steps are left out.
 *
 * @example
 * const bottleneck = findBottleneck(result.steps, { cores: 2 });
 * bottleneck.text; // 'stack process at 94 % of the CPU it could get at 35.1/s (…)'
 */
export function findBottleneck(steps: readonly CapacityStep[], { cores }: { cores: number }): Bottleneck {
  const measured = steps.filter((s) => !s.interrupted);
  if (measured.length === 0) return { kind: 'none', name: '', atRate: null, text: 'no step was measured', evidence: [] };
  const byRate = [...measured].sort((a, b) => a.rate - b.rate);
  const bad = byRate.find((s) => !s.pass);
  const at = bad ?? byRate.at(-1)!;
  const before = byRate.filter((s) => s.pass && s.rate < at.rate).at(-1) ?? byRate.filter((s) => s.rate < at.rate).at(-1);
  const where = `at ${at.rate}/s`;
  const prefix = bad ? '' : `not reached up to ${at.rate}/s (no step failed); nearest: `;

  const processes = processHeadroom(at, cores);
  const growth = stepGrowth(at, before);
  const evidence: string[] = [];
  if (processes.length > 0) {
    evidence.push(
      `CPU ${where}: ${processes.map((p) => `${p.name} ${Math.round(p.cpuPercent)} % of one core (${pct(p.share)} of what it could get)`).join(', ')}; ` +
        `machine ${Math.round(at.machineCpuPercent)} % of ${cores * 100} %`,
    );
  }
  if (growth.length > 0) {
    evidence.push(
      `p95 growth ${before ? `${before.rate}/s → ${at.rate}/s` : where}: ` +
        growth
          .slice(0, 3)
          .map((g) => `${g.name} ${g.growth >= 0 ? '+' : '−'}${formatMs(Math.abs(g.growth))}`)
          .join(', '),
    );
  }
  evidence.push(at.chain ? `chain ${where}: ${describeChainLoad(at.chain)}` : `chain ${where}: not measured${at.chainNote ? ` (${at.chainNote})` : ''}`);

  const chain = at.chain ? chainSignal(at.chain) : undefined;
  if (chain) return { kind: 'chain', name: 'chain', atRate: at.rate, text: `${prefix}the chain: ${chain} ${where}`, evidence };

  const ours = processes.reduce((sum, p) => sum + p.cpuPercent, 0);
  const other = Math.max(0, at.machineCpuPercent - ours);
  const machine = `machine ${Math.round(at.machineCpuPercent)} % of ${cores * 100} %${other >= 10 ? `, ${Math.round(other)} % of it other work` : ''}`;
  if (processes.length > 0 && cores * 100 - at.machineCpuPercent < MACHINE_FULL_IDLE * cores * 100 && other > ours) {
    return {
      kind: 'machine',
      name: 'other work',
      atRate: at.rate,
      text:
        `${prefix}the machine: other work took ${Math.round(other)} % of the ${cores * 100} % CPU ${where}, the search's processes ${Math.round(ours)} %; ` +
        'the figures are the shared machine\'s, not the target\'s',
      evidence,
    };
  }

  const nearest = processes[0];
  if (nearest && nearest.share >= PROCESS_NEAR_LIMIT) {
    const process = nearest.name === 'harness' ? 'harness (the load generator)' : `${nearest.name} process`;
    return {
      kind: 'process',
      name: nearest.name,
      atRate: at.rate,
      text:
        `${prefix}${process} at ${pct(nearest.share)} of the CPU it could get ${where} ` +
        `(${Math.round(nearest.cpuPercent)} % of one core; ${machine})`,
      evidence,
    };
  }

  const grew = growth[0];
  if (grew) {
    const busiest = nearest ? `; no process near its CPU limit, the nearest ${nearest.name} at ${pct(nearest.share)}` : '';
    return {
      kind: 'step',
      name: grew.name,
      atRate: at.rate,
      text:
        `${prefix}${grew.name}: its p95 grew most, ` +
        (before && grew.from !== undefined ? `${formatMs(grew.from)} at ${before.rate}/s → ${formatMs(grew.to)} ${where}` : `${formatMs(grew.to)} ${where}`) +
        busiest,
      evidence,
    };
  }
  return { kind: 'none', name: '', atRate: at.rate, text: `${prefix}nothing measured to tell ${where} (no flow step finished)`, evidence };
}
