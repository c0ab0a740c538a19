import { describe, expect, it } from 'vitest';
import { parse as parseDotenv } from 'dotenv';
import { invalidEnvLine } from './invalidEnvLine.ts';

describe('invalidEnvLine', () => {
  it('accepts blank lines, comments, export, spaces around =, empty, quoted and multi-line quoted values, CRLF and a BOM', () => {
    const text = [
      '\uFEFF# a comment',
      '',
      '   ',
      'VANA_USERS=3',
      'export VANA_RATE=5',
      '  VANA_SEED = 42  # trailing comment',
      'VANA_RUN_ID=',
      "VANA_PROMPT='single quoted'",
      'VANA_OPENAI_MODEL=`backticks`',
      'VANA_API_URL="http://a#not-a-comment"',
      'MULTI="first line',
      '=== not a setting, but inside the quotes ===',
      'last line" # closed here',
      'ESCAPED="a \\" quote"',
      'UNCLOSED="bare text then',
      'dotted.key-name=1',
    ].join('\r\n');
    expect(invalidEnvLine(text)).toBeUndefined();
    // The same text, as dotenv reads it: every key above is a setting.
    expect(Object.keys(parseDotenv(text))).toEqual([
      'VANA_USERS', 'VANA_RATE', 'VANA_SEED', 'VANA_RUN_ID', 'VANA_PROMPT', 'VANA_OPENAI_MODEL', 'VANA_API_URL', 'MULTI', 'ESCAPED', 'UNCLOSED', 'dotted.key-name',
    ]);
  });

  it('error: finds the first line that is not a setting, with its number and text', () => {
    expect(invalidEnvLine('VANA_USERS=3\nVANA_BLOCK_TIME -1\n=== x ===\n')).toEqual({ line: 2, text: 'VANA_BLOCK_TIME -1' });
    expect(invalidEnvLine('# notes\n=== x ===\n')).toEqual({ line: 2, text: '=== x ===' });
    expect(invalidEnvLine('VANA_USERS: 3')).toEqual({ line: 1, text: 'VANA_USERS: 3' });
    expect(invalidEnvLine('"VANA_USERS"=3')).toEqual({ line: 1, text: '"VANA_USERS"=3' });
    expect(invalidEnvLine('export')).toEqual({ line: 1, text: 'export' });
  });

  it('error: a line after a closed multi-line value is checked again', () => {
    expect(invalidEnvLine('A="one\ntwo"\nnot a setting\n')).toEqual({ line: 3, text: 'not a setting' });
    // Text after the closing quote: dotenv reads a bare one-line value, so the next line is a line of its own.
    expect(invalidEnvLine('A="one" junk\nnot a setting\n"')).toEqual({ line: 2, text: 'not a setting' });
  });

  it('every line it refuses, dotenv ignores', () => {
    for (const line of ['VANA_BLOCK_TIME -1', '=== x ===', 'VANA_USERS 3', '"KEY"=1', 'export']) {
      expect(invalidEnvLine(line)).toBeDefined();
      expect(parseDotenv(line)).toEqual({});
    }
  });
});
