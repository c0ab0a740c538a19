/**
 * Value parsers of the config table (`schema.ts`). Each turns the text of an env var or a flag
 * into a typed value and can print a value back, so defaults and presets show in `--help` and
 * `.env.example` in the same syntax a user types. A parser never throws: it reports failure, and
 * `loadConfig` builds the one error message format from the field and `expected`.
 */
import { formatEther, formatGwei, getAddress, isAddress, parseEther, parseGwei, type Address, type Hex } from 'viem';
import { english } from 'viem/accounts';
import { sha256 } from '@noble/hashes/sha2.js';

/** What a parser returns: a value, or a failure with an optional detail (never the raw secret). */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; detail?: string };

/** Parser kinds, for the CLI (booleans take an optional value) and for docs. */
export type ParserKind =
  | 'integer'
  | 'decimal'
  | 'percent'
  | 'duration'
  | 'size'
  | 'enum'
  | 'url'
  | 'urlList'
  | 'address'
  | 'privateKey'
  | 'privateKeyList'
  | 'mnemonic'
  | 'boolean'
  | 'ether'
  | 'gwei'
  | 'text'
  | 'uint256';

/** Parses one config value from text and prints it back. */
export interface FieldParser<T> {
  readonly kind: ParserKind;
  /** Completes "VANA_X (--x) must be …", e.g. `an integer in [1, 100000]`. */
  readonly expected: string;
  /** Placeholder of the flag's value in `--help`, e.g. `n` in `--concurrency <n>`. */
  readonly valueName: string;
  /** Parses trimmed, non-empty text. */
  parse(raw: string): ParseResult<T>;
  /** Prints a value as text that parses back to it. */
  format(value: T): string;
}

const ok = <T>(value: T): ParseResult<T> => ({ ok: true, value });
const fail = <T>(detail?: string): ParseResult<T> => (detail === undefined ? { ok: false } : { ok: false, detail });

/** An integer in `[min, max]`. */
export function integer(min: number, max: number, valueName = 'n'): FieldParser<number> {
  return {
    kind: 'integer',
    expected: `an integer in [${min}, ${max}]`,
    valueName,
    parse(raw) {
      if (!/^[-+]?\d+$/.test(raw)) return fail();
      const n = Number(raw);
      return Number.isSafeInteger(n) && n >= min && n <= max ? ok(n) : fail();
    },
    format: String,
  };
}

/** A finite decimal number in `[min, max]`. */
export function decimal(min: number, max: number, valueName = 'x'): FieldParser<number> {
  return {
    kind: 'decimal',
    expected: `a number in [${min}, ${max}]`,
    valueName,
    parse(raw) {
      if (!/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(raw)) return fail();
      const n = Number(raw);
      return Number.isFinite(n) && n >= min && n <= max ? ok(n) : fail();
    },
    format: String,
  };
}

/** A percentage such as `90%` (or `90`) in `[min, max]`, returned in percent. */
export function percent(min: number, max: number, valueName = 'percent'): FieldParser<number> {
  return {
    kind: 'percent',
    expected: `a percentage (e.g. 90%) in [${min}%, ${max}%]`,
    valueName,
    parse(raw) {
      const match = /^(\d+(?:\.\d+)?)\s*%?$/.exec(raw);
      if (!match) return fail();
      const n = Number(match[1]);
      return Number.isFinite(n) && n >= min && n <= max ? ok(n) : fail();
    },
    format: (value) => `${value}%`,
  };
}

// Largest unit first, so `format` picks the shortest exact spelling.
const DURATION_UNITS = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
] as const;

function formatWithUnits(value: number, units: ReadonlyArray<readonly [string, number]>, zero: string): string {
  if (value === 0) return zero;
  for (const [name, size] of units) if (value % size === 0) return `${value / size}${name}`;
  return String(value);
}

/**
 * A duration such as `500ms`, `90s`, `2m`, `1h`, `1d` or `1m30s`, returned in milliseconds, in
 * `[minMs, maxMs]`. A bare number is refused (seconds or ms?) except `0`.
 */
export function duration(minMs: number, maxMs: number): FieldParser<number> {
  const format = (ms: number): string => formatWithUnits(ms, DURATION_UNITS, '0');
  return {
    kind: 'duration',
    expected: `a duration (e.g. 500ms, 90s, 2m) in [${format(minMs)}, ${format(maxMs)}]`,
    valueName: 'duration',
    parse(raw) {
      let ms: number;
      if (raw === '0') ms = 0;
      else {
        if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(raw)) return fail();
        ms = 0;
        for (const [, amount, unit] of raw.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) {
          ms += Number(amount) * DURATION_UNITS.find(([name]) => name === unit)![1];
        }
        // Float sums such as 0.1s + 0.2s are off in the last bits; a whole ms is all we keep.
        ms = Math.round(ms * 1000) / 1000;
        if (!Number.isInteger(ms)) return fail('not a whole number of milliseconds');
      }
      return ms >= minMs && ms <= maxMs ? ok(ms) : fail();
    },
    format,
  };
}

// Binary units, as body limits and upload sizes are usually meant (1MB = 1_048_576 bytes).
const SIZE_UNITS = [
  ['GB', 1024 ** 3],
  ['MB', 1024 ** 2],
  ['KB', 1024],
  ['B', 1],
] as const;

/** A size such as `512KB`, `10MB` or `1GB` (1KB = 1024 bytes, `KiB` etc. also accepted), in bytes. */
export function size(minBytes: number, maxBytes: number): FieldParser<number> {
  const format = (bytes: number): string => formatWithUnits(bytes, SIZE_UNITS, '0');
  return {
    kind: 'size',
    expected: `a size (e.g. 512KB, 10MB; 1KB = 1024 bytes) in [${format(minBytes)}, ${format(maxBytes)}]`,
    valueName: 'size',
    parse(raw) {
      const match = /^(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?$/i.exec(raw);
      if (!match) return fail();
      const unit = (match[2] ?? 'B').toUpperCase().replace('IB', 'B');
      const bytes = Number(match[1]) * SIZE_UNITS.find(([name]) => name === unit)![1];
      if (!Number.isSafeInteger(bytes)) return fail('not a whole number of bytes');
      return bytes >= minBytes && bytes <= maxBytes ? ok(bytes) : fail();
    },
    format,
  };
}

/** One of `values` (case-insensitive input, canonical output). */
export function oneOf<const V extends string>(values: readonly V[]): FieldParser<V> {
  return {
    kind: 'enum',
    expected: `one of ${values.join(', ')}`,
    valueName: values.join('|'),
    parse(raw) {
      const value = values.find((v) => v === raw.toLowerCase());
      return value === undefined ? fail() : ok(value);
    },
    format: (value) => value,
  };
}

const HTTP_PROTOCOLS = ['http', 'https'] as const;

function parseUrl(raw: string, protocols: readonly string[]): string | undefined {
  if (!URL.canParse(raw)) return undefined;
  const url = new URL(raw);
  if (!protocols.includes(url.protocol.slice(0, -1)) || url.hostname === '') return undefined;
  // Callers append paths (`${url}/identity`); a trailing slash would double it.
  return raw.replace(/\/+$/, '');
}

// ['http', 'https', 'ws', 'wss'] → 'http(s)/ws(s)'.
function describeProtocols(protocols: readonly string[]): string {
  return protocols
    .filter((p) => !(p.endsWith('s') && protocols.includes(p.slice(0, -1))))
    .map((p) => (protocols.includes(`${p}s`) ? `${p}(s)` : p))
    .join('/');
}

/** An absolute URL with one of `protocols` (default http, https); trailing slashes are removed. */
export function url(protocols: readonly string[] = HTTP_PROTOCOLS): FieldParser<string> {
  return {
    kind: 'url',
    expected: `an absolute ${describeProtocols(protocols)} URL`,
    valueName: 'url',
    parse(raw) {
      const value = parseUrl(raw, protocols);
      return value === undefined ? fail() : ok(value);
    },
    format: (value) => value,
  };
}

function list<T>(raw: string, item: (text: string) => T | undefined): ParseResult<readonly T[]> {
  const items = raw.split(',').map((s) => s.trim());
  const values: T[] = [];
  for (const [index, text] of items.entries()) {
    const value = text === '' ? undefined : item(text);
    if (value === undefined) return fail(`item ${index + 1} is invalid`);
    values.push(value);
  }
  return ok(values);
}

/** A comma-separated list of URLs (see `url`). */
export function urlList(protocols: readonly string[] = HTTP_PROTOCOLS): FieldParser<readonly string[]> {
  return {
    kind: 'urlList',
    expected: `a comma-separated list of absolute ${describeProtocols(protocols)} URLs`,
    valueName: 'urls',
    parse: (raw) => list(raw, (text) => parseUrl(text, protocols)),
    format: (value) => value.join(','),
  };
}

/** A 20-byte address; mixed case must carry a valid EIP-55 checksum. Returned checksummed. */
export function address(): FieldParser<Address> {
  return {
    kind: 'address',
    expected: 'a 0x-prefixed 20-byte hex address (mixed case must be a valid EIP-55 checksum)',
    valueName: 'address',
    parse: (raw) => (isAddress(raw, { strict: true }) ? ok(getAddress(raw)) : fail()),
    format: (value) => value,
  };
}

// Order of the secp256k1 group: a private key must be in [1, n - 1].
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

function parsePrivateKey(raw: string): Hex | undefined {
  if (!/^0x[0-9a-fA-F]{64}$/.test(raw)) return undefined;
  const n = BigInt(raw);
  return n > 0n && n < SECP256K1_N ? (raw.toLowerCase() as Hex) : undefined;
}

/** A secp256k1 private key: `0x` + 64 hex digits, non-zero and below the curve order. */
export function privateKey(): FieldParser<Hex> {
  return {
    kind: 'privateKey',
    expected: 'a 0x-prefixed 32-byte hex secp256k1 private key',
    valueName: 'key',
    parse(raw) {
      const value = parsePrivateKey(raw);
      return value === undefined ? fail() : ok(value);
    },
    format: (value) => value,
  };
}

/** A comma-separated list of private keys (see `privateKey`). */
export function privateKeyList(): FieldParser<readonly Hex[]> {
  return {
    kind: 'privateKeyList',
    expected: 'a comma-separated list of 0x-prefixed 32-byte hex secp256k1 private keys',
    valueName: 'keys',
    parse: (raw) => list(raw, parsePrivateKey),
    format: (value) => value.join(','),
  };
}

const MNEMONIC_LENGTHS = [12, 15, 18, 21, 24];

// BIP-39: 11 bits per word; the last ENT/32 bits are the first bits of sha256(entropy).
function hasValidChecksum(indices: readonly number[]): boolean {
  const bits = indices.map((i) => i.toString(2).padStart(11, '0')).join('');
  const checksumBits = bits.length / 33;
  const entropyBits = bits.slice(0, bits.length - checksumBits);
  const entropy = Uint8Array.from(entropyBits.match(/.{8}/g)!, (byte) => parseInt(byte, 2));
  const expected = sha256(entropy)[0]!.toString(2).padStart(8, '0').slice(0, checksumBits);
  return expected === bits.slice(-checksumBits);
}

/** A BIP-39 English mnemonic (12–24 words, checksum checked). Details never echo a word. */
export function mnemonic(): FieldParser<string> {
  return {
    kind: 'mnemonic',
    expected: `a BIP-39 English mnemonic of ${MNEMONIC_LENGTHS.slice(0, -1).join(', ')} or ${MNEMONIC_LENGTHS.at(-1)} words`,
    valueName: 'words',
    parse(raw) {
      const words = raw.toLowerCase().split(/\s+/);
      if (!MNEMONIC_LENGTHS.includes(words.length)) return fail(`${words.length} words`);
      const indices = words.map((word) => english.indexOf(word));
      const unknown = indices.indexOf(-1);
      if (unknown !== -1) return fail(`word ${unknown + 1} is not in the BIP-39 English word list`);
      return hasValidChecksum(indices) ? ok(words.join(' ')) : fail('the checksum does not match');
    },
    format: (value) => value,
  };
}

const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];

/** A boolean: true/false, 1/0, yes/no or on/off. */
export function boolean(): FieldParser<boolean> {
  return {
    kind: 'boolean',
    expected: 'a boolean (true/false, 1/0, yes/no, on/off)',
    valueName: 'bool',
    parse(raw) {
      const word = raw.toLowerCase();
      if (TRUE_WORDS.includes(word)) return ok(true);
      return FALSE_WORDS.includes(word) ? ok(false) : fail();
    },
    format: String,
  };
}

/** An amount of the native token in ether units (`0.01`), returned as bigint wei, in `[min, max]`. */
export function etherAmount(min: string, max: string): FieldParser<bigint> {
  const minWei = parseEther(min);
  const maxWei = parseEther(max);
  return {
    kind: 'ether',
    expected: `an amount in ether units (e.g. 0.01, up to 18 decimals) in [${min}, ${max}]`,
    valueName: 'amount',
    parse(raw) {
      if (!/^(\d+(\.\d{1,18})?|\.\d{1,18})$/.test(raw)) return fail();
      const wei = parseEther(raw);
      return wei >= minWei && wei <= maxWei ? ok(wei) : fail();
    },
    format: formatEther,
  };
}

/** A gas price in gwei (`25`, `0.5`, up to 9 decimals), returned as bigint wei, in `[min, max]` gwei. */
export function gweiAmount(min: string, max: string): FieldParser<bigint> {
  const minWei = parseGwei(min);
  const maxWei = parseGwei(max);
  return {
    kind: 'gwei',
    expected: `a gas price in gwei (e.g. 25 or 0.5, up to 9 decimals) in [${min}, ${max}]`,
    valueName: 'gwei',
    parse(raw) {
      if (!/^(\d+(\.\d{1,9})?|\.\d{1,9})$/.test(raw)) return fail();
      const wei = parseGwei(raw);
      return wei >= minWei && wei <= maxWei ? ok(wei) : fail();
    },
    format: formatGwei,
  };
}

/** Constraints of a `text` parser. */
export interface TextParameters {
  /** Completes "must be …" when `pattern` is given. */
  expected?: string;
  pattern?: RegExp;
  maxLength?: number;
  valueName?: string;
}

/** Free text, optionally constrained by a pattern and a maximum length. */
export function text({ expected, pattern, maxLength = 10_000, valueName = 'text' }: TextParameters = {}): FieldParser<string> {
  return {
    kind: 'text',
    expected: expected ?? `a text of at most ${maxLength} characters`,
    valueName,
    parse: (raw) => (raw.length <= maxLength && (pattern?.test(raw) ?? true) ? ok(raw) : fail()),
    format: (value) => value,
  };
}

const UINT256_MAX = 2n ** 256n - 1n;

/** A positive integer that fits a uint256 (on-chain ids), returned as bigint. */
export function uint256Id(): FieldParser<bigint> {
  return {
    kind: 'uint256',
    expected: 'a positive integer (uint256)',
    valueName: 'id',
    parse(raw) {
      if (!/^\d+$/.test(raw)) return fail();
      const n = BigInt(raw);
      return n >= 1n && n <= UINT256_MAX ? ok(n) : fail();
    },
    format: String,
  };
}
