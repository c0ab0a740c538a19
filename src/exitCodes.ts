/**
 * Exit codes of every command and milestone (ARCHITECTURE.md 7; README "Exit codes"). Signals add
 * 128 + the signal's number: 130 SIGINT, 143 SIGTERM, 129 SIGHUP (src/run/interruption.ts).
 */
export const EXIT_CODES = {
  ok: 0,
  thresholdFailed: 1,
  usage: 2,
  infrastructure: 3,
  /** An unexpected error in vana-load itself (a bug): never a verdict on the system under test. */
  harnessError: 4,
  /** The load generator fell behind (generator health): the run measured the harness, not the system. */
  invalid: 5,
} as const;

/**
 * The exit code of a judged run: 0 pass, 1 fail, 5 invalid.
 *
 * @example
 * process.exitCode = exitCodeOfVerdict(summary.verdict);
 */
export function exitCodeOfVerdict(verdict: 'pass' | 'fail' | 'invalid'): number {
  return verdict === 'pass' ? EXIT_CODES.ok : verdict === 'invalid' ? EXIT_CODES.invalid : EXIT_CODES.thresholdFailed;
}
