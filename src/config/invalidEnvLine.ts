/**
 * The syntax check of a `.env` file that dotenv does not make: dotenv skips a line it cannot read
 * (`VANA_BLOCK_TIME 2`, `=== notes ===`) without a word, so a setting the user wrote would silently
 * not apply. Every line must be blank, a `# comment`, or `KEY=value` in dotenv's syntax:
 * an optional `export `, a key of letters, digits, `_`, `.` and `-`, and a value that is bare,
 * or quoted with `'`, `"` or `` ` ``, where a quoted value may run over several lines.
 */

const KEY_VALUE = /^\s*(?:export\s+)?[\w.-]+\s*=\s*(.*)$/;
const QUOTES = new Set(["'", '"', '`']);
// What may follow a closing quote on its line for the quotes to count (else the value is bare text).
const AFTER_CLOSING_QUOTE = /^\s*(?:#.*)?$/;

/**
 * Lines a quoted value that starts on `lines[index]` spans beyond that line (0 for one line), or
 * 0 when the quote is not closed in a way dotenv reads as quoted, which leaves a bare value.
 */
function continuationLines(lines: readonly string[], index: number, value: string): number {
  const quote = value[0]!;
  const rest = [value.slice(1), ...lines.slice(index + 1)].join('\n');
  for (let at = 0; at < rest.length; at++) {
    if (rest[at] === '\\' && rest[at + 1] === quote) {
      at++;
      continue;
    }
    if (rest[at] !== quote) continue;
    const lineEnd = rest.indexOf('\n', at);
    const after = rest.slice(at + 1, lineEnd === -1 ? undefined : lineEnd);
    if (!AFTER_CLOSING_QUOTE.test(after)) return 0;
    return rest.slice(0, at).split('\n').length - 1;
  }
  return 0;
}

/**
 * The first line of a `.env` text that is not blank, a comment or `KEY=value` (see the module
 * comment), with its 1-based number; undefined when every line is one of them.
 *
 * @example
 * invalidEnvLine('VANA_USERS=3\nVANA_RATE 5\n'); // { line: 2, text: 'VANA_RATE 5' }
 * invalidEnvLine('export VANA_USERS=3\nVANA_PROMPT="two\nlines"\n'); // undefined
 */
export function invalidEnvLine(text: string): { line: number; text: string } | undefined {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n?|\n/);
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const match = KEY_VALUE.exec(line);
    if (!match) return { line: index + 1, text: line };
    const value = match[1]!;
    if (QUOTES.has(value[0] ?? '')) index += continuationLines(lines, index, value);
  }
  return undefined;
}
