/**
 * MS-06 on a remote target: the endpoints of each boundary come from the config (.env), and the
 * run's config is rewritten to reach them through the fault proxies. Only the harness's own
 * requests cross the proxies: the remote services' calls to each other (an API server to its
 * personal server, a personal server to storage) are out of reach.
 */
import type { VanaLoadConfig } from '../../config/schema.ts';
import type { Boundary } from '../../faults/faultSpec.ts';
import type { BoundaryTargets } from '../../faults/startBoundaryProxies.ts';

/**
 * The remote endpoints by boundary: every RPC URL; the API URL and, when set apart, the relayer
 * URL; the storage service's URL (provider local); the personal server's URL.
 *
 * @example
 * remoteTargets(config); // { rpc: ['https://rpc.moksha.vana.org'], personal_server: ['https://test.server.vana.com'], … }
 */
export function remoteTargets(config: Readonly<VanaLoadConfig>): BoundaryTargets {
  const api = [config.services.apiUrl, config.relay.url].filter((url): url is string => url !== undefined);
  return {
    rpc: config.chain.rpcUrls,
    ...(api.length > 0 ? { api } : {}),
    ...(config.storage.provider === 'local' && config.storage.url !== undefined ? { storage: [config.storage.url] } : {}),
    ...(config.services.personalServerUrl !== undefined ? { personal_server: [config.services.personalServerUrl] } : {}),
  };
}

/**
 * The config with each proxied endpoint replaced by its proxy's URL (a proxy maps its `/` to the
 * target's path, so a path such as an RPC key stays behind the proxy).
 *
 * @example
 * const runConfig = withProxiedEndpoints(config, proxies.urls);
 */
export function withProxiedEndpoints(config: Readonly<VanaLoadConfig>, urls: Partial<Record<Boundary, readonly string[]>>): Readonly<VanaLoadConfig> {
  const api = urls.api ?? [];
  // remoteTargets put the API URL first when there is one, then the relayer URL.
  const apiIndex = config.services.apiUrl !== undefined ? 0 : undefined;
  const relayIndex = config.relay.url !== undefined ? (apiIndex === undefined ? 0 : 1) : undefined;
  return {
    ...config,
    chain: { ...config.chain, rpcUrls: urls.rpc ?? config.chain.rpcUrls },
    services: {
      ...config.services,
      ...(apiIndex !== undefined && api[apiIndex] !== undefined ? { apiUrl: api[apiIndex] } : {}),
      ...(urls.personal_server?.[0] !== undefined ? { personalServerUrl: urls.personal_server[0] } : {}),
    },
    relay: { ...config.relay, ...(relayIndex !== undefined && api[relayIndex] !== undefined ? { url: api[relayIndex] } : {}) },
    storage: { ...config.storage, ...(urls.storage?.[0] !== undefined ? { url: urls.storage[0] } : {}) },
  };
}
