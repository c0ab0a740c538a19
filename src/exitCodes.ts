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
} as const;
