/**
 * `npm run bench -- funding [--wallets 1000] [--repeat 3] [--batch-size 400] [--block-time 0.2]`:
 * how long funding N wallets takes on a freshly spawned local stack (goal: 1000 in < 10 s).
 *
 * 1. The wallet manager as a user runs it, one process per command, in a scratch directory with
 *    the stack's manifest: `--generate N --fund`, `--validate`, `--sweep`. Wall time includes the
 *    process start (tsx, imports); "in-process" is the time the command itself reports.
 * 2. `fundWallets` in this process, `--repeat` times on fresh wallets: the funding alone.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseEther } from 'viem';
import { english, generateMnemonic } from 'viem/accounts';
import { ensureStack } from '../src/stack/ensureStack.ts';
import { deployerAccount } from '../src/stack/devAccounts.ts';
import { DEFAULT_MANIFEST_PATH, writeManifest } from '../src/stack/manifest.ts';
import { fundWallets } from '../src/wallets/funding.ts';
import { createHdWallets } from '../src/wallets/hdWallets.ts';
import { TSX_LOADER_URL } from '../src/util/tsxLoader.ts';

const { values } = parseArgs({
  options: {
    wallets: { type: 'string', default: '1000' },
    repeat: { type: 'string', default: '3' },
    'batch-size': { type: 'string', default: '400' },
    'block-time': { type: 'string', default: '0.2' },
  },
});
const count = Number(values.wallets);
const repeat = Number(values.repeat);
const batchSize = Number(values['batch-size']);
const blockTime = Number(values['block-time']);
for (const [name, n, min] of [['--wallets', count, 1], ['--repeat', repeat, 0], ['--batch-size', batchSize, 1], ['--block-time', blockTime, 0]] as const) {
  if (!Number.isFinite(n) || n < min) {
    console.error(`${name} must be a number >= ${min}, got ${String(n)}`);
    process.exit(2);
  }
}

const walletManager = fileURLToPath(new URL('../src/cli/walletManager.ts', import.meta.url));
// Resolved here: the commands run in a scratch directory, where `--import tsx` would not resolve.
const tsxLoader = TSX_LOADER_URL;

function runWalletManager(cwd: string, args: string[]): Promise<{ code: number | null; out: string; wallMs: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsxLoader, walletManager, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, out, wallMs: performance.now() - started }));
  });
}

/** The `<action> done in 1.2s` figure a command prints, in ms. */
const reportedMs = (out: string, action: string): number => Number(new RegExp(`^${action} done in ([\\d.]+)s`, 'm').exec(out)?.[1] ?? NaN) * 1000;

const stack = await ensureStack({ attach: false, stack: { blockTime } });
const dir = await mkdtemp(join(tmpdir(), 'vana-bench-funding-'));
const cli: Array<{ command: string; wallMs: number; reportedMs: number }> = [];
const inProcess: Array<{ ms: number; txs: number }> = [];
let failed = false;
try {
  await writeManifest(join(dir, DEFAULT_MANIFEST_PATH), stack.manifest);
  for (const [command, args, action] of [
    [`--generate ${count} --fund --batch-size ${batchSize}`, ['--generate', String(count), '--fund', '--batch-size', String(batchSize)], 'fund'],
    ['--validate', ['--validate'], 'validate'],
    ['--sweep', ['--sweep'], 'sweep'],
  ] as const) {
    const result = await runWalletManager(dir, [...args]);
    if (result.code !== 0) {
      failed = true;
      console.error(`wallet-manager ${command} exited ${result.code}:\n${result.out}`);
      break;
    }
    cli.push({ command, wallMs: result.wallMs, reportedMs: reportedMs(result.out, action) });
  }
  const { rpcUrl, chainId, contracts } = stack.manifest;
  for (let i = 0; i < repeat; i++) {
    const result = await fundWallets({
      rpcUrl,
      chainId,
      funder: deployerAccount(),
      batchFunder: contracts.batchFunder,
      wallets: createHdWallets(generateMnemonic(english)),
      count,
      amountWei: parseEther('0.01'),
      batchSize,
    });
    inProcess.push({ ms: result.elapsedMs, txs: result.txs.length });
  }
} finally {
  await stack.stop();
  await rm(dir, { recursive: true, force: true });
}

const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
console.log(`funding bench, ${new Date().toISOString().slice(0, 10)}: ${count} wallets, ${batchSize} per tx, local stack block time ${blockTime} s (0 = automine)`);
console.log(`command: npm run bench -- funding --wallets ${count} --repeat ${repeat} --batch-size ${batchSize} --block-time ${blockTime}`);
console.log(`${'wallet-manager command'.padEnd(44)}${'wall'.padStart(10)}${'in-process'.padStart(12)}`);
for (const { command, wallMs, reportedMs: ms } of cli) console.log(`${command.padEnd(44)}${s(wallMs).padStart(10)}${s(ms).padStart(12)}`);
for (const [i, { ms, txs }] of inProcess.entries()) {
  console.log(`fundWallets run ${i + 1}: ${s(ms)} (${txs} tx, ${Math.round(count / (ms / 1000))} wallets/s)`);
}
const fundMs = [...cli.filter((c) => c.command.includes('--fund')).map((c) => c.wallMs), ...inProcess.map((r) => r.ms)];
const worst = Math.max(...fundMs);
if (!failed) console.log(`goal: ${count} wallets funded in < 10 s (CLI wall time, process start included): ${worst < 10_000 ? 'met' : 'NOT met'}, worst ${s(worst)}`);
process.exit(failed ? 1 : 0);
