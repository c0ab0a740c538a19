import { ConfigError, InfrastructureError, VanaLoadError } from '../errors.ts';
import { EXIT_CODES } from '../exitCodes.ts';

/** Maps an error to the exit codes of ARCHITECTURE.md 7: 2 usage/config, 3 infrastructure. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof ConfigError) return EXIT_CODES.usage;
  if (err instanceof InfrastructureError) return EXIT_CODES.infrastructure;
  if (err instanceof VanaLoadError && err.code.startsWith('STACK_')) return EXIT_CODES.infrastructure;
  return EXIT_CODES.thresholdFailed;
}

/** Prints an error without a stack trace for known errors (with one for harness bugs). */
export function formatError(err: unknown): string {
  if (err instanceof VanaLoadError) return `Error [${err.code}]: ${err.message}`;
  if (err instanceof Error) return `Unexpected error: ${err.stack ?? err.message}`;
  return `Unexpected error: ${String(err)}`;
}
