import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, InfrastructureError, VanaLoadError } from '../errors.ts';
import { TSX_LOADER_URL } from '../util/tsxLoader.ts';
import { exitCodeFor, formatError } from './errorOutput.ts';

const MILESTONE_CLI = fileURLToPath(new URL('./milestoneCli.ts', import.meta.url));

function runMain(body: string) {
  const script = `import { runMilestoneMain } from ${JSON.stringify(MILESTONE_CLI)}; ${body}`;
  return spawnSync(process.execPath, ['--import', TSX_LOADER_URL, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
}

describe('exitCodeFor', () => {
  it('tells usage (2), what the harness drives (3) and its own bugs (4) apart; none reads as a threshold failure (1)', () => {
    expect([
      exitCodeFor(new ConfigError('bad flag')),
      exitCodeFor(new InfrastructureError('anvil died', { code: 'ANVIL_EXITED' })),
      exitCodeFor(new VanaLoadError('funding reverted', { code: 'FUNDING_REVERTED' })),
      exitCodeFor(new TypeError("Cannot read properties of undefined (reading 'x')")),
      exitCodeFor('a string'),
    ]).toEqual([2, 3, 3, 4, 4]);
  });

  it('prints a known error on one line and a bug with its stack and where to report it', () => {
    expect(formatError(new ConfigError('Expected --rate to be a number, got "x"'))).toBe('Error [CONFIG_INVALID]: Expected --rate to be a number, got "x"');
    expect(formatError(new TypeError('boom'))).toMatch(/^Unexpected error: TypeError: boom\n\s+at [\s\S]*This is a bug in vana-load \(exit 4\)/);
  });
});

describe('a milestone process', () => {
  it('exits 4 when its main throws an unexpected error', () => {
    const child = runMain(`await runMilestoneMain(async () => { throw new TypeError('boom'); });`);
    expect([child.status, child.stderr]).toEqual([4, expect.stringContaining('Unexpected error: TypeError: boom')]);
  });

  it('exits 4 when an error escapes from a timer', () => {
    const child = runMain(`await runMilestoneMain(() => new Promise((resolve) => { setTimeout(() => { throw new RangeError('late'); }, 10); setTimeout(() => resolve(0), 5_000); }));`);
    expect([child.status, child.stderr]).toEqual([4, expect.stringContaining('RangeError: late')]);
  });
});
