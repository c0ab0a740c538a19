/**
 * A fault-injecting HTTP reverse proxy, put in front of one endpoint the flow crosses (a chain
 * RPC, storage, the API server, a personal server), local or remote; the client is pointed at the
 * proxy's `url`. Requests that no fault hits are forwarded as they are: method, path and query,
 * headers (hop-by-hop ones aside), status line and body, streamed both ways, over keep-alive
 * connections; only the `Host` header may be changed, and only when asked (`rewriteHost`).
 *
 * Which faults hit a request is decided by `planFaults` (pure: see there how faults compose).
 * Upgrades (WebSocket RPC) and HTTP/2 are not proxied. When the upstream cannot be reached the
 * client gets 502 with a line naming the upstream's origin (never its path or query, where RPC
 * providers put API keys).
 *
 * Host and signatures. A SigV4 request or an S3 presigned URL signs the Host header. A client
 * that signed for the real endpoint and sent the request to the proxy needs `rewriteHost: true`
 * (the upstream must see the host that was signed); a client configured with the proxy as its
 * endpoint signed the proxy's host, so the default (forward the client's Host) keeps it valid,
 * as long as the upstream accepts any host (MinIO does; AWS S3 routes by host and does not).
 * Remote HTTPS targets behind a CDN generally need `rewriteHost: true`.
 */
import { Agent as HttpAgent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { ConfigError, InfrastructureError } from '../errors.ts';
import { createSeededRandom, type RandomSource } from '../util/seededRandom.ts';
import type { Boundary, FaultKind, FaultSpec } from './faultSpec.ts';
import { compileFaults, needsRpcMethods, planFaults, rpcMethodsOf, type CompiledFault } from './planFaults.ts';
import { parseTarget, readHead, responseHeaders, upstreamHeaders, upstreamPath, type RequestHead } from './proxyHttp.ts';

export interface StartFaultProxyParameters {
  /** Absolute http(s) URL of the upstream. A path is a prefix: the proxy's `/` maps to it exactly. */
  target: string;
  /** Default 0: a free port. */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Evaluated in order, see `planFaults`. */
  faults: readonly FaultSpec[];
  /** Milliseconds; only differences count. Fault windows are relative to its value at start. Default `performance.now`. */
  clock?: () => number;
  /** Decides which requests are hit. Default: seeded with 0, so runs repeat. */
  random?: RandomSource;
  /** `Host` sent upstream: false (default) the client's, true the target's `host:port`, a string that value. */
  rewriteHost?: boolean | string;
  /** Extra CA certificates (PEM) an https target may be signed by. */
  ca?: string | Buffer;
  /** Largest body read to match `rpcMethod` filters; a larger one is streamed on and matches none. Default 8 MiB. */
  maxRpcBodyBytes?: number;
  /** Shown in logs, e.g. the boundary. */
  name?: string;
  /**
   * Default true. False: every request is forwarded untouched until `arm()`, and fault windows
   * count from then (MS-06 starts its proxies before the stack and arms them when the load starts).
   */
  armed?: boolean;
  logger: Logger;
}

export interface FaultStats {
  name: string;
  kind: FaultKind;
  boundary: Boundary | undefined;
  /** Requests inside the fault's window that matched its filter and were offered to it. */
  seen: number;
  /** Of those, the ones it hit. */
  injected: number;
  /** Of those, the ones it let through (`seen - injected`). */
  passed: number;
}

export interface FaultProxyStats {
  /** Requests received. */
  requests: number;
  /** Requests no fault hit. */
  untouched: number;
  /** Requests at least one fault hit (latency included). */
  injected: number;
  /** Status codes sent to clients, forwarded or injected (truncated responses included), e.g. `{ '200': 90, '503': 10 }`. */
  statuses: Record<string, number>;
  /** Client connections reset by a `reset` fault. */
  resets: number;
  /** Requests held unanswered by a `blackhole` fault. */
  blackholed: number;
  /** Responses cut short by a `truncate` fault. */
  truncated: number;
  /** Requests the upstream failed (unreachable, reset); answered 502 when nothing was sent yet. */
  upstreamErrors: number;
  faults: FaultStats[];
}

export interface FaultProxy {
  /** `http://host:port`, no trailing slash: use it in place of the target URL. */
  url: string;
  port: number;
  /** A snapshot of the counters. */
  stats(): FaultProxyStats;
  /** Starts injecting: fault windows count from now. A no-op on an armed proxy. */
  arm(): void;
  /** Closes the listener and every connection (held ones too) and upstream sockets. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts the proxy and resolves once it listens.
 *
 * @example
 * const proxy = await startFaultProxy({ target: storage.url, faults: [{ kind: 'status', status: 503, rate: 0.1 }], logger });
 * // point the client at proxy.url … then:
 * console.log(proxy.stats().faults); // [{ name: 'status#0', seen: 1000, injected: 97, passed: 903, … }]
 * await proxy.stop();
 */
export async function startFaultProxy(params: StartFaultProxyParameters): Promise<FaultProxy> {
  const {
    target,
    port = 0,
    host = '127.0.0.1',
    clock = () => performance.now(),
    random = createSeededRandom(0),
    rewriteHost = false,
    ca,
    maxRpcBodyBytes = 8 * 1024 ** 2,
    name,
    armed: startArmed = true,
    logger,
  } = params;
  const targetUrl = parseTarget(target);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new ConfigError(`Expected the fault proxy port in [0, 65535], got ${port}`, { code: 'FAULT_PROXY_INVALID' });
  }
  const faults = compileFaults(params.faults);
  const log = logger.child({ module: 'fault-proxy', ...(name === undefined ? {} : { proxy: name }) });

  const secure = targetUrl.protocol === 'https:';
  const agent = secure ? new HttpsAgent({ keepAlive: true, ...(ca === undefined ? {} : { ca }) }) : new HttpAgent({ keepAlive: true });
  const send = secure ? httpsRequest : httpRequest;
  // Without it Node would take the SNI name from the Host header, which may be the proxy's.
  const servername = secure && isIP(targetUrl.hostname) === 0 ? targetUrl.hostname : undefined;
  const upstreamHostHeader = rewriteHost === true ? targetUrl.host : typeof rewriteHost === 'string' ? rewriteHost : undefined;
  const basePath = targetUrl.pathname.replace(/\/+$/, '');
  const baseQuery = targetUrl.search.slice(1);

  const counters = { requests: 0, untouched: 0, injected: 0, resets: 0, blackholed: 0, truncated: 0, upstreamErrors: 0 };
  const statuses = new Map<number, number>();
  const perFault = faults.map(() => ({ seen: 0, injected: 0 }));
  const countStatus = (status: number): void => {
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  };

  let stopped = false;
  let armed = startArmed;
  let startedAt = clock();
  const sockets = new Set<Socket>();
  const delays = new Set<{ timer: NodeJS.Timeout; resolve: (elapsed: boolean) => void }>();
  /** Resolves true after `ms`, false at once if the proxy stops first. */
  const delay = (ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          delays.delete(entry);
          resolve(true);
        }, ms),
        resolve,
      };
      delays.add(entry);
    });

  function answer(res: ServerResponse, fault: CompiledFault, status: number, body: string | undefined, extra: Record<string, string>): void {
    const text = body ?? `fault proxy: ${fault.name} injected ${status}\n`;
    const bytes = Buffer.from(text, 'utf8');
    let json = false;
    try {
      JSON.parse(text);
      json = true;
    } catch {
      // plain text
    }
    countStatus(status);
    res.writeHead(status, {
      'content-type': json ? 'application/json' : 'text/plain; charset=utf-8',
      'content-length': String(bytes.length),
      'x-fault-injected': fault.name,
      ...extra,
    });
    res.end(bytes);
  }

  type Mode = 'pass' | 'reset' | 'blackhole' | 'truncate';

  function forward(req: IncomingMessage, res: ServerResponse, head: RequestHead | undefined, mode: Mode, fault: CompiledFault | undefined): void {
    const upstream = send(
      {
        protocol: targetUrl.protocol,
        hostname: targetUrl.hostname,
        port: targetUrl.port,
        method: req.method,
        path: upstreamPath(basePath, baseQuery, req.url ?? '/'),
        headers: upstreamHeaders(req.rawHeaders, upstreamHostHeader),
        agent,
        ...(servername === undefined ? {} : { servername }),
      },
      (upRes) => {
        if (stopped) {
          upRes.destroy();
          return;
        }
        onUpstreamResponse(req, res, upRes, mode, fault);
      },
    );
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      if (stopped) return;
      counters.upstreamErrors++;
      log.debug({ err: err.code ?? err.message, origin: targetUrl.origin }, 'upstream failed');
      if (mode === 'reset') resetClient(req);
      else if (mode === 'blackhole') counters.blackholed++;
      else if (!res.headersSent && !res.destroyed) {
        countStatus(502);
        res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`fault proxy: upstream ${targetUrl.origin} failed: ${err.code ?? err.message}\n`);
      } else res.destroy();
    });
    // A client that gives up cancels the upstream request, unless the fault means the upstream to finish.
    if (mode === 'pass' || mode === 'truncate') {
      res.on('close', () => {
        if (!res.writableFinished) upstream.destroy();
      });
    }
    req.on('error', () => upstream.destroy());
    if (head) for (const chunk of head.chunks) upstream.write(chunk);
    if (head?.complete) upstream.end();
    else req.pipe(upstream);
  }

  function resetClient(req: IncomingMessage): void {
    counters.resets++;
    req.socket.resetAndDestroy();
  }

  function onUpstreamResponse(req: IncomingMessage, res: ServerResponse, upRes: IncomingMessage, mode: Mode, fault: CompiledFault | undefined): void {
    const status = upRes.statusCode ?? 502;
    if (mode === 'reset' || mode === 'blackhole') {
      upRes.resume(); // drained, so the upstream connection goes back to the pool
      if (mode === 'reset') resetClient(req);
      else counters.blackholed++;
      return;
    }
    if (mode === 'pass') {
      countStatus(status);
      res.writeHead(status, upRes.statusMessage, responseHeaders(upRes.rawHeaders));
      upRes.pipe(res);
      upRes.on('error', () => res.destroy());
      return;
    }
    const spec = fault!.spec as FaultSpec & { kind: 'truncate' };
    const chunks: Buffer[] = [];
    upRes.on('data', (chunk: Buffer) => chunks.push(chunk));
    upRes.on('error', () => res.destroy());
    upRes.on('end', () => {
      const body = Buffer.concat(chunks);
      counters.truncated++;
      if (body.length === 0 && upRes.headers['content-length'] !== undefined) {
        // Headers announcing 0 bytes would be a complete response: close before them.
        req.socket.destroy();
        return;
      }
      const wanted = spec.keepBytes ?? Math.floor(body.length * (spec.keepFraction ?? 0.5));
      const keep = Math.min(wanted, Math.max(0, body.length - 1));
      countStatus(status);
      res.writeHead(status, upRes.statusMessage, responseHeaders(upRes.rawHeaders, ['x-fault-injected', fault!.name]));
      res.flushHeaders();
      // end(), not destroy(): what was written reaches the client before the FIN.
      res.write(body.subarray(0, keep), () => req.socket.end());
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.sendDate = false; // forwarded responses carry the upstream's Date, or none
    counters.requests++;
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const method = (req.method ?? 'GET').toUpperCase();
    if (!armed) {
      counters.untouched++;
      return forward(req, res, undefined, 'pass', undefined);
    }
    const elapsedMs = clock() - startedAt;
    let head: RequestHead | undefined;
    let rpcMethods: string[] | undefined;
    if (needsRpcMethods(faults, method, path, elapsedMs)) {
      head = await readHead(req, maxRpcBodyBytes);
      rpcMethods = head.complete ? rpcMethodsOf(Buffer.concat(head.chunks)) : [];
    }
    const plan = planFaults(faults, { method, path, rpcMethods }, elapsedMs, random);
    for (const i of plan.offered) perFault[i]!.seen++;
    for (const i of plan.fired) perFault[i]!.injected++;
    if (plan.fired.length === 0) counters.untouched++;
    else {
      counters.injected++;
      log.debug({ method, path, faults: plan.fired.map((i) => faults[i]!.name), delayMs: Math.round(plan.delayMs) }, 'fault injected');
    }
    if (plan.delayMs > 0 && !(await delay(plan.delayMs))) return;
    // The client gave up while we waited: nothing left to forward it to.
    if (stopped || req.socket.destroyed) return;

    const fault = plan.action === undefined ? undefined : faults[plan.action]!;
    const spec = fault?.spec;
    switch (spec?.kind) {
      case undefined:
      case 'latency':
        return forward(req, res, head, 'pass', undefined);
      case 'status':
        return answer(res, fault!, spec.status, spec.body, {});
      case 'rate_limit':
        return answer(res, fault!, 429, spec.body, { 'retry-after': String(Math.ceil(spec.retryAfterMs / 1000)) });
      case 'truncate':
        return forward(req, res, head, 'truncate', fault);
      case 'reset':
      case 'blackhole':
        if (spec.when === 'after_upstream') return forward(req, res, head, spec.kind, fault);
        if (spec.kind === 'reset') return resetClient(req);
        counters.blackholed++;
        req.resume(); // take the whole body, as a server that hangs after reading it
        return;
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err }, 'fault proxy failed on a request');
      res.destroy();
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new InfrastructureError(`The fault proxy could not listen on ${host}:${port}: ${err.code ?? err.message}`, {
          code: err.code === 'EADDRINUSE' ? 'FAULT_PROXY_PORT_IN_USE' : 'FAULT_PROXY_LISTEN_FAILED',
          cause: err,
        }),
      );
    });
    server.listen(port, host, () => resolve());
  });
  startedAt = clock();
  const address = server.address();
  const actualPort = typeof address === 'object' && address !== null ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  log.info({ url, origin: targetUrl.origin, faults: faults.map((f) => f.name) }, 'fault proxy listening');

  let stopping: Promise<void> | undefined;
  const stats = (): FaultProxyStats => ({
    ...counters,
    statuses: Object.fromEntries([...statuses].sort(([a], [b]) => a - b).map(([code, n]) => [String(code), n])),
    faults: faults.map((f, i) => {
      const { seen, injected } = perFault[i]!;
      return { name: f.name, kind: f.spec.kind, boundary: f.spec.boundary, seen, injected, passed: seen - injected };
    }),
  });
  return {
    url,
    port: actualPort,
    stats,
    arm() {
      if (armed) return;
      armed = true;
      startedAt = clock();
      log.info('fault proxy armed');
    },
    stop() {
      stopping ??= (async () => {
        stopped = true;
        for (const entry of delays) {
          clearTimeout(entry.timer);
          entry.resolve(false);
        }
        delays.clear();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
        agent.destroy();
        await closed;
        log.info({ stats: stats() }, 'fault proxy stopped');
      })();
      return stopping;
    },
  };
}
