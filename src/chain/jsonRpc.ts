/**
 * A minimal JSON-RPC client over node:http with a keep-alive agent, for the relayer pool's hot
 * path (two small RPCs per transaction): node:http does ~2,500 of them per second on one core
 * where fetch (and so viem's http transport) does ~750 (measured against anvil on this machine).
 * Reads that a new block overtakes on a pruned anvil are repeated (stateRaceRetry.ts).
 */
import { Agent as HttpAgent, request as httpRequest, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { retryStateRace } from './stateRaceRetry.ts';

/** A JSON-RPC error object from the node; `data` holds revert data for reverts. */
export class JsonRpcError extends Error {
  override name = 'JsonRpcError';
  readonly code: number;
  readonly data: unknown;
  constructor(method: string, error: { code?: unknown; message?: unknown; data?: unknown }) {
    super(typeof error.message === 'string' ? error.message : `${method} failed`);
    this.code = typeof error.code === 'number' ? error.code : 0;
    this.data = error.data;
  }
}

export interface JsonRpc {
  request<T>(method: string, params?: readonly unknown[]): Promise<T>;
  close(): void;
}

/**
 * JSON-RPC over node:http with a keep-alive agent. The pool's hot path is two small RPCs per tx;
 * node:http does ~2,500 of them per second on one core where fetch (and so viem's http
 * transport) does ~750 (measured against anvil on this machine).
 */
export function createJsonRpc(url: string, timeoutMs: number): JsonRpc {
  const target = new URL(url);
  const https = target.protocol === 'https:';
  const agent = https ? new HttpsAgent({ keepAlive: true, maxSockets: 128 }) : new HttpAgent({ keepAlive: true, maxSockets: 128 });
  // Parsed once: given a URL, node:http converts it to these options on every request.
  const options: RequestOptions = {
    protocol: target.protocol,
    hostname: target.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: target.port || (https ? 443 : 80),
    path: `${target.pathname}${target.search}`,
    method: 'POST',
    agent,
    ...(target.username || target.password ? { auth: `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}` } : {}),
  };
  let id = 0;
  return {
    // Reads that a new block overtakes on a pruned anvil are repeated (src/chain/stateRaceRetry.ts).
    request: <T>(method: string, params: readonly unknown[] = []): Promise<T> => retryStateRace(() => send<T>(method, params)),
    close: () => agent.destroy(),
  };

  function send<T>(method: string, params: readonly unknown[]): Promise<T> {
    const body = JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params });
    return new Promise<T>((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(
        { ...options, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', (err) => reject(new Error(`network error: ${method} to ${url}: ${err.message}`, { cause: err })));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: { result?: unknown; error?: { code?: unknown; message?: unknown; data?: unknown } };
            try {
              json = JSON.parse(text) as typeof json;
            } catch {
              reject(new Error(`network error: ${method} to ${url}: HTTP ${res.statusCode ?? 0} with a non-JSON body`));
              return;
            }
            if (json.error) reject(new JsonRpcError(method, json.error));
            else if ((res.statusCode ?? 500) >= 400) reject(new Error(`network error: ${method} to ${url}: HTTP ${res.statusCode ?? 0}`));
            else resolve(json.result as T);
          });
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} to ${url} timed out after ${timeoutMs} ms`)));
      req.on('error', (err) =>
        reject(/timed out/.test(err.message) ? err : new Error(`network error: ${method} to ${url}: ${err.message}`, { cause: err })),
      );
      req.end(body);
    });
  }
}

