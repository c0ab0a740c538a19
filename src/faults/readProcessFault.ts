/**
 * Reads a process fault of a scenario (`personal_server_restart`, `relayer_drain`, `chain_pause`):
 * a window the harness injects over the local stack's control channels, not through a proxy.
 */
import { duration, etherAmount, integer } from '../config/parsers.ts';
import { PROCESS_FAULT_BOUNDARY, type ProcessFaultKind, type ProcessFaultSpec } from './faultSpec.ts';
import { show, type Reader } from './scenarioReader.ts';

/** Keys every process fault takes, and the keys of each kind (documented in milestones/ms-06/scenarios/README.md). */
export const PROCESS_FAULT_COMMON_KEYS = ['kind', 'name', 'boundary', 'from', 'until'] as const;
export const PROCESS_FAULT_KIND_KEYS: Readonly<Record<ProcessFaultKind, readonly string[]>> = {
  personal_server_restart: [],
  relayer_drain: ['relayer', 'balance'],
  chain_pause: [],
};

const WINDOW = duration(0, 30 * 86_400_000);
const RELAYER = integer(0, 999, 'index');
const BALANCE = etherAmount('0', '1000000');

/** A process fault of a scenario, frozen. */
export type ScenarioProcessFault = Readonly<ProcessFaultSpec>;

/**
 * Reads one process fault from `raw` (its `kind` already read). Its boundary is the kind's own
 * (`PROCESS_FAULT_BOUNDARY`); a different one given here or by the scenario's default fails.
 */
export function readProcessFault(
  reader: Reader,
  raw: Record<string, unknown>,
  { field, kind, name }: { field: string; kind: ProcessFaultKind; name: string },
): ScenarioProcessFault {
  const at = (key: string): string => (field === '' ? key : `${field}.${key}`);
  reader.object(raw, field, [...PROCESS_FAULT_COMMON_KEYS, ...PROCESS_FAULT_KIND_KEYS[kind]]);
  const boundary = PROCESS_FAULT_BOUNDARY[kind];
  // The scenario's default boundary does not apply: it is the proxy faults' default.
  if (raw.boundary !== undefined && raw.boundary !== boundary) reader.fail(at('boundary'), `${boundary} (a ${kind} breaks that boundary) or absent`, raw.boundary);
  const fromMs = raw.from === undefined ? 0 : reader.parse(raw.from, WINDOW, at('from'));
  if (raw.until === undefined) return reader.fail(at('until'), `a duration: when the ${kind} ends (a process fault is always undone)`, undefined);
  const untilMs = reader.parse(raw.until, WINDOW, at('until'));
  if (untilMs <= fromMs) reader.fail(at('until'), `a duration after from (${show(raw.from ?? 0)})`, raw.until);
  const common = { name, boundary, fromMs, untilMs };
  switch (kind) {
    case 'personal_server_restart':
    case 'chain_pause':
      return Object.freeze({ kind, ...common });
    case 'relayer_drain':
      return Object.freeze({
        kind,
        ...common,
        relayer: raw.relayer === undefined ? 0 : reader.parse(raw.relayer, RELAYER, at('relayer')),
        balanceWei: raw.balance === undefined ? 0n : reader.parse(raw.balance, BALANCE, at('balance')),
      });
  }
}

/** Whether two windows `[from, until)` overlap. */
const overlaps = (a: ScenarioProcessFault, b: ScenarioProcessFault): boolean => a.fromMs < b.untilMs && b.fromMs < a.untilMs;

/**
 * Fails when two process faults of the same kind (and, for drains, the same relayer) overlap in
 * time: the second would restore what the first still holds down.
 */
export function checkProcessFaultOverlaps(reader: Reader, faults: readonly ScenarioProcessFault[]): void {
  for (const [i, a] of faults.entries()) {
    for (const b of faults.slice(i + 1)) {
      if (a.kind !== b.kind || !overlaps(a, b)) continue;
      if (a.kind === 'relayer_drain' && b.kind === 'relayer_drain' && a.relayer !== b.relayer) continue;
      reader.fail(`faults ${a.name} and ${b.name}`, `windows that do not overlap (two ${a.kind} faults${a.kind === 'relayer_drain' ? ' of one relayer' : ''} at once)`, [a.fromMs, a.untilMs, b.fromMs, b.untilMs]);
    }
  }
}
