import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateEnvExample } from './envExample.ts';
import { loadConfig } from './loadConfig.ts';
import { CONFIG_FIELDS } from './schema.ts';

describe('generateEnvExample', () => {
  it('matches the committed .env.example (regenerate with `npx tsx scripts/generate-env-example.ts`)', () => {
    const committed = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
    expect(committed).toBe(generateEnvExample());
  });

  it('lists every variable exactly once, commented out', () => {
    const names = [...generateEnvExample().matchAll(/^# ([A-Z0-9_]+)=/gm)].map((m) => m[1]);
    expect(names).toEqual(CONFIG_FIELDS.map(({ spec }) => spec.env));
  });

  it('gives the defaults back when every line with a value is uncommented', () => {
    const uncommented = generateEnvExample().replace(/^# ([A-Z0-9_]+=.+)$/gm, '$1');
    const dir = mkdtempSync(join(tmpdir(), 'vana-load-env-example-'));
    try {
      const path = join(dir, '.env');
      writeFileSync(path, uncommented);
      expect(loadConfig({ env: {}, envFile: path })).toEqual(loadConfig({ env: {} }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('marks exactly the secret variables as SECRET', () => {
    const marked = [...generateEnvExample().matchAll(/^# SECRET: .*\n(?:# Example: .*\n)?# ([A-Z0-9_]+)=/gm)].map((m) => m[1]);
    expect(marked).toEqual([
      'AWS_SECRET_ACCESS_KEY',
      'VANA_MNEMONIC',
      'VANA_FUNDER_PRIVATE_KEY',
      'VANA_RELAYER_PRIVATE_KEYS',
      'VANA_APP_PRIVATE_KEY',
      'VANA_STACK_RELAYER_PRIVATE_KEYS',
      'VANA_STACK_APP_PRIVATE_KEY',
      'VANA_STACK_FORK_URL',
      'OPENAI_API_KEY',
    ]);
  });
});
