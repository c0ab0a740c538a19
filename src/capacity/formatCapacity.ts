/**
 * The terminal lines of `vana-load capacity`: one per step as it ends, and the result with the
 * detail of the sustainable step (where the time and the CPU go). Plain text, no colors: the lines
 * read the same in a CI log.
 */
import { STEP_NAMES } from '../flow.ts';
import type { RunSummary } from '../metrics/types.ts';
import type { CapacityResult, CapacitySlo, CapacityStep } from './types.ts';

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const secs = (ms: number | null): string => (ms === null ? '–' : `${(ms / 1000).toFixed(2)}s`);

/** `success ≥ 99.0%, e2e p95 < 2.00s, achieved ≥ 97% of target, no dropped arrivals`. */
export function describeSlo(slo: CapacitySlo): string {
  const drops = slo.drops === 0 ? 'no dropped arrivals' : `at most ${slo.drops} dropped arrivals`;
  return `success ≥ ${pct(slo.success)}, e2e p95 < ${secs(slo.p95Ms)}, achieved ≥ ${Math.round(slo.achieved * 1000) / 10}% of target, ${drops}`;
}

/** The k6-style thresholds a step at `rate` is judged by. */
export function sloThresholds(slo: CapacitySlo, rate: number): string[] {
  return [`success_rate>=${slo.success}`, `e2e.p95<${slo.p95Ms}ms`, `achieved_rate>=${(slo.achieved * rate).toFixed(3)}/s`, `dropped_count<=${slo.drops}`];
}

const head = (step: Pick<CapacityStep, 'index' | 'phase' | 'rate'>): string => `  #${String(step.index).padEnd(2)} ${step.phase.padEnd(6)} ${`${step.rate}/s`.padStart(7)}`;

/** The line printed as a step starts. */
export function stepStartLine(step: Pick<CapacityStep, 'index' | 'phase' | 'rate' | 'arrivals' | 'seed'>, durationMs: number): string {
  return `${head(step)}  ${step.arrivals} arrivals over ~${durationMs / 1000}s (seed ${step.seed})…`;
}

/** The line printed as a step ends: rates, p95, lag, CPU by process and the verdict with the breached SLO terms. */
export function stepLine(step: CapacityStep): string {
  if (step.interrupted) return `${head(step)}  ⚠️  interrupted: not counted`;
  const cpu = Object.entries(step.cpu)
    .map(([name, c]) => `${name} ${c.avgPercent.toFixed(0)}%`)
    .join(' ');
  const verdict = step.pass ? '✅' : `❌ ${step.breaches.join('; ')}`;
  return (
    `${head(step)}  achieved ${`${step.achievedRate?.toFixed(2) ?? '–'}/s`.padStart(8)}` +
    `  success ${pct(step.successRate).padStart(6)}  p95 ${secs(step.e2eP95Ms).padStart(6)}  lag max ${`${Math.round(step.schedulerLagMaxMs)}ms`.padStart(6)}` +
    `  cpu ${cpu} (machine ${step.machineCpuPercent.toFixed(0)}%, load ${step.loadAverage.toFixed(1)})  ${verdict}`
  );
}

/** Per-step latency and per-process CPU of a step's summary: where the time and the CPU go. */
export function detailLines(summary: RunSummary, machineCpuPercent: number): string[] {
  const lines = [`  ${'step'.padEnd(18)}${'p50'.padStart(9)}${'p95'.padStart(9)}${'p99'.padStart(9)}   (ms)`];
  for (const name of [...STEP_NAMES, 'e2e'] as const) {
    const p = summary.steps[name];
    if (p) lines.push(`  ${name.padEnd(18)}${p.p50.toFixed(1).padStart(9)}${p.p95.toFixed(1).padStart(9)}${p.p99.toFixed(1).padStart(9)}`);
  }
  lines.push('', `  ${'process'.padEnd(18)}${'CPU avg'.padStart(9)}${'CPU peak'.padStart(10)}${'CPU ms/flow'.padStart(13)}${'RSS peak'.padStart(10)}`);
  let total = 0;
  for (const r of summary.resources) {
    total += r.cpuAvgPercent;
    lines.push(
      `  ${r.name.padEnd(18)}${`${r.cpuAvgPercent.toFixed(0)}%`.padStart(9)}${`${r.cpuPeakPercent.toFixed(0)}%`.padStart(10)}` +
        `${(r.cpuMsPerFlow?.toFixed(1) ?? '–').padStart(13)}${`${Math.round(r.rssPeakBytes / 1_048_576)}MB`.padStart(10)}`,
    );
  }
  const cores = summary.environment.cpus;
  lines.push(`  ${`all ${summary.resources.length}`.padEnd(18)}${`${total.toFixed(0)}%`.padStart(9)}   of ${cores * 100}% (${cores} cores); CPU % = share of one core, averaged over the step`);
  lines.push(`  ${'whole machine'.padEnd(18)}${`${machineCpuPercent.toFixed(0)}%`.padStart(9)}   (anything above the processes is other work on the machine)`);
  return lines;
}

/** The result: the sustainable rate, its ratio to the CPU limit and the bottleneck. */
export function resultLines(result: CapacityResult): string[] {
  const r = result.result;
  const lines: string[] = [];
  const bad = result.steps.find((s) => !s.interrupted && s.rate === r.firstFailingRate);
  const failing = bad ? ` (first failing: ${bad.rate}/s — ${bad.breaches.join('; ')})` : '';
  if (r.sustainableRate !== null) {
    lines.push(
      `🏁 Highest sustainable rate: ${r.ceilingReached ? '≥ ' : ''}${r.sustainableRate} flows/s` +
        (r.ceilingReached ? ` (the search ceiling --max-rate ${result.options.maxRate} held)` : failing),
    );
  } else {
    lines.push(result.steps.some((s) => !s.interrupted) ? `🏁 No sustainable rate found${bad ? ` (lowest failing: ${bad.rate}/s — ${bad.breaches.join('; ')})` : ''}.` : '🏁 No step finished.');
  }
  if (r.ratioText !== null) lines.push(`⚙️  ${r.ratioText}`);
  else if (r.sustainableRate !== null) lines.push('⚙️  CPU limit: not measured (no CPU per flow in the sustainable step)');
  lines.push(`🔎 Bottleneck: ${r.bottleneck.text}`);
  return lines;
}
