import { isProcessRunning } from '../util/processAlive.ts';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { toHex } from 'viem';
import { isPrunedStateRace } from '../chain/stateRaceRetry.ts';
import { InfrastructureError } from '../errors.ts';
import { resolveAnvilBinary, startAnvil, type Anvil } from './anvil.ts';

const started: Anvil[] = [];
const orphanCandidates: number[] = [];
afterAll(async () => {
  for (const anvil of started) await anvil.stop();
  // Only reached when an orphan test failed: do not leave its anvil running.
  for (const pid of orphanCandidates.filter(isProcessRunning)) process.kill(pid, 'SIGKILL');
});

async function rpc(rpcUrl: string, method: string, params: unknown[] = []): Promise<unknown> {
  const response = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(body.error.message);
  return body.result;
}

async function waitUntil(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

describe('resolveAnvilBinary', () => {
  it('finds the platform package binary without the postinstall step', () => {
    expect(resolveAnvilBinary()).toMatch(/node_modules\/@foundry-rs\/anvil-(linux|darwin)-(amd64|arm64)\/bin\/anvil$/);
  });
});

describe('startAnvil', () => {
  it('starts anvil itself (not a wrapper) on a free port, answering eth_chainId with the chain id', async () => {
    const anvil = await startAnvil({ chainId: 1337 });
    started.push(anvil);
    expect(anvil.rpcUrl).toBe(`http://127.0.0.1:${anvil.port}`);
    expect(await rpc(anvil.rpcUrl, 'eth_chainId')).toBe('0x539');
    expect(anvil.chainId).toBe(1337);
    if (process.platform === 'linux') expect(readFileSync(`/proc/${anvil.pid}/comm`, 'utf8').trim()).toBe('anvil');
  });

  it('stop() ends the process, and a second stop() resolves too', async () => {
    const anvil = await startAnvil();
    await anvil.stop();
    expect(isProcessRunning(anvil.pid)).toBe(false);
    await anvil.stop();
  });

  it('stops anvil when the signal aborts', async () => {
    const controller = new AbortController();
    const anvil = await startAnvil({ signal: controller.signal });
    controller.abort();
    expect(await waitUntil(() => !isProcessRunning(anvil.pid), 5_000)).toBe(true);
  });

  it('mines on an interval with blockTime instead of per transaction', async () => {
    const anvil = await startAnvil({ blockTime: 0.2 });
    started.push(anvil);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(Number(await rpc(anvil.rpcUrl, 'eth_blockNumber'))).toBeGreaterThanOrEqual(2);
  });

  it('keeps the newest state only, with the answer the state-race retry recognises, and takes the gas limit', async () => {
    const anvil = await startAnvil({ gasLimit: 123_000_000n });
    started.push(anvil);
    await rpc(anvil.rpcUrl, 'evm_mine');
    await rpc(anvil.rpcUrl, 'evm_mine');
    const latest = (await rpc(anvil.rpcUrl, 'eth_getBlockByNumber', ['latest', false])) as { number: string; gasLimit: string };
    expect(BigInt(latest.gasLimit)).toBe(123_000_000n);
    const earlier = rpc(anvil.rpcUrl, 'eth_getBalance', ['0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', toHex(BigInt(latest.number) - 1n)]);
    const err = await earlier.then(() => undefined, (e: unknown) => e);
    expect(isPrunedStateRace(err)).toBe(true);
  });

  it('error: refuses a port that something already listens on', async () => {
    const first = await startAnvil();
    started.push(first);
    const attempt = startAnvil({ port: first.port });
    await expect(attempt).rejects.toBeInstanceOf(InfrastructureError);
    await expect(attempt).rejects.toMatchObject({ code: 'ANVIL_PORT_IN_USE', shortMessage: `Port ${first.port} on 127.0.0.1 is in use: cannot start anvil there` });
  });

  it('error: reports the exit and anvil\'s own output when anvil dies during start', async () => {
    // TEST-NET-3: no interface of this machine has that address, so anvil cannot bind it.
    const error = await startAnvil({ host: '203.0.113.1', port: 40_123 }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InfrastructureError);
    expect((error as InfrastructureError).code).toBe('ANVIL_EXITED');
    expect((error as InfrastructureError).shortMessage).toBe('anvil exited during start (code 1) on http://203.0.113.1:40123');
    expect((error as InfrastructureError).metaMessages[1]).toMatch(/^output \(tail\): Error: Can(not|'t) assign requested address \(os error \d+\)$/);
  });
});

describe('no orphan anvil when the parent process ends', () => {
  // A real parent: a Node process that starts anvil through this module, prints its pid, then
  // exits by itself or waits to be killed.
  async function parentWithAnvil(mode: 'exit' | 'wait'): Promise<{ parentPid: number; anvilPid: number; exited: Promise<void> }> {
    const moduleUrl = new URL('./anvil.ts', import.meta.url).href;
    const code = [
      `const { startAnvil } = await import(${JSON.stringify(moduleUrl)});`,
      'const anvil = await startAnvil();',
      'process.stdout.write(JSON.stringify({ pid: anvil.pid }) + "\\n");',
      mode === 'exit' ? 'process.exit(0);' : 'setInterval(() => {}, 60_000);',
    ].join('\n');
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<void>((resolve) => parent.once('exit', () => resolve()));
    const lines = createInterface({ input: parent.stdout });
    const first = await new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      parent.once('exit', (status) => reject(new Error(`parent exited (${status}) before printing the anvil pid`)));
    });
    lines.close();
    const anvilPid = (JSON.parse(first) as { pid: number }).pid;
    orphanCandidates.push(anvilPid);
    return { parentPid: parent.pid as number, anvilPid, exited };
  }

  it('kills anvil when the parent exits normally (exit handler)', async () => {
    const { anvilPid, exited } = await parentWithAnvil('exit');
    await exited;
    expect(await waitUntil(() => !isProcessRunning(anvilPid), 5_000)).toBe(true);
  });

  it.each(['SIGTERM', 'SIGKILL'] as const)('kills anvil when the parent dies of an unhandled %s (watchdog)', async (signal) => {
    const { parentPid, anvilPid, exited } = await parentWithAnvil('wait');
    expect(isProcessRunning(anvilPid)).toBe(true);
    process.kill(parentPid, signal);
    await exited;
    expect(await waitUntil(() => !isProcessRunning(anvilPid), 5_000)).toBe(true);
  });
});
