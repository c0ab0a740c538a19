/**
 * Are two runs comparable? A comparison isolates a change only when the runs drove the same load
 * at the same target the same way. Two differences make the comparison meaningless and refuse it
 * (unless `--force`): the target (local stack vs a real network) and the kind of load model (a
 * closed model's latency and an open model's are different quantities). The others shift the
 * figures and are named loudly, but compared: a load model's users/rate, the data size, the S2K
 * count byte, block time, relay, inference and storage modes, inference backend, the vana-load and Node versions, the machine,
 * and whether a run was interrupted.
 * The seed is not one of them: runs with other seeds are samples of the same thing.
 * A run whose load generator fell behind (verdict INVALID) is refused on either side, even when
 * both are: its figures describe the harness, so it is no baseline and no candidate.
 */
import type { RunSummary } from '../metrics/types.ts';

export type ComparabilitySeverity = 'refuse' | 'warn';

export interface ComparabilityIssue {
  field: string;
  baseline: string;
  candidate: string;
  severity: ComparabilitySeverity;
}

export const NOT_RECORDED = 'not recorded';

type Read = (summary: RunSummary) => unknown;

const group = (summary: RunSummary, name: string): Record<string, unknown> | undefined => {
  const value = summary.config[name];
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
};
const modelParam = (summary: RunSummary, key: string): unknown => summary.environment.loadModelParams?.[key];

const FIELDS: ReadonlyArray<{ field: string; severity: ComparabilitySeverity; read: Read }> = [
  { field: 'target', severity: 'refuse', read: (s) => s.environment.target },
  { field: 'load model', severity: 'refuse', read: (s) => s.environment.loadModel },
  // The recorded model first (MS-03 maps --concurrent to it), the config's load group for older summaries.
  { field: 'users', severity: 'warn', read: (s) => modelParam(s, 'users') ?? group(s, 'load')?.users },
  { field: 'rate (flows/s)', severity: 'warn', read: (s) => modelParam(s, 'rate') ?? s.rates.targetRate },
  {
    // The rest of the model (iterations, duration, stagger, phases, in-flight cap); the rows above name kind, users and rate.
    field: 'load model parameters',
    severity: 'warn',
    read: (s) => {
      const params = s.environment.loadModelParams;
      if (params === undefined) return undefined;
      const { kind: _kind, users: _users, rate: _rate, seed: _seed, ...rest } = params;
      return rest;
    },
  },
  { field: 'data size', severity: 'warn', read: (s) => group(s, 'data')?.size },
  {
    field: 'S2K count byte',
    severity: 'warn',
    read: (s) => {
      const data = group(s, 'data');
      return data === undefined ? undefined : (data.s2kCountByte ?? "openpgp's default (224)");
    },
  },
  { field: 'block time (s)', severity: 'warn', read: (s) => group(s, 'chain')?.blockTimeSeconds },
  { field: 'relay mode', severity: 'warn', read: (s) => group(s, 'relay')?.mode },
  { field: 'inference mode', severity: 'warn', read: (s) => group(s, 'inference')?.mode },
  { field: 'storage provider', severity: 'warn', read: (s) => group(s, 'storage')?.provider },
  { field: 'inference backend', severity: 'warn', read: (s) => group(s, 'stack')?.inferenceBackend },
  { field: 'vana-load version', severity: 'warn', read: (s) => s.environment.vanaLoad },
  { field: 'node version', severity: 'warn', read: (s) => s.environment.node },
  { field: 'CPUs', severity: 'warn', read: (s) => s.environment.cpus },
  { field: 'platform', severity: 'warn', read: (s) => s.environment.platform },
  // An interrupted run's figures cover only the part that ran.
  { field: 'interrupted', severity: 'warn', read: (s) => s.interrupted },
];

// null is a recorded "none" (a closed model's target rate); undefined was not recorded.
const show = (value: unknown): string =>
  value === undefined ? NOT_RECORDED : value === null ? 'none' : typeof value === 'object' ? JSON.stringify(value) : String(value);

/**
 * Every field in which the two runs differ, with both values; refusing fields first. A field
 * neither run recorded is not a difference; one recorded by one run only is.
 *
 * @example
 * checkComparability(baseline.summary, candidate.summary);
 * // [{ field: 'data size', baseline: 'small', candidate: 'large', severity: 'warn' }]
 */
export function checkComparability(baseline: RunSummary, candidate: RunSummary): ComparabilityIssue[] {
  const issues: ComparabilityIssue[] = [];
  if (isInvalid(baseline) || isInvalid(candidate)) {
    issues.push({ field: 'generator health', baseline: healthOf(baseline), candidate: healthOf(candidate), severity: 'refuse' });
  }
  for (const { field, severity, read } of FIELDS) {
    const a = show(read(baseline));
    const b = show(read(candidate));
    if (a !== b) issues.push({ field, baseline: a, candidate: b, severity });
  }
  return issues.sort((x, y) => (x.severity === y.severity ? 0 : x.severity === 'refuse' ? -1 : 1));
}

const isInvalid = (summary: RunSummary): boolean => summary.verdict === 'invalid';
const healthOf = (summary: RunSummary): string =>
  isInvalid(summary) ? `INVALID (${summary.generatorHealth?.reasons.join('; ') ?? 'the load generator fell behind'})` : (summary.generatorHealth?.status ?? NOT_RECORDED);

/** `target: baseline local, candidate remote`. */
export function describeIssue(issue: ComparabilityIssue): string {
  return `${issue.field}: baseline ${issue.baseline}, candidate ${issue.candidate}`;
}
