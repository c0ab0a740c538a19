/**
 * The local stack's options from the validated config (`stack.*`, the block time), for a stack
 * process the harness spawns and for `vana-load stack` alike.
 */
import type { VanaLoadConfig } from '../config/schema.ts';
import type { StackProcessOptions } from './stackProcess.ts';

/**
 * @example
 * const stack = await ensureStack({ stack: stackOptionsFromConfig(config) });
 */
export function stackOptionsFromConfig(config: Pick<VanaLoadConfig, 'chain' | 'stack' | 'timeouts' | 'load' | 'contracts'>): StackProcessOptions {
  const s = config.stack;
  return {
    blockTime: config.chain.blockTimeSeconds,
    blockGasLimit: s.blockGasLimit,
    stateRoot: s.stateRoot,
    chainId: s.chainId,
    storage: s.storage,
    relayResponse: s.relayResponse,
    relayerCount: s.relayerCount,
    ...(s.relayerPrivateKeys.length > 0 ? { relayerKeys: s.relayerPrivateKeys } : {}),
    ...(s.appPrivateKey !== undefined ? { appKey: s.appPrivateKey } : {}),
    ...(s.forkUrl !== undefined ? { forkUrl: s.forkUrl } : {}),
    ...(s.forkUrl !== undefined && config.contracts.permissionsAddress !== undefined ? { forkPermissionsAddress: config.contracts.permissionsAddress } : {}),
    maxUploadBytes: s.maxUploadBytes,
    personalServerRateLimit: s.rateLimit,
    backend:
      s.inferenceBackend === 'openai'
        ? { kind: 'openai', baseUrl: s.openaiBaseUrl, model: s.openaiModel, timeoutMs: config.timeouts.inferenceMs, ...(s.openaiApiKey ? { apiKey: s.openaiApiKey } : {}) }
        : {
            kind: 'sim',
            latency: { p50Ms: s.simLatencyP50Ms, p95Ms: s.simLatencyP95Ms },
            failureRate: s.simFailureRate,
            rateLimited429Rate: s.sim429Rate,
            // --seed seeds the simulated latencies and errors of a stack this run spawns.
            ...(config.load.seed !== undefined ? { seed: config.load.seed } : {}),
          },
  };
}
