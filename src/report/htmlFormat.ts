/**
 * Text helpers of the HTML report: escaping and the human rendering of durations, sizes and
 * ratios. The page script (htmlClientScript.ts) formats chart axes the same way in the browser.
 */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char);
}

/**
 * JSON for a `<script type="application/json">` block: `<`, `>` and `&` become `\u003c`-style
 * escapes, so no value can close the script element or open a comment; U+2028/2029 are escaped
 * for older parsers. `JSON.parse` of the element's text gives the value back unchanged.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `0`, `0.42 ms`, `4.2 ms`, `850 ms`, `1.42 s`, `12.3 s`, `2m 05s`, `1h 02m`. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms === 0) return '0';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const totalS = Math.round(ms / 1000);
  if (totalS < 3600) return `${Math.floor(totalS / 60)}m ${String(totalS % 60).padStart(2, '0')}s`;
  return `${Math.floor(totalS / 3600)}h ${String(Math.floor(totalS / 60) % 60).padStart(2, '0')}m`;
}

/** `512 B`, `12.0 KiB`, `215.3 MiB`, `1.20 GiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

/** A ratio (0..1) as `96.0%`. */
export function formatRatio(ratio: number | null): string {
  return ratio === null ? '—' : `${(ratio * 100).toFixed(1)}%`;
}

/** Flows per second with a precision that suits the magnitude: `0.042/s`, `2.50/s`, `120/s`. */
export function formatRate(perS: number | null): string {
  if (perS === null) return '—';
  if (perS < 0.1) return `${perS.toFixed(3)}/s`;
  if (perS < 100) return `${perS.toFixed(2)}/s`;
  return `${Math.round(perS)}/s`;
}

/** A config value as table text: lists joined, unset values as `—`, objects as JSON. */
export function formatConfigValue(value: unknown): string {
  if (value === undefined || value === null) return '—';
  if (Array.isArray(value)) return value.length === 0 ? '[]' : value.map(formatConfigValue).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * Flattens the grouped config of `summary.json` (`{ load: { arrivalRate: 2 } }`) into dotted
 * rows (`load.arrivalRate`), in the order the config lists them.
 */
export function flattenConfig(config: Record<string, unknown>, prefix = ''): Array<[string, string]> {
  return Object.entries(config).flatMap(([key, value]): Array<[string, string]> => {
    const name = prefix === '' ? key : `${prefix}.${key}`;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      return flattenConfig(value as Record<string, unknown>, name);
    }
    return [[name, formatConfigValue(value)]];
  });
}
