/**
 * The generator-health part of the terminal's final report: each check with its value, its limit
 * and where in the run it was over, and who dropped the arrivals that were not started.
 */
import { formatElapsed } from '../metrics/generatorHealth.ts';
import type { GeneratorHealth } from '../metrics/types.ts';

/** Spans printed per check before "+N more". */
const SHOWN_WINDOWS = 4;

/**
 * Lines under `🩺 Generator health`, given the report's `table` and `paint`.
 *
 * @example
 * out.push(...formatHealthLines(summary.generatorHealth, { table, bad: (s) => paint(color, '31', s) }));
 */
export function formatHealthLines(
  health: GeneratorHealth,
  { table, bad, title }: { table: (rows: readonly (readonly string[])[], align?: string) => string[]; bad: (text: string) => string; title: (text: string) => string },
): string[] {
  const status = health.status === 'ok' ? 'OK: the harness kept up' : health.status === 'invalid' ? 'INVALID: the harness fell behind' : 'not judged (--health-check false)';
  const rows = health.checks.map((c) => {
    const where = c.windows.slice(0, SHOWN_WINDOWS).map((w) => `${formatElapsed(w.fromS)}–${formatElapsed(w.toS)}`);
    if (c.windows.length > SHOWN_WINDOWS) where.push(`+${c.windows.length - SHOWN_WINDOWS} more`);
    if (c.note !== undefined) return [`➖ ${c.name}`, c.valueText, `≤ ${c.limitText}`, 'not judged', c.note];
    return [`${c.ok ? '✅' : '❌'} ${c.name}`, c.valueText, `≤ ${c.limitText}`, c.ok ? 'ok' : 'OVER', where.join(', ')];
  });
  const lines = table([['check', 'value', 'limit', 'result', 'where (elapsed) / why not judged'], ...rows], 'lrrll');
  const out = [title(`🩺 Generator health: ${status}`), lines[0]!, ...lines.slice(1).map((line, i) => (health.checks[i]?.ok ? line : bad(line)))];
  if (health.diagnosis !== undefined) out.push(`  💡 Why: ${health.diagnosis}`);
  const { byHarness, bySystem, inUnhealthyWindows } = health.dropped;
  const system = Object.entries(bySystem).filter(([, n]) => n > 0);
  const systemTotal = system.reduce((sum, [, n]) => sum + n, 0);
  if (byHarness + systemTotal > 0) {
    const reasons = system.map(([reason, n]) => `${reason} ${n}`).join(', ');
    const unhealthy = inUnhealthyWindows > 0 ? ` · ${inUnhealthyWindows} of them while the harness was over a limit` : '';
    out.push(`  🚫 Dropped arrivals: ${byHarness} by the harness · ${systemTotal} by the system${reasons === '' ? '' : ` (${reasons})`}${unhealthy}`);
  }
  return out;
}
