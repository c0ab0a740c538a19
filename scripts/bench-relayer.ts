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
import { createPublicClient, encodeFunctionData, hexToBytes, keccak256, toHex, type Hex } from 'viem';
import { HDKey, hdKeyToAccount } from 'viem/accounts';
import { rpcHttp } from '../src/chain/rpcTransport.ts';
import { dataPortabilityPermissionsAbi } from '../src/protocol/abis.ts';
import type { ServerFilesAndPermissionMessage } from '../src/protocol/eip712.ts';
import { serializeSignedRelayRequest, signRelayRequest } from '../src/protocol/relayerRequest.ts';
import { nextMessage } from './benchChild.ts';
import { serve, type ServeOptions, type ServerMessage } from './relayerBenchServer.ts';
import { formatRelayerBench, round, type RelayerBenchOptions, type RelayerBenchResult } from './relayerBenchResult.ts';
import { parseRelayerBenchArgs } from './relayerBenchArgs.ts';
import { runRepairDemo } from './relayerRepairDemo.ts';

/** The same signature with s → n − s and v flipped: it recovers the same signer, and OZ ECDSA refuses it. */
function highSTwin(signature: Hex): Hex {
  const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = Number.parseInt(signature.slice(130, 132), 16);
  return `${signature.slice(0, 66)}${(n - s).toString(16).padStart(64, '0')}${(v === 27 || v === 0 ? v + 1 : v - 1).toString(16).padStart(2, '0')}` as Hex;
}

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;


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

async function main(argv: readonly string[]): Promise<void> {
  if (argv[0] === '--serve') {
    await serve(JSON.parse(argv[1] ?? '{}') as ServeOptions);
    return;
  }
  const args = parseRelayerBenchArgs(argv);
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
    process.stdout.write(`${formatRelayerBench(result)}\n`);
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
