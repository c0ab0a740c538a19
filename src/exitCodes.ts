/**
 * Exit codes of every command and milestone (ARCHITECTURE.md 7; README "Milestones").
 */
export const EXIT_CODES = {
  ok: 0,
  thresholdFailed: 1,
  usage: 2,
  infrastructure: 3,
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
