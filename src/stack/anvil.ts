/**
 * The local chain: an anvil child process from npm `@foundry-rs/anvil`.
 *
 * No orphans. anvil is spawned directly (its pid is the one reported) and is stopped:
 * - by `stop()` (SIGTERM, then SIGKILL after a grace period), or when `signal` aborts;
 * - when this process exits normally (`process.exit`, end of the event loop, an uncaught
 *   exception): a synchronous `exit` handler SIGKILLs it;
 * - when this process dies without running handlers (SIGKILL, or a SIGTERM/SIGINT nobody
 *   handles, or a crash): a watchdog `/bin/sh` holds a pipe from us, sees it close when the
 *   kernel closes our file descriptors, and SIGKILLs anvil. Not on Windows (no watchdog there).
 * Not covered: the watchdog itself being SIGKILLed together with us (e.g. `kill -9` of the whole
 * process group is fine, as anvil is in it; `kill -9` of just us and the watchdog is not).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { InfrastructureError } from '../errors.ts';
import { silentLogger } from '../logger.ts';
import { freePort } from '../util/freePort.ts';

/**
 * Anvil runs with bare `--prune-history`: it keeps the newest block's state only. With any count
 * of kept states (2, 16 or 256; anvil 1.7.1) its memory grew 0.75 GB over a 1000-flow run, and
 * 10.5 GB after 6,000 flows, because every kept state copies our contracts' growing storage; with
 * the bare flag it grew 90 MB. The price is a race: a read of "latest" that a new block overtakes
 * fails with "BlockOutOfRangeError", which every client here repeats (src/chain/stateRaceRetry.ts).
 *
 * CPU: a plain anvil 1.7.1 rebuilds the whole state trie for every block, ~1.5 µs per storage
 * slot on a 2-core machine (`npm run bench -- chain-state`; a flow leaves ~38 slots). The local
 * stack's chain avoids that cost by forking an empty anvil (src/stack/localChain.ts); foundry's
 * PR #15715 (incremental state root, July 2026) is not in an npm release yet.
 */
export const ANVIL_PRUNE_HISTORY_ARGS: readonly string[] = ['--prune-history'];

/**
 * Blocks whose transactions and receipts anvil keeps (`--transaction-block-keeper`). Receipts are
 * read seconds after mining; 500 blocks are 100 s at 0.2 s blocks, 500 transactions under automine.
 */
export const ANVIL_TX_BLOCKS_KEPT = 500;

export interface StartAnvilParameters {
  /** JSON-RPC port; 0 or undefined picks a free one (retried if another process grabs it first). */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Seconds between blocks (fractions allowed); undefined = automine, one block per transaction. */
  blockTime?: number;
  /** Default 31337. */
  chainId?: number;
  /**
   * Fork this chain (`--fork-url`): its state and deployed contracts, read lazily from it. The
   * URL is never logged whole (it often carries an API key).
   */
  forkUrl?: string;
  /** Pre-funded dev accounts of the anvil mnemonic. Default 10. */
  accounts?: number;
  /** Block gas limit. Default 100M: room for ~80 first flows of a user per block in `blockTime` mode. */
  gasLimit?: bigint;
  /** Give up waiting for the RPC after this long, ms. Default 20_000. */
  startTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL in `stop()`, ms. Default 3_000. */
  stopGraceMs?: number;
  /** Default: the binary of the installed platform package, see {@link resolveAnvilBinary}. */
  binaryPath?: string;
  /** Aborting stops anvil (during start, the start fails with the abort reason). */
  signal?: AbortSignal;
  logger?: Logger;
}

export interface Anvil {
  rpcUrl: string;
  port: number;
  /** The anvil process itself (not a wrapper), for resource sampling. */
  pid: number;
  /** The empty anvil this one forks, when it runs without a state root (src/stack/localChain.ts). */
  upstreamPid?: number;
  chainId: number;
  /** Stops anvil and its watchdog; resolves once both exited. Safe to call twice. */
  stop(): Promise<void>;
}

const PLATFORM_PACKAGES: Record<string, string> = {
  'linux-x64': '@foundry-rs/anvil-linux-amd64',
  'linux-arm64': '@foundry-rs/anvil-linux-arm64',
  'darwin-x64': '@foundry-rs/anvil-darwin-amd64',
  'darwin-arm64': '@foundry-rs/anvil-darwin-arm64',
  'win32-x64': '@foundry-rs/anvil-win32-amd64',
};

const OUTPUT_TAIL_BYTES = 4096;

/**
 * Finds the anvil binary of the platform package that npm installed next to `@foundry-rs/anvil`
 * (hoisted or nested), without relying on its postinstall step. Throws an `InfrastructureError`
 * naming the package when it is missing or not executable.
 *
 * @example
 * resolveAnvilBinary(); // '/…/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil'
 */
export function resolveAnvilBinary(): string {
  const key = `${process.platform}-${process.arch}`;
  const pkg = PLATFORM_PACKAGES[key];
  if (!pkg) {
    throw new InfrastructureError(`anvil has no npm binary for ${key}`, {
      code: 'ANVIL_UNSUPPORTED_PLATFORM',
      metaMessages: [`supported: ${Object.keys(PLATFORM_PACKAGES).join(', ')}`],
    });
  }
  const require = createRequire(import.meta.url);
  // Try from here (hoisted install), then from @foundry-rs/anvil (nested optional dependency).
  const resolvers = [require];
  try {
    resolvers.push(createRequire(require.resolve('@foundry-rs/anvil/package.json')));
  } catch {
    // @foundry-rs/anvil itself missing: the error below says what to install.
  }
  for (const resolver of resolvers) {
    let pkgJson: string;
    try {
      pkgJson = resolver.resolve(`${pkg}/package.json`);
    } catch {
      continue;
    }
    const binary = join(dirname(pkgJson), 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
    try {
      accessSync(binary, fsConstants.X_OK);
      return binary;
    } catch (cause) {
      throw new InfrastructureError(`The anvil binary is missing or not executable: ${binary}`, {
        code: 'ANVIL_BINARY_MISSING',
        metaMessages: [`package: ${pkg}`, 'fix: npm ci (optional dependencies must not be omitted)'],
        cause,
      });
    }
  }
  throw new InfrastructureError(`The anvil platform package ${pkg} is not installed`, {
    code: 'ANVIL_BINARY_MISSING',
    metaMessages: ['fix: npm ci (optional dependencies must not be omitted)'],
  });
}

/**
 * Starts anvil and resolves once it answers `eth_chainId` with the expected chain id. Fails with an
 * `InfrastructureError` carrying the tail of anvil's output when it exits early or does not answer
 * in time.
 *
 * @example
 * const anvil = await startAnvil({ port: 0 });
 * // … use anvil.rpcUrl …
 * await anvil.stop();
 */
export async function startAnvil(params: StartAnvilParameters = {}): Promise<Anvil> {
  const {
    port,
    host = '127.0.0.1',
    blockTime,
    chainId = 31337,
    accounts = 10,
    gasLimit = 100_000_000n,
    startTimeoutMs = 20_000,
    stopGraceMs = 3_000,
    signal,
    logger = silentLogger(),
  } = params;
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
    throw new RangeError(`Expected port in [0, 65535], got ${port}`);
  }
  if (blockTime !== undefined && !(Number.isFinite(blockTime) && blockTime > 0)) {
    throw new RangeError(`Expected blockTime > 0 seconds (or undefined for automine), got ${blockTime}`);
  }
  if (!Number.isSafeInteger(chainId) || chainId <= 0) throw new RangeError(`Expected a positive chainId, got ${chainId}`);
  if (!Number.isSafeInteger(accounts) || accounts < 0) throw new RangeError(`Expected accounts >= 0, got ${accounts}`);
  if (gasLimit <= 0n) throw new RangeError(`Expected gasLimit > 0, got ${gasLimit}`);
  signal?.throwIfAborted();

  const binary = params.binaryPath ?? resolveAnvilBinary();
  const log = logger.child({ module: 'anvil' });
  const pickPort = port === undefined || port === 0;
  for (let attempt = 1; ; attempt++) {
    const listenPort = pickPort ? await freePort(host) : port;
    // Another node on that port would answer our readiness probe in anvil's place.
    if (!pickPort && (await isListening(host, listenPort))) {
      throw new InfrastructureError(`Port ${listenPort} on ${host} is in use: cannot start anvil there`, {
        code: 'ANVIL_PORT_IN_USE',
        metaMessages: ['fix: stop what listens there, or pass port 0 for a free port'],
      });
    }
    const args = [
      '--host', host,
      '--port', String(listenPort),
      '--chain-id', String(chainId),
      '--accounts', String(accounts),
      '--gas-limit', gasLimit.toString(),
      '--quiet',
      ...ANVIL_PRUNE_HISTORY_ARGS,
      '--transaction-block-keeper', String(ANVIL_TX_BLOCKS_KEPT),
      ...(blockTime === undefined ? [] : ['--block-time', String(blockTime)]),
      ...(params.forkUrl === undefined ? [] : ['--fork-url', params.forkUrl]),
    ];
    try {
      return await launch({ binary, args, host, port: listenPort, chainId, startTimeoutMs, stopGraceMs, signal, log });
    } catch (err) {
      // freePort releases the port before anvil binds it: another process may win the race.
      const raced = err instanceof InfrastructureError && err.code === 'ANVIL_PORT_IN_USE';
      if (!(pickPort && raced && attempt < 3)) throw err;
      log.debug({ port: listenPort }, 'port taken before anvil bound it; retrying');
    }
  }
}

interface LaunchParameters {
  binary: string;
  args: string[];
  host: string;
  port: number;
  chainId: number;
  startTimeoutMs: number;
  stopGraceMs: number;
  signal: AbortSignal | undefined;
  log: Logger;
}

async function launch({ binary, args, host, port, chainId, startTimeoutMs, stopGraceMs, signal, log }: LaunchParameters): Promise<Anvil> {
  const t0 = performance.now();
  const rpcUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const keepTail = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
  };
  child.stdout?.on('data', keepTail);
  child.stderr?.on('data', keepTail);
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const hasExited = (): boolean => child.exitCode !== null || child.signalCode !== null || spawnError !== undefined;

  const watchdog = child.pid === undefined ? undefined : startWatchdog(child.pid, log);
  const killNow = (): void => {
    if (!hasExited()) child.kill('SIGKILL');
    watchdog?.kill('SIGKILL');
  };
  process.on('exit', killNow);

  let stopping: Promise<void> | undefined;
  child.once('exit', (code, exitSignal) => {
    // With anvil gone the watchdog has nothing to guard, and its pid could later be reused.
    watchdog?.kill('SIGKILL');
    if (!stopping) log.warn({ pid: child.pid, code, signal: exitSignal, output: tail.trim() }, 'anvil exited on its own');
  });
  const onAbort = (): void => {
    void stop();
  };
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      signal?.removeEventListener('abort', onAbort);
      if (!hasExited()) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => {
          if (!hasExited()) child.kill('SIGKILL');
        }, stopGraceMs);
        await exited;
        clearTimeout(timer);
      }
      // Only now: while anvil runs, the watchdog's pipe closing would kill it.
      if (watchdog && watchdog.exitCode === null && watchdog.signalCode === null) {
        const watchdogExited = new Promise((resolve) => watchdog.once('exit', resolve));
        watchdog.ref(); // unref'd since start: without this the loop could end before its exit event
        watchdog.kill('SIGKILL');
        await watchdogExited;
      }
      process.removeListener('exit', killNow);
      log.debug({ pid: child.pid }, 'anvil stopped');
    })();
    return stopping;
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  const fail = async (message: string, code: string, cause?: unknown): Promise<never> => {
    await stop();
    throw new InfrastructureError(message, {
      code,
      // A fork URL often carries an API key: only its origin is shown.
      metaMessages: [`command: ${binary} ${args.map((a, i) => (args[i - 1] === '--fork-url' ? originOf(a) : a)).join(' ')}`, `output (tail): ${tail.trim() || '(none)'}`],
      cause,
    });
  };

  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (signal?.aborted) {
      await stop();
      throw signal.reason;
    }
    if (spawnError) return await fail(`anvil could not be started: ${spawnError.message}`, 'ANVIL_SPAWN_FAILED', spawnError);
    if (hasExited()) {
      const how = child.signalCode ? `signal ${child.signalCode}` : `code ${child.exitCode}`;
      const code = /address already in use/i.test(tail) ? 'ANVIL_PORT_IN_USE' : 'ANVIL_EXITED';
      return await fail(`anvil exited during start (${how}) on ${rpcUrl}`, code);
    }
    const answered = await rpcChainId(rpcUrl);
    if (answered !== undefined) {
      if (answered !== chainId) {
        // Another node already listens there (anvil itself could not have bound the port).
        return await fail(`Expected chain id ${chainId} at ${rpcUrl}, got ${answered}`, 'ANVIL_PORT_IN_USE');
      }
      break;
    }
    if (Date.now() > deadline) return await fail(`anvil did not answer on ${rpcUrl} within ${startTimeoutMs} ms`, 'ANVIL_START_TIMEOUT');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  // spawn() succeeded and the RPC answered, so the pid is defined.
  const pid = child.pid as number;
  log.info({ rpcUrl, pid, chainId, ms: Math.round(performance.now() - t0) }, 'anvil started');
  return { rpcUrl, port, pid, chainId, stop };
}

/** Whether something accepts TCP connections on host:port. */
async function isListening(host: string, port: number): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    const socket = connect({ host, port, timeout: 1_000 });
    const done = (listening: boolean): void => {
      socket.destroy();
      resolve(listening);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

/** `eth_chainId` as a number, or undefined while nothing answers. */
async function rpcChainId(rpcUrl: string): Promise<number | undefined> {
  try {
    const response = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}',
      signal: AbortSignal.timeout(1_000),
    });
    const body = (await response.json()) as { result?: unknown };
    return typeof body.result === 'string' ? Number.parseInt(body.result, 16) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A `/bin/sh` that blocks reading a pipe whose only writer is this process; when the pipe reaches
 * EOF (we died, however) it SIGKILLs anvil. `read` is a shell builtin, so this is one small process.
 */
function startWatchdog(anvilPid: number, log: Logger): ChildProcess | undefined {
  if (process.platform === 'win32') return undefined;
  const script = 'while read -r _; do :; done; kill -KILL "$1" 2>/dev/null';
  const watchdog = spawn('/bin/sh', ['-c', script, 'vana-load-anvil-watchdog', String(anvilPid)], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  watchdog.once('error', (err) => log.warn({ err }, 'anvil watchdog failed; anvil may outlive a killed parent'));
  // Neither the watchdog nor its pipe may keep our event loop alive.
  watchdog.unref();
  (watchdog.stdin as Socket | null)?.unref();
  return watchdog;
}

function originOf(url: string): string {
  try {
    return `${new URL(url).origin}/…`;
  } catch {
    return '<fork url>';
  }
}
