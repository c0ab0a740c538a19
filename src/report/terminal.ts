/**
 * The terminal side of a run (ARCHITECTURE.md 6): a live view while it runs (a block redrawn in
 * place on a TTY, one plain line per interval in CI logs) and the final report in the style of the
 * milestone READMEs, ending with the generator's health, the threshold verdicts and
 * `VERDICT: PASS|FAIL|INVALID`.
 */
import type { FlowResult } from '../flow.ts';
import { formatBytes, formatDuration } from '../util/format.ts';
import type { ProcessSample, RunSummary, TimeseriesSample } from '../metrics/types.ts';
import { formatChainBottleneck, formatChainFrameLine, formatChainLiveParts, formatChainReport } from './chainTerminal.ts';
import { formatHealthLines } from './terminalHealth.ts';

/** Where the terminal writes: `process.stdout`, or a fake with `isTTY` in tests. */
export interface OutputStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/** Colors only on a TTY and when `NO_COLOR` is unset or empty (https://no-color.org). */
export function shouldUseColor(stream: OutputStream, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && (env.NO_COLOR ?? '') === '';
}

const ESC = '\u001b[';
const paint = (on: boolean, code: string, text: string): string => (on ? `${ESC}${code}m${text}${ESC}0m` : text);

/** `45s`, `2m 05s`, `1h 02m`. */
function formatClock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3_600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3_600)}h ${String(Math.floor((s % 3_600) / 60)).padStart(2, '0')}m`;
}

const compactBytes = (bytes: number): string => formatBytes(bytes).replace(' ', '');
const cpu = (percent: number): string => `${Math.round(percent)}%`;
const SHORT_NAMES = new Map([['harness', 'h'], ['stack', 's'], ['anvil', 'a']]);
const shortName = (name: string): string => SHORT_NAMES.get(name) ?? name;

/** One plain line for logs: `[  30s] done 212 ok 210 fail 2 drop 0 inflight 25 rate 7.1/s p95 1.84s cpu h 23% ...`. */
export function formatLiveLine(sample: TimeseriesSample): string {
  const parts = [
    `[${`${Math.round(sample.elapsedS)}`.padStart(4)}s]`,
    `done ${sample.completed} ok ${sample.succeeded} fail ${sample.failed} drop ${sample.dropped} inflight ${sample.inFlight}`,
    `rate ${sample.completedPerS.toFixed(1)}/s`,
  ];
  if (sample.targetRate !== undefined) parts.push(`target ${sample.targetRate.toFixed(1)}/s`);
  parts.push(`p95 ${sample.rollingE2eP95 === null ? '-' : formatDuration(sample.rollingE2eP95)}`);
  if (sample.processes.length > 0) {
    parts.push(`cpu ${sample.processes.map((p) => `${shortName(p.name)} ${cpu(p.cpuPercent)}`).join(' ')}`);
    parts.push(`rss ${sample.processes.map((p) => `${shortName(p.name)} ${compactBytes(p.rssBytes)}`).join(' ')}`);
  }
  if (sample.missingProcesses?.length) parts.push(`exited ${sample.missingProcesses.join(',')}`);
  parts.push(...formatChainLiveParts(sample));
  if (sample.breaker !== undefined && sample.breaker !== 'closed') parts.push(`breaker ${sample.breaker}`);
  if (sample.phase !== undefined) parts.push(`phase ${sample.phase}`);
  return parts.join(' ');
}

export interface LiveViewOptions {
  /** Default `process.stdout`. */
  stream?: OutputStream;
  /** Seconds between redraws on a TTY. */
  ttyIntervalS?: number;
  /** Seconds between plain lines when the stream is not a TTY. */
  plainIntervalS?: number;
  /** Planned run length, for the eta. */
  durationS?: number;
  /** Planned number of flows, for the eta when no length is planned. */
  plannedFlows?: number;
  /** Default: `shouldUseColor(stream)`. */
  color?: boolean;
}

export interface LiveView {
  /** Feed the sampler's samples (one a second); the view draws when its interval has passed. */
  update(sample: TimeseriesSample): void;
  /** Draws the last sample if it was not drawn yet and leaves it on screen. Idempotent. */
  stop(): void;
}

function eta(sample: TimeseriesSample, durationS?: number, plannedFlows?: number): string {
  if (durationS !== undefined) return formatClock(durationS - sample.elapsedS);
  if (plannedFlows !== undefined && sample.completedPerS > 0) {
    return formatClock((plannedFlows - sample.completed - sample.dropped) / sample.completedPerS);
  }
  return '-';
}

function formatLiveFrame(sample: TimeseriesSample, errors: ReadonlyMap<string, number>, options: LiveViewOptions, color: boolean): string[] {
  const label = (text: string): string => paint(color, '2', text.padEnd(8));
  const warn = (n: number, code: string): string => (n > 0 ? paint(color, code, String(n)) : String(n));
  const breaker = sample.breaker ?? 'closed';
  const byProcess = (f: (p: ProcessSample) => string): string => sample.processes.map((p) => `${p.name} ${f(p)}`).join('   ') || '-';
  const topErrors = [...errors].sort((a, b) => b[1] - a[1]).slice(0, 4);
  // Present from the first sample of a run with a chain timeline, so the frame keeps its height.
  const chain = formatChainFrameLine(sample);
  return [
    `${label('run')}${formatClock(sample.elapsedS)} elapsed · eta ${eta(sample, options.durationS, options.plannedFlows)}` +
      `${sample.phase === undefined ? '' : ` · phase ${sample.phase}`} · breaker ${breaker === 'closed' ? breaker : paint(color, '31', breaker)}`,
    `${label('flows')}done ${sample.completed}  ok ${sample.succeeded}  fail ${warn(sample.failed, '31')}  drop ${warn(sample.dropped, '33')}  in-flight ${sample.inFlight}`,
    `${label('rate')}now ${sample.completedPerS.toFixed(1)}/s${sample.targetRate === undefined ? '' : `  target ${sample.targetRate.toFixed(1)}/s`}` +
      `  started ${sample.startedPerS.toFixed(1)}/s  p95 (30 s) ${sample.rollingE2eP95 === null ? '-' : formatDuration(sample.rollingE2eP95)}` +
      `  loop lag ${formatDuration(sample.eventLoopLagMs.max)}`,
    `${label('cpu')}${byProcess((p) => cpu(p.cpuPercent))}` +
      `${sample.missingProcesses?.length ? paint(color, '31', `   exited: ${sample.missingProcesses.join(', ')}`) : ''}`,
    `${label('rss')}${byProcess((p) => formatBytes(p.rssBytes))}`,
    ...(chain === undefined ? [] : [`${label('chain')}${chain}`]),
    `${label('errors')}${topErrors.length === 0 ? 'none' : topErrors.map(([key, n]) => `${key} ${n}`).join('  ')}`,
  ];
}

/**
 * Shows a run's progress. On a TTY it redraws a block in place (cursor up + clear line) every
 * `ttyIntervalS` (2 s); otherwise it prints one plain line every `plainIntervalS` (10 s).
 * Nothing else may write to the same stream while a TTY view is live.
 *
 * @example
 * const view = createLiveView({ durationS: 300 });
 * sampler.on('sample', view.update);
 * // ... run ends
 * view.stop();
 */
export function createLiveView({
  stream = process.stdout,
  ttyIntervalS = 2,
  plainIntervalS = 10,
  ...rest
}: LiveViewOptions = {}): LiveView {
  const tty = stream.isTTY === true;
  const color = rest.color ?? shouldUseColor(stream);
  const interval = tty ? ttyIntervalS : plainIntervalS;
  const errors = new Map<string, number>();
  // A TTY shows the first sample at once; logs get their first line after one interval.
  let drawnBucket = tty ? -1 : 0;
  let last: TimeseriesSample | undefined;
  let drawn: TimeseriesSample | undefined;
  let frameHeight = 0;
  let stopped = false;

  const draw = (sample: TimeseriesSample): void => {
    drawn = sample;
    if (!tty) {
      stream.write(`${formatLiveLine(sample)}\n`);
      return;
    }
    const lines = formatLiveFrame(sample, errors, { ...rest }, color);
    // Every frame has the same height: go up over the last one and overwrite it line by line.
    const up = frameHeight > 0 ? `${ESC}${frameHeight}A` : '';
    stream.write(up + lines.map((line) => `${ESC}2K${line}\n`).join(''));
    frameHeight = lines.length;
  };

  return {
    update(sample) {
      if (stopped) return;
      for (const [key, n] of Object.entries(sample.errors)) errors.set(key, (errors.get(key) ?? 0) + n);
      last = sample;
      const bucket = Math.floor(sample.elapsedS / interval);
      if (bucket > drawnBucket) {
        drawnBucket = bucket;
        draw(sample);
      }
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (last !== undefined && last !== drawn) draw(last);
    },
  };
}

/**
 * One line per flow, as in the MS-03 README (users numbered from 1, i.e. HD index + 1):
 * `[User 01] ✅ Flow completed in 42.1s`, `[User 07] ❌ Failed at relay (timeout) after 12.3s: ...`.
 */
export function formatFlowLine(flow: FlowResult, digits = 2): string {
  const user = `[User ${String(flow.userIndex + 1).padStart(digits, '0')}]`;
  const time = formatDuration(flow.e2eMs);
  if (flow.success) return `${user} ✅ Flow completed in ${time}`;
  const e = flow.error;
  return e === undefined ? `${user} ❌ Failed after ${time}` : `${user} ❌ Failed at ${e.step} (${e.errorClass}) after ${time}: ${e.message}`;
}

export interface FinalReportOptions {
  /** Default false: pass `shouldUseColor(stream)`. */
  color?: boolean;
  /** Per-flow lines (`formatFlowLine`), shown when there are at most `maxFlowLines`. */
  flowLines?: readonly string[];
  maxFlowLines?: number;
  /** E.g. `Milestone 3: Multi-User Validation`; default the milestone id or `vana-load run`. */
  title?: string;
}

/** Indented columns two spaces apart; `align` has one letter per column (`l`eft or `r`ight), default `lrrr…`. */
export function table(rows: readonly (readonly string[])[], align = 'l'): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const pad = (cell: string, i: number): string =>
    (align[i] ?? (i === 0 ? 'l' : 'r')) === 'l' ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0);
  return rows.map((r) => `  ${r.map(pad).join('  ')}`.trimEnd());
}

const percent = (ratio: number | null): string => (ratio === null ? 'not measured' : `${(ratio * 100).toFixed(1)}%`);
const utc = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;

/**
 * The end-of-run report: header, per-flow lines (small runs), performance, where time goes per
 * step, resource usage, errors by step × class, retries and breaker, phases, the generator's
 * health, the threshold verdicts, and last the line `VERDICT: PASS`, `VERDICT: FAIL (n of m
 * thresholds failed)` or `VERDICT: INVALID (<why the generator's figures cannot be trusted>)`.
 */
export function formatFinalReport(summary: RunSummary, { color = false, flowLines, maxFlowLines = 50, title }: FinalReportOptions = {}): string {
  const bold = (text: string): string => paint(color, '1', text);
  const { counts, rates, environment: env } = summary;
  const out: string[] = [];

  out.push(bold(`🚀 ${title ?? summary.milestone?.toUpperCase() ?? 'vana-load run'} — run ${summary.runId}`));
  out.push(`   ${env.loadModel} model · ${env.target} target · chain ${env.chainId ?? '-'} · node ${env.node} · ${env.platform} · ${env.cpus} CPUs`);
  out.push(`   ${formatClock(summary.durationS)} (${utc(summary.startedAt)} → ${utc(summary.endedAt)})`);
  if (summary.stopped) out.push(paint(color, '31', `   ❌ Stopped early: ${summary.stopped.message} (${summary.stopped.code}); the figures cover the run until then.`));
  else if (summary.interrupted) out.push(paint(color, '33', '   ⚠️  Interrupted: the figures cover the run until it was stopped.'));

  if (flowLines !== undefined && flowLines.length > 0) {
    out.push('', bold('🔄 Flows:'));
    if (flowLines.length <= maxFlowLines) out.push(...flowLines.map((line) => `  ${line}`));
    else out.push(`  ${flowLines.length} flows: per-flow lines are shown up to ${maxFlowLines}; see flows.jsonl.`);
  }

  const e2e = summary.steps.e2e;
  out.push('', bold('📊 Performance Results:'));
  // Dropped arrivals count as failures (collector: succeeded / (completed + dropped)).
  out.push(`  ${counts.failed + counts.dropped === 0 ? '✅' : '⚠️ '} Success Rate: ${counts.succeeded}/${counts.completed + counts.dropped} (${percent(rates.successRate)})`);
  if (e2e) {
    out.push(`  ⏱️  Average Duration: ${formatDuration(e2e.mean)}`);
    out.push(`  📈 e2e p50 ${formatDuration(e2e.p50)} · p95 ${formatDuration(e2e.p95)} · p99 ${formatDuration(e2e.p99)} · max ${formatDuration(e2e.max)}`);
  }
  out.push(`  🚀 Throughput: ${rates.flowsPerS.toFixed(2)} flows/s (${(rates.flowsPerS * 60).toFixed(1)} flows/min)`);
  if (rates.targetRate !== null) {
    out.push(`  🎯 Arrival Rate: ${rates.achievedRate === null ? 'not measured' : `${rates.achievedRate.toFixed(2)}/s`} of ${rates.targetRate.toFixed(2)}/s target`);
  }
  out.push(`  🔗 Transaction Success: ${percent(rates.txSuccessRate)}`);
  out.push(`  📤 Upload Success: ${percent(rates.uploadSuccessRate)}`);
  if (counts.dropped > 0) out.push(`  🚫 Dropped Arrivals: ${counts.dropped} (in-flight cap reached)`);

  const steps = Object.entries(summary.steps).filter(([name]) => name !== 'e2e');
  if (steps.length > 0) {
    // Share of the time all flows spent in steps: where to look first.
    const total = steps.reduce((sum, [, p]) => sum + (p?.mean ?? 0) * (p?.count ?? 0), 0);
    const rows = steps.map(([name, p]) => [
      name,
      String(p?.count ?? 0),
      formatDuration(p?.p50 ?? 0),
      formatDuration(p?.p95 ?? 0),
      formatDuration(p?.max ?? 0),
      total > 0 ? `${((((p?.mean ?? 0) * (p?.count ?? 0)) / total) * 100).toFixed(1)}%` : '-',
    ]);
    if (e2e) rows.push(['e2e', String(e2e.count), formatDuration(e2e.p50), formatDuration(e2e.p95), formatDuration(e2e.max), '']);
    out.push('', bold('⏱️  Where Time Goes:'), ...table([['step', 'count', 'p50', 'p95', 'max', 'share'], ...rows]));
  }

  out.push('', bold('📊 Resource Usage:'));
  if (summary.resources.length > 0) {
    const rows = summary.resources.map((r) => [
      r.name,
      cpu(r.cpuAvgPercent),
      cpu(r.cpuPeakPercent),
      formatBytes(r.rssAvgBytes),
      formatBytes(r.rssPeakBytes),
      `${r.rssGrowthBytes >= 0 ? '+' : ''}${formatBytes(r.rssGrowthBytes)}`,
      r.cpuMsPerFlow === null ? '-' : formatDuration(r.cpuMsPerFlow),
      r.fdsPeak === undefined ? '-' : String(r.fdsPeak),
    ]);
    out.push(...table([['process', 'cpu avg', 'cpu peak', 'rss avg', 'rss peak', 'rss growth', 'cpu/flow', 'fds peak'], ...rows]));
  } else out.push('  not measured');
  out.push(`  🐢 Event loop lag: mean ${formatDuration(summary.eventLoopLagMs.mean)} · max ${formatDuration(summary.eventLoopLagMs.max)}`);
  out.push(...formatChainReport(summary, bold));

  if (summary.errors.length === 0) out.push('', bold('✅ Errors: none'));
  else {
    const rows = [...summary.errors].sort((a, b) => b.count - a.count).map((e) => [e.step, e.errorClass, String(e.count), e.example.slice(0, 80)]);
    out.push('', bold('❌ Errors (step × class):'), ...table([['step', 'class', 'count', 'example'], ...rows], 'llrl'));
  }

  if (summary.retries.total > 0) {
    const bySteps = Object.entries(summary.retries.byStep).map(([step, n]) => `${step} ${n}`);
    out.push('', `🔁 Retries: ${summary.retries.total} (${bySteps.join(', ')})`);
  }
  const b = summary.breaker;
  if (b !== null) {
    out.push('', b.opened > 0 ? `🔌 Circuit breaker: opened ${b.opened}× · half-open ${b.halfOpened}× · closed ${b.closed}× · ended ${b.finalState}` : '🔌 Circuit breaker: stayed closed (never opened)');
  }
  if (summary.phases.length > 1) {
    const rows = summary.phases.map((p) => [
      p.name,
      formatClock((p.endedAt - p.startedAt) / 1_000),
      String(p.started),
      String(p.succeeded),
      String(p.failed),
      String(p.dropped),
      p.e2e === null ? '-' : formatDuration(p.e2e.p95),
    ]);
    out.push('', bold('📶 Phases:'), ...table([['phase', 'length', 'started', 'ok', 'fail', 'drop', 'e2e p95'], ...rows]));
  }

  if (summary.generatorHealth) {
    out.push('', ...formatHealthLines(summary.generatorHealth, { table, bad: (text) => paint(color, '31', text), title: bold }));
  }

  const failed = summary.thresholds.filter((t) => !t.pass).length;
  const invalid = summary.verdict === 'invalid';
  out.push('', bold(invalid ? '🎯 Thresholds (not judged: the generator fell behind, so these figures describe the harness):' : '🎯 Thresholds:'));
  if (summary.thresholds.length === 0) out.push('  none');
  else {
    const result = (pass: boolean): string => (invalid ? `(${pass ? 'pass' : 'fail'}: not judged)` : pass ? 'PASS' : 'FAIL');
    const rows = summary.thresholds.map((t) => [`${t.pass ? '✅' : '❌'} ${t.expression}`, t.actualText, result(t.pass), t.source]);
    // Colored after padding: escape codes would count as width.
    const lines = table(rows, 'lrll');
    out.push(...lines.map((line, i) => (summary.thresholds[i]?.pass ? line : paint(color, '31', line))));
  }

  out.push('', ...formatChainBottleneck(summary));
  // A run its infrastructure stopped proves nothing about the thresholds, however they read.
  if (summary.stopped) out.push(paint(color, '1;31', `VERDICT: STOPPED (${summary.stopped.code}: the infrastructure failed, exit 3)`));
  else if (invalid) out.push(paint(color, '1;35', `VERDICT: INVALID (the load generator fell behind: ${summary.generatorHealth?.reasons.join('; ') ?? 'see generator health'})`));
  else if (summary.verdict === 'pass') out.push(paint(color, '1;32', 'VERDICT: PASS'));
  else if (failed > 0) out.push(paint(color, '1;31', `VERDICT: FAIL (${failed} of ${summary.thresholds.length} thresholds failed)`));
  else out.push(paint(color, '1;31', `VERDICT: FAIL (${summary.interrupted ? 'run interrupted' : 'run failed'})`));
  return `${out.join('\n')}\n`;
}
