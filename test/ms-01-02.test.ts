import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { unreachableRemote } from './fixtures/unreachableRemote.ts';

// The milestone scripts as a user runs them: real processes, real stack, exit codes checked.
function run(script: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('MS-02 single flow', () => {
  it('passes on the local stack it spawns, printing every step and the result block', async () => {
    const { code, out } = await run('milestones/ms-02/test-single-e2e.ts', ['--user-index', '5']);
    expect(out).toContain('VERDICT: PASS');
    for (const label of ['Derive key + encrypt data', 'Submit transaction', 'Wait for PermissionAdded', 'Verify result hash']) expect(out).toContain(label);
    expect(out).toMatch(/Permission id: +\d+/);
    expect(code).toBe(0);
  });

  it('error: exits 1 naming the failing step and class when every inference fails', async () => {
    const { code, out } = await run('milestones/ms-02/test-single-e2e.ts', [], { VANA_SIM_FAILURE_RATE: '1' });
    expect(out).toMatch(/Failed step: +inference_wait \(http_5xx\)/);
    expect(out).toContain('VERDICT: FAIL');
    expect(code).toBe(1);
  });

  it('error: exits 3 with a clear message when the remote target is unreachable', async () => {
    const { closed, env } = await unreachableRemote();
    const { code, out } = await run('milestones/ms-02/test-single-e2e.ts', ['--target', 'remote'], env);
    expect(out).toContain(`cannot reach RPC ${closed}`);
    expect(out).not.toContain('test junk');
    expect(code).toBe(3);
  });

  it('error: exits 2 on a bad flag value, naming it', async () => {
    const { code, out } = await run('milestones/ms-02/test-single-e2e.ts', ['--relay', 'teleport']);
    expect(out).toMatch(/VANA_TX_MODE|--relay/);
    expect(code).toBe(2);
  });
});

describe('MS-01 core components', () => {
  it('passes every check without the typecheck', async () => {
    const { code, out } = await run('milestones/ms-01/test-milestone1.ts', ['--skip-typecheck']);
    expect(out).toContain('Results: 5/5 (100%)');
    expect(code).toBe(0);
  });
});
