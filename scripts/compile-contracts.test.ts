import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileContracts, REPO_ROOT } from './contractArtifacts.ts';

describe('compiled contract artifacts', () => {
  it('match a fresh compile of contracts/*.sol byte for byte', { timeout: 120_000 }, () => {
    const { files } = compileContracts();
    expect(Object.keys(files).sort()).toEqual([
      'contracts/artifacts/BatchFunder.json',
      'contracts/artifacts/DataPortabilityGrantees.json',
      'contracts/artifacts/DataPortabilityPermissions.json',
      'contracts/artifacts/DataPortabilityServers.json',
      'contracts/artifacts/DataRegistry.json',
      'src/protocol/abis.ts',
    ]);
    for (const [path, expected] of Object.entries(files)) {
      let committed: string;
      try {
        committed = readFileSync(join(REPO_ROOT, path), 'utf8');
      } catch {
        committed = '(missing)';
      }
      expect(committed === expected, `${path} is out of date with contracts/*.sol: run \`npm run contracts\` and commit the result`).toBe(true);
    }
  });
});
