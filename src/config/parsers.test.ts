import { describe, expect, it } from 'vitest';
import {
  address,
  boolean,
  decimal,
  duration,
  etherAmount,
  integer,
  mnemonic,
  oneOf,
  privateKey,
  privateKeyList,
  size,
  text,
  uint256Id,
  url,
  urlList,
  type FieldParser,
} from './parsers.ts';

const ANVIL_KEY_0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const ANVIL_KEY_1 = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';

function accepts<T>(parser: FieldParser<T>, raw: string): T {
  const result = parser.parse(raw);
  if (!result.ok) throw new Error(`expected ${JSON.stringify(raw)} to parse`);
  return result.value;
}

function rejects<T>(parser: FieldParser<T>, raw: string): string | undefined {
  const result = parser.parse(raw);
  if (result.ok) throw new Error(`expected ${JSON.stringify(raw)} to be rejected, got ${String(result.value)}`);
  return result.detail;
}

describe('integer', () => {
  const parser = integer(1, 100);
  it('parses integers inside the range, bounds included', () => {
    expect([accepts(parser, '1'), accepts(parser, '100'), accepts(parser, '+42')]).toEqual([1, 100, 42]);
  });
  it('error: rejects text, decimals, exponents and out-of-range values', () => {
    for (const raw of ['abc', '1.5', '1e2', '0', '101', '-1', '', '10 000']) rejects(parser, raw);
  });
  it('describes its range and prints values back', () => {
    expect(parser.expected).toBe('an integer in [1, 100]');
    expect(parser.format(42)).toBe('42');
  });
});

describe('decimal', () => {
  const parser = decimal(0, 1);
  it('parses decimals, leading dots and exponents inside the range', () => {
    expect([accepts(parser, '0'), accepts(parser, '0.25'), accepts(parser, '.5'), accepts(parser, '1e-2'), accepts(parser, '1')]).toEqual([
      0, 0.25, 0.5, 0.01, 1,
    ]);
  });
  it('error: rejects text, NaN, Infinity and out-of-range values', () => {
    for (const raw of ['half', 'NaN', 'Infinity', '1.01', '-0.1', '0x1']) rejects(parser, raw);
  });
});

describe('duration', () => {
  const parser = duration(0, 86_400_000);
  it('parses ms, s, m, h, d, fractions, compounds and a bare 0 into milliseconds', () => {
    expect(['500ms', '90s', '2m', '1h', '1d', '1.5s', '1m30s', '0', '0s'].map((raw) => accepts(parser, raw))).toEqual([
      500, 90_000, 120_000, 3_600_000, 86_400_000, 1_500, 90_000, 0, 0,
    ]);
  });
  it('error: rejects bare numbers, unknown units, spaces, fractional milliseconds and out-of-range values', () => {
    for (const raw of ['90', '5 s', '5sec', '1w', 'ms', '-1s', '2d']) expect(rejects(parser, raw)).toBeUndefined();
    expect(rejects(parser, '0.5ms')).toBe('not a whole number of milliseconds');
  });
  it('prints values with the largest exact unit and describes its range that way', () => {
    expect([0, 500, 1_500, 90_000, 120_000, 3_600_000, 86_400_000].map((ms) => parser.format(ms))).toEqual([
      '0',
      '500ms',
      '1500ms',
      '90s',
      '2m',
      '1h',
      '1d',
    ]);
    expect(duration(100, 600_000).expected).toBe('a duration (e.g. 500ms, 90s, 2m) in [100ms, 10m]');
  });
});

describe('size', () => {
  const parser = size(1, 1024 ** 3);
  it('parses binary units, case-insensitively, into bytes', () => {
    expect(['300MB', '512KB', '512kib', '1GB', '1.5KB', '100', '100B', '2 MB'].map((raw) => accepts(parser, raw))).toEqual([
      314_572_800, 524_288, 524_288, 1_073_741_824, 1_536, 100, 100, 2_097_152,
    ]);
  });
  it('error: rejects unknown units, fractional bytes and out-of-range values', () => {
    for (const raw of ['1TB', 'MB', '2GB', '0', '-1KB']) expect(rejects(parser, raw)).toBeUndefined();
    expect(rejects(parser, '0.5B')).toBe('not a whole number of bytes');
  });
  it('prints values with the largest exact unit', () => {
    expect([1_048_576, 10_485_760, 1_536, 1_000].map((bytes) => parser.format(bytes))).toEqual(['1MB', '10MB', '1536B', '1000B']);
  });
});

describe('oneOf', () => {
  const parser = oneOf(['local', 'remote']);
  it('parses a listed value, case-insensitively, to its canonical spelling', () => {
    expect([accepts(parser, 'remote'), accepts(parser, 'Local')]).toEqual(['remote', 'local']);
  });
  it('error: rejects anything else', () => {
    rejects(parser, 'moksha');
    expect(parser.expected).toBe('one of local, remote');
  });
});

describe('url and urlList', () => {
  it('parses http(s) URLs and drops trailing slashes', () => {
    expect([accepts(url(), 'http://localhost:3001/'), accepts(url(), 'https://test.server.vana.com/api/v1')]).toEqual([
      'http://localhost:3001',
      'https://test.server.vana.com/api/v1',
    ]);
  });
  it('error: rejects relative URLs, other protocols and missing hosts', () => {
    for (const raw of ['localhost:3001', '/api', 'ftp://x.org', 'file:///etc/passwd', 'http://']) rejects(url(), raw);
    expect(url().expected).toBe('an absolute http(s) URL');
  });
  it('parses a comma-separated list with spaces around items', () => {
    const parser = urlList(['http', 'https', 'ws', 'wss']);
    expect(accepts(parser, 'https://a.org, wss://b.org/ws ,http://c:8545')).toEqual(['https://a.org', 'wss://b.org/ws', 'http://c:8545']);
    expect(parser.expected).toBe('a comma-separated list of absolute http(s)/ws(s) URLs');
  });
  it('error: names the first bad item of a list', () => {
    expect(rejects(urlList(), 'https://a.org,,https://b.org')).toBe('item 2 is invalid');
    expect(rejects(urlList(), 'https://a.org,wss://b.org')).toBe('item 2 is invalid');
  });
});

describe('address', () => {
  it('parses lowercase and checksummed addresses into the checksummed form', () => {
    expect(accepts(address(), '0xd54523048add05b4d734afae7c68324ebb7373ef')).toBe('0xD54523048AdD05b4d734aFaE7C68324Ebb7373eF');
    expect(accepts(address(), '0xD54523048AdD05b4d734aFaE7C68324Ebb7373eF')).toBe('0xD54523048AdD05b4d734aFaE7C68324Ebb7373eF');
  });
  it('error: rejects a wrong checksum, a wrong length and a missing 0x', () => {
    for (const raw of ['0xD54523048AdD05b4d734aFaE7C68324Ebb7373eE', '0xd54523048add05b4d734afae7c68324ebb7373', 'd54523048add05b4d734afae7c68324ebb7373ef']) {
      rejects(address(), raw);
    }
  });
});

describe('privateKey and privateKeyList', () => {
  it('parses 32-byte hex keys into lowercase', () => {
    expect(accepts(privateKey(), ANVIL_KEY_0.toUpperCase().replace('0X', '0x'))).toBe(ANVIL_KEY_0);
    expect(accepts(privateKeyList(), `${ANVIL_KEY_0}, ${ANVIL_KEY_1}`)).toEqual([ANVIL_KEY_0, ANVIL_KEY_1]);
  });
  it('error: rejects zero, the curve order, short keys and keys without 0x', () => {
    const order = '0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141';
    for (const raw of [`0x${'0'.repeat(64)}`, order, ANVIL_KEY_0.slice(0, -2), ANVIL_KEY_0.slice(2)]) rejects(privateKey(), raw);
    expect(rejects(privateKeyList(), `${ANVIL_KEY_0},0x12`)).toBe('item 2 is invalid');
  });
});

describe('mnemonic', () => {
  it('parses valid BIP-39 phrases, normalising case and spacing', () => {
    expect(accepts(mnemonic(), 'test test test test test test test test test test test junk')).toBe(
      'test test test test test test test test test test test junk',
    );
    expect(accepts(mnemonic(), 'Abandon  abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon ABOUT')).toBe(
      'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about',
    );
    expect(accepts(mnemonic(), `${'abandon '.repeat(23)}art`)).toBe(`${'abandon '.repeat(23)}art`);
  });
  it('error: rejects a wrong word count, an unknown word and a bad checksum without echoing words', () => {
    expect(rejects(mnemonic(), 'test test test')).toBe('3 words');
    expect(rejects(mnemonic(), 'test test test test test test test test test test testx junk')).toBe(
      'word 11 is not in the BIP-39 English word list',
    );
    expect(rejects(mnemonic(), 'test test test test test test test test test test test test')).toBe('the checksum does not match');
  });
});

describe('boolean', () => {
  it('parses true/false, 1/0, yes/no and on/off in any case', () => {
    expect(['true', 'TRUE', '1', 'yes', 'on', 'false', '0', 'No', 'off'].map((raw) => accepts(boolean(), raw))).toEqual([
      true, true, true, true, true, false, false, false, false,
    ]);
  });
  it('error: rejects anything else', () => {
    for (const raw of ['y', 'enabled', '2']) rejects(boolean(), raw);
  });
});

describe('etherAmount', () => {
  const parser = etherAmount('0', '1000');
  it('parses ether units into bigint wei and prints them back', () => {
    expect([accepts(parser, '0.01'), accepts(parser, '1'), accepts(parser, '.5'), accepts(parser, '0.000000000000000001')]).toEqual([
      10_000_000_000_000_000n,
      1_000_000_000_000_000_000n,
      500_000_000_000_000_000n,
      1n,
    ]);
    expect(parser.format(10_000_000_000_000_000n)).toBe('0.01');
  });
  it('error: rejects more than 18 decimals, negatives, units and out-of-range amounts', () => {
    for (const raw of ['0.0000000000000000001', '-1', '1 VANA', '1e3', '1000.1']) rejects(parser, raw);
  });
});

describe('text and uint256Id', () => {
  it('parses text matching the pattern and length', () => {
    const bucket = text({ expected: 'a bucket', pattern: /^[a-z0-9.-]{3,63}$/ });
    expect(accepts(bucket, 'vana-load')).toBe('vana-load');
    rejects(bucket, 'Vana_Load');
    rejects(text({ maxLength: 3 }), 'abcd');
  });
  it('parses positive uint256 ids into bigints', () => {
    expect([accepts(uint256Id(), '1'), accepts(uint256Id(), (2n ** 256n - 1n).toString())]).toEqual([1n, 2n ** 256n - 1n]);
  });
  it('error: rejects 0, negatives and ids above uint256', () => {
    for (const raw of ['0', '-1', '1.0', (2n ** 256n).toString()]) rejects(uint256Id(), raw);
  });
});
