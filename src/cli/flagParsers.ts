/**
 * Parsers of command-line flags that are not config fields (milestone and subcommand options): a
 * bad value is commander's InvalidArgumentError, a usage error (exit 2), named with the flag.
 */
import { InvalidArgumentError } from 'commander';
import { duration } from '../config/parsers.ts';

/** Parses an integer flag in [min, max]; a bad value is a usage error (exit 2). */
export function intFlag(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be an integer in [${min}, ${max}], got "${value}"`);
    }
    return n;
  };
}

/** Parses a number flag in [min, max]. */
export function numberFlag(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a number in [${min}, ${max}], got "${value}"`);
    }
    return n;
  };
}

const durationParser = duration(0, 7 * 86_400_000);

/** Validates a duration flag (`500ms`, `90s`, `5m`, `1h30m`) of at least `minMs` and keeps the text; `durationMs` converts it. */
export function durationFlag(name: string, minMs = 0) {
  const parser = minMs === 0 ? durationParser : duration(minMs, 7 * 86_400_000);
  return (value: string): string => {
    if (!parser.parse(value).ok) throw new InvalidArgumentError(`${name} must be ${parser.expected}, got "${value}"`);
    return value;
  };
}

/** Milliseconds of a duration flag already checked by `durationFlag`. */
export function durationMs(value: string): number {
  const parsed = durationParser.parse(value);
  if (!parsed.ok) throw new InvalidArgumentError(`not a duration: "${value}"`);
  return parsed.value;
}
