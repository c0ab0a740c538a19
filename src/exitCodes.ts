/**
 * Exit codes of every command and milestone (ARCHITECTURE.md 7; README "Milestones").
 */
export const EXIT_CODES = {
  ok: 0,
  thresholdFailed: 1,
  usage: 2,
  infrastructure: 3,
} as const;
