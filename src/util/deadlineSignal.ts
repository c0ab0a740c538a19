/**
 * Abort signals for one piece of work that must not outlive it. `AbortSignal.any()` and
 * `AbortSignal.timeout()` are the obvious tools and the wrong ones for a load generator on Node 20:
 * every `any()` over a long-lived signal (the run's root controller) stays referenced from it
 * (~58 bytes a call, measured), a composite that still has an `abort` listener is kept alive until
 * one of its sources aborts, and then, aborted, is kept for good (nodejs/node#55351, #64481); a
 * `timeout()` signal holds its timer for the whole timeout even when the work ended long before.
 * Over 100k flows that is a heap that only grows. These signals are undone by `clear()` instead.
 */

export interface DeadlineSignal {
  /** Aborts on the caller's abort (with its reason) or after the timeout (`TimeoutError`). */
  signal: AbortSignal;
  /** True when the timeout, not the caller, aborted `signal`. */
  timedOut(): boolean;
  /** Drops the timer and the listener on the caller's signal; call it when the work is over. */
  clear(): void;
}

/** A signal that follows `callerSignal` and times out after `timeoutMs`, until `clear()`. */
export function startDeadline(timeoutMs: number, callerSignal: AbortSignal | undefined): DeadlineSignal {
  const controller = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    controller.abort(new DOMException(`No answer within ${timeoutMs} ms`, 'TimeoutError'));
  }, timeoutMs);
  timer.unref();
  const onAbort = (): void => controller.abort(callerSignal?.reason);
  if (callerSignal?.aborted) onAbort();
  else callerSignal?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => expired,
    clear() {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onAbort);
    },
  };
}

/** A signal that aborts when any of `signals` does (with its reason), until `clear()`. */
export function followSignals(signals: readonly AbortSignal[]): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const listeners: Array<[AbortSignal, () => void]> = [];
  const clear = (): void => {
    for (const [source, listener] of listeners) source.removeEventListener('abort', listener);
    listeners.length = 0;
  };
  for (const source of signals) {
    if (source.aborted) {
      controller.abort(source.reason);
      break;
    }
    const listener = (): void => {
      clear();
      controller.abort(source.reason);
    };
    source.addEventListener('abort', listener, { once: true });
    listeners.push([source, listener]);
  }
  if (controller.signal.aborted) clear();
  return { signal: controller.signal, clear };
}

/** Resolves after `ms`; rejects with `onAbort()` as soon as `signal` aborts. Leaves no listener behind. */
export function sleepUnlessAborted(ms: number, signal: AbortSignal | undefined, onAbort: () => unknown): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(onAbort());
      return;
    }
    const abort = (): void => {
      clearTimeout(timer);
      reject(onAbort());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', abort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', abort, { once: true });
  });
}
