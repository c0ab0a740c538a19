/**
 * Durations and sizes as the terminal and the threshold verdicts print them.
 */

// Fewer decimals as the figure grows: 1.42, 52.3, 212.
const fixed = (n: number): string => n.toFixed(Math.abs(n) < 10 ? 2 : Math.abs(n) < 100 ? 1 : 0);

/** `850ms`, `1.42s`, `52.3s`, `121s`, `12m 05s`. */
export function formatDuration(ms: number): string {
  if (Math.abs(ms) < 1_000) return `${Math.abs(ms) < 10 ? ms.toFixed(1) : Math.round(ms)}ms`;
  const s = ms / 1_000;
  if (Math.abs(s) < 600) return `${fixed(s)}s`;
  const total = Math.round(s);
  return `${Math.floor(total / 60)}m ${String(total % 60).padStart(2, '0')}s`;
}

/** 1024-based: `512 B`, `45 KB`, `212 MB`, `1.50 GB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'] as const;
  let value = bytes;
  let i = 0;
  while (Math.abs(value) >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${i === 0 || Math.abs(value) >= 10 ? Math.round(value) : value.toFixed(2)} ${units[i]}`;
}
