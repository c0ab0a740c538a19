import { ConfigError, InfrastructureError, VanaLoadError } from '../errors.ts';
import { EXIT_CODES } from '../exitCodes.ts';

/**
 * Maps an error to its exit code: 2 usage/config, 3 a failure of something the harness drives
 * (infrastructure, funding, packing), 4 anything else: a bug in vana-load, which must never read
 * as a threshold verdict (1).
 */
export function exitCodeFor(err: unknown): number {
  if (err instanceof ConfigError) return EXIT_CODES.usage;
  if (err instanceof InfrastructureError) return EXIT_CODES.infrastructure;
  if (err instanceof VanaLoadError) return EXIT_CODES.infrastructure;
  return EXIT_CODES.harnessError;
}

/** Prints an error without a stack trace for known errors (with one for harness bugs). */
export function formatError(err: unknown): string {
  if (err instanceof VanaLoadError) return `Error [${err.code}]: ${err.message}`;
  const bug = 'This is a bug in vana-load (exit 4); please report it with the lines above.';
  if (err instanceof Error) return `Unexpected error: ${err.stack ?? err.message}\n${bug}`;
  return `Unexpected error: ${String(err)}\n${bug}`;
}

/**
 * Ends the process with exit 4 on an error nothing caught (a throw in a timer, a rejection no one
 * awaited): without this Node exits 1, which CI reads as "a threshold failed".
 *
 * @example
 * exitOnUncaught(); // first thing in a command's main
 */
export function exitOnUncaught(): void {
  const die = (err: unknown) => {
    process.stderr.write(`\n❌ ${formatError(err)}\n`);
    process.exit(exitCodeFor(err));
  };
  process.on('uncaughtException', die);
  process.on('unhandledRejection', die);
}
