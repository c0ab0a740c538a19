/**
 * Notices when the command that launched this process is gone although nobody signalled us.
 *
 * `npx tsx script.ts` runs as npm → `sh -c tsx` → tsx's CLI → node. npm exits at once on SIGTERM
 * or SIGKILL without waiting for the script, and the `sh` between them dies without passing the
 * signal on, so the script would run on, orphaned, to the end of its schedule (hours, on a long
 * run). This module walks our ancestors while they are such launchers (npm/npx, the `sh -c` it
 * spawns, tsx's CLI and preflight) and reports the first that dies. A plain shell or a supervisor
 * above them is not watched: a program keeps running when the shell that started it exits.
 *
 * Linux reads /proc; elsewhere only the direct parent is watched (it becomes 1 when it dies).
 */
import { readFileSync } from 'node:fs';
import { isProcessRunning } from './processAlive.ts';

/** A process of the chain that launched us, as `/proc` shows it. */
export interface LauncherProcess {
  pid: number;
  /** Its command line, for messages (arguments shortened). */
  command: string;
}

const LAUNCHER = /(^|\/)(npm|npx)(\.cmd)?( |$)|npm-cli\.js|npx-cli\.js|(^|\s)sh -c '?tsx|node_modules\/\.bin\/tsx|tsx\/dist\/(cli|preflight)/;

function procInfo(pid: number): { ppid: number; command: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    return { ppid, command };
  } catch {
    return undefined;
  }
}

/**
 * Our launcher ancestors, nearest first: the consecutive ancestors from our parent up whose
 * command line is npm, npx, the `sh -c tsx` npm spawns or tsx's own CLI. Empty when our parent is
 * something else (a shell, a supervisor) or outside Linux.
 *
 * @example
 * launcherChain(); // [{ pid: 812, command: 'node …/tsx/dist/preflight.cjs …' }, …, { pid: 790, command: 'npm exec tsx …' }]
 */
export function launcherChain(pid: number = process.pid): LauncherProcess[] {
  if (process.platform !== 'linux') return [];
  const chain: LauncherProcess[] = [];
  let current = procInfo(pid)?.ppid;
  while (current !== undefined && current > 1) {
    const info = procInfo(current);
    if (!info || !LAUNCHER.test(info.command)) break;
    chain.push({ pid: current, command: info.command.length > 120 ? `${info.command.slice(0, 117)}...` : info.command });
    current = info.ppid;
  }
  return chain;
}

/**
 * Calls `onGone` once, within `intervalMs`, when a launcher ancestor (see `launcherChain`) exits;
 * outside Linux, when our parent does. Returns a function that stops watching.
 *
 * @example
 * const unwatch = watchLauncher((gone) => stopRun(`${gone.command} exited`));
 */
export function watchLauncher(onGone: (gone: LauncherProcess) => void, intervalMs = 500): () => void {
  const chain = process.platform === 'linux' ? launcherChain() : [{ pid: process.ppid, command: 'parent process' }];
  if (chain.length === 0) return () => {};
  const timer = setInterval(() => {
    const gone = process.platform === 'linux' ? chain.find((p) => !isProcessRunning(p.pid)) : process.ppid === 1 ? chain[0] : undefined;
    if (gone === undefined) return;
    clearInterval(timer);
    onGone(gone);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
