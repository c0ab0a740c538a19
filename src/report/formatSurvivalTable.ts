/**
 * MS-06's survival table: one row per scenario (flows ok / ok after a retry / failed / dropped,
 * the largest failure step × class, breaker transitions, recovery, unaccounted, injected, verdict),
 * then the expectations each failing scenario missed.
 */
import type { Survival } from '../faults/computeSurvival.ts';
import type { ThresholdVerdict } from '../metrics/types.ts';
import { formatDuration } from '../util/format.ts';

export interface SurvivalRow {
  name: string;
  pass: boolean;
  survival: Survival;
  verdicts: readonly ThresholdVerdict[];
  /** Why the row failed besides its expectations (the run stopped, was interrupted). */
  note?: string;
  /** Why the row is not judged: its load generator fell behind (the run's health reasons). */
  invalid?: string;
}

const HEADER = ['scenario', 'verdict', 'flows', 'ok', 'retried', 'failed', 'dropped', 'success', 'failures (step.class)', 'breaker o/h/c', 'recovery', 'unaccounted', 'injected'];
/** Left-aligned columns; the others are figures, right-aligned. */
const TEXT_COLUMNS = new Set([0, 1, 8]);

function cells({ name, pass, invalid, survival: s }: SurvivalRow): string[] {
  const top = s.failures.slice(0, 2).map((f) => `${f.step}.${f.errorClass}×${f.count}`);
  const more = s.failures.length > 2 ? ` +${s.failures.length - 2}` : '';
  return [
    name,
    invalid !== undefined ? 'INVALID' : pass ? 'PASS' : 'FAIL',
    String(s.flows.scheduled),
    String(s.flows.ok),
    String(s.flows.okAfterRetry),
    String(s.flows.failed),
    String(s.flows.dropped),
    s.flows.successRate === null ? '-' : `${(s.flows.successRate * 100).toFixed(1)}%`,
    top.length === 0 ? '-' : `${top.join(', ')}${more}`,
    s.breaker ? `${s.breaker.opened}/${s.breaker.halfOpened}/${s.breaker.closed}` : '-',
    s.recovery.ms !== null ? formatDuration(s.recovery.ms) : s.recovery.windowEndAt === null ? 'n/a' : 'never',
    String(s.flows.unaccounted),
    String(s.injected),
  ];
}

/**
 * @example
 * console.log(formatSurvivalTable([{ name: 'storage-5xx-10pct', pass: true, survival, verdicts }]));
 */
export function formatSurvivalTable(rows: readonly SurvivalRow[]): string {
  const table = [HEADER, ...rows.map(cells)];
  const widths = HEADER.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const lines = table.map((r) => r.map((cell, i) => (TEXT_COLUMNS.has(i) ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd());
  const misses = rows
    .filter((row) => !row.pass || row.invalid !== undefined)
    .flatMap((row) => [
      `  ${row.name}:`,
      ...(row.invalid !== undefined ? [`    ${row.invalid}`] : []),
      ...(row.note !== undefined ? [`    ${row.note}`] : []),
      ...row.verdicts.filter((v) => !v.pass).map((v) => `    ✗ ${v.expression}: ${v.actualText} (${v.source})`),
    ]);
  return [...lines, ...(misses.length > 0 ? ['', 'Missed:', ...misses] : [])].join('\n');
}
