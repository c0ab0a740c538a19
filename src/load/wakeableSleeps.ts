/** Sleeps that can all be cut short at once: a load run wakes its waiting users when it stops. */

export interface WakeableSleeps {
  /** Resolves after `ms`, or at once when `wakeAll` is called first. */
  sleep(ms: number): Promise<void>;
  /** Ends every pending sleep now. */
  wakeAll(): void;
}

/**
 * A set of wakeable sleeps.
 *
 * @example
 * const sleeps = createWakeableSleeps();
 * await sleeps.sleep(500); // elsewhere: sleeps.wakeAll() on stop
 */
export function createWakeableSleeps(): WakeableSleeps {
  const pending = new Set<{ timer: ReturnType<typeof setTimeout>; wake: () => void }>();
  return {
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        const entry = {
          timer: setTimeout(() => {
            pending.delete(entry);
            resolve();
          }, ms),
          wake: resolve,
        };
        pending.add(entry);
      }),
    wakeAll() {
      for (const entry of pending) {
        clearTimeout(entry.timer);
        entry.wake();
      }
      pending.clear();
    },
  };
}
