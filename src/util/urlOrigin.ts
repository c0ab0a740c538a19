/**
 * A URL as logs, notices and errors may show it: scheme and host only. RPC and service URLs of a
 * remote target often carry an API key in the path or the query.
 *
 * @example
 * urlOrigin('https://rpc.example/v2/SECRET'); // 'https://rpc.example'
 */
export function urlOrigin(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '<bad url>';
  }
}
