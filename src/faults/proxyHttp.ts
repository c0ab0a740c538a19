/** The HTTP plumbing of the fault proxy: paths, headers and bodies as forwarded. */
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { ConfigError } from '../errors.ts';

/** The start of a request body read before forwarding; `complete` when it was all of it. */
export interface RequestHead {
  chunks: Buffer[];
  complete: boolean;
}

// Per connection, not end to end (RFC 9110 7.6.1). Transfer-Encoding stays: Node frames the body by it.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']);

/** Names dropped when forwarding: the hop-by-hop ones and those the Connection header lists. */
function droppedHeaders(rawHeaders: readonly string[]): ReadonlySet<string> {
  let dropped: Set<string> | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() !== 'connection') continue;
    for (const token of rawHeaders[i + 1]!.split(',')) {
      const name = token.trim().toLowerCase();
      // `keep-alive` and `close` are the usual values; only other names need a set of their own.
      if (name !== 'keep-alive' && name !== 'close' && !HOP_BY_HOP.has(name)) (dropped ??= new Set(HOP_BY_HOP)).add(name);
    }
  }
  return dropped ?? HOP_BY_HOP;
}

/** The upstream's path and query: the target's base path before the request's, both queries joined. */
export function upstreamPath(basePath: string, baseQuery: string, rawUrl: string): string {
  const q = rawUrl.indexOf('?');
  const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const query = [baseQuery, q === -1 ? '' : rawUrl.slice(q + 1)].filter((part) => part !== '').join('&');
  const joined = path === '/' && basePath !== '' ? basePath : basePath + path;
  return query === '' ? joined : `${joined}?${query}`;
}

/** The request's headers as forwarded: hop-by-hop ones dropped, `Host` replaced when `hostHeader` is given. */
export function upstreamHeaders(rawHeaders: readonly string[], hostHeader: string | undefined): OutgoingHttpHeaders {
  const dropped = droppedHeaders(rawHeaders);
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const key = rawHeaders[i]!.toLowerCase();
    if (dropped.has(key)) continue;
    const value = rawHeaders[i + 1]!;
    const previous = headers[key];
    // Repeated lines stay repeated lines (set by an array), as the client sent them.
    headers[key] = previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value];
  }
  if (hostHeader !== undefined) headers.host = hostHeader;
  return headers;
}

/** The upstream response's raw header list as passed back, hop-by-hop ones dropped, `extra` appended. */
export function responseHeaders(rawHeaders: readonly string[], extra: readonly string[] = []): string[] {
  const dropped = droppedHeaders(rawHeaders);
  const kept: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (!dropped.has(rawHeaders[i]!.toLowerCase())) kept.push(rawHeaders[i]!, rawHeaders[i + 1]!);
  }
  return [...kept, ...extra];
}

/** Reads the request body up to `limit` bytes; `complete` is false when it is larger (the rest stays unread). */
export function readHead(req: IncomingMessage, limit: number): Promise<RequestHead> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (complete: boolean): void => {
      req.off('data', onData).off('end', onEnd).off('close', onClose);
      if (!complete) req.pause();
      resolve({ chunks, complete });
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > limit) finish(false);
    };
    const onEnd = (): void => finish(true);
    const onClose = (): void => finish(false);
    req.on('data', onData).on('end', onEnd).on('close', onClose);
  });
}

/** The proxy's target as a URL; refuses anything but an absolute http(s) URL without echoing it. */
export function parseTarget(target: string): URL {
  const url = URL.canParse(target) ? new URL(target) : undefined;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new ConfigError('Expected the fault proxy target to be an absolute http(s) URL', {
      code: 'FAULT_PROXY_INVALID',
      // The whole URL may hold an API key; the scheme is enough to tell what is wrong.
      metaMessages: [`got: ${url ? `${url.protocol}//…` : 'not a URL'}`],
    });
  }
  return url;
}
