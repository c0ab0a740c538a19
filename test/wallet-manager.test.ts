/**
 * The wallet manager as a user runs it: a real process in a working directory of its own (so the
 * default manifest and wallet-file paths are used), against a real local stack spawned on free
 * ports and announced through `.vana-load/stack.json`, as `npm run dev` does.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStack, type StackHandle } from '../src/stack/ensureStack.ts';
import { freePort } from '../src/util/freePort.ts';
import { DEFAULT_MANIFEST_PATH, writeManifest } from '../src/stack/manifest.ts';
import { createWalletFile } from '../src/wallets/walletFile.ts';
import { TSX_LOADER_URL } from '../src/util/tsxLoader.ts';

const script = fileURLToPath(new URL('../src/cli/walletManager.ts', import.meta.url));
const tsxLoader = TSX_LOADER_URL;
// Our own settings must not leak in: every VANA_* variable is dropped.
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VANA_')));

function run(cwd: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsxLoader, script, ...args], { cwd, env: cleanEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, out }));
  });
}

// The stack boots while the tests without a chain run; it is always stopped, even after a failed start.
let stackStarting: Promise<StackHandle>;
beforeAll(() => {
  stackStarting = ensureStack({ attach: false });
  stackStarting.catch(() => {});
});
afterAll(async () => {
  await (await stackStarting.catch(() => undefined))?.stop();
});

const exists = (path: string): Promise<boolean> => stat(path).then(
  () => true,
  () => false,
);

describe('wallet manager without a running chain', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vana-wallets-nochain-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.concurrent('error: --fund with no local stack exits 3 naming the RPC URL and npm run dev, and writes no wallet file', async () => {
    const { code, out } = await run(dir, ['--generate', '5', '--fund']);
    expect(out).toContain(`Error [STACK_NOT_RUNNING]: No local stack is running: there is no stack manifest at ${DEFAULT_MANIFEST_PATH}, so no chain to reach (npm run dev serves one at http://127.0.0.1:8545)`);
    expect(out).toContain('fix: start the local stack in another terminal with `npm run dev`');
    expect(code).toBe(3);
    expect(await exists(join(dir, 'wallets/wallets.json'))).toBe(false);
  });

  it.concurrent('error: --fund to an --rpc-url nobody listens on exits 3 naming that URL', async () => {
    const rpcUrl = `http://127.0.0.1:${await freePort()}`;
    const { code, out } = await run(dir, ['--rpc-url', rpcUrl, '--fund', '--wallet-file', 'other.json']);
    expect(out).toContain(`Error [RPC_UNREACHABLE]: No chain answers at ${rpcUrl}\n`);
    expect(code).toBe(3);
  });

  it.concurrent('error: a bad flag value exits 2 naming the flag', async () => {
    const [generate, maxSpend] = await Promise.all([run(dir, ['--generate', 'lots']), run(dir, ['--fund', '--max-spend', 'plenty'])]);
    expect(generate.out).toContain(`error: option '--generate <n>' argument 'lots' is invalid. Expected an integer in [1, 1000000], got "lots"`);
    expect(generate.code).toBe(2);
    expect(maxSpend.out).toContain('VANA_MAX_SPEND (--max-spend) must be an amount in ether units');
    expect(maxSpend.code).toBe(2);
  });
});

describe('wallet manager on the running local stack', () => {
  let stack: StackHandle;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vana-wallets-'));
    stack = await stackStarting;
    await writeManifest(join(dir, DEFAULT_MANIFEST_PATH), stack.manifest);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('generates 200 wallets (0600 file), funds and validates them with no other flag, and prints no secret', async () => {
    const { code, out: output } = await run(dir, ['--generate', '200', '--fund', '--validate']);
    expect(output).toMatch(/^funded 200\/200 \(1 tx\) /m);
    expect(output).toMatch(/^fund done in [\d.]+s: 200 funded, 0 already at 0\.01 ETH; 1 tx, gas per tx \d+; sent 2 ETH, gas paid [\d.]+ ETH$/m);
    expect(output).toMatch(/^validate done in [\d.]+s: 200\/200 wallets hold at least 0\.01 ETH, 0 below; total 2 ETH$/m);
    expect(code).toBe(0);
    const walletFile = join(dir, 'wallets/wallets.json');
    expect((await stat(walletFile)).mode & 0o777).toBe(0o600);

    const { mnemonic } = JSON.parse(await readFile(walletFile, 'utf8')) as { mnemonic: string };
    const words = mnemonic.split(' ');
    // Single words may occur by chance ("fund" is a BIP-39 word); two in a row would not.
    for (let i = 1; i < words.length; i++) expect(output).not.toContain(`${words[i - 1]} ${words[i]}`);
    // A private key or seed would be 64 hex digits; nothing printed is that long.
    expect(output).not.toMatch(/[0-9a-fA-F]{64}/);
  });

  it('error: refuses to fund beyond --max-spend before sending anything, and --validate then exits 1 counting the unfunded wallets', async () => {
    const early = await run(dir, ['--generate', '50', '--fund', '--max-spend', '0.1', '--wallet-file', 'capped.json']);
    expect(early.out).toContain('Error [MAX_SPEND_EXCEEDED]: Funding 50 wallets × 0.01 ETH = 0.5 ETH plus gas exceeds --max-spend 0.1 ETH; nothing was written or sent');
    expect(early.code).toBe(2);
    expect(await exists(join(dir, 'capped.json'))).toBe(false);

    // Value within the cap, value plus gas not: only the full estimate can refuse this one.
    await createWalletFile({ path: join(dir, 'capped.json'), count: 10, chainId: stack.manifest.chainId });
    const refused = await run(dir, ['--fund', '--max-spend', '0.1', '--wallet-file', 'capped.json']);
    expect(refused.out).toMatch(/Error \[MAX_SPEND_EXCEEDED\]: Funding 10 wallets × 0\.01 ETH = 0\.1 ETH plus up to [\d.]+ ETH gas = 0\.1\d* ETH exceeds --max-spend 0\.1 ETH; nothing was sent/);
    expect(refused.code).toBe(2);

    const validated = await run(dir, ['--validate', '--wallet-file', 'capped.json']);
    expect(validated.out).toMatch(/^validate done in [\d.]+s: 0\/10 wallets hold at least 0\.01 ETH, 10 below; total 0 ETH$/m);
    expect(validated.code).toBe(1);
  });
});
