import { readFileSync } from 'node:fs';

/**
 * Whether a process is running. A killed orphan is reaped by PID 1; in containers whose PID 1
 * does not reap, it lingers as a zombie (no memory, no port) that still answers kill(pid, 0).
 * A zombie counts as gone.
 */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (process.platform !== 'linux') return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    return stat.charAt(close + 2) !== 'Z';
  } catch {
    return false;
  }
}
