import { describe, expect, it } from 'vitest';
import { VanaLoadError } from '../errors.ts';
import { buildGrantFile, serializeGrantFile, validateGrantFile } from './grantFile.ts';

const grantee = '0x8325C0A0948483EdA023A1A2Fd895e62C5131234';
const valid = { grantee, operation: 'llm_inference', parameters: { prompt: 'Analyse: {{data}}' } };

function rejection(json: unknown): VanaLoadError {
  try {
    validateGrantFile(json);
  } catch (error) {
    if (error instanceof VanaLoadError) return error;
    throw error;
  }
  throw new Error('expected validateGrantFile to throw');
}

function messageFor(json: unknown): string {
  const error = rejection(json);
  expect(error.code).toBe('GRANT_INVALID');
  return error.shortMessage;
}

describe('buildGrantFile', () => {
  it('builds the llm_inference grant the original load test uploaded', () => {
    expect(buildGrantFile({ grantee, prompt: 'Analyse: {{data}}', responseFormat: 'json_object' })).toEqual({
      grantee,
      operation: 'llm_inference',
      parameters: { prompt: 'Analyse: {{data}}', response_format: { type: 'json_object' } },
    });
  });

  it('omits response_format and expires when not given, and keeps expires when given', () => {
    expect(buildGrantFile({ grantee, prompt: 'p' })).toEqual({ grantee, operation: 'llm_inference', parameters: { prompt: 'p' } });
    expect(buildGrantFile({ grantee, prompt: 'p', responseFormat: 'text', expires: 1_900_000_000 })).toEqual({
      grantee,
      operation: 'llm_inference',
      parameters: { prompt: 'p', response_format: { type: 'text' } },
      expires: 1_900_000_000,
    });
  });

  it('error: rejects a malformed grantee before anything is uploaded', () => {
    expect(() => buildGrantFile({ grantee: '0x1234', prompt: 'p' })).toThrow(
      'Invalid grant file: grantee: expected 0x and 40 hex digits, got "0x1234"',
    );
  });
});

describe('serializeGrantFile', () => {
  it('pretty-prints with two spaces and no trailing newline, fields in schema order', () => {
    const grant = buildGrantFile({ grantee, prompt: 'Analyse: {{data}}', responseFormat: 'json_object' });
    expect(serializeGrantFile(grant)).toBe(
      [
        '{',
        `  "grantee": "${grantee}",`,
        '  "operation": "llm_inference",',
        '  "parameters": {',
        '    "prompt": "Analyse: {{data}}",',
        '    "response_format": {',
        '      "type": "json_object"',
        '    }',
        '  }',
        '}',
      ].join('\n'),
    );
  });

  it('round-trips through JSON.parse and validateGrantFile', () => {
    const grant = buildGrantFile({ grantee, prompt: 'p', expires: 0 });
    expect(validateGrantFile(JSON.parse(serializeGrantFile(grant)))).toEqual(grant);
  });
});

describe('validateGrantFile', () => {
  it('accepts the minimal file, any operation name and free-form parameters', () => {
    expect(validateGrantFile(valid)).toEqual(valid);
    const custom = { grantee: grantee.toLowerCase(), operation: 'x', parameters: {}, expires: 0 };
    expect(validateGrantFile(custom)).toEqual(custom);
  });

  it('error: rejects a value that is not an object', () => {
    expect(messageFor([])).toBe('Invalid grant file: expected a JSON object, got an array');
    expect(messageFor(null)).toBe('Invalid grant file: expected a JSON object, got null');
    expect(messageFor('{}')).toBe('Invalid grant file: expected a JSON object, got "{}"');
  });

  it('error: requires grantee, operation and parameters', () => {
    expect(messageFor({ operation: 'x', parameters: {} })).toBe('Invalid grant file: grantee: required');
    expect(messageFor({ grantee, parameters: {} })).toBe('Invalid grant file: operation: required');
    expect(messageFor({ grantee, operation: 'x' })).toBe('Invalid grant file: parameters: required');
  });

  it('error: rejects a grantee that is not 0x and 40 hex digits', () => {
    expect(messageFor({ ...valid, grantee: grantee.slice(2) })).toBe(
      'Invalid grant file: grantee: expected 0x and 40 hex digits, got "8325C0A0948483EdA023A1A2Fd895e62C5131234"',
    );
    expect(messageFor({ ...valid, grantee: `${grantee}00` })).toBe(
      `Invalid grant file: grantee: expected 0x and 40 hex digits, got "${grantee}00"`,
    );
    expect(messageFor({ ...valid, grantee: `0x${'g'.repeat(40)}` })).toBe(
      `Invalid grant file: grantee: expected 0x and 40 hex digits, got "0x${'g'.repeat(40)}"`,
    );
    expect(messageFor({ ...valid, grantee: 42 })).toBe('Invalid grant file: grantee: expected a string, got 42');
  });

  it('error: rejects an empty or non-string operation', () => {
    expect(messageFor({ ...valid, operation: '' })).toBe('Invalid grant file: operation: expected a non-empty string');
    expect(messageFor({ ...valid, operation: ['llm_inference'] })).toBe(
      'Invalid grant file: operation: expected a string, got an array',
    );
  });

  it('error: rejects parameters that are not an object', () => {
    expect(messageFor({ ...valid, parameters: [] })).toBe('Invalid grant file: parameters: expected an object, got an array');
    expect(messageFor({ ...valid, parameters: null })).toBe('Invalid grant file: parameters: expected an object, got null');
    expect(messageFor({ ...valid, parameters: 'prompt' })).toBe(
      'Invalid grant file: parameters: expected an object, got "prompt"',
    );
  });

  it('error: rejects an expires that is negative, fractional or not a number', () => {
    for (const [expires, shown] of [
      [-1, '-1'],
      [1.5, '1.5'],
      ['1900000000', '"1900000000"'],
      [null, 'null'],
    ] as const) {
      expect(messageFor({ ...valid, expires })).toBe(
        `Invalid grant file: expires: expected an integer >= 0 (Unix seconds), got ${shown}`,
      );
    }
  });

  it('error: rejects fields outside the schema', () => {
    expect(messageFor({ ...valid, granteeId: 1 })).toBe('Invalid grant file: unexpected field "granteeId"');
    expect(messageFor({ ...valid, a: 1, b: 2 })).toBe('Invalid grant file: unexpected fields "a", "b"');
  });

  it('error: lists every problem in metaMessages', () => {
    const error = rejection({ grantee: 'nope', operation: '', parameters: {}, extra: true });
    expect(error.metaMessages).toEqual([
      '- grantee: expected 0x and 40 hex digits, got "nope"',
      '- operation: expected a non-empty string',
      '- unexpected field "extra"',
    ]);
  });
});
