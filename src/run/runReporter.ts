/**
 * The outputs of a run are reporters: each implements the hooks it cares about (as vitest's
 * reporters do), and the runner calls them all. The results files, the terminal, Prometheus and a
 * milestone's own lines (MS-02's steps) are reporters; the runner knows none of them.
 */
import type { FlowResult, StepName } from '../flow.ts';
import type { BreakerStateChange } from '../load/circuitBreaker.ts';
import type { RunSummary, TimeseriesSample } from '../metrics/types.ts';

/** What the run is, as it starts. */
export interface RunStart {
  title: string;
  /** Lines the milestone wants under the title. */
  intro: readonly string[];
  /** `describeModel(model)`. */
  model: string;
  /** `results/<run-id>`. */
  dir: string;
}

export interface RunReporter {
  onRunStart?(start: RunStart): void;
  /** A line for the person watching: the stack started, advice, an interruption. */
  onNotice?(line: string): void;
  /** Arrivals begin. */
  onLaunch?(): void;
  /** A step of a flow ended. */
  onStep?(flowId: number, step: StepName, ms: number, ok: boolean): void;
  onFlowFinished?(result: FlowResult): void;
  onSample?(sample: TimeseriesSample): void;
  onBreakerChange?(change: BreakerStateChange): void;
  onPhase?(name: string): void;
  /** The run is over and summarized; results are final once every reporter's promise settled. */
  onRunEnd?(summary: RunSummary): void | Promise<void>;
  /** Releases what the reporter holds (files, a port); called once, also after a failed start. */
  close?(): void | Promise<void>;
}

type Hooks = Required<RunReporter>;

/**
 * One reporter that calls each of `reporters` in order.
 *
 * @example
 * const report = fanOut([resultsReporter, terminalReporter]);
 * report.onFlowFinished(result);
 */
export function fanOut(reporters: readonly RunReporter[]): Hooks {
  const each =
    <K extends keyof RunReporter>(hook: K) =>
    (...args: Parameters<Hooks[K]>): void => {
      for (const r of reporters) (r[hook] as ((...a: Parameters<Hooks[K]>) => unknown) | undefined)?.(...args);
    };
  const eachAsync =
    <K extends 'onRunEnd' | 'close'>(hook: K) =>
    async (...args: Parameters<Hooks[K]>): Promise<void> => {
      for (const r of reporters) await (r[hook] as ((...a: Parameters<Hooks[K]>) => unknown) | undefined)?.(...args);
    };
  return {
    onRunStart: each('onRunStart'),
    onNotice: each('onNotice'),
    onLaunch: each('onLaunch'),
    onStep: each('onStep'),
    onFlowFinished: each('onFlowFinished'),
    onSample: each('onSample'),
    onBreakerChange: each('onBreakerChange'),
    onPhase: each('onPhase'),
    onRunEnd: eachAsync('onRunEnd'),
    close: eachAsync('close'),
  };
}
