/**
 * The transport of every RPC client vana-load reads a chain with: viem's `http`, with reads that a
 * new block overtakes on a pruned anvil repeated (stateRaceRetry.ts).
 */
import { http, type HttpTransport, type HttpTransportConfig } from 'viem';
import { withStateRaceRetry } from './stateRaceRetry.ts';

/**
 * @example
 * const client = createPublicClient({ transport: rpcHttp(rpcUrl, { timeout: 10_000, retryCount: 0 }) });
 */
export function rpcHttp(url: string, config: HttpTransportConfig = {}): HttpTransport {
  return withStateRaceRetry(http(url, config));
}
