/**
 * A test-only switch that makes the harness its own bottleneck, so a test can drive a real run
 * past the generator's capacity deterministically even on a busy 2-core machine:
 * `VANA_LOAD_TEST_CPU_BURN=<ms>` busy-waits that many milliseconds of every second on the
 * harness's event loop, in one block. Honoured only under tests (`NODE_ENV=test`, or vitest);
 * anywhere else it is ignored, and the run says so.
 */
import { ConfigError } from '../errors.ts';

export const TEST_CPU_BURN_ENV = 'VANA_LOAD_TEST_CPU_BURN';
/** Largest burn per second: a little of every second is left for the run to go on. */
const MAX_BURN_MS = 950;

export type TestCpuBurn =
  | { kind: 'off' }
  | { kind: 'ignored'; notice: string }
  | { kind: 'burning'; msPerSecond: number; notice: string; stop(): void };

/** Whether this process runs under a test runner, where test-only switches apply. */
export function isTestProcess(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.NODE_ENV === 'test' || (env.VITEST ?? '') !== '';
}

/**
 * Reads the switch and starts burning when it applies. A value that is not an integer in
 * [1, 950] is a `ConfigError` (exit 2) under tests.
 *
 * @example
 * const burn = startTestCpuBurn();
 * if (burn.kind !== 'off') notice(burn.notice);
 * // ... run ...
 * if (burn.kind === 'burning') burn.stop();
 */
export function startTestCpuBurn(env: NodeJS.ProcessEnv = process.env): TestCpuBurn {
  const raw = env[TEST_CPU_BURN_ENV];
  if (raw === undefined || raw.trim() === '') return { kind: 'off' };
  if (!isTestProcess(env)) return { kind: 'ignored', notice: `⚠️  ${TEST_CPU_BURN_ENV} is ignored: it is a test-only switch (NODE_ENV=test)` };
  const msPerSecond = Number(raw.trim());
  if (!(Number.isInteger(msPerSecond) && msPerSecond >= 1 && msPerSecond <= MAX_BURN_MS)) {
    throw new ConfigError(`${TEST_CPU_BURN_ENV} must be an integer number of ms per second in [1, ${MAX_BURN_MS}], got "${raw}"`, { code: 'TEST_CPU_BURN_INVALID' });
  }
  const timer = setInterval(() => {
    const until = performance.now() + msPerSecond;
    while (performance.now() < until) {
      // busy: the point is to hold the event loop
    }
  }, 1_000);
  timer.unref();
  return {
    kind: 'burning',
    msPerSecond,
    notice: `🔥 ${TEST_CPU_BURN_ENV}=${msPerSecond}: the harness burns ${msPerSecond} ms of every second on its event loop (test-only)`,
    stop: () => clearInterval(timer),
  };
}
