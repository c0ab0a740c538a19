/**
 * Reads the values of a fault scenario (a JSON file or `--fault` flags) with errors that name the
 * source, the field and what it accepts: `<source>: faults[0].rate must be …, got '…'` (exit 2).
 */
import { ConfigError } from '../errors.ts';
import type { FieldParser } from '../config/parsers.ts';

/** A value as an error message quotes it, cut at 80 characters. */
export const show = (value: unknown): string => {
  if (value === undefined) return 'nothing';
  const text = typeof value === 'string' ? `'${value}'` : JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
};

/** Builds errors that name the source, the field and what it accepts. */
export class Reader {
  constructor(readonly source: string) {}

  fail(field: string, expected: string, got: unknown): never {
    throw new ConfigError(`${this.source}: ${field} must be ${expected}, got ${show(got)}`, { code: 'SCENARIO_INVALID' });
  }

  /** JSON numbers are taken as is (ms for durations); text goes through the config parser. */
  parse<T extends number | string | bigint>(value: unknown, parser: FieldParser<T>, field: string): T {
    if (typeof value === 'number' && parser.kind === 'duration') {
      // A duration as a number is ms; run it through the parser's range check via its text.
      if (Number.isInteger(value) && value >= 0) {
        const result = parser.parse(`${value}ms`);
        if (result.ok) return result.value;
      }
      return this.fail(field, `${parser.expected}, or a whole number of ms`, value);
    }
    if (typeof value !== 'string' && typeof value !== 'number') return this.fail(field, parser.expected, value);
    const result = parser.parse(String(value).trim());
    if (!result.ok) return this.fail(field, parser.expected, value);
    return result.value;
  }

  rate(value: unknown, field: string): number {
    const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
    const percent = text.endsWith('%');
    const n = /^(\d+(\.\d*)?|\.\d+)%?$/.test(text) ? Number(percent ? text.slice(0, -1) : text) / (percent ? 100 : 1) : Number.NaN;
    return n >= 0 && n <= 1 ? n : this.fail(field, 'a probability in [0, 1] (e.g. 0.1) or a percent (10%)', value);
  }

  text(value: unknown, field: string, pattern?: RegExp, expected = 'a non-empty string'): string {
    if (typeof value !== 'string' || value.trim() === '' || (pattern && !pattern.test(value))) return this.fail(field, expected, value);
    return value;
  }

  /** A string, a JSON array of strings, or (flags) a `|`-separated list. */
  list(value: unknown, field: string, pattern: RegExp, expected: string): readonly string[] {
    const items = typeof value === 'string' ? value.split('|') : Array.isArray(value) ? value : undefined;
    if (!items || items.length === 0 || !items.every((item) => typeof item === 'string' && pattern.test(item))) {
      return this.fail(field, `${expected} (a list: a JSON array, or joined with |)`, value);
    }
    return Object.freeze([...(items as string[])]);
  }

  record(value: unknown, field: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return this.fail(field === '' ? 'the scenario' : field, 'an object', value);
    return value as Record<string, unknown>;
  }

  /** An object whose keys are all among `keys`. */
  object(value: unknown, field: string, keys: readonly string[]): Record<string, unknown> {
    this.record(value, field);
    for (const key of Object.keys(value as object)) {
      if (keys.includes(key)) continue;
      throw new ConfigError(`${this.source}: ${field === '' ? '' : `${field}.`}${key} is not a known key here; accepted: ${keys.join(', ')}`, {
        code: 'SCENARIO_INVALID',
      });
    }
    return value as Record<string, unknown>;
  }
}
