import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { InfrastructureError } from '../errors.ts';
import { silentLogger } from '../logger.ts';
import { DEFAULT_MANIFEST_PATH, readManifest, type StackManifest } from './manifest.ts';
import type { StackControlAction, StackProcessCommand, StackProcessMessage, StackProcessOptions } from './stackProcess.ts';
import type { LocalStackControls } from './startLocalStack.ts';
import { TSX_LOADER_URL } from '../util/tsxLoader.ts';
import { isProcessRunning } from '../util/processAlive.ts';

export interface StackHandle {
  manifest: StackManifest;
  /** True when this handle spawned the stack (and so `stop()` stops it). */
  owned: boolean;
  /** Stops an owned stack and waits until its processes are gone; a no-op for an attached one. */
  stop(): Promise<void>;
  /** With `onExit`: checks the stack's processes now (tells `onExit` if one is gone). */
  checkNow?(): string | undefined;
  /** A stack this handle spawned: process faults it can inject (MS-06). Undefined for an attached stack. */
  controls?: LocalStackControls;
}

export interface EnsureStackParameters {
  /** Manifest of a stack started with `npm run dev`; attached to when healthy. */
  manifestPath?: string;
  /** Set false to always spawn a private stack (tests do). */
  attach?: boolean;
  stack?: StackProcessOptions;
  startTimeoutMs?: number;
  logger?: Logger;
  /**
   * Told once when a process of the stack (its node process or anvil) exits while the handle is in
   * use, with what is known of how (`anvil (pid 123) is gone`, `code 1, signal null`). Checked
   * every `watchIntervalMs`; a spawned stack process is also seen at once by its exit event.
   */
  onExit?: (how: string) => void;
  /** Default 500 ms. */
  watchIntervalMs?: number;
}

/**
 * Returns a running local stack: the healthy `npm run dev` stack if one is up, else a private one
 * spawned as a separate process on free ports. The spawned stack dies with its parent: it stops
 * itself when its IPC channel closes, and `stop()` as well as this process's exit, SIGINT and
 * SIGTERM stop it.
 *
 * @example
 * const stack = await ensureStack();
 * try { await run(stack.manifest); } finally { await stack.stop(); }
 */
export async function ensureStack({
  manifestPath = DEFAULT_MANIFEST_PATH,
  attach = true,
  stack = {},
  startTimeoutMs = 90_000,
  logger = silentLogger(),
  onExit,
  watchIntervalMs = 500,
}: EnsureStackParameters = {}): Promise<StackHandle> {
  let handle: StackHandle | undefined;
  if (attach) {
    const manifest = await readManifest(manifestPath).catch(() => undefined);
    if (manifest && (await isStackHealthy(manifest))) {
      logger.info({ apiUrl: manifest.apiUrl }, 'attached to running stack');
      handle = { manifest, owned: false, stop: async () => {} };
    }
  }
  handle ??= await spawnStack(stack, startTimeoutMs, logger, onExit);
  return onExit ? watchStack(handle, onExit, watchIntervalMs) : handle;
}

/**
 * Tells `onExit` once when a pid of the manifest is gone, until the returned handle is stopped
 * (which stops `handle` too).
 *
 * @example
 * const watched = watchStack(handle, (how) => controller.abort(new Error(how)), 500);
 */
export function watchStack(handle: StackHandle, onExit: (how: string) => void, intervalMs: number): StackHandle {
  let told = false;
  const check = (): string | undefined => {
    if (told) return undefined;
    for (const [name, pid] of Object.entries(handle.manifest.pids)) {
      if (isProcessRunning(pid)) continue;
      told = true;
      clearInterval(timer);
      const how = `${name} (pid ${pid}) is gone`;
      onExit(how);
      return how;
    }
    return undefined;
  };
  const timer = setInterval(check, intervalMs);
  timer.unref();
  return {
    ...handle,
    checkNow: check,
    stop: async () => {
      told = true;
      clearInterval(timer);
      await handle.stop();
    },
  };
}

/** True when the manifest's API server and RPC both answer within a second. */
export async function isStackHealthy(manifest: StackManifest, timeoutMs = 1_000): Promise<boolean> {
  try {
    const [health, rpc] = await Promise.all([
      fetch(`${manifest.apiUrl}/health`, { signal: AbortSignal.timeout(timeoutMs) }),
      fetch(manifest.rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
        signal: AbortSignal.timeout(timeoutMs),
      }),
    ]);
    if (!health.ok || !rpc.ok) return false;
    const body = (await rpc.json()) as { result?: string };
    return body.result !== undefined && Number(body.result) === manifest.chainId;
  } catch {
    return false;
  }
}

const stackProcessPath = fileURLToPath(new URL('./stackProcess.ts', import.meta.url));

async function spawnStack(options: StackProcessOptions, startTimeoutMs: number, logger: Logger, onExit: ((how: string) => void) | undefined): Promise<StackHandle> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER_URL, stackProcessPath], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    // Its own process group: Ctrl-C in a terminal signals the whole foreground group, and the
    // stack (and its anvil) must outlive the harness's drain of flows in flight. The harness
    // stops it when done; the IPC channel closing stops it if the harness dies.
    detached: true,
    env: { ...process.env, VANA_LOAD_STACK_OPTIONS: JSON.stringify(options) },
  });
  let stderrTail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-4_000);
  });

  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  process.once('exit', killOnExit);

  let manifest: StackManifest;
  try {
    manifest = await waitForReady(child, startTimeoutMs, () => stderrTail);
  } catch (err) {
    killOnExit();
    await exited;
    process.removeListener('exit', killOnExit);
    throw err;
  }
  logger.info({ apiUrl: manifest.apiUrl, pid: child.pid }, 'spawned local stack');

  let stopping: Promise<void> | undefined;
  child.once('exit', (code, signal) => {
    if (stopping === undefined) onExit?.(`stack process exited with code ${code}, signal ${signal}`);
  });
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        if (child.connected) child.send({ type: 'stop' } satisfies StackProcessCommand);
        else child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      process.removeListener('exit', killOnExit);
    })();
    return stopping;
  };
  let nextControlId = 0;
  const control = (action: StackControlAction) => async (): Promise<void> => {
    if (!child.connected || stopping !== undefined) throw new InfrastructureError(`cannot ${action}: the stack process is not running`, { code: 'STACK_CONTROL_FAILED' });
    const id = ++nextControlId;
    await new Promise<void>((resolve, reject) => {
      const onMessage = (msg: StackProcessMessage): void => {
        if (msg.type !== 'controlled' || msg.id !== id) return;
        cleanup();
        if (msg.error === undefined) resolve();
        else reject(new InfrastructureError(`the stack could not ${action}: ${msg.error}`, { code: 'STACK_CONTROL_FAILED' }));
      };
      const onExit = (): void => {
        cleanup();
        reject(new InfrastructureError(`the stack process exited during ${action}`, { code: 'STACK_EXITED' }));
      };
      const cleanup = (): void => {
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send({ type: 'control', id, action } satisfies StackProcessCommand);
    });
  };
  const controls: LocalStackControls = { stopPersonalServer: control('stopPersonalServer'), startPersonalServer: control('startPersonalServer') };
  return { manifest, owned: true, stop, controls };
}

function waitForReady(child: ChildProcess, timeoutMs: number, stderrTail: () => string): Promise<StackManifest> {
  return new Promise<StackManifest>((resolve, reject) => {
    const fail = (message: string, code: string): void => {
      cleanup();
      const tail = stderrTail().trim();
      reject(
        new InfrastructureError(`Local stack failed to start: ${message}`, {
          code,
          metaMessages: tail ? [`stack stderr (last lines):`, ...tail.split('\n').slice(-10)] : [],
        }),
      );
    };
    const onMessage = (msg: StackProcessMessage): void => {
      if (msg.type === 'ready') {
        cleanup();
        resolve(msg.manifest);
      } else if (msg.type === 'error') fail(msg.message, msg.code);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      fail(`stack process exited (code ${code}, signal ${signal}) before it was ready`, 'STACK_EXITED');
    const timer = setTimeout(() => fail(`not ready after ${timeoutMs} ms`, 'STACK_START_TIMEOUT'), timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      child.removeListener('message', onMessage);
      child.removeListener('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}
