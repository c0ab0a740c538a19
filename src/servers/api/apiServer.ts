/**
 * The app's API server of the local stack (ARCHITECTURE.md 3): `/api/relay` checks a user's
 * signed `ServerFilesAndPermission` and submits it through the relayer pool; `/api/trusted-server`
 * and `/api/trusted-server/poll` sign operation requests with the app (grantee) key and forward
 * them to the personal server. Every body is validated at the door: 400 naming the field, 401 for
 * a signature that does not recover to the claimed user, 413 over the body limit, always JSON.
 * Before paying gas, `/api/relay` checks that the transaction would not revert
 * (src/chain/relayPreflight.ts): 401/409/422 naming the revert it avoided. `GET /stats` tells
 * the relayer pool's figures (next nonces, transactions in flight) to the harness.
 */
import { createHash, randomUUID } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyReply } from 'fastify';
import { createPublicClient, encodeFunctionData, isAddressEqual, type Address, type Hex, type LocalAccount } from 'viem';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ConfigError, InfrastructureError, VanaLoadError } from '../../errors.ts';
import { silentLogger } from '../../logger.ts';
import { dataPortabilityPermissionsAbi } from '../../protocol/abis.ts';
import { PERMISSIONS_DOMAIN_NAME, PERMISSIONS_DOMAIN_VERSION } from '../../protocol/eip712.ts';
import {
  createOperationResponseSchema,
  operationRequestJson,
  operationStatusSchema,
  personalServerErrorBodySchema,
  type CreateOperationRequest,
  type OperationStatusValue,
} from '../../protocol/personalServerApi.ts';
import { parseRelayerRequest, type SignedServerFilesAndPermissionRequest } from '../../protocol/relayerRequest.ts';
import { receiptToJson, type RelayResponseJson as RelayResponse } from '../../protocol/relayerResponse.ts';
import { normalizeSignatureV } from '../../protocol/signature.ts';
import { serializeGrantFile } from '../../protocol/grantFile.ts';
import type { StorageProvider } from '../../storage/StorageProvider.ts';
import { createJsonRpc } from '../../chain/jsonRpc.ts';
import { createRelayPreflight, RELAY_ERRORS_ABI, RelayRefusedError, type RelayPreflight } from '../../chain/relayPreflight.ts';
import { RelayerRevertError, type RelayerPool } from '../../chain/relayerPool.ts';
import { rpcHttp } from '../../chain/rpcTransport.ts';
import { createPersonalServerClient } from './personalServerClient.ts';
import { createRelaySignerRecovery } from './relaySignerRecovery.ts';

export interface StartApiServerParameters {
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default 3001; 0 picks a free port. */
  port?: number;
  chainId: number;
  /** Checked once at start: the chain behind it must have `chainId`. */
  rpcUrl: string;
  /** The Permissions contract: the only EIP-712 verifyingContract accepted, and the relay target. */
  permissionsAddress: Address;
  relayerPool: RelayerPool;
  /** Personal-server base URL; `/operations` is appended. */
  personalServerUrl: string;
  /** The app (grantee) key: signs operation requests for the personal server. */
  appAccount: LocalAccount;
  /**
   * How `/api/relay` answers a signed request, as the SDK's `handleRelayerOperation` does:
   * `submitted` (stateless, the default: `{type:"submitted", hash}`) or `pending` (with an
   * operation store: `{type:"pending", operationId}`, then `status_check` answers `pending` until
   * the receipt is there, then `{type:"confirmed", hash, receipt}`).
   */
  relayResponse?: 'submitted' | 'pending';
  /** Where `storeGrantFile` puts grant files; without it the operation is refused. */
  grantStorage?: StorageProvider;
  /** Default 1 MiB. */
  bodyLimitBytes?: number;
  /** Timeout of one personal-server call, ms, waiting for a connection included. Default 30_000 (it decrypts before answering). */
  personalServerTimeoutMs?: number;
  /** Most connections to the personal server at once (keep-alive); more requests wait for one. Default 64. */
  personalServerMaxConnections?: number;
  /**
   * Check before sending that a relay would not revert (src/chain/relayPreflight.ts): one
   * `eth_call` per relay. Default true; false only to measure what it costs.
   */
  preflight?: boolean;
  logger?: Logger;
}

export interface ApiServer {
  url: string;
  port: number;
  /** Closes the listener and its idle keep-alive connections. Safe to call twice. */
  stop(): Promise<void>;
}

/** How long a relayed request's hash is remembered, so a retry of it gets the same hash. */
export const RELAY_DEDUP_MS = 10 * 60_000;

/** `/api/trusted-server` and `/poll` responses. */
export type TrustedServerResponse<T> = { success: true; data: T } | { success: false; error: string };


function describe(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

const trustedServerBody = z.object(
  {
    permissionId: z.unknown().transform((value, ctx): number => {
      const n = typeof value === 'string' && /^(0|[1-9][0-9]*)$/.test(value) ? Number(value) : value;
      if (typeof n === 'number' && Number.isSafeInteger(n) && n > 0) return n;
      ctx.addIssue({ code: 'custom', message: `Expected a permission id as a positive integer or decimal string, got ${describe(value)}` });
      return z.NEVER;
    }),
  },
  { error: (iss) => `Expected a JSON object, got ${describe(iss.input)}` },
);

const pollBody = z.object(
  {
    operationId: z.unknown().transform((value, ctx): string => {
      if (typeof value === 'string' && /^[A-Za-z0-9_.:-]{1,200}$/.test(value)) return value;
      ctx.addIssue({ code: 'custom', message: `Expected an operation id (1-200 of [A-Za-z0-9_.:-]), got ${describe(value)}` });
      return z.NEVER;
    }),
    chainId: z
      .unknown()
      .transform((value, ctx): number => {
        if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
        ctx.addIssue({ code: 'custom', message: `Expected a positive integer chain id, got ${describe(value)}` });
        return z.NEVER;
      })
      .optional(),
  },
  { error: (iss) => `Expected a JSON object, got ${describe(iss.input)}` },
);

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue?.path.map(String).join('.') || '(body)'}: ${issue?.message ?? 'invalid'}`;
}

/** The error text a personal server put in its body (FastAPI nests it under `detail`). */
function personalServerError(body: unknown, status: number): string {
  const fallback = `personal server answered ${status}`;
  const parsed = personalServerErrorBodySchema.safeParse(body);
  if (parsed.success) return `${fallback}: ${parsed.data.detail.error_code}: ${parsed.data.detail.detail}`;
  return typeof body === 'string' && body ? `${fallback}: ${body.slice(0, 200)}` : fallback;
}

/** Who answers the client for a failed request, by route. */
function errorBody(url: string, error: string): RelayResponse | TrustedServerResponse<never> | { error: string } {
  if (url.startsWith('/api/relay')) return { type: 'error', error };
  if (url.startsWith('/api/trusted-server')) return { success: false, error };
  return { error };
}

/**
 * Starts the API server. Fails with a `ConfigError` when the chain at `rpcUrl` has another chain id.
 *
 * @example
 * const api = await startApiServer({ port: 0, chainId, rpcUrl, permissionsAddress, relayerPool,
 *   personalServerUrl, appAccount: appAccount() });
 * await fetch(`${api.url}/health`);
 * await api.stop();
 */
export async function startApiServer({
  host = '127.0.0.1',
  port = 3001,
  chainId,
  rpcUrl,
  permissionsAddress,
  relayerPool,
  personalServerUrl,
  appAccount,
  relayResponse = 'submitted',
  grantStorage,
  bodyLimitBytes = 1_048_576,
  personalServerTimeoutMs = 30_000,
  personalServerMaxConnections = 64,
  preflight: preflightOn = true,
  logger = silentLogger(),
}: StartApiServerParameters): Promise<ApiServer> {
  const log = logger.child({ module: 'apiServer' });
  const chain = createPublicClient({ transport: rpcHttp(rpcUrl, { retryCount: 0 }) });
  const rpcChainId = await chain
    .getChainId()
    .catch((cause: unknown) => {
      throw new InfrastructureError(`API server cannot reach the chain at ${rpcUrl}`, { code: 'API_RPC_UNREACHABLE', cause });
    });
  if (rpcChainId !== chainId) {
    throw new ConfigError(`Expected chain id ${chainId} at ${rpcUrl}, got ${rpcChainId}`, { code: 'API_CHAIN_MISMATCH' });
  }
  const psBase = personalServerUrl.replace(/\/+$/, '');
  if (!Number.isSafeInteger(personalServerMaxConnections) || personalServerMaxConnections < 1) {
    throw new ConfigError(`Expected personalServerMaxConnections to be an integer >= 1, got ${personalServerMaxConnections}`, { code: 'API_CONFIG_INVALID' });
  }
  const signerRecovery = createRelaySignerRecovery();
  if (signerRecovery.implementation !== 'native') log.warn('native secp256k1 did not load: relay signatures are recovered in JavaScript, ~8x slower');
  const personalServer = createPersonalServerClient({ baseUrl: psBase, timeoutMs: personalServerTimeoutMs, maxConnections: personalServerMaxConnections });
  const preflightRpc = createJsonRpc(rpcUrl, 10_000);
  const preflight: RelayPreflight | undefined = preflightOn
    ? createRelayPreflight({ rpc: preflightRpc, to: permissionsAddress, from: relayerPool.addresses[0]!, abi: RELAY_ERRORS_ABI, reservationTtlMs: RELAY_DEDUP_MS })
    : undefined;

  // fastify's own logger (and so its per-request logging) is off: at hundreds of requests per
  // second it costs more than the routes. Failures go to our logger.
  const app = Fastify({ logger: false, bodyLimit: bodyLimitBytes, return503OnClosing: true });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 ? err.statusCode : 500;
    let message = err.message;
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') message = `Body exceeds the ${bodyLimitBytes}-byte limit`;
    else if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) message = 'Body is not valid JSON';
    if (status >= 500) log.error({ err, url: request.url }, 'request failed');
    void reply.status(status).send(errorBody(request.url, message));
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send(errorBody(request.url, `No route ${request.method} ${request.url}`));
  });

  app.get('/health', async () => ({
    status: 'ok',
    chainId,
    relayers: relayerPool.size,
    pending: relayerPool.pending(),
    ...(preflight ? { preflight: preflight.stats() } : {}),
  }));

  // The relayer pool's figures for the harness's chain timeline (src/run/openChainTimeline.ts):
  // next nonce and in-flight count per relayer. Wei amounts as decimal strings: JSON has no bigint.
  app.get('/stats', async () => {
    const { relayers, spentWei, ...counts } = relayerPool.stats();
    return {
      relayerPool: {
        ...counts,
        ...(spentWei !== undefined ? { spentWei: spentWei.toString() } : {}),
        relayers: relayers.map(({ balanceWei, ...relayer }) => ({ ...relayer, ...(balanceWei !== undefined ? { balanceWei: balanceWei.toString() } : {}) })),
      },
    };
  });

  const relayError = (reply: FastifyReply, status: number, error: string): RelayResponse => {
    void reply.status(status);
    return { type: 'error', error };
  };

  // A client whose /api/relay timed out retries the same signed request; a second transaction
  // would only revert (InvalidNonce) and fail a flow whose permission landed. So the same calldata
  // within RELAY_DEDUP_MS gets the first one's answer, preflight included (a failed or refused
  // submission may be retried). The key is a sha256 (native) of the calldata: any collision-free
  // digest does, and keccak in JS costs ~50x more.
  const submissions = new Map<string, { at: number; hash: Promise<Hex> }>();
  const relayOnce = (data: Hex, signer: Address, message: SignedServerFilesAndPermissionRequest['typedData']['message'], signature: Hex): Promise<Hex> => {
    const key = createHash('sha256').update(data).digest('base64');
    const now = Date.now();
    for (const [k, entry] of submissions) {
      if (now - entry.at < RELAY_DEDUP_MS) break; // insertion order: the rest are newer
      submissions.delete(k);
    }
    const known = submissions.get(key);
    if (known) return known.hash;
    const hash = (async () => {
      const pass = await preflight?.check({ signer, nonce: message.nonce, fileUrls: message.fileUrls, signature, data });
      const submitted = relayerPool.submit({ to: permissionsAddress, data, abi: dataPortabilityPermissionsAbi });
      pass?.track(submitted);
      return (await submitted).hash;
    })();
    submissions.set(key, { at: now, hash });
    hash.catch(() => submissions.delete(key));
    return hash;
  };

  // The operation store of `relayResponse: 'pending'`: operation id → the hash it waits on.
  const operations = new Map<string, { at: number; hash: Promise<Hex> }>();
  const rememberOperation = (hash: Promise<Hex>): string => {
    const now = Date.now();
    for (const [k, entry] of operations) {
      if (now - entry.at < RELAY_DEDUP_MS) break;
      operations.delete(k);
    }
    const id = randomUUID();
    operations.set(id, { at: now, hash });
    return id;
  };

  async function statusOf(operationId: string, reply: FastifyReply): Promise<RelayResponse> {
    const operation = operations.get(operationId);
    if (!operation) return relayError(reply, 404, 'Operation not found');
    let hash: Hex;
    try {
      hash = await operation.hash;
    } catch (err) {
      return { type: 'error', error: err instanceof VanaLoadError ? err.shortMessage : String(err) };
    }
    const receipt = await chain.getTransactionReceipt({ hash }).catch(() => undefined);
    if (receipt === undefined) return { type: 'pending', operationId };
    if (receipt.status !== 'success') return { type: 'error', error: `transaction ${hash} reverted in block ${receipt.blockNumber}` };
    return { type: 'confirmed', hash, receipt: receiptToJson(receipt) };
  }

  app.post('/api/relay', async (request, reply): Promise<RelayResponse> => {
    let relay: ReturnType<typeof parseRelayerRequest>;
    try {
      relay = parseRelayerRequest(request.body);
    } catch (err) {
      return relayError(reply, 400, err instanceof VanaLoadError ? err.shortMessage : String(err));
    }
    if (relay.type === 'status_check') {
      if (relayResponse !== 'pending') return relayError(reply, 400, 'Stateless relayer does not support operation status checks.');
      return await statusOf(relay.operationId, reply);
    }
    if (relay.type === 'direct') {
      if (!grantStorage) return relayError(reply, 400, 'storeGrantFile: this relayer has no grant storage');
      try {
        const bytes = new TextEncoder().encode(serializeGrantFile(relay.params));
        const stored = await grantStorage.upload(bytes, `grant-${randomUUID()}.json`, { contentType: 'application/json' });
        return { type: 'direct_result_untracked', result: { url: stored.url } };
      } catch (err) {
        return relayError(reply, 502, `storeGrantFile: ${err instanceof VanaLoadError ? err.shortMessage : String(err)}`);
      }
    }
    const { domain, message } = relay.typedData;
    const domainProblem =
      domain.name !== PERMISSIONS_DOMAIN_NAME
        ? `typedData.domain.name: Expected "${PERMISSIONS_DOMAIN_NAME}", got ${describe(domain.name)}`
        : domain.version !== PERMISSIONS_DOMAIN_VERSION
          ? `typedData.domain.version: Expected "${PERMISSIONS_DOMAIN_VERSION}", got ${describe(domain.version)}`
          : domain.chainId !== chainId
            ? `typedData.domain.chainId: Expected ${chainId}, got ${domain.chainId}`
            : !isAddressEqual(domain.verifyingContract, permissionsAddress)
              ? `typedData.domain.verifyingContract: Expected ${permissionsAddress}, got ${domain.verifyingContract}`
              : undefined;
    if (domainProblem) return relayError(reply, 400, `Invalid relay request: ${domainProblem}`);
    let signer: Address;
    try {
      signer = signerRecovery.recover(relay.typedData, relay.signature);
    } catch (err) {
      return relayError(reply, 401, `signature: does not recover to an address (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
    }
    // Optional in the protocol (the SDK's client leaves it out); checked when present, as the SDK's handler does.
    if (relay.expectedUserAddress !== undefined && !isAddressEqual(signer, relay.expectedUserAddress)) {
      return relayError(reply, 401, `signature: recovers to ${signer}, expected ${relay.expectedUserAddress}`);
    }
    const data = encodeFunctionData({
      abi: dataPortabilityPermissionsAbi,
      functionName: 'addServerFilesAndPermissions',
      args: [message, normalizeSignatureV(relay.signature)],
    });
    if (relayResponse === 'pending') {
      // As a stateful handleRelayerOperation: the submission is awaited, then tracked.
      const hash = relayOnce(data, signer, message, relay.signature);
      try {
        await hash;
      } catch (err) {
        return relayFailure(reply, err);
      }
      return { type: 'pending', operationId: rememberOperation(hash) };
    }
    try {
      return { type: 'submitted', hash: await relayOnce(data, signer, message, relay.signature) };
    } catch (err) {
      return relayFailure(reply, err);
    }
  });

  function relayFailure(reply: FastifyReply, err: unknown): RelayResponse {
    if (err instanceof RelayRefusedError) return relayError(reply, err.status, err.shortMessage);
    if (err instanceof RelayerRevertError) return relayError(reply, 422, err.shortMessage);
    const text = err instanceof VanaLoadError ? err.shortMessage : String(err);
    log.warn({ err: text }, 'relay failed');
    return relayError(reply, 503, text);
  }

  const callPersonalServer = (path: string, init: { method: 'GET' | 'POST'; body?: string }) => personalServer.request(path, init);

  function forwardFailure(reply: FastifyReply, status: number, body: unknown, retryAfter: string | null): TrustedServerResponse<never> {
    // Same status, so the client's classes (rate_limited, http_4xx, http_5xx) match the server's.
    void reply.status(status >= 400 && status <= 599 ? status : 502);
    if (retryAfter !== null) void reply.header('retry-after', retryAfter);
    return { success: false, error: personalServerError(body, status) };
  }

  function unreachable(reply: FastifyReply, err: unknown): TrustedServerResponse<never> {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    void reply.status(timedOut ? 504 : 502);
    const reason = timedOut ? `no answer within ${personalServerTimeoutMs} ms` : err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    return { success: false, error: `personal server ${psBase} unreachable: ${reason}` };
  }

  app.post('/api/trusted-server', async (request, reply): Promise<TrustedServerResponse<{ id: string }>> => {
    const parsed = trustedServerBody.safeParse(request.body);
    if (!parsed.success) {
      void reply.status(400);
      return { success: false, error: firstIssue(parsed.error) };
    }
    // The personal server checks the app signature over these exact bytes (PROTOCOL.md 9).
    const json = operationRequestJson(parsed.data.permissionId);
    const body: CreateOperationRequest = { app_signature: await appAccount.signMessage({ message: json }), operation_request_json: json };
    let result: Awaited<ReturnType<typeof callPersonalServer>>;
    try {
      result = await callPersonalServer('/operations', { method: 'POST', body: JSON.stringify(body) });
    } catch (err) {
      return unreachable(reply, err);
    }
    if (result.status >= 300) return forwardFailure(reply, result.status, result.body, result.retryAfter);
    const created = createOperationResponseSchema.safeParse(result.body);
    if (!created.success) {
      void reply.status(502);
      return { success: false, error: `personal server answered ${result.status} with no OperationCreated body: ${firstIssue(created.error)}` };
    }
    return { success: true, data: { id: created.data.id } };
  });

  app.post('/api/trusted-server/poll', async (request, reply): Promise<TrustedServerResponse<{ status: OperationStatusValue; result: string | null }>> => {
    const parsed = pollBody.safeParse(request.body);
    if (!parsed.success) {
      void reply.status(400);
      return { success: false, error: firstIssue(parsed.error) };
    }
    if (parsed.data.chainId !== undefined && parsed.data.chainId !== chainId) {
      void reply.status(400);
      return { success: false, error: `chainId: Expected ${chainId}, got ${parsed.data.chainId}` };
    }
    let result: Awaited<ReturnType<typeof callPersonalServer>>;
    try {
      result = await callPersonalServer(`/operations/${encodeURIComponent(parsed.data.operationId)}`, { method: 'GET' });
    } catch (err) {
      return unreachable(reply, err);
    }
    if (result.status >= 300) return forwardFailure(reply, result.status, result.body, result.retryAfter);
    const operation = operationStatusSchema.safeParse(result.body);
    if (!operation.success) {
      void reply.status(502);
      return { success: false, error: `personal server answered ${result.status} with no OperationStatus body: ${firstIssue(operation.error)}` };
    }
    return { success: true, data: { status: operation.data.status, result: operation.data.result ?? null } };
  });

  const closeClients = () => {
    personalServer.close();
    preflightRpc.close();
  };
  app.addHook('onClose', async () => closeClients());
  let address: string;
  try {
    address = await app.listen({ host, port });
  } catch (err) {
    closeClients();
    throw err;
  }
  const boundPort = app.server.address();
  const actualPort = typeof boundPort === 'object' && boundPort !== null ? boundPort.port : port;
  log.info({ url: address, relayers: relayerPool.size }, 'api server listening');
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${actualPort}`,
    port: actualPort,
    stop: () => (closing ??= app.close()),
  };
}
