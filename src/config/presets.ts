/**
 * Named presets: partial overrides applied on top of the defaults and below `.env`, the
 * environment and flags (ARCHITECTURE.md 8). Values are typed config values (ms, bytes), and a
 * test proves each one is inside its field's accepted range.
 */
import { parseEther, parseGwei } from 'viem';
import type { ConfigGroup, VanaLoadConfig } from './schema.ts';
import type { PresetName } from './presetNames.ts';


/** A partial config: any group, any subset of its fields. */
export type ConfigOverrides = { readonly [G in ConfigGroup]?: Partial<VanaLoadConfig[G]> };

/** The presets, by name. */
export const PRESETS: Readonly<Record<PresetName, ConfigOverrides>> = {
  // Find the breaking point quickly. Short timeouts turn saturation into counted timeouts
  // instead of hiding it in queues; few, quick retries keep retries from multiplying the load
  // (a retry storm) and from masking the real failure rate; a short breaker window reacts within
  // seconds. Meant for the local stack or a stack we own, not a shared testnet.
  burst: {
    load: { users: 500, concurrency: 500, rate: 50, maxInFlight: 1_000, staggerStartMs: 0 },
    timeouts: { httpMs: 10_000, confirmMs: 30_000, inferenceMs: 60_000, pollIntervalMs: 500, flowMs: 120_000 },
    retry: { maxAttempts: 2, baseDelayMs: 200, maxDelayMs: 2_000 },
    breaker: { windowMs: 10_000, halfOpenAfterMs: 5_000 },
  },
  // Gentle on shared infrastructure (Moksha's public RPC, the hosted personal server): a handful
  // of users spread over a minute, slow polling, timeouts long enough for slow blocks and queued
  // inference, and patient retries so a transient 429 or RPC hiccup does not fail the run.
  conservative: {
    load: { users: 5, concurrency: 5, rate: 0.2, maxInFlight: 10, staggerStartMs: 60_000 },
    timeouts: { httpMs: 60_000, confirmMs: 300_000, inferenceMs: 600_000, pollIntervalMs: 3_000, flowMs: 900_000 },
    retry: { maxAttempts: 6, baseDelayMs: 2_000, maxDelayMs: 60_000 },
    breaker: { failureRateThreshold: 0.8, halfOpenAfterMs: 60_000 },
  },
  // Vana's Moksha testnet (chain 14800) as the SDK configures it (vana-sdk config/addresses.ts,
  // default-services.ts at 92133bc): its RPC, Permissions contract and hosted personal server.
  // Relays with the user's own keys and asks the personal server directly, as an app built on the
  // SDK does; stores files on S3. Gentle (5 users over a minute), with a fee cap and a spend cap.
  // The secrets stay in .env: VANA_MNEMONIC, VANA_RELAYER_PRIVATE_KEYS, VANA_APP_PRIVATE_KEY (the
  // registered grantee's key), the S3 bucket and keys (README, "Remote target").
  moksha: {
    target: { kind: 'remote' },
    chain: { chainId: 14_800, rpcUrls: ['https://rpc.moksha.vana.org'], maxFeePerGasWei: parseGwei('100') },
    contracts: { permissionsAddress: '0xD54523048AdD05b4d734aFaE7C68324Ebb7373eF' },
    services: { personalServerUrl: 'https://test.server.vana.com/api/v1' },
    relay: { mode: 'keys' },
    inference: { mode: 'personal-server' },
    storage: { provider: 's3' },
    wallets: { maxSpendWei: parseEther('0.5') },
    load: { users: 5, concurrency: 5, rate: 0.05, maxInFlight: 5, staggerStartMs: 60_000 },
    timeouts: { httpMs: 60_000, confirmMs: 300_000, inferenceMs: 600_000, pollIntervalMs: 3_000, flowMs: 900_000 },
    retry: { maxAttempts: 6, baseDelayMs: 2_000, maxDelayMs: 60_000 },
    breaker: { failureRateThreshold: 0.8, halfOpenAfterMs: 60_000 },
  },
  // One user, one flow, every log line: to see a single flow step by step. No retries, so the
  // first error shows as it happened rather than after a backoff.
  debug: {
    load: { model: 'closed', users: 1, concurrency: 1, iterations: 1, maxInFlight: 1, staggerStartMs: 0 },
    retry: { maxAttempts: 1 },
    log: { level: 'debug' },
  },
};
