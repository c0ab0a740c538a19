/**
 * Relayer benchmark: relayed `ServerFilesAndPermission` submissions per second through the API
 * server and its relayer pool, latency of `/api/relay`, nonce errors that reach clients, requests
 * the preflight refused (by reason) and txs that reverted on chain, and a drop-repair demo (a
 * relayer's pending tx is dropped from the mempool; the watcher repairs it).
 *
 *   npx tsx scripts/bench-relayer.ts [--submissions 2000] [--clients 64] [--relayers 4]
 *     [--gas cached|estimate|both] [--block-time 1] [--gas-limit 1000000000] [--path api|pool]
 *     [--preflight on|off] [--invalid 0] [--signer native|viem] [--no-demo] [--json]
 *   npm run bench -- relayer [same options]
 *
 * `--invalid N` mixes N requests that would revert into the stream (a nonce ahead of the chain,
 * an unknown grantee, the high-s twin of a valid request, a second grant with a valid user's
 * nonce, a valid user's file URL signed by another user): each must be refused, none may land.
 * `--signer` is how the relayers sign their txs: `native` (default; libsecp256k1,
 * src/chain/nativeSigningAccount.ts) or `viem` (viem's JS account, ~0.7 ms more per tx).
 *
 * Chain: interval mining by default (`--block-time 1`, 1B block gas). `--block-time 0` is anvil's
 * automine, which one block per tx caps at ~60-90 of these txs/s here, and which (anvil 1.7.1)
 * strands ready txs in its mempool once concurrent senders outpace it: see the report it prints.
 *
 * Processes: this one is the client. The server side (anvil child process, contracts, relayer
 * pool, API server) runs in a child forked from this script with `--serve`, so client work never
 * shares an event loop with the server. Requests are signed before the timed phase: the figure
 * is the relayer's, not the signer's (signing speed is printed separately).
 */
import { fork } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import pidusage from 'pidusage';
import { createPublicClient, createTestClient, encodeFunctionData, hexToBytes, keccak256, toHex, type Address, type Hex } from 'viem';
import { HDKey, hdKeyToAccount } from 'viem/accounts';
import { VanaLoadError } from '../src/errors.ts';
import { dataPortabilityPermissionsAbi } from '../src/protocol/abis.ts';
import type { ServerFilesAndPermissionMessage } from '../src/protocol/eip712.ts';
import { serializeSignedRelayRequest, signRelayRequest } from '../src/protocol/relayerRequest.ts';
import { startAnvil } from '../src/stack/anvil.ts';
import { startApiServer } from '../src/servers/api/apiServer.ts';
import { deployContracts, registerGrantee } from '../src/stack/deployContracts.ts';
import { appAccount, deployerAccount, relayerAccount } from '../src/stack/devAccounts.ts';
import { freePort } from '../src/util/freePort.ts';
import { createRelayerPool, type GasLimitMode, type RelayerPoolStats } from '../src/chain/relayerPool.ts';
import { fundRelayers } from '../src/chain/fundRelayers.ts';
import { privateKeyToNativeSigningAccount } from '../src/chain/nativeSigningAccount.ts';
import { nextMessage } from './benchChild.ts';
import { rpcHttp } from '../src/chain/rpcTransport.ts';

export interface RelayerBenchOptions {
  /** Relay requests to send, one fresh user each. Default 2000. */
  submissions?: number;
  /** Concurrent clients posting to `/api/relay`. Default 64. */
  clients?: number;
  /** Relayer accounts in the pool. Default 4. */
  relayers?: number;
  /** Gas-limit mode of the pool. Default `'cached'`. */
  gasMode?: GasLimitMode;
  /** anvil block time in seconds; 0 = automine. Default 1. */
  blockTime?: number;
  /** anvil block gas limit. Default 1_000_000_000. */
  blockGasLimit?: bigint;
  /**
   * `'api'` (default): clients POST signed requests to `/api/relay`. `'pool'`: the same calls go
   * straight to `pool.submit` inside the server process (no HTTP, no signature recovery), which
   * isolates what the relayer pool itself sustains.
   */
  path?: 'api' | 'pool';
  /** Run the drop-repair demo after the throughput run. Default true. */
  repairDemo?: boolean;
  /** The API server's preflight check (`api` path). Default true. */
  preflight?: boolean;
  /** Requests that would revert, mixed into the stream (`api` path). Default 0. */
  invalid?: number;
  /** How the relayers sign: `native` (libsecp256k1, default) or `viem`. */
  signer?: 'native' | 'viem';
  /** Progress lines; default: stderr. */
  progress?: (line: string) => void;
}

export interface RelayerBenchResult {
  submissions: number;
  clients: number;
  relayers: number;
  gasMode: GasLimitMode;
  blockTime: number;
  path: 'api' | 'pool';
  preflight: boolean;
  invalid: number;
  signer: 'native' | 'viem';
  /** Pre-signing (untimed): typed-data signatures per second in this process. */
  signsPerSecond: number;
  accepted: number;
  submitSeconds: number;
  submitRate: number;
  mined: number;
  minedSeconds: number;
  minedRate: number;
  /** `missing`: the client got a hash that never mined (e.g. replaced, so the hash changed). */
  receipts: { success: number; reverted: number; missing: number };
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** Non-2xx answers that blame a relayer nonce (what the pool must hide). */
  nonceErrors: number;
  /** Answers `Refused before sending: …` (the preflight), and the server's count by reason. */
  refusals: number;
  refusedByReason: Record<string, number>;
  /** The server's preflight simulation latency (last 1,024), ms. */
  preflightSimulateMs?: { p50: number; p95: number; max: number };
  reverts: number;
  otherErrors: number;
  firstErrors: string[];
  /** CPU seconds used during the timed phase, per process. */
  cpuSeconds: { client: number; server: number; anvil: number };
  /** 1-minute load average at the start and the end of the timed phase. */
  loadAverage: { start: number; end: number };
  pool: RelayerPoolStats;
  repairDemo?: RepairDemoResult;
}

export interface RepairDemoResult {
  txs: number;
  droppedNonce: number;
  /** Txs of the victim relayer stuck behind the dropped one. */
  queuedBehind: number;
  repairedAfterMs: number;
  allMinedAfterMs: number;
  victimHashKept: boolean;
  stats: Pick<RelayerPoolStats, 'gapRepairs' | 'replacements' | 'gapFills'>;
}

interface ServeOptions {
  relayers: number;
  preflight: boolean;
  signer: 'native' | 'viem';
  gasMode: GasLimitMode;
  blockTime: number;
  /** Decimal string: IPC carries JSON. */
  blockGasLimit: string;
}

type ServerMessage =
  | { type: 'ready'; apiUrl: string; rpcUrl: string; chainId: number; permissions: Address; granteeId: string; relayers: Address[]; anvilPid: number }
  | { type: 'stats'; stats: RelayerPoolStats }
  | { type: 'direct-done'; results: DirectResult[] };

/** One `pool.submit` of the `pool` path, run inside the server process. */
type DirectResult = { ms: number; hash: Hex } | { ms: number; errorClass: string; error: string };

/** The same signature with s → n − s and v flipped: it recovers the same signer, and OZ ECDSA refuses it. */
function highSTwin(signature: Hex): Hex {
  const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = Number.parseInt(signature.slice(130, 132), 16);
  return `${signature.slice(0, 66)}${(n - s).toString(16).padStart(64, '0')}${(v === 27 || v === 0 ? v + 1 : v - 1).toString(16).padStart(2, '0')}` as Hex;
}

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The server side, run in the forked child: anvil + contracts + relayer pool + API server. */
async function serve({ relayers: relayerCount, preflight, signer, gasMode, blockTime, blockGasLimit }: ServeOptions): Promise<void> {
  const anvil = await startAnvil({ port: await freePort(), gasLimit: BigInt(blockGasLimit), ...(blockTime > 0 ? { blockTime } : {}) });
  const stops: Array<() => Promise<void>> = [() => anvil.stop()];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    process.exit(0);
  };
  process.on('disconnect', () => void stopAll());
  const contracts = await deployContracts({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, deployer: deployerAccount() });
  const granteeId = await registerGrantee({
    rpcUrl: anvil.rpcUrl,
    chainId: anvil.chainId,
    grantees: contracts.dataPortabilityGrantees,
    account: appAccount(),
  });
  const accounts = Array.from({ length: relayerCount }, (_, i) =>
    signer === 'native' ? privateKeyToNativeSigningAccount(toHex(relayerAccount(i).getHdKey().privateKey!)) : relayerAccount(i),
  );
  await fundRelayers({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, funder: deployerAccount(), relayers: accounts.map((a) => a.address) });
  const pool = await createRelayerPool({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, accounts, gas: { mode: gasMode } });
  stops.push(() => pool.stop());
  const api = await startApiServer({
    port: 0,
    chainId: anvil.chainId,
    rpcUrl: anvil.rpcUrl,
    permissionsAddress: contracts.dataPortabilityPermissions,
    relayerPool: pool,
    personalServerUrl: 'http://127.0.0.1:1',
    appAccount: appAccount(),
    preflight,
  });
  stops.push(() => api.stop());
  process.on('message', (message: { type: string; datas?: Hex[]; clients?: number }) => {
    if (message.type === 'stats') process.send?.({ type: 'stats', stats: pool.stats() } satisfies ServerMessage);
    if (message.type === 'stop') void stopAll();
    if (message.type === 'direct') {
      const datas = message.datas ?? [];
      const results: DirectResult[] = [];
      let next = 0;
      void Promise.all(
        Array.from({ length: message.clients ?? 1 }, async () => {
          while (next < datas.length) {
            const data = datas[next++]!;
            const t0 = performance.now();
            try {
              const { hash } = await pool.submit({ to: contracts.dataPortabilityPermissions, data, abi: dataPortabilityPermissionsAbi });
              results.push({ ms: performance.now() - t0, hash });
            } catch (err) {
              const error = err instanceof VanaLoadError ? err : undefined;
              results.push({ ms: performance.now() - t0, errorClass: error?.errorClass ?? 'other', error: error?.shortMessage ?? String(err) });
            }
          }
        }),
      ).then(() => process.send?.({ type: 'direct-done', results } satisfies ServerMessage));
    }
  });
  process.send?.({
    type: 'ready',
    apiUrl: api.url,
    rpcUrl: anvil.rpcUrl,
    chainId: anvil.chainId,
    permissions: contracts.dataPortabilityPermissions,
    granteeId: granteeId.toString(),
    relayers: accounts.map((a) => a.address),
    anvilPid: anvil.pid,
  } satisfies ServerMessage);
}


/** POST over a keep-alive agent: fetch's per-request overhead would be measured as server latency. */
function postJson(agent: Agent, url: URL, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function cpuSecondsOf(pid: number): Promise<number> {
  try {
    return (await pidusage(pid)).ctime / 1000;
  } catch {
    return Number.NaN;
  }
}

/**
 * Runs the relayer benchmark and returns its figures (see the file header for the layout).
 *
 * @example
 * const result = await runRelayerBench({ submissions: 2000, clients: 64, relayers: 4 });
 * console.log(result.submitRate, result.nonceErrors);
 */
export async function runRelayerBench({
  submissions = 2000,
  clients = 64,
  relayers = 4,
  gasMode = 'cached',
  blockTime = 1,
  blockGasLimit = 1_000_000_000n,
  path = 'api',
  repairDemo = true,
  preflight = true,
  invalid = 0,
  signer = 'native',
  progress = (line) => process.stderr.write(`${line}\n`),
}: RelayerBenchOptions = {}): Promise<RelayerBenchResult> {
  const serveOptions: ServeOptions = { relayers, preflight, signer, gasMode, blockTime, blockGasLimit: blockGasLimit.toString() };
  const child = fork(fileURLToPath(import.meta.url), ['--serve', JSON.stringify(serveOptions)], {
    execArgv: process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    progress(
      `starting anvil (${blockTime > 0 ? `${blockTime} s blocks` : 'automine'}) + contracts + ${relayers}-relayer pool (${signer} signing) + API server (gas mode ${gasMode}, preflight ${preflight ? 'on' : 'off'}) in a child process`,
    );
    const ready = await nextMessage<ServerMessage, 'ready'>(child, 'ready', 180_000, 'bench server');
    const rpc = createPublicClient({ transport: rpcHttp(ready.rpcUrl) });

    // Fresh users, derived on demand from a fixed seed: each signs its one flow with nonce 0.
    const root = HDKey.fromMasterSeed(hexToBytes(keccak256(toHex(`vana-load relayer bench ${Date.now()}`))));
    const invalidCount = path === 'api' ? invalid : 0;
    progress(`signing ${submissions} relay requests${invalidCount ? ` and ${invalidCount} that would revert` : ''} (untimed)`);
    const signStart = performance.now();
    const bodies: string[] = [];
    const datas: Hex[] = [];
    const sign = async (i: number, overrides: Partial<ServerFilesAndPermissionMessage> = {}) => {
      const account = hdKeyToAccount(root, { addressIndex: i });
      const server = hdKeyToAccount(root, { accountIndex: 1, addressIndex: i }).address;
      const message: ServerFilesAndPermissionMessage = {
        nonce: 0n,
        granteeId: BigInt(ready.granteeId),
        grant: `http://127.0.0.1:1/grants/${account.address}.json`,
        fileUrls: [`http://127.0.0.1:1/files/${account.address}.bin`],
        schemaIds: [0n],
        serverAddress: server,
        serverUrl: 'http://127.0.0.1:1',
        serverPublicKey: `0x04${'ab'.repeat(64)}`,
        filePermissions: [[{ account: server, key: 'cd'.repeat(257) }]],
        ...overrides,
      };
      return { message, signed: await signRelayRequest({ account, chainId: ready.chainId, permissionsAddress: ready.permissions, message }) };
    };
    for (let i = 0; i < submissions; i++) {
      const { message, signed } = await sign(i);
      if (path === 'pool') {
        datas.push(encodeFunctionData({ abi: dataPortabilityPermissionsAbi, functionName: 'addServerFilesAndPermissions', args: [message, signed.signature] }));
      } else {
        bodies.push(serializeSignedRelayRequest(signed));
      }
    }
    // Each one would revert, or makes a valid one (its twin) revert if it landed first.
    const invalidBodies: string[] = [];
    for (let k = 0; k < invalidCount; k++) {
      const fresh = submissions + k;
      const victim = k % submissions;
      const victimAddress = hdKeyToAccount(root, { addressIndex: victim }).address;
      switch (k % 5) {
        case 0:
          invalidBodies.push(serializeSignedRelayRequest((await sign(fresh, { nonce: 1n })).signed));
          break;
        case 1:
          invalidBodies.push(serializeSignedRelayRequest((await sign(fresh, { granteeId: 1_000_000n })).signed));
          break;
        case 2: {
          const request = JSON.parse(bodies[victim]!) as { signature: string };
          invalidBodies.push(JSON.stringify({ ...request, signature: highSTwin(request.signature as Hex) }));
          break;
        }
        case 3:
          invalidBodies.push(serializeSignedRelayRequest((await sign(victim, { grant: `http://127.0.0.1:1/grants/${victimAddress}-second.json` })).signed));
          break;
        default:
          invalidBodies.push(serializeSignedRelayRequest((await sign(fresh, { fileUrls: [`http://127.0.0.1:1/files/${victimAddress}.bin`] })).signed));
      }
    }
    // Spread evenly through the stream.
    for (let k = invalidBodies.length - 1; k >= 0; k--) bodies.splice(Math.round(((k + 1) * submissions) / (invalidBodies.length + 1)), 0, invalidBodies[k]!);
    const signsPerSecond = (submissions + invalidCount) / ((performance.now() - signStart) / 1000);

    const nonceCount = async () => {
      const counts = await Promise.all(ready.relayers.map((address) => rpc.getTransactionCount({ address, blockTag: 'latest' })));
      return counts.reduce((a, b) => a + b, 0);
    };
    const startNonces = await nonceCount();
    const agent = new Agent({ keepAlive: true, maxSockets: clients });
    const url = new URL('/api/relay', ready.apiUrl);
    const latencies: number[] = [];
    const hashes: Hex[] = [];
    let nonceErrors = 0;
    let refusals = 0;
    let reverts = 0;
    let otherErrors = 0;
    const firstErrors: string[] = [];
    const cpuBefore = { client: process.cpuUsage(), server: await cpuSecondsOf(child.pid!), anvil: await cpuSecondsOf(ready.anvilPid) };
    const loadAtStart = loadavg()[0]!;

    const start = performance.now();
    if (path === 'pool') {
      progress(`submitting ${submissions} calls straight to the pool, ${clients} at a time, inside the server process`);
      child.send({ type: 'direct', datas, clients });
      const { results } = await nextMessage<ServerMessage, 'direct-done'>(child, 'direct-done', 600_000, 'bench server');
      for (const result of results) {
        latencies.push(result.ms);
        if ('hash' in result) {
          hashes.push(result.hash);
          continue;
        }
        if (firstErrors.length < 5) firstErrors.push(`${result.errorClass} ${result.error}`);
        if (result.errorClass === 'revert') reverts++;
        else if (result.errorClass === 'nonce') nonceErrors++;
        else otherErrors++;
      }
    } else {
      progress(`posting ${submissions} relay requests from ${clients} concurrent clients`);
      let next = 0;
      await Promise.all(
        Array.from({ length: clients }, async () => {
          while (next < bodies.length) {
            const body = bodies[next++]!;
            const t0 = performance.now();
            let answer: { status: number; text: string };
            try {
              answer = await postJson(agent, url, body);
            } catch (err) {
              answer = { status: 0, text: JSON.stringify({ type: 'error', error: err instanceof Error ? err.message : String(err) }) };
            }
            latencies.push(performance.now() - t0);
            const json = JSON.parse(answer.text || '{}') as { type?: string; hash?: Hex; error?: string };
            if (answer.status === 200 && json.hash) {
              hashes.push(json.hash);
              continue;
            }
            const error = `${answer.status} ${json.error ?? answer.text}`;
            if (json.error?.startsWith('Refused before sending: ')) {
              refusals++;
              continue;
            }
            if (firstErrors.length < 5) firstErrors.push(error);
            if (answer.status === 422) reverts++;
            else if (/nonce|replacement|already known|underpriced/i.test(error)) nonceErrors++;
            else otherErrors++;
          }
        }),
      );
    }
    const submitSeconds = (performance.now() - start) / 1000;

    progress(`waiting until ${hashes.length} txs are mined`);
    let mined = (await nonceCount()) - startNonces;
    let minedAt = performance.now();
    // Gives up after 15 s without progress: a stranded tx never mines (see the file header).
    while (mined < hashes.length && performance.now() - minedAt < 15_000) {
      await new Promise((r) => setTimeout(r, 20));
      const now = (await nonceCount()) - startNonces;
      if (now > mined) minedAt = performance.now();
      mined = now;
    }
    const minedSeconds = (minedAt - start) / 1000;
    const clientCpu = process.cpuUsage(cpuBefore.client);
    const cpuSeconds = {
      client: round((clientCpu.user + clientCpu.system) / 1e6, 2),
      server: round((await cpuSecondsOf(child.pid!)) - cpuBefore.server, 2),
      anvil: round((await cpuSecondsOf(ready.anvilPid)) - cpuBefore.anvil, 2),
    };
    const loadAverage = { start: round(loadAtStart, 2), end: round(loadavg()[0]!, 2) };
    agent.destroy();

    progress('checking receipts (untimed)');
    const receipts = { success: 0, reverted: 0, missing: 0 };
    for (let i = 0; i < hashes.length; i += 50) {
      const batch = await Promise.all(hashes.slice(i, i + 50).map((hash) => rpc.getTransactionReceipt({ hash }).catch(() => undefined)));
      for (const receipt of batch) receipts[receipt === undefined ? 'missing' : receipt.status === 'success' ? 'success' : 'reverted']++;
    }
    const health = path === 'api' ? ((await (await fetch(new URL('/health', ready.apiUrl))).json()) as { preflight?: { refused: Record<string, number>; simulateMs: { p50: number; p95: number; max: number } } }) : {};
    child.send({ type: 'stats' });
    const { stats: pool } = await nextMessage<ServerMessage, 'stats'>(child, 'stats', 10_000, 'bench server');

    const sorted = [...latencies].sort((a, b) => a - b);
    const result: RelayerBenchResult = {
      submissions,
      clients,
      relayers,
      gasMode,
      blockTime,
      path,
      preflight: path === 'api' && preflight,
      invalid: invalidCount,
      signer,
      signsPerSecond: round(signsPerSecond, 0),
      accepted: hashes.length,
      submitSeconds: round(submitSeconds, 2),
      submitRate: round(hashes.length / submitSeconds, 0),
      mined,
      minedSeconds: round(minedSeconds, 2),
      minedRate: round(mined / minedSeconds, 0),
      receipts,
      latencyMs: { p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)), p99: round(percentile(sorted, 99)), max: round(sorted.at(-1) ?? 0) },
      nonceErrors,
      refusals,
      refusedByReason: health.preflight?.refused ?? {},
      ...(health.preflight ? { preflightSimulateMs: health.preflight.simulateMs } : {}),
      reverts,
      otherErrors,
      firstErrors,
      cpuSeconds,
      loadAverage,
      pool,
    };
    if (repairDemo) result.repairDemo = await runRepairDemo(progress);
    return result;
  } finally {
    if (child.connected) child.send({ type: 'stop' });
    await new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
    });
  }
}

/**
 * Drop-repair demo on an anvil that mines a block every 500 ms and never automines: one relayer's
 * first pending tx is dropped from the mempool, which blocks every later tx of that relayer until
 * the watcher re-sends it.
 */
async function runRepairDemo(progress: (line: string) => void): Promise<RepairDemoResult> {
  progress('drop-repair demo: anvil without automine, a block every 500 ms once the gap exists');
  const anvil = await startAnvil({ port: await freePort() });
  const accounts = [relayerAccount(0), relayerAccount(1)];
  const stops: Array<() => Promise<void>> = [() => anvil.stop()];
  try {
    await fundRelayers({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, funder: deployerAccount(), relayers: accounts.map((a) => a.address) });
    const test = createTestClient({ mode: 'anvil', transport: rpcHttp(anvil.rpcUrl) });
    const rpc = createPublicClient({ transport: rpcHttp(anvil.rpcUrl) });
    await test.setAutomine(false);
    const pool = await createRelayerPool({
      rpcUrl: anvil.rpcUrl,
      chainId: anvil.chainId,
      accounts,
      repair: { checkIntervalMs: 250, stuckAfterMs: 1_500 },
    });
    stops.push(() => pool.stop());
    const call = { to: '0x000000000000000000000000000000000000bEEF' as Address, data: '0x' as Hex };
    // One tx per relayer, drop one of them, then more: those of the victim's relayer wait in the
    // mempool behind the gap. (anvil_dropTransaction drops a tx's dependants too, so the drop
    // comes before they are sent.)
    const first = await Promise.all(accounts.map(() => pool.submit(call)));
    const victim = first.find((s) => s.relayer === accounts[0]!.address)!;
    await test.dropTransaction({ hash: victim.hash });
    const sent = [...first, ...(await Promise.all(Array.from({ length: 6 }, () => pool.submit(call))))];
    const t0 = performance.now();
    let mining = true;
    const miner = (async () => {
      while (mining) {
        await test.mine({ blocks: 1 });
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    let repairedAfterMs = Number.NaN;
    let allMinedAfterMs = Number.NaN;
    while (performance.now() - t0 < 30_000) {
      if (Number.isNaN(repairedAfterMs) && pool.stats().gapRepairs > 0) repairedAfterMs = performance.now() - t0;
      const receipts = await Promise.all(sent.map((s) => rpc.getTransactionReceipt({ hash: s.hash }).catch(() => undefined)));
      if (receipts.every((r) => r?.status === 'success')) {
        allMinedAfterMs = performance.now() - t0;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    mining = false;
    await miner;
    const victimReceipt = await rpc.getTransactionReceipt({ hash: victim.hash }).catch(() => undefined);
    const stats = pool.stats();
    return {
      txs: sent.length,
      droppedNonce: victim.nonce,
      queuedBehind: sent.filter((s) => s.relayer === victim.relayer && s.nonce > victim.nonce).length,
      repairedAfterMs: Math.round(repairedAfterMs),
      allMinedAfterMs: Math.round(allMinedAfterMs),
      victimHashKept: victimReceipt?.status === 'success',
      stats: { gapRepairs: stats.gapRepairs, replacements: stats.replacements, gapFills: stats.gapFills },
    };
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}

function report(result: RelayerBenchResult): string {
  const perTx = (seconds: number) => round((seconds * 1000) / Math.max(1, result.accepted + result.refusals), 2);
  const share = (seconds: number) => round((100 * seconds) / Math.max(0.001, result.minedSeconds), 0);
  const lines = [
    `  path ${result.path} · submissions ${result.submissions}${result.invalid ? ` + ${result.invalid} that would revert` : ''} · clients ${result.clients} · relayers ${result.relayers} (${result.signer} signing) · gas limit mode ${result.gasMode} · preflight ${result.preflight ? 'on' : 'off'} · chain ${result.blockTime > 0 ? `${result.blockTime} s blocks` : 'automine'}`,
    `  pre-signing (untimed): ${result.signsPerSecond} typed-data signatures/s`,
    `  submit:  ${result.accepted} accepted in ${result.submitSeconds} s → ${result.submitRate} tx/s`,
    `  mined:   ${result.mined} mined in ${result.minedSeconds} s → ${result.minedRate} tx/s; receipts ${result.receipts.success} success, ${result.receipts.reverted} reverted, ${result.receipts.missing} missing`,
    `  ${result.path === 'api' ? '/api/relay' : 'pool.submit'} latency: p50 ${result.latencyMs.p50} ms · p95 ${result.latencyMs.p95} ms · p99 ${result.latencyMs.p99} ms · max ${result.latencyMs.max} ms`,
    `  errors reaching clients: nonce ${result.nonceErrors} · revert ${result.reverts} · other ${result.otherErrors}${result.firstErrors.length ? ` (first: ${result.firstErrors.join(' | ')})` : ''}`,
    `  refused before sending: ${result.refusals}${Object.keys(result.refusedByReason).length ? ` (${Object.entries(result.refusedByReason).map(([reason, n]) => `${reason} ${n}`).join(', ')})` : ''} · reverted on chain: ${result.receipts.reverted}${result.preflightSimulateMs ? ` · preflight eth_call p50 ${result.preflightSimulateMs.p50} ms, p95 ${result.preflightSimulateMs.p95} ms, max ${result.preflightSimulateMs.max} ms` : ''}`,
    `  pool: resyncs ${result.pool.resyncs} · retries ${result.pool.retries} · replacements ${result.pool.replacements} · gap repairs ${result.pool.gapRepairs} · gas estimates ${result.pool.gasEstimates}`,
    `  CPU in the timed phase: client ${result.cpuSeconds.client} s · API server + pool ${result.cpuSeconds.server} s (${perTx(result.cpuSeconds.server)} ms/tx, ${share(result.cpuSeconds.server)} % of a core) · anvil ${result.cpuSeconds.anvil} s (${perTx(result.cpuSeconds.anvil)} ms/tx, ${share(result.cpuSeconds.anvil)} %) · load average ${result.loadAverage.start} → ${result.loadAverage.end}`,
  ];
  const demo = result.repairDemo;
  if (demo) {
    lines.push(
      `  drop-repair demo: dropped nonce ${demo.droppedNonce} of a relayer with ${demo.queuedBehind} txs queued behind it;` +
        ` watcher re-sent it after ${demo.repairedAfterMs} ms; all ${demo.txs} txs mined after ${demo.allMinedAfterMs} ms;` +
        ` dropped tx mined under its original hash: ${demo.victimHashKept ? 'yes' : 'no'}` +
        ` (gap repairs ${demo.stats.gapRepairs}, replacements ${demo.stats.replacements}, fills ${demo.stats.gapFills})`,
    );
  }
  return lines.join('\n');
}

function parseArgs(argv: readonly string[]) {
  const value = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const int = (name: string, fallback: number) => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n <= 0) {
      process.stderr.write(`Expected --${name} to be a positive integer, got ${raw}\n`);
      process.exit(2);
    }
    return n;
  };
  const gas = value('gas') ?? 'cached';
  if (!['estimate', 'cached', 'both'].includes(gas)) {
    process.stderr.write(`Expected --gas to be cached, estimate or both, got ${gas}\n`);
    process.exit(2);
  }
  const blockTime = Number(value('block-time') ?? '1');
  if (!Number.isFinite(blockTime) || blockTime < 0) {
    process.stderr.write(`Expected --block-time to be seconds >= 0 (0 = automine), got ${value('block-time')}\n`);
    process.exit(2);
  }
  const path = value('path') ?? 'api';
  if (path !== 'api' && path !== 'pool') {
    process.stderr.write(`Expected --path to be api or pool, got ${path}\n`);
    process.exit(2);
  }
  const preflight = value('preflight') ?? 'on';
  if (preflight !== 'on' && preflight !== 'off') {
    process.stderr.write(`Expected --preflight to be on or off, got ${preflight}\n`);
    process.exit(2);
  }
  const invalidRaw = value('invalid') ?? '0';
  const invalid = Number(invalidRaw);
  if (!Number.isSafeInteger(invalid) || invalid < 0 || (invalid > 0 && (path !== 'api' || preflight === 'off'))) {
    process.stderr.write(`Expected --invalid to be an integer >= 0 (with --path api and --preflight on), got ${invalidRaw}\n`);
    process.exit(2);
  }
  const signer = value('signer') ?? 'native';
  if (signer !== 'native' && signer !== 'viem') {
    process.stderr.write(`Expected --signer to be native or viem, got ${signer}\n`);
    process.exit(2);
  }
  return {
    path: path as 'api' | 'pool',
    signer: signer as 'native' | 'viem',
    preflight: preflight === 'on',
    invalid,
    blockTime,
    blockGasLimit: BigInt(int('gas-limit', 1_000_000_000)),
    submissions: int('submissions', 2000),
    clients: int('clients', 64),
    relayers: int('relayers', 4),
    modes: (gas === 'both' ? ['cached', 'estimate'] : [gas]) as GasLimitMode[],
    demo: !argv.includes('--no-demo'),
    json: argv.includes('--json'),
  };
}

async function main(argv: readonly string[]): Promise<void> {
  if (argv[0] === '--serve') {
    await serve(JSON.parse(argv[1] ?? '{}') as ServeOptions);
    return;
  }
  const args = parseArgs(argv);
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  const header = [
    `relayer bench ${new Date().toISOString()}`,
    `  command: npx tsx scripts/bench-relayer.ts ${argv.join(' ')}`.trimEnd(),
    `  machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), load average at start ${load}; shared with other work, so figures are a floor`,
  ];
  process.stdout.write(`${header.join('\n')}\n`);
  const results: RelayerBenchResult[] = [];
  for (const [i, gasMode] of args.modes.entries()) {
    const result = await runRelayerBench({
      submissions: args.submissions,
      clients: args.clients,
      relayers: args.relayers,
      gasMode,
      blockTime: args.blockTime,
      blockGasLimit: args.blockGasLimit,
      path: args.path,
      preflight: args.preflight,
      invalid: args.invalid,
      signer: args.signer,
      repairDemo: args.demo && i === args.modes.length - 1,
    });
    results.push(result);
    process.stdout.write(`${report(result)}\n`);
  }
  if (args.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  const failed = results.some(
    (r) => r.nonceErrors > 0 || r.accepted < r.submissions || r.receipts.success < r.accepted || r.receipts.reverted > 0 || r.refusals !== r.invalid,
  );
  process.exitCode = failed ? 1 : 0;
}

const invokedPath = process.argv[1];
if (invokedPath !== undefined && realpathSync(invokedPath) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(3);
  });
}
