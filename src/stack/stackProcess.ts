/**
 * Entry point of a stack process spawned by `ensureStack`. It starts the local stack, reports
 * the manifest to its parent over IPC and stops everything when the parent asks, when it gets
 * SIGINT/SIGTERM, or when the IPC channel closes — which is what happens when the parent dies,
 * even by SIGKILL. That last rule is what keeps a crashed harness from leaving a stack behind.
 */
import { createWriteStream } from 'node:fs';
import { createLogger } from '../logger.ts';
import { startLocalStack, type LocalStack, type LocalStackOptions } from './startLocalStack.ts';

/** A process fault the parent asks for (MS-06), by the name of a `LocalStackControls` method. */
export type StackControlAction = keyof LocalStack['controls'];

export type StackProcessMessage =
  | { type: 'ready'; manifest: LocalStack['manifest'] }
  | { type: 'error'; message: string; code: string }
  | { type: 'stopped' }
  /** The answer to a `control` command: `error` is set when the action failed. */
  | { type: 'controlled'; id: number; error?: string };

export type StackProcessCommand = { type: 'stop' } | { type: 'control'; id: number; action: StackControlAction };

const CONTROL_ACTIONS: readonly StackControlAction[] = ['stopPersonalServer', 'startPersonalServer'];

/** Options passed from the parent in the VANA_LOAD_STACK_OPTIONS env var (JSON). */
export type StackProcessOptions = Omit<LocalStackOptions, 'logger' | 'signal'> & {
  logFile?: string;
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
};

function send(message: StackProcessMessage): void {
  if (process.connected) process.send?.(message);
}

async function main(): Promise<void> {
  const options = JSON.parse(process.env.VANA_LOAD_STACK_OPTIONS ?? '{}') as StackProcessOptions;
  const { logFile, logLevel = 'info', ...stackOptions } = options;
  const logger = createLogger({
    level: logLevel,
    ...(logFile ? { destination: createWriteStream(logFile, { flags: 'a' }) } : {}),
    base: { proc: 'stack' },
  });

  const abort = new AbortController();
  let stack: LocalStack | undefined;
  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      logger.info({ reason }, 'stack stopping');
      abort.abort(new Error(`stack stopping: ${reason}`));
      await stack?.stop();
      send({ type: 'stopped' });
      logger.flush?.();
      process.exit(0);
    })();
    return stopping;
  };

  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('disconnect', () => void shutdown('parent disconnected'));
  process.on('message', (msg: StackProcessCommand) => {
    if (msg?.type === 'stop') void shutdown('parent asked');
    else if (msg?.type === 'control') void control(msg.id, msg.action);
  });

  async function control(id: number, action: StackControlAction): Promise<void> {
    if (!stack || stopping || !CONTROL_ACTIONS.includes(action)) {
      send({ type: 'controlled', id, error: !CONTROL_ACTIONS.includes(action) ? `unknown action ${String(action)}` : 'the stack is not running' });
      return;
    }
    try {
      await stack.controls[action]();
      send({ type: 'controlled', id });
    } catch (err) {
      logger.error({ err, action }, 'stack control failed');
      send({ type: 'controlled', id, error: (err as Error).message ?? String(err) });
    }
  }

  try {
    stack = await startLocalStack({ ...stackOptions, logger, signal: abort.signal });
  } catch (err) {
    if (stopping) return;
    const e = err as { message?: string; code?: string };
    logger.error({ err }, 'stack failed to start');
    send({ type: 'error', message: e.message ?? String(err), code: e.code ?? 'STACK_START_FAILED' });
    process.exitCode = 3;
    process.disconnect?.();
    return;
  }
  if (stopping) {
    await stack.stop();
    return;
  }
  send({ type: 'ready', manifest: stack.manifest });
}

void main();
