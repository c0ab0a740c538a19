/**
 * How a run is asked to end early, in one place: a signal (Ctrl-C, a supervisor's SIGTERM, a
 * closed terminal's SIGHUP), the command that launched it going away (`npx` killed: see
 * src/util/watchLauncher.ts), or its infrastructure failing (the stack died, the relayer keys ran
 * dry). The run reads two signals: `stop` (no new flows; flows in flight drain within the
 * shutdown grace) and `force` (flows in flight are cut off now).
 *
 * - First signal: stop. The same signal again within 1 s is the same Ctrl-C (the terminal and
 *   tsx each deliver one); a later one: force.
 * - Launcher gone: stop, and force after a short grace (nobody waits for the output any more).
 * - Infrastructure failed: stop and force at once (nothing more can succeed).
 *
 * Exit codes: 128 + the signal's number (SIGINT 130, SIGTERM 143, SIGHUP 129); a gone launcher
 * counts as SIGTERM (143); a failed infrastructure is 3.
 */
import { setMaxListeners } from 'node:events';
import { constants as osConstants } from 'node:os';
import { type InfrastructureError } from '../errors.ts';
import { EXIT_CODES } from '../exitCodes.ts';
import type { Logger } from '../logger.ts';
import { watchLauncher } from '../util/watchLauncher.ts';

/** Signals that end a run gracefully. */
export const RUN_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** A repeat this soon is the same Ctrl-C delivered twice (terminal group + tsx relay), not a second one. */
const REPEATED_SIGNAL_WINDOW_MS = 1_000;

/** With the launcher gone, flows in flight get this long (at most the shutdown grace) before they are cut off. */
const ORPHAN_GRACE_MS = 5_000;

export type InterruptCause =
  | { kind: 'signal'; signal: NodeJS.Signals }
  | { kind: 'launcher'; command: string }
  | { kind: 'infrastructure'; error: InfrastructureError };

export interface Interruption {
  readonly stop: AbortSignal;
  readonly force: AbortSignal;
  /** What ended the run early, if anything did (the first cause wins; a failure overrides a signal). */
  readonly cause: InterruptCause | undefined;
  /** The run's infrastructure failed: stop and cut off flows now. */
  fail(error: InfrastructureError): void;
  /** The exit code of the cause, or undefined when the run was not interrupted. */
  exitCode(): number | undefined;
  /** Removes the signal handlers and the launcher watch. */
  dispose(): void;
}

export interface WatchInterruptionParameters {
  /** Default RUN_SIGNALS; [] for none (tests). */
  signals?: readonly NodeJS.Signals[];
  /** Watch the launcher chain (npx, tsx). Default true. */
  watchLauncher?: boolean;
  shutdownGraceMs: number;
  /** Flows in flight now, for the message. */
  inFlight: () => number;
  /** One line for the terminal. */
  notice: (line: string) => void;
  logger: Logger;
}

/**
 * @example
 * const interruption = watchInterruption({ shutdownGraceMs: 30_000, inFlight: () => n, notice: print, logger });
 * startLoadRun(model, { signal: interruption.stop, ... });
 */
export function watchInterruption({
  signals = RUN_SIGNALS,
  watchLauncher: watch = true,
  shutdownGraceMs,
  inFlight,
  notice,
  logger,
}: WatchInterruptionParameters): Interruption {
  const stop = new AbortController();
  const force = new AbortController();
  // Every flow in flight listens on these: no listener-leak warning at 1000 in flight.
  setMaxListeners(0, stop.signal, force.signal);
  let cause: InterruptCause | undefined;
  let stoppedAt = 0;
  let forceTimer: NodeJS.Timeout | undefined;

  const onSignal = (signal: NodeJS.Signals): void => {
    if (cause === undefined) {
      cause = { kind: 'signal', signal };
      stoppedAt = performance.now();
      logger.warn({ signal }, 'interrupted: no new flows; draining');
      notice(`\n⚠️  ${signal}: no new flows; waiting up to ${shutdownGraceMs / 1000}s for ${inFlight()} in flight (again to abort them)`);
      stop.abort(new Error(`interrupted by ${signal}`));
    } else if (performance.now() - stoppedAt < REPEATED_SIGNAL_WINDOW_MS) {
      logger.debug({ signal }, 'signal repeated within the window: the same Ctrl-C');
    } else if (!force.signal.aborted) {
      notice(`\n⚠️  ${signal} again: aborting flows in flight`);
      force.abort(new Error(`aborted by a second ${signal}`));
    }
  };
  for (const s of signals) process.on(s, onSignal);

  const unwatch = watch
    ? watchLauncher((gone) => {
        if (cause !== undefined) return;
        cause = { kind: 'launcher', command: gone.command };
        const grace = Math.min(ORPHAN_GRACE_MS, shutdownGraceMs);
        logger.warn({ pid: gone.pid, command: gone.command }, 'the command that launched this run is gone: stopping');
        notice(`\n⚠️  The command that launched this run is gone (${gone.command}): no new flows; ${inFlight()} in flight get ${grace / 1000}s`);
        stop.abort(new Error('launcher gone'));
        forceTimer = setTimeout(() => force.abort(new Error('launcher gone')), grace);
        forceTimer.unref();
      })
    : () => {};

  return {
    stop: stop.signal,
    force: force.signal,
    get cause() {
      return cause;
    },
    fail(error) {
      if (cause?.kind === 'infrastructure') return;
      cause = { kind: 'infrastructure', error };
      stop.abort(error);
      force.abort(error);
    },
    exitCode() {
      if (cause === undefined) return undefined;
      if (cause.kind === 'infrastructure') return EXIT_CODES.infrastructure;
      const signal = cause.kind === 'signal' ? cause.signal : 'SIGTERM';
      return 128 + (osConstants.signals[signal] ?? 15);
    },
    dispose() {
      for (const s of signals) process.off(s, onSignal);
      unwatch();
      clearTimeout(forceTimer);
    },
  };
}
