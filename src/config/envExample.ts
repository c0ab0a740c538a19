import { CONFIG_FIELDS } from './schema.ts';

const WIDTH = 100;

function commentLines(text: string): string[] {
  const lines: string[] = [];
  let line = '#';
  for (const word of text.split(' ')) {
    if (line.length + 1 + word.length > WIDTH && line !== '#') {
      lines.push(line);
      line = '#';
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines;
}

// dotenv reads `#` after a space as a comment and trims unquoted values.
function dotenvValue(value: string): string {
  return /[\s#"'`]/.test(value) ? JSON.stringify(value) : value;
}

/**
 * The text of `.env.example`: every variable of the config table, grouped, with its description,
 * accepted values, flag and default, commented out so a copied file changes nothing until edited.
 *
 * @example
 * await writeFile('.env.example', generateEnvExample());
 */
export function generateEnvExample(): string {
  const out = [
    '# vana-load configuration: every variable, with its CLI flag and default.',
    '# Generated from src/config/schema.ts by `npx tsx scripts/generate-env-example.ts`; a test fails',
    '# when this file is stale, so edit the schema, not this file.',
    '#',
    '# Copy to .env and uncomment what you change. Precedence, lowest first:',
    '#   defaults < preset (VANA_PRESET) < .env < environment < CLI flags.',
    '# Empty values count as unset. Variables marked SECRET hold keys: keep them out of git (.env is',
    '# git-ignored). vana-load redacts them in logs, summary.json and reports.',
  ];
  let group = '';
  for (const { group: fieldGroup, spec } of CONFIG_FIELDS) {
    if (fieldGroup !== group) {
      group = fieldGroup;
      out.push('', `# ==== ${group} ====`);
    }
    out.push('', ...commentLines(spec.description), ...commentLines(`Flag ${spec.flag}. Accepts ${spec.parser.expected}.`));
    if (spec.secret) out.push('# SECRET: never commit a real value.');
    const defaultText = spec.default === undefined ? '' : spec.parser.format(spec.default);
    if (defaultText === '' && spec.example !== undefined) out.push(`# Example: ${spec.example}`);
    out.push(`# ${spec.env}=${dotenvValue(defaultText)}`);
  }
  return `${out.join('\n')}\n`;
}
