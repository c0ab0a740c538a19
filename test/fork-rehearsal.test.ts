/**
 * `npm run dev -- --fork-url <rpc>`: the local servers on a fork of a chain that already has the
 * Vana contracts, found from VANA_PERMISSIONS_ADDRESS, as a rehearsal against Moksha's deployed
 * contracts would run. Moksha cannot be reached from here, so the "real" chain is a local anvil with
 * our contracts deployed on chain id 14800; the fork and the milestone do not know the difference.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../src/metrics/types.ts';
import { startAnvil } from '../src/stack/anvil.ts';
import { deployContracts, type DeployedContracts } from '../src/stack/deployContracts.ts';
import { deployerAccount } from '../src/stack/devAccounts.ts';
import { parseManifest } from '../src/stack/manifest.ts';
import { TSX_LOADER_URL } from '../src/util/tsxLoader.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BASE_ENV = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VANA_')));
const cwd = mkdtempSync(join(tmpdir(), 'vana-load-fork-'));

let real: Awaited<ReturnType<typeof startAnvil>>;
let contracts: DeployedContracts;
beforeAll(async () => {
  real = await startAnvil({ port: 0, chainId: 14800 });
  contracts = await deployContracts({ rpcUrl: real.rpcUrl, chainId: 14800, deployer: deployerAccount() });
}, 60_000);
afterAll(async () => {
  await real?.stop();
  rmSync(cwd, { recursive: true, force: true });
});

describe('the local stack on a fork of a chain with the Vana contracts deployed', () => {
  it('uses the deployed contracts (no new ones but a BatchFunder) and MS-02 passes against it', async () => {
    const ports = ['--anvil-port', '0', '--api-port', '0', '--storage-port', '0', '--personal-server-port', '0'];
    const dev = spawn(
      process.execPath,
      ['--import', TSX_LOADER_URL, join(ROOT, 'src/cli/main.ts'), 'stack', '--fork-url', real.rpcUrl, '--permissions-address', contracts.dataPortabilityPermissions, '--stack-chain-id', '14800', ...ports],
      { cwd, env: BASE_ENV, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let devOut = '';
    dev.stdout.on('data', (chunk: Buffer) => (devOut += chunk.toString()));
    dev.stderr.on('data', (chunk: Buffer) => (devOut += chunk.toString()));
    const devExited = new Promise<number | null>((resolve) => dev.on('close', resolve));
    try {
      const manifestPath = join(cwd, '.vana-load', 'stack.json');
      const deadline = Date.now() + 90_000;
      while (!existsSync(manifestPath)) {
        if (Date.now() > deadline || dev.exitCode !== null) throw new Error(`the forked stack did not start:\n${devOut}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const manifest = parseManifest(JSON.parse(readFileSync(manifestPath, 'utf8')) as unknown);
      expect(manifest.chainId).toBe(14800);
      expect(manifest.contracts).toMatchObject({
        dataRegistry: contracts.dataRegistry,
        dataPortabilityServers: contracts.dataPortabilityServers,
        dataPortabilityGrantees: contracts.dataPortabilityGrantees,
        dataPortabilityPermissions: contracts.dataPortabilityPermissions,
      });
      expect(devOut).not.toContain(real.rpcUrl.replace(/^http:\/\//, '') + '/'); // the fork URL is not echoed whole

      const ms02 = spawn(process.execPath, ['--import', TSX_LOADER_URL, join(ROOT, 'milestones/ms-02/test-single-e2e.ts'), '--results-dir', join(cwd, 'results')], {
        cwd,
        env: BASE_ENV,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      ms02.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      ms02.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => ms02.on('close', resolve));
      expect(code, out).toBe(0);
      expect(out).toContain('Stack attached');
      const dir = /📁 (\S+)\/:/.exec(out)![1]!;
      const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as RunSummary;
      expect([summary.environment.chainId, summary.counts.succeeded]).toEqual([14800, 1]);
    } finally {
      dev.kill('SIGINT');
      expect(await devExited, devOut).toBe(0);
    }
  }, 180_000);
});
