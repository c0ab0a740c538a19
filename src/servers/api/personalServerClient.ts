/**
 * The API server's HTTP client for the personal server: keep-alive connections, at most
 * `maxConnections` of them at once; requests beyond that wait for a free connection (in order),
 * and a request's timeout counts from when it was made, waiting included. Without a cap a burst
 * of 2,000 inference requests opened 2,000 sockets and the personal server answered some of them
 * 502/504.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface PersonalServerResponse {
  status: number;
  /** Parsed JSON, or the text when it is not JSON, or undefined when empty. */
  body: unknown;
  retryAfter: string | null;
}

export interface PersonalServerClient {
  /** Rejects with an `Error` named `TimeoutError` after `timeoutMs`, or a network error. */
  request(path: string, init: { method: 'GET' | 'POST'; body?: string }): Promise<PersonalServerResponse>;
  /** Connections open now (busy or idle). */
  sockets(): number;
  /** Destroys the connections. */
  close(): void;
}

export interface CreatePersonalServerClientParameters {
  /** Base URL; `path` is appended. */
  baseUrl: string;
  /** Per request, waiting for a connection included, ms. */
  timeoutMs: number;
  /** Most connections open at once. */
  maxConnections: number;
}

/**
 * @example
 * const ps = createPersonalServerClient({ baseUrl: 'http://127.0.0.1:8080', timeoutMs: 30_000, maxConnections: 64 });
 * const { status, body } = await ps.request('/operations', { method: 'POST', body: json });
 * ps.close();
 */
export function createPersonalServerClient({ baseUrl, timeoutMs, maxConnections }: CreatePersonalServerClientParameters): PersonalServerClient {
  const base = baseUrl.replace(/\/+$/, '');
  const https = new URL(base).protocol === 'https:';
  const agentOptions = { keepAlive: true, maxSockets: maxConnections, maxFreeSockets: maxConnections };
  const agent = https ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
  const send = https ? httpsRequest : httpRequest;

  return {
    request(path, { method, body }) {
      return new Promise((resolve, reject) => {
        const signal = AbortSignal.timeout(timeoutMs);
        const headers: Record<string, string | number> = { accept: 'application/json' };
        if (body !== undefined) {
          headers['content-type'] = 'application/json';
          headers['content-length'] = Buffer.byteLength(body);
        }
        const req = send(`${base}${path}`, { method, agent, headers, signal }, (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              parsed = text;
            }
            const retryAfter = res.headers['retry-after'];
            resolve({ status: res.statusCode ?? 0, body: parsed, retryAfter: typeof retryAfter === 'string' ? retryAfter : null });
          });
        });
        req.on('error', (err) => reject(signal.aborted ? signal.reason : err));
        req.end(body);
      });
    },
    sockets: () => Object.values(agent.sockets).reduce((n, list) => n + (list?.length ?? 0), 0) + Object.values(agent.freeSockets).reduce((n, list) => n + (list?.length ?? 0), 0),
    close: () => agent.destroy(),
  };
}
