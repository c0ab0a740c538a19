/**
 * `--dry-run` as a user runs it before a remote run: the Moksha profile, an RPC that answers (a
 * local anvil with chain id 14800 stands in for Moksha's), and nothing sent or created.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnvil } from '../src/stack/anvil.ts';
import { TSX_LOADER_URL } from '../src/util/tsxLoader.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BASE_ENV = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VANA_') && !name.startsWith('AWS_')));
const cwd = mkdtempSync(join(tmpdir(), 'vana-load-dry-run-'));
const RELAYER_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d';

let chain: Awaited<ReturnType<typeof startAnvil>>;
beforeAll(async () => {
  chain = await startAnvil({ port: 0, chainId: 14800 });
});
afterAll(async () => {
  await chain?.stop();
  rmSync(cwd, { recursive: true, force: true });
});

describe('--dry-run', () => {
  it('prints what a Moksha run would send and spend, reading only the fee, and creates nothing', async () => {
    const child = spawn(process.execPath, ['--import', TSX_LOADER_URL, join(ROOT, 'milestones/ms-05/test-streaming-load.ts'), '--users', '40', '--rate', '0.5', '--dry-run'], {
      cwd,
      env: {
        ...BASE_ENV,
        VANA_PRESET: 'moksha',
        VANA_RPC_URLS: chain.rpcUrl,
        VANA_MNEMONIC: 'test test test test test test test test test test test junk',
        VANA_RELAYER_PRIVATE_KEYS: RELAYER_KEY,
        VANA_APP_PRIVATE_KEY: '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
        VANA_S3_BUCKET: 'vana-load-moksha',
        AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'not-a-real-secret',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, out).toBe(0);
    const lines = out.split('\n');
    expect(lines.filter((l) => /^\s+(flows|transactions|wallets funded|storage|personal server) /.test(l))).toEqual([
      `   flows            40 on chain 14800 via ${new URL(chain.rpcUrl).host}`,
      '   transactions     40 addServerFilesAndPermissions, paid by VANA_RELAYER_PRIVATE_KEYS (relay keys)',
      '   wallets funded   0',
      '   storage          80 files, ≈ 60.3 KiB to S3 bucket vana-load-moksha',
      '   personal server  40 identity + 40 operations (personal-server) + ~1 polls each at https://test.server.vana.com/api/v1',
    ]);
    expect(out).toMatch(/fee per gas +\d+(\.\d+)? gwei, from the chain's current base fee × 2 \+ tip/);
    expect(out).toMatch(/spend +at most [0-9.]+ \(native token\); cap VANA_MAX_SPEND 0\.5 \(native token\)/);
    expect(out).not.toContain(RELAYER_KEY.slice(2));
    expect(readdirSync(cwd)).toEqual([]); // no results directory, no manifest
    // Nothing was sent: the chain is still at its first block.
    const response = await fetch(chain.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}' });
    expect(((await response.json()) as { result: string }).result).toBe('0x0');
  }, 60_000);
});
