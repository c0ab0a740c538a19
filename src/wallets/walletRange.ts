/** Wallet index ranges as the funding, validation and sweep commands take them. */
import { ConfigError } from '../errors.ts';

/** Refuses a wallet range that does not start at an index >= 0 or holds no wallet. */
export function checkRange(from: number, count: number): void {
  if (!Number.isSafeInteger(from) || from < 0) throw new ConfigError(`Expected a first wallet index >= 0, got ${from}`);
  if (!Number.isSafeInteger(count) || count < 1) throw new ConfigError(`Expected a wallet count >= 1, got ${count}`);
}

/** Refuses a count, size or concurrency below 1 (`name` says which, e.g. 'a batch size'). */
export function checkPositiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) throw new ConfigError(`Expected ${name} >= 1, got ${value}`);
}

/** The wallet indexes `from..from+count-1`. */
export function indexRange(from: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => from + i);
}
