import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPublicClient, http, HttpRequestError } from 'viem';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, InfrastructureError } from '../errors.ts';
import { silentLogger } from '../logger.ts';
import { startAnvil } from '../stack/anvil.ts';
import { freePort } from '../util/freePort.ts';
import { createSeededRandom } from '../util/seededRandom.ts';
import type { FaultSpec } from './faultSpec.ts';
import { startFaultProxy, type FaultProxy, type StartFaultProxyParameters } from './startFaultProxy.ts';

interface Recorded {
  method: string;
  url: string;
  rawHeaders: string[];
  body: Buffer;
}

/** Deterministic bytes, so a large body is the same on both sides without holding a copy of it. */
function patternBytes(length: number, seed: number): Buffer {
  const random = createSeededRandom(seed);
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

const FIXED_BODY = patternBytes(1_000, 1);
const LARGE_BODY = patternBytes(4 * 1024 * 1024 + 17, 2);
const DATE = 'Tue, 01 Dec 2026 00:00:00 GMT';

/** The upstream: a few scripted routes; every request is recorded once its body is read. */
function upstreamHandler(requests: Recorded[]) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    res.sendDate = false; // a fixed Date header instead, so direct and proxied answers compare equal
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method!, url: req.url!, rawHeaders: req.rawHeaders, body });
      const path = req.url!.split('?')[0];
      if (path === '/fixed') {
        res.writeHead(201, 'Made It', [
          'X-Custom-Case', 'A',
          'Set-Cookie', 'a=1',
          'Set-Cookie', 'b=2',
          'Content-Type', 'application/octet-stream',
          'Date', DATE,
          'Content-Length', String(FIXED_BODY.length),
        ]);
        res.end(FIXED_BODY);
      } else if (path === '/chunked') {
        res.writeHead(200, ['Content-Type', 'text/plain', 'Date', DATE]);
        res.write('first,');
        setTimeout(() => {
          res.write('second,');
          res.end('third');
        }, 20);
      } else if (path === '/large') {
        res.writeHead(200, ['Content-Length', String(LARGE_BODY.length), 'Date', DATE]);
        res.end(LARGE_BODY);
      } else if (path === '/echo' || path?.startsWith('/v2/')) {
        res.writeHead(200, ['Content-Length', String(body.length), 'Date', DATE]);
        res.end(body);
      } else if (path === '/empty') {
        res.writeHead(200, ['Content-Length', '0', 'Date', DATE]);
        res.end();
      } else {
        res.writeHead(404, ['Date', DATE]);
        res.end('no route');
      }
    });
  };
}

async function listen(server: Server, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('Expected a TCP address');
  return address.port;
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

interface RawResponse {
  status: number;
  statusMessage: string;
  rawHeaders: string[];
  body: Buffer;
}

/** One HTTP exchange with node:http, no keep-alive, to see status line and raw headers as sent. */
function exchange(url: string, options: { method?: string; headers?: Record<string, string | string[]>; body?: Buffer; chunked?: boolean } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode!, statusMessage: res.statusMessage!, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    if (options.body && options.chunked) {
      // Several writes without a content-length: sent chunked.
      const step = 256 * 1024;
      for (let i = 0; i < options.body.length; i += step) req.write(options.body.subarray(i, i + step));
      req.end();
    } else req.end(options.body);
  });
}

/** Raw headers without the per-connection ones each server adds for itself. */
const endToEnd = (rawHeaders: readonly string[]): string[][] => {
  const pairs: string[][] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (!['connection', 'keep-alive'].includes(rawHeaders[i]!.toLowerCase())) pairs.push([rawHeaders[i]!, rawHeaders[i + 1]!]);
  }
  return pairs;
};

const headerOf = (rawHeaders: readonly string[], name: string): string[] =>
  endToEnd(rawHeaders)
    .filter(([key]) => key!.toLowerCase() === name)
    .map(([, value]) => value!);

/** What a rejected fetch failed with: the error, its cause's code, and its name. */
async function fetchFailure(promise: Promise<unknown>): Promise<{ name: string; message: string; code: string | undefined }> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e as Error & { cause?: { code?: string } },
  );
  if (!err) throw new Error('Expected the request to fail');
  return { name: err.name, message: err.message, code: err.cause?.code };
}

const TCP_HANDLES = new Set(['TCPSocketWrap', 'TCPServerWrap', 'TLSWrap']);
const tcpHandles = (): number => process.getActiveResourcesInfo().filter((name) => TCP_HANDLES.has(name)).length;

describe('startFaultProxy', () => {
  const requests: Recorded[] = [];
  const upstream = createServer(upstreamHandler(requests));
  let target: string;
  const proxies: FaultProxy[] = [];
  const logger = silentLogger();

  async function proxy(faults: readonly FaultSpec[] = [], extra: Partial<StartFaultProxyParameters> = {}): Promise<FaultProxy> {
    const started = await startFaultProxy({ target, faults, logger, ...extra });
    proxies.push(started);
    return started;
  }

  beforeAll(async () => {
    target = `http://127.0.0.1:${await listen(upstream)}`;
  });
  beforeEach(() => {
    requests.length = 0;
  });
  afterEach(async () => {
    for (const p of proxies.splice(0)) await p.stop();
  });
  afterAll(async () => {
    await close(upstream);
  });

  describe('pass-through', () => {
    it('forwards the status line, headers and a content-length body byte for byte', async () => {
      const p = await proxy();
      const direct = await exchange(`${target}/fixed?x=1&y=%20z`);
      const proxied = await exchange(`${p.url}/fixed?x=1&y=%20z`);
      expect(proxied.status).toBe(201);
      expect(proxied.statusMessage).toBe('Made It');
      expect(endToEnd(proxied.rawHeaders)).toEqual(endToEnd(direct.rawHeaders));
      expect(endToEnd(proxied.rawHeaders)).toEqual([
        ['X-Custom-Case', 'A'],
        ['Set-Cookie', 'a=1'],
        ['Set-Cookie', 'b=2'],
        ['Content-Type', 'application/octet-stream'],
        ['Date', DATE],
        ['Content-Length', '1000'],
      ]);
      expect(proxied.body.equals(FIXED_BODY)).toBe(true);
      expect(requests.map((r) => r.url)).toEqual(['/fixed?x=1&y=%20z', '/fixed?x=1&y=%20z']);
    });

    it('forwards a chunked response as a chunked response with the same bytes', async () => {
      const p = await proxy();
      const proxied = await exchange(`${p.url}/chunked`);
      expect(endToEnd(proxied.rawHeaders)).toEqual([
        ['Content-Type', 'text/plain'],
        ['Date', DATE],
        ['Transfer-Encoding', 'chunked'],
      ]);
      expect(proxied.body.toString()).toBe('first,second,third');
    });

    it('streams large bodies both ways unchanged, chunked and with a content-length', async () => {
      const p = await proxy();
      const large = await exchange(`${p.url}/large`);
      expect(headerOf(large.rawHeaders, 'content-length')).toEqual([String(LARGE_BODY.length)]);
      expect(large.body.equals(LARGE_BODY)).toBe(true);

      const chunkedUpload = await exchange(`${p.url}/echo`, { method: 'PUT', body: LARGE_BODY, chunked: true });
      expect(headerOf(requests.at(-1)!.rawHeaders, 'transfer-encoding')).toEqual(['chunked']);
      expect(requests.at(-1)!.body.equals(LARGE_BODY)).toBe(true);
      expect(chunkedUpload.body.equals(LARGE_BODY)).toBe(true);

      const sizedUpload = await exchange(`${p.url}/echo`, { method: 'POST', body: LARGE_BODY });
      expect(headerOf(requests.at(-1)!.rawHeaders, 'content-length')).toEqual([String(LARGE_BODY.length)]);
      expect(requests.at(-1)!.body.equals(LARGE_BODY)).toBe(true);
      expect(sizedUpload.body.equals(LARGE_BODY)).toBe(true);
    });

    it("forwards method, path, query and headers, with the client's Host unless asked to rewrite it", async () => {
      const headers = { 'x-one': '1', 'x-dup': ['a', 'b'], authorization: 'AWS4-HMAC-SHA256 Credential=x', 'content-type': 'application/json' };
      const keep = await proxy();
      await exchange(`${keep.url}/echo?q=1`, { method: 'PATCH', headers, body: Buffer.from('{}') });
      const seen = requests.at(-1)!;
      expect([seen.method, seen.url]).toEqual(['PATCH', '/echo?q=1']);
      expect(endToEnd(seen.rawHeaders)).toEqual([
        ['x-one', '1'],
        ['x-dup', 'a'],
        ['x-dup', 'b'],
        ['authorization', 'AWS4-HMAC-SHA256 Credential=x'],
        ['content-type', 'application/json'],
        ['host', new URL(keep.url).host],
        ['content-length', '2'],
      ]);

      const rewrite = await proxy([], { rewriteHost: true });
      await exchange(`${rewrite.url}/echo`);
      expect(headerOf(requests.at(-1)!.rawHeaders, 'host')).toEqual([new URL(target).host]);
      const literal = await proxy([], { rewriteHost: 'bucket.s3.example.com' });
      await exchange(`${literal.url}/echo`);
      expect(headerOf(requests.at(-1)!.rawHeaders, 'host')).toEqual(['bucket.s3.example.com']);
    });

    it("maps the proxy's root to the target's path and joins the target's query with the client's", async () => {
      const p = await proxy([], { target: `${target}/v2/KEY?apikey=k` });
      await exchange(p.url, { method: 'POST', body: Buffer.from('{"method":"eth_chainId"}') });
      await exchange(`${p.url}/sub?b=2`);
      expect(requests.map((r) => r.url)).toEqual(['/v2/KEY?apikey=k', '/v2/KEY/sub?apikey=k&b=2']);
    });

    it('answers 502 naming the upstream origin, never its path, when the upstream is down', async () => {
      const deadPort = await freePort();
      const p = await proxy([], { target: `http://127.0.0.1:${deadPort}/v3/SECRET_KEY` });
      const res = await fetch(p.url, { method: 'POST', body: '{}' });
      expect(res.status).toBe(502);
      expect(await res.text()).toBe(`fault proxy: upstream http://127.0.0.1:${deadPort} failed: ECONNREFUSED\n`);
      expect(p.stats()).toMatchObject({ requests: 1, upstreamErrors: 1, statuses: { '502': 1 } });
    });

    const openssl = (() => {
      try {
        execFileSync('openssl', ['version'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    })();
    it.skipIf(!openssl)('forwards to an https target, with SNI from the target and not from the Host header', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'fault-proxy-tls-'));
      try {
        execFileSync('openssl', [
          'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
          '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost',
          '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
        ], { stdio: 'ignore' });
        const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
        const tlsRequests: Recorded[] = [];
        let sni: string | false | null | undefined;
        const handler = upstreamHandler(tlsRequests);
        const secure = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => {
          sni = (req.socket as TLSSocket).servername;
          handler(req, res);
        });
        const port = await listen(secure);
        try {
          const p = await proxy([], { target: `https://localhost:${port}`, ca: cert });
          const res = await exchange(`${p.url}/fixed`);
          expect(res.status).toBe(201);
          expect(res.body.equals(FIXED_BODY)).toBe(true);
          expect(sni).toBe('localhost');
          expect(headerOf(tlsRequests[0]!.rawHeaders, 'host')).toEqual([new URL(p.url).host]);
        } finally {
          await close(secure);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('faults', () => {
    it('status: answers the status and body without forwarding', async () => {
      const p = await proxy([
        { kind: 'status', status: 503, path: '/fixed', name: 'storage-down' },
        { kind: 'status', status: 500, path: '/echo', body: '{"error":"boom"}' },
      ]);
      const res = await fetch(`${p.url}/fixed`);
      expect(res.status).toBe(503);
      expect(res.headers.get('x-fault-injected')).toBe('storage-down');
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(await res.text()).toBe('fault proxy: storage-down injected 503\n');
      const json = await fetch(`${p.url}/echo`, { method: 'PUT', body: 'x'.repeat(100_000) });
      expect([json.status, json.headers.get('content-type'), await json.text()]).toEqual([500, 'application/json', '{"error":"boom"}']);
      expect(requests).toEqual([]);
    });

    it('rate_limit: answers 429 with Retry-After in whole seconds, rounded up', async () => {
      const p = await proxy([{ kind: 'rate_limit', retryAfterMs: 1_500 }]);
      const res = await fetch(`${p.url}/operations`, { method: 'POST', body: '{}' });
      expect([res.status, res.headers.get('retry-after')]).toEqual([429, '2']);
      await res.text();
      expect(requests).toEqual([]);
    });

    it('reset: the client sees ECONNRESET, before or after the upstream handled the request', async () => {
      const before = await proxy([{ kind: 'reset' }]);
      expect(await fetchFailure(fetch(`${before.url}/echo`, { method: 'POST', body: 'tx' }))).toMatchObject({ code: 'ECONNRESET' });
      expect(requests).toEqual([]);

      const after = await proxy([{ kind: 'reset', when: 'after_upstream' }]);
      expect(await fetchFailure(fetch(`${after.url}/echo`, { method: 'POST', body: 'tx' }))).toMatchObject({ code: 'ECONNRESET' });
      expect(requests.map((r) => [r.url, r.body.toString()])).toEqual([['/echo', 'tx']]);
      expect([before.stats().resets, after.stats().resets]).toEqual([1, 1]);
    });

    it('blackhole: never answers, so the client times out; after_upstream lets the upstream handle it', async () => {
      const p = await proxy([{ kind: 'blackhole', path: '/echo' }, { kind: 'blackhole', path: '/fixed', when: 'after_upstream' }]);
      expect(await fetchFailure(fetch(`${p.url}/echo`, { method: 'POST', body: 'x', signal: AbortSignal.timeout(300) }))).toMatchObject({
        name: 'TimeoutError',
      });
      expect(requests).toEqual([]);
      expect(await fetchFailure(fetch(`${p.url}/fixed`, { signal: AbortSignal.timeout(300) }))).toMatchObject({ name: 'TimeoutError' });
      // The client gave up; the upstream still gets the request (on a busy machine, maybe only now).
      await expect.poll(() => requests.map((r) => r.url), { timeout: 5_000 }).toEqual(['/fixed']);
      expect(p.stats().blackholed).toBe(2);
    });

    it('truncate: sends the headers and part of the body, then closes; the body read fails', async () => {
      const p = await proxy([
        { kind: 'truncate', path: '/fixed', keepBytes: 300 },
        { kind: 'truncate', path: '/chunked' },
        { kind: 'truncate', path: '/large', keepBytes: 0 },
        { kind: 'truncate', path: '/empty' },
      ]);
      const receive = (path: string) =>
        new Promise<{ status: number; bytes: Buffer; error: string }>((resolve) => {
          const req = request(`${p.url}${path}`, { agent: false }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('error', (err) => resolve({ status: res.statusCode!, bytes: Buffer.concat(chunks), error: err.message }));
            res.on('end', () => resolve({ status: res.statusCode!, bytes: Buffer.concat(chunks), error: 'none' }));
          });
          req.on('error', (err) => resolve({ status: 0, bytes: Buffer.alloc(0), error: err.message }));
          req.end();
        });
      const sized = await fetch(`${p.url}/fixed`);
      expect([sized.status, sized.headers.get('content-length'), sized.headers.get('x-fault-injected')]).toEqual([201, '1000', 'truncate#0']);
      expect(await fetchFailure(sized.arrayBuffer())).toMatchObject({ message: 'terminated' });

      // What arrived, byte for byte: the first 300 bytes, then the connection closed.
      const received = await receive('/fixed');
      expect([received.status, received.error]).toEqual([201, 'aborted']);
      expect(received.bytes.equals(FIXED_BODY.subarray(0, 300))).toBe(true);
      expect(await receive('/large')).toEqual({ status: 200, bytes: Buffer.alloc(0), error: 'aborted' });
      // Headers announcing 0 bytes would be a whole response: the connection closes before them.
      expect(await receive('/empty')).toEqual({ status: 0, bytes: Buffer.alloc(0), error: 'socket hang up' });

      const chunked = await fetch(`${p.url}/chunked`);
      expect(chunked.status).toBe(200);
      expect(await fetchFailure(chunked.text())).toMatchObject({ message: 'terminated' });
      expect(p.stats()).toMatchObject({ truncated: 5, statuses: { '200': 2, '201': 2 } });
    });

    it('latency: delays the request, and composes with a terminal fault', async () => {
      const p = await proxy([
        { kind: 'latency', delay: { ms: 150 } },
        { kind: 'status', status: 503, path: '/fixed' },
      ]);
      let t0 = performance.now();
      const passed = await fetch(`${p.url}/echo`, { method: 'POST', body: 'hi' });
      expect(await passed.text()).toBe('hi');
      expect(performance.now() - t0).toBeGreaterThanOrEqual(149);
      t0 = performance.now();
      expect((await fetch(`${p.url}/fixed`)).status).toBe(503);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(149);
      expect(p.stats().faults.map((f) => [f.name, f.seen, f.injected])).toEqual([
        ['latency#0', 2, 2],
        ['status#1', 1, 1],
      ]);
    });

    it('injects 101 of 1000 requests at rate 0.1 with seed 42, and counts them', async () => {
      const p = await proxy([{ kind: 'status', status: 503, rate: 0.1, name: 'ten-percent' }], { random: createSeededRandom(42) });
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < 1_000) {
          next++;
          await (await fetch(`${p.url}/empty`)).arrayBuffer();
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      expect(p.stats()).toEqual({
        requests: 1_000,
        untouched: 899,
        injected: 101,
        statuses: { '200': 899, '503': 101 },
        resets: 0,
        blackholed: 0,
        truncated: 0,
        upstreamErrors: 0,
        faults: [{ name: 'ten-percent', kind: 'status', boundary: undefined, seen: 1_000, injected: 101, passed: 899 }],
      });
      expect(requests).toHaveLength(899);
    });

    it('starts and ends a window on the clock it is given', async () => {
      let now = 1_000_000;
      const p = await proxy([{ kind: 'status', status: 503, fromMs: 10_000, untilMs: 20_000 }], { clock: () => now });
      const statusAt = async (ms: number): Promise<number> => {
        now = 1_000_000 + ms;
        const res = await fetch(`${p.url}/empty`);
        await res.arrayBuffer();
        return res.status;
      };
      expect([await statusAt(9_999), await statusAt(10_000), await statusAt(19_999), await statusAt(20_000)]).toEqual([200, 503, 503, 200]);
    });


    it('forwards untouched until armed, then counts windows from arm()', async () => {
      let now = 1_000_000;
      const p = await proxy([{ kind: 'status', status: 503, fromMs: 0, untilMs: 5_000 }], { clock: () => now, armed: false });
      const status = async (): Promise<number> => {
        const res = await fetch(`${p.url}/empty`);
        await res.arrayBuffer();
        return res.status;
      };
      now += 60_000;
      const before = await status();
      p.arm();
      const inWindow = await status();
      now += 5_000;
      expect([before, inWindow, await status()]).toEqual([200, 503, 200]);
      expect(p.stats()).toMatchObject({ requests: 3, untouched: 2, injected: 1, faults: [{ seen: 1, injected: 1 }] });
    });
    it('matches by path glob and by the JSON-RPC methods of a body, forwarding bodies it read unchanged', async () => {
      const p = await proxy(
        [
          { kind: 'status', status: 503, path: '/blobs/*', method: 'GET' },
          { kind: 'status', status: 502, rpcMethod: 'eth_sendRawTransaction' },
        ],
        { maxRpcBodyBytes: 1_024 },
      );
      const statusOf = async (path: string, init?: RequestInit): Promise<[number, string]> => {
        const res = await fetch(`${p.url}${path}`, init);
        return [res.status, await res.text()];
      };
      const rpc = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect((await statusOf('/blobs/abc'))[0]).toBe(503);
      expect((await statusOf('/blobs/abc/name'))[0]).toBe(404);
      expect((await statusOf('/blobs/abc', { method: 'HEAD' }))[0]).toBe(404);

      const send = { jsonrpc: '2.0', id: 1, method: 'eth_sendRawTransaction', params: ['0x00'] };
      const call = { jsonrpc: '2.0', id: 2, method: 'eth_chainId', params: [] };
      expect((await statusOf('/echo', rpc(send)))[0]).toBe(502);
      expect((await statusOf('/echo', rpc([call, send])))[0]).toBe(502);
      expect(await statusOf('/echo', rpc(call))).toEqual([200, JSON.stringify(call)]);
      expect(await statusOf('/echo', { method: 'POST', body: 'not json at all' })).toEqual([200, 'not json at all']);
      // Larger than maxRpcBodyBytes: streamed on, and matches no rpcMethod filter.
      const big = { ...send, params: ['0x' + 'ab'.repeat(2_000)] };
      expect(await statusOf('/echo', rpc(big))).toEqual([200, JSON.stringify(big)]);
      expect(requests.map((r) => r.body.equals(Buffer.from(JSON.stringify(big))))).toContain(true);
    });

    it('stop() returns within a second with black-holed and delayed requests open, and leaves no TCP handle', async () => {
      const baseline = tcpHandles();
      const p = await startFaultProxy({
        target,
        logger,
        faults: [
          { kind: 'latency', delay: { ms: 60_000 }, path: '/slow' },
          { kind: 'blackhole', path: '/hole' },
          { kind: 'blackhole', path: '/echo', when: 'after_upstream' },
        ],
      });
      const pending = [
        ...Array.from({ length: 5 }, () => fetch(`${p.url}/hole`, { method: 'POST', body: 'x' })),
        fetch(`${p.url}/slow`),
        fetch(`${p.url}/echo`, { method: 'POST', body: 'y' }),
      ].map((promise) => fetchFailure(promise));
      while (p.stats().blackholed < 6 || p.stats().requests < 7) await new Promise((resolve) => setTimeout(resolve, 10));

      const t0 = performance.now();
      await p.stop();
      expect(performance.now() - t0).toBeLessThan(1_000);
      const failures = await Promise.all(pending);
      expect(failures.every((f) => f.message === 'fetch failed')).toBe(true);
      const deadline = Date.now() + 1_000;
      while (tcpHandles() > baseline && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(tcpHandles()).toBeLessThanOrEqual(baseline);
      await p.stop(); // a second stop resolves too
    });

    it('error: refuses a target that is not an absolute http(s) URL, without echoing it', async () => {
      const err = await startFaultProxy({ target: 'ftp://user:secret@host/x', faults: [], logger }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toBe('Expected the fault proxy target to be an absolute http(s) URL\n\ngot: ftp://…');
    });

    it('error: fails with an InfrastructureError when the port is taken', async () => {
      const taken = await proxy();
      const err = await startFaultProxy({ target, port: taken.port, faults: [], logger }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InfrastructureError);
      expect((err as InfrastructureError).code).toBe('FAULT_PROXY_PORT_IN_USE');
    });
  });
});

describe('startFaultProxy in front of anvil', () => {
  it('forwards JSON-RPC to anvil and fails only the calls its rpcMethod filter names, batches included', async () => {
    const anvil = await startAnvil();
    const proxy = await startFaultProxy({
      target: anvil.rpcUrl,
      faults: [{ kind: 'status', status: 503, rpcMethod: 'eth_blockNumber', name: 'rpc-503' }],
      logger: silentLogger(),
    });
    try {
      const client = createPublicClient({ transport: http(proxy.url, { retryCount: 0 }) });
      expect(await client.getChainId()).toBe(31337);
      const err = await client.getBlockNumber({ cacheTime: 0 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HttpRequestError);
      expect((err as HttpRequestError).status).toBe(503);

      const batch = JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] },
        { jsonrpc: '2.0', id: 2, method: 'eth_blockNumber', params: [] },
      ]);
      const post = (url: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: batch });
      expect((await post(proxy.url)).status).toBe(503);
      const direct = await (await post(anvil.rpcUrl)).text();
      const single = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'eth_getBalance', params: ['0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266', 'latest'] });
      const viaProxy = await fetch(proxy.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: single });
      const straight = await fetch(anvil.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: single });
      expect(await viaProxy.text()).toBe(await straight.text());
      expect(JSON.parse(direct)).toHaveLength(2);
      expect(proxy.stats()).toMatchObject({ requests: 4, statuses: { '200': 2, '503': 2 } });
      expect(proxy.stats().faults).toEqual([{ name: 'rpc-503', kind: 'status', boundary: undefined, seen: 2, injected: 2, passed: 0 }]);
    } finally {
      await proxy.stop();
      await anvil.stop();
    }
  });
});
