/**
 * The lines that say what a scenario injects, for the intro of its run and for `--dry-run`:
 * `💥 storage upload-503: status 503 · 10% · PUT,POST · 10s–40s`.
 */
import type { ScenarioFault, ScenarioProcessFault } from '../../faults/scenario.ts';
import type { Scenario } from '../../faults/scenario.ts';
import { formatDuration } from '../../util/format.ts';

const windowOf = (fromMs: number | undefined, untilMs: number | undefined): string =>
  fromMs === undefined && untilMs === undefined ? 'whole run' : `${formatDuration(fromMs ?? 0)}–${untilMs === undefined ? 'end' : formatDuration(untilMs)}`;

function whatOf(fault: ScenarioFault): string {
  switch (fault.kind) {
    case 'latency':
      return 'ms' in fault.delay ? `latency ${formatDuration(fault.delay.ms)}${fault.delay.jitterMs ? ` + ≤${formatDuration(fault.delay.jitterMs)} jitter` : ''}` : `latency p50 ${formatDuration(fault.delay.p50Ms)} p95 ${formatDuration(fault.delay.p95Ms)}`;
    case 'status':
      return `status ${fault.status}`;
    case 'rate_limit':
      return `429 Retry-After ${Math.ceil(fault.retryAfterMs / 1000)}s`;
    case 'reset':
    case 'blackhole':
      return `${fault.kind}${fault.when === 'after_upstream' ? ' after upstream' : ''}`;
    case 'truncate':
      return `truncate to ${fault.keepBytes !== undefined ? `${fault.keepBytes} B` : `${Math.round((fault.keepFraction ?? 0.5) * 100)}%`}`;
  }
}

function filterOf(fault: ScenarioFault): string[] {
  const list = (value: string | readonly string[]): string => (typeof value === 'string' ? value : value.join(','));
  return [
    ...(fault.method !== undefined ? [list(fault.method)] : []),
    ...(fault.path !== undefined ? [String(fault.path)] : []),
    ...(fault.rpcMethod !== undefined ? [list(fault.rpcMethod)] : []),
  ];
}

function processOf(fault: ScenarioProcessFault): string {
  return fault.kind === 'relayer_drain' ? `relayer_drain relayer ${fault.relayer} to ${fault.balanceWei} wei` : fault.kind;
}

/**
 * @example
 * describeScenario(scenario); // ['📝 A flaky object store: …', '💥 storage upload-503: status 503 · 10% · PUT,POST · 10s–40s', …]
 */
export function describeScenario(scenario: Scenario): string[] {
  const sentence = /^.*?[.!?](\s|$)/.exec(scenario.description)?.[0].trim() ?? scenario.description;
  return [
    ...(sentence !== '' ? [`📝 ${sentence}`] : []),
    ...scenario.faults.map((f) => `💥 ${f.boundary} ${f.name}: ${[whatOf(f), ...(f.rate !== undefined && f.rate < 1 ? [`${+(f.rate * 100).toFixed(2)}%`] : []), ...filterOf(f), windowOf(f.fromMs, f.untilMs)].join(' · ')}`),
    ...scenario.processFaults.map((f) => `⚙️  ${f.boundary} ${f.name}: ${[processOf(f), windowOf(f.fromMs, f.untilMs)].join(' · ')}`),
  ];
}
