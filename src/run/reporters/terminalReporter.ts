/**
 * The terminal as a reporter: the run's header, notices, one line per finished flow when asked
 * (small closed runs, as in the MS-03 seed), the live view (redrawn on a TTY, a plain line every
 * few seconds otherwise), phase and breaker lines where the live view does not show them, and the
 * final report.
 */
import { BLOCKS_FILE } from '../../metrics/blocksFile.ts';
import { RESULT_FILES } from '../../metrics/resultsWriter.ts';
import { createLiveView, formatFinalReport, formatFlowLine, shouldUseColor, type OutputStream } from '../../report/terminal.ts';
import type { RunReporter } from '../runReporter.ts';

export interface TerminalReporterOptions {
  out: OutputStream;
  title: string;
  /** Print one line per finished flow. */
  flowLines: boolean;
  /** Planned flows (for the live view's eta and the flow lines' width), when known. */
  plannedFlows: number | undefined;
  /** Planned seconds, when time bounds the model. */
  durationS: number | undefined;
}

/**
 * @example
 * const terminal = createTerminalReporter({ out: process.stdout, title, flowLines: true, plannedFlows: 25, durationS: undefined });
 */
export function createTerminalReporter({ out, title, flowLines, plannedFlows, durationS }: TerminalReporterOptions): RunReporter {
  const print = (line = ''): void => void out.write(`${line}\n`);
  const color = shouldUseColor(out);
  const digits = String(plannedFlows ?? 99).length;
  // Per-flow lines and an in-place TTY view cannot share the screen: with lines, the view prints plain lines.
  const live = createLiveView({
    stream: flowLines ? { write: (s: string) => out.write(s), isTTY: false } : out,
    plainIntervalS: flowLines || !out.isTTY ? 5 : 10,
    color,
    ...(durationS !== undefined ? { durationS } : {}),
    ...(plannedFlows !== undefined ? { plannedFlows } : {}),
  });
  let dir = '';
  return {
    onRunStart(start) {
      dir = start.dir;
      print(`🚀 Starting ${start.title}`);
      for (const line of start.intro) print(line);
      print(`   load model: ${start.model}`);
      print(`   results:    ${start.dir}/`);
    },
    onNotice: print,
    onLaunch: () => print(''),
    onFlowFinished(result) {
      if (flowLines) print(`  ${formatFlowLine(result, digits)}`);
    },
    onSample: (sample) => live.update(sample),
    onBreakerChange(change) {
      if (!out.isTTY) print(`   ⚡ circuit breaker ${change.from} → ${change.to}: ${change.reason}`);
    },
    onPhase(name) {
      if (!out.isTTY || flowLines) print(`   ▶ phase ${name}`);
    },
    onRunEnd(summary) {
      live.stop();
      print('');
      print(formatFinalReport(summary, { color, title }));
      print(`\n📁 ${dir}/: ${RESULT_FILES.flows}, ${RESULT_FILES.timeseries}, ${BLOCKS_FILE}, ${RESULT_FILES.summary}, ${RESULT_FILES.runLog}, report.html`);
    },
    close: () => live.stop(),
  };
}
