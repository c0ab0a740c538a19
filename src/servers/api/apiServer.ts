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
import Fastify, { type FastifyError } from 'fastify';
import { createPublicClient, type Address, type LocalAccount } from 'viem';
import type { Logger } from 'pino';
import { ConfigError, InfrastructureError } from '../../errors.ts';
import { silentLogger } from '../../logger.ts';
import type { StorageProvider } from '../../storage/StorageProvider.ts';
import { createJsonRpc } from '../../chain/jsonRpc.ts';
import { createRelayPreflight, RELAY_ERRORS_ABI, type RelayPreflight } from '../../chain/relayPreflight.ts';
import type { RelayerPool } from '../../chain/relayerPool.ts';
import { rpcHttp } from '../../chain/rpcTransport.ts';
import { errorBody } from './apiBodies.ts';
import { createPersonalServerClient } from './personalServerClient.ts';
import { RELAY_DEDUP_MS, registerRelayRoutes } from './relayRoutes.ts';
import { createRelaySignerRecovery } from './relaySignerRecovery.ts';
import { registerTrustedServerRoutes } from './trustedServerRoutes.ts';

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

export { RELAY_DEDUP_MS } from './relayRoutes.ts';
export type { TrustedServerResponse } from './apiBodies.ts';


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

  registerRelayRoutes(app, { chainId, permissionsAddress, relayerPool, relayResponse, grantStorage, preflight, signerRecovery, chain, log });
  registerTrustedServerRoutes(app, { chainId, appAccount, personalServer, psBase, personalServerTimeoutMs });

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
