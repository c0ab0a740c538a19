/**
 * The local personal server (PROTOCOL.md 9, ARCHITECTURE.md 3): per-user identities, operations
 * that read the permission on chain, fetch the grant and the file, unwrap the key and decrypt the
 * file before answering 202, then run an inference backend in the background.
 *
 * Routes: `GET /identity?address=`, `POST /operations`, `GET /operations/:id`,
 * `POST /operations/:id/cancel`, `GET /health` for the stack's readiness check and `GET /stats`
 * (its queue: operations being prepared and running, for the harness's chain timeline; not a
 * route of the real server). Every error is the FastAPI-shaped body `{ detail: { kind, detail, error_code, field } }`.
 */
import Fastify, { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import { getAddress, type Address } from 'viem';
import type { Logger } from 'pino';
import { silentLogger } from '../../logger.ts';
import type {
  CreateOperationResponse,
  IdentityResponse,
  OperationStatus,
  PersonalServerErrorCode,
} from '../../protocol/personalServerApi.ts';
import { createChainReader } from './chainReader.ts';
import { createServerIdentityDeriver } from './identity.ts';
import { createInferenceBackend, type InferenceInput, type PersonalServerBackend } from './inferenceBackends.ts';
import { createOperationStore, type OperationStoreStats } from './operations.ts';
import { PersonalServerError, reasonOf } from './personalServerError.ts';
import { parseCreateOperationBody, prepareOperation, type PrepareOperationContext } from './prepareOperation.ts';
import { createFixedWindowLimiter, type FixedWindowLimiter } from './rateLimiter.ts';

export type { PersonalServerBackend } from './inferenceBackends.ts';

/** Fixed-window limits of the real server (PROTOCOL.md 9); the defaults there are 60, 100, 120. */
export interface PersonalServerRateLimit {
  /** `GET /operations/:id` and cancel, per IP and minute. */
  perIpPerMinute: number;
  /** `POST /operations`, per IP and per app signature, per hour. */
  operationsPerHour: number;
  /** `GET /identity`, per IP and minute. */
  identityPerMinute: number;
}

export interface StartPersonalServerParameters {
  /** Default `127.0.0.1`. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  rpcUrl: string;
  /** The Permissions contract; DataRegistry and Grantees are discovered from it. */
  permissionsAddress: Address;
  /** BIP-39 mnemonic the per-user server keys derive from. Never logged. */
  serverMnemonic: string;
  /** Default: `sim` with no latency and no injected errors. */
  backend?: PersonalServerBackend;
  /** Off when absent. */
  rateLimit?: PersonalServerRateLimit;
  /** Operation store bounds. Defaults: 50_000 operations, finished ones kept 15 minutes. */
  operations?: { maxOperations?: number; finishedTtlMs?: number };
  /** Timeout of one grant or file download, ms. Default 10_000. */
  fetchTimeoutMs?: number;
  /** Largest grant or encrypted file accepted, bytes. Default 16 MiB. */
  maxFileBytes?: number;
  /** Per-user identities kept in memory. Default 10_000. */
  identityCacheSize?: number;
  logger?: Logger;
}

export interface PersonalServerStats {
  /** Work in progress: `POST /operations` requests being prepared (before their 202), and operations accepted and not finished. */
  queue: { preparing: number; running: number };
  requests: { identity: number; createOperation: number; getOperation: number; cancelOperation: number };
  /** Error answers by `error_code`. */
  errors: Partial<Record<PersonalServerErrorCode, number>>;
  operations: OperationStoreStats;
  identityCache: { size: number; hits: number; misses: number };
}

export interface PersonalServer {
  /** Base URL, e.g. `http://127.0.0.1:8000` (no trailing slash). */
  url: string;
  port: number;
  /** Closes the listener, cancels live operations and waits for their inference to settle. Safe to call twice. */
  stop(): Promise<void>;
  stats(): PersonalServerStats;
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/**
 * The client address rate limits count against. Like the real server, the first
 * `X-Forwarded-For` entry wins, which also lets a harness simulate many clients from one host.
 */
function clientIp(request: FastifyRequest): string {
  const forwarded = request.headers['x-forwarded-for'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
  return first || request.ip;
}

/**
 * Starts the local personal server. Throws a `ConfigError` for a bad mnemonic or backend, and an
 * `InfrastructureError` when the chain cannot be reached.
 *
 * @example
 * const ps = await startPersonalServer({ rpcUrl, permissionsAddress, serverMnemonic: LOCAL_SERVER_MNEMONIC,
 *   backend: { kind: 'sim', latency: { p50Ms: 800, p95Ms: 3000 }, failureRate: 0.01 } });
 * const identity = await (await fetch(`${ps.url}/identity?address=${user}`)).json();
 * await ps.stop();
 */
export async function startPersonalServer({
  host = '127.0.0.1',
  port = 0,
  rpcUrl,
  permissionsAddress,
  serverMnemonic,
  backend: backendConfig = { kind: 'sim', latency: { p50Ms: 0, p95Ms: 0 }, failureRate: 0 },
  rateLimit,
  operations: storeOptions = {},
  fetchTimeoutMs = 10_000,
  maxFileBytes = 16 * 1024 * 1024,
  identityCacheSize = 10_000,
  logger: parentLogger = silentLogger(),
}: StartPersonalServerParameters): Promise<PersonalServer> {
  const logger = parentLogger.child({ module: 'personal-server' });
  // Configuration first: nothing is started when it is invalid.
  const identities = createServerIdentityDeriver({ mnemonic: serverMnemonic, cacheSize: identityCacheSize });
  const backend = createInferenceBackend(backendConfig, logger);
  const store = createOperationStore(storeOptions);
  const limiters = rateLimit
    ? {
        default: createFixedWindowLimiter({ limit: rateLimit.perIpPerMinute, windowMs: 60_000 }),
        operations: createFixedWindowLimiter({ limit: rateLimit.operationsPerHour, windowMs: 3_600_000 }),
        identity: createFixedWindowLimiter({ limit: rateLimit.identityPerMinute, windowMs: 60_000 }),
      }
    : undefined;
  const chain = await createChainReader({ rpcUrl, permissionsAddress, logger });
  const ctx: PrepareOperationContext = { chain, identities, fetchTimeoutMs, maxFileBytes, logger, now: Date.now };

  const requests = { identity: 0, createOperation: 0, getOperation: 0, cancelOperation: 0 };
  const errors: Partial<Record<PersonalServerErrorCode, number>> = {};
  const running = new Set<Promise<void>>();
  let preparing = 0;

  function limit(limiter: FixedWindowLimiter | undefined, keys: readonly string[]): void {
    if (!limiter) return;
    for (const key of keys) {
      const decision = limiter.hit(key);
      if (!decision.allowed) {
        throw new PersonalServerError(`Rate limit exceeded. Try again in ${decision.retryAfterSeconds} seconds`, {
          status: 429,
          errorCode: 'RATE_LIMIT_ERROR',
          retryAfterSeconds: decision.retryAfterSeconds,
        });
      }
    }
  }

  let closed = false;
  const stats = (): PersonalServerStats => {
    const operations = store.stats();
    return { queue: { preparing, running: operations.live }, requests: { ...requests }, errors: { ...errors }, operations, identityCache: identities.stats() };
  };

  function runInference(id: string, input: InferenceInput, signal: AbortSignal): void {
    // A request that was mid-way when stop() began must not leave inference running behind it.
    if (closed) {
      store.cancel(id);
      return;
    }
    const task = (async () => {
      if (!store.start(id)) return; // cancelled before it started
      try {
        const outcome = await backend.run(input, signal);
        store.finish(id, outcome.status, outcome.result);
      } catch (err) {
        if (signal.aborted) return; // the store already says cancelled
        logger.error({ err, operationId: id }, 'inference backend threw');
        store.finish(id, 'failed', JSON.stringify({ error: reasonOf(err), error_code: 'COMPUTE_ERROR' }));
      }
    })();
    running.add(task);
    void task.finally(() => running.delete(task));
  }

  const app = Fastify({ logger: false, bodyLimit: 64 * 1024, forceCloseConnections: true });

  function sendError(reply: FastifyReply, err: PersonalServerError): FastifyReply {
    errors[err.errorCode] = (errors[err.errorCode] ?? 0) + 1;
    if (err.retryAfterSeconds !== undefined) void reply.header('retry-after', String(err.retryAfterSeconds));
    return reply.code(err.status).send(err.toBody());
  }

  app.setErrorHandler((err: FastifyError, _request, reply) => {
    if (err instanceof PersonalServerError) return sendError(reply, err);
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return sendError(reply, new PersonalServerError(`Invalid request: ${err.message}`, { status, errorCode: 'VALIDATION_ERROR', cause: err }));
    }
    logger.error({ err }, 'unexpected error');
    return sendError(reply, new PersonalServerError('Internal server error', { status: 500, errorCode: 'INTERNAL_SERVER_ERROR', cause: err }));
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new PersonalServerError(`No route ${request.method} ${request.url.split('?')[0]}`, { status: 404, errorCode: 'NOT_FOUND_ERROR' })),
  );

  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/stats', async (): Promise<PersonalServerStats> => stats());

  app.get<{ Querystring: { address?: unknown } }>('/identity', async (request): Promise<IdentityResponse> => {
    requests.identity++;
    limit(limiters?.identity, [`ip:${clientIp(request)}`]);
    const address = request.query.address;
    if (typeof address !== 'string' || !ADDRESS.test(address)) {
      throw new PersonalServerError(`Expected address as a 0x-prefixed 20-byte hex address, got ${address === undefined ? 'nothing' : JSON.stringify(address)}`, {
        status: 400,
        errorCode: 'VALIDATION_ERROR_USER_ADDRESS',
        field: 'address',
      });
    }
    const identity = identities.derive(address as Address);
    return {
      kind: 'Identity',
      user_address: getAddress(address),
      personal_server: { kind: 'PersonalServer', address: identity.address, public_key: identity.publicKey },
    };
  });

  app.post('/operations', async (request, reply): Promise<CreateOperationResponse> => {
    requests.createOperation++;
    const body = request.body as { app_signature?: unknown } | undefined;
    const signature = typeof body?.app_signature === 'string' ? body.app_signature : undefined;
    limit(limiters?.operations, [`ip:${clientIp(request)}`, ...(signature ? [`sig:${signature}`] : [])]);
    const parsed = parseCreateOperationBody(request.body);
    const admission = backend.admit();
    if (!admission.admitted) {
      throw new PersonalServerError(`Rate limit exceeded (simulated). Try again in ${admission.retryAfterSeconds} seconds`, {
        status: 429,
        errorCode: 'RATE_LIMIT_ERROR',
        retryAfterSeconds: admission.retryAfterSeconds,
      });
    }
    const t0 = performance.now();
    preparing++;
    let prepared: Awaited<ReturnType<typeof prepareOperation>>;
    try {
      prepared = await prepareOperation(ctx, parsed);
    } finally {
      preparing--;
    }
    const created = store.create();
    if (!created) {
      throw new PersonalServerError('Too many operations in flight; try again shortly', { status: 503, errorCode: 'OPERATION_ERROR', retryAfterSeconds: 1 });
    }
    const { record, signal } = created;
    logger.debug(
      { operationId: record.id, permissionId: parsed.permissionId.toString(), ms: Math.round(performance.now() - t0) },
      'operation created',
    );
    runInference(record.id, prepared.input, signal);
    void reply.code(202);
    return { kind: 'OperationCreated', id: record.id, created_at: iso(record.createdAt)! };
  });

  app.get<{ Params: { id: string } }>('/operations/:id', async (request): Promise<OperationStatus> => {
    requests.getOperation++;
    limit(limiters?.default, [`ip:${clientIp(request)}`]);
    const record = store.get(request.params.id);
    if (!record) throw new PersonalServerError(`Operation ${request.params.id} not found`, { status: 404, errorCode: 'NOT_FOUND_ERROR' });
    return {
      kind: 'OperationStatus',
      id: record.id,
      status: record.status,
      started_at: iso(record.startedAt),
      finished_at: iso(record.finishedAt),
      result: record.result,
    };
  });

  app.post<{ Params: { id: string } }>('/operations/:id/cancel', async (request, reply) => {
    requests.cancelOperation++;
    limit(limiters?.default, [`ip:${clientIp(request)}`]);
    // Cancelling a finished operation changes nothing and is not an error (idempotent).
    if (store.cancel(request.params.id) === 'not_found') {
      throw new PersonalServerError(`Operation ${request.params.id} not found`, { status: 404, errorCode: 'NOT_FOUND_ERROR' });
    }
    return reply.code(204).send();
  });

  await app.listen({ host, port });
  const address = app.server.address();
  if (address === null || typeof address === 'string') {
    await app.close();
    throw new Error(`Expected a TCP address from listen, got ${String(address)}`);
  }
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  logger.info({ url, backend: backend.kind, rateLimit: rateLimit ?? 'off', ...chain.addresses }, 'personal server listening');

  let stopping: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    stop() {
      stopping ??= (async () => {
        await app.close();
        closed = true;
        store.cancelAll();
        await Promise.allSettled([...running]);
      })();
      return stopping;
    },
    stats,
  };
}
