/**
 * One HTTP exchange over `node:http`/`node:https` with keep-alive agents: the transport of the
 * flow's own requests (httpJson.ts, the local storage provider's uploads).
 *
 * Not the global `fetch`: a load generator holds one request per waiting flow, and a pending
 * `fetch` holds ~31 kB of heap (Request, Response, Headers, WHATWG streams, a tee of the body, an
 * AbortController and a FinalizationRegistry entry per call), a `node:http` request ~9.5 kB, and an
 * idle keep-alive connection of undici's pool ~10 kB against ~3.5 kB (1500 requests against a
 * local server, `node --expose-gc`, 2026-12-05). At 1500 flows in flight that is most of the
 * harness heap. Idle connections close after `IDLE_SOCKET_TIMEOUT_MS` (undici keeps them as long
 * as the server's keep-alive hint, 72 s for fastify), and the most recently used ones are reused
 * first, so a burst leaves no crowd of idle sockets behind.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';

/** An idle keep-alive connection closes after this long. */
export const IDLE_SOCKET_TIMEOUT_MS = 4_000;

// One pair per process, as fetch's global dispatcher: connections are shared by every flow.
const agents = {
  'http:': new http.Agent({ keepAlive: true, scheduling: 'lifo', timeout: IDLE_SOCKET_TIMEOUT_MS }),
  'https:': new https.Agent({ keepAlive: true, scheduling: 'lifo', timeout: IDLE_SOCKET_TIMEOUT_MS }),
} as const;

export interface HttpRequestParameters {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Aborting it destroys the request; the promise rejects with the signal's reason, as fetch does. */
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body as UTF-8 text. */
  text: string;
}

/** A header's value as fetch's `headers.get` gives it: null when absent, repeated values joined. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name.toLowerCase()];
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Sends one request and resolves with the status, headers and whole body of the answer, whatever
 * the status; follows up to 5 redirects, as fetch would. Rejects with the signal's reason on abort, and with the socket's error (its `code`:
 * ECONNREFUSED, ECONNRESET, ...) when the exchange fails; a URL that is not http(s) is a TypeError.
 *
 * @example
 * const { status, text } = await httpRequest({ method: 'GET', url: `${serverUrl}/identity?address=${address}`, signal });
 */
export async function httpRequest(params: HttpRequestParameters): Promise<HttpResponse> {
  let { method, url, body } = params;
  for (let redirects = 0; ; redirects++) {
    const response = await exchange({ ...params, method, url, body });
    const location = headerValue(response.headers, 'location');
    if (!REDIRECTS.has(response.status) || location === null || redirects >= MAX_REDIRECTS) return response;
    // As fetch: 303, and 301/302 after a POST, go on as a GET without a body; 307/308 repeat the request.
    if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
      method = method === 'HEAD' ? 'HEAD' : 'GET';
      body = undefined;
    }
    url = new URL(location, url).href;
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

function exchange({ method, url, headers = {}, body, signal }: HttpRequestParameters): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      reject(new TypeError(`Expected an http(s) URL, got ${JSON.stringify(url)}`));
      return;
    }
    const agent = target.protocol === 'http:' || target.protocol === 'https:' ? agents[target.protocol] : undefined;
    if (!agent) {
      reject(new TypeError(`Expected an http(s) URL, got ${target.protocol} ${JSON.stringify(url)}`));
      return;
    }
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const send = target.protocol === 'https:' ? https.request : http.request;
    const length = body === undefined ? undefined : typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
    const request = send(target, { method, agent, headers: length === undefined ? headers : { ...headers, 'content-length': String(length) } });
    const onAbort = (): void => {
      request.destroy(signal?.reason instanceof Error ? signal.reason : undefined);
      reject(signal?.reason);
    };
    const done = (): void => signal?.removeEventListener('abort', onAbort);
    signal?.addEventListener('abort', onAbort, { once: true });
    request.on('error', (err) => {
      done();
      reject(err);
    });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', (err) => {
        done();
        reject(err);
      });
      response.on('close', () => {
        done();
        if (response.complete) resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') });
        else reject(Object.assign(new Error('the connection closed before the whole answer arrived'), { code: 'ECONNRESET' }));
      });
    });
    request.end(body);
  });
}
