/**
 * For benchmarks that fork their server side into a child process and talk to it over IPC
 * (scripts/bench-relayer.ts, scripts/bench-storage.ts).
 */
import type { ChildProcess } from 'node:child_process';

/**
 * The next IPC message of `type` from `child`; rejects when the child exits first or nothing comes
 * within `timeoutMs`. `who` names the child in those errors.
 *
 * @example
 * const ready = await nextMessage<ServerMessage, 'ready'>(child, 'ready', 180_000, 'bench server');
 */
export function nextMessage<M extends { type: string }, T extends M['type']>(
  child: ChildProcess,
  type: T,
  timeoutMs: number,
  who: string,
): Promise<Extract<M, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${who} sent no ${type} message within ${timeoutMs} ms`)), timeoutMs);
    const onExit = (code: number | null) => reject(new Error(`${who} exited with code ${code}`));
    const onMessage = (message: M) => {
      if (message.type !== type) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message as Extract<M, { type: T }>);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}
