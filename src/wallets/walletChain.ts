/**
 * The chain as wallet funding, validation and sweeping see it: one checked JSON-RPC client, the
 * mainnet guard, fees, and amounts printed in the chain's native unit.
 */
import { createPublicClient, formatEther, type PublicClient } from 'viem';
import { isKnownMainnet, KNOWN_MAINNETS } from '../config/isKnownMainnet.ts';
import { ConfigError, InfrastructureError } from '../errors.ts';
import { rpcHttp } from '../chain/rpcTransport.ts';

export interface ConnectWalletChainParameters {
  rpcUrl: string;
  /** The chain the caller expects; the RPC must report the same. */
  chainId: number;
  /** Whether the caller sends transactions: then a known mainnet is refused unless allowed. */
  sends: boolean;
  allowMainnet?: boolean;
  /** Timeout of one JSON-RPC request, ms. Default 30_000. */
  timeoutMs?: number;
  /** How often receipts and blocks are polled, ms. Default 100 (the local chain mines every 200 ms). */
  pollingIntervalMs?: number;
}

/** JSON-RPC requests made in the same tick go out as one HTTP batch of at most this many. */
const RPC_BATCH_SIZE = 500;

/**
 * A public client for `rpcUrl` after checking, in this order: that a sending caller does not
 * target a known mainnet (before any request), that the RPC answers, and that it serves
 * `chainId`. Requests made together are batched, so 1000 `getBalance` calls are two HTTP requests.
 *
 * @example
 * const client = await connectWalletChain({ rpcUrl, chainId: 31337, sends: true });
 */
export async function connectWalletChain({
  rpcUrl,
  chainId,
  sends,
  allowMainnet = false,
  timeoutMs = 30_000,
  pollingIntervalMs = 100,
}: ConnectWalletChainParameters): Promise<PublicClient> {
  if (sends && !allowMainnet) refuseMainnet(chainId);
  const client = createPublicClient({
    pollingInterval: pollingIntervalMs,
    transport: rpcHttp(rpcUrl, { batch: { batchSize: RPC_BATCH_SIZE }, retryCount: 0, timeout: timeoutMs }),
  });
  const actual = await requestChainId(client, rpcUrl);
  if (actual !== chainId) {
    throw new ConfigError(`Expected chain id ${chainId} at ${rpcUrl}, got ${actual}`, { code: 'CHAIN_ID_MISMATCH' });
  }
  return client;
}

/**
 * The chain id `rpcUrl` serves; an `InfrastructureError` (RPC_UNREACHABLE) when it does not answer.
 *
 * @example
 * await readChainId('http://127.0.0.1:8545'); // 31337
 */
export async function readChainId(rpcUrl: string, timeoutMs = 30_000): Promise<number> {
  return await requestChainId(createPublicClient({ transport: rpcHttp(rpcUrl, { retryCount: 0, timeout: timeoutMs }) }), rpcUrl);
}

async function requestChainId(client: PublicClient, rpcUrl: string): Promise<number> {
  try {
    return await client.getChainId();
  } catch (cause) {
    throw new InfrastructureError(`Could not reach the chain at ${rpcUrl}`, { code: 'RPC_UNREACHABLE', cause });
  }
}

/** Throws the `--allow-mainnet` refusal for a known mainnet chain id. */
export function refuseMainnet(chainId: number): void {
  if (!isKnownMainnet(chainId)) return;
  throw new ConfigError(`Refusing to send transactions on chain ${chainId} (${KNOWN_MAINNETS[chainId]}): they spend real money`, {
    code: 'MAINNET_REFUSED',
    metaMessages: ['fix: pass --allow-mainnet (VANA_ALLOW_MAINNET=true) if you mean it'],
  });
}

export interface FeesPerGas {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

/**
 * EIP-1559 fees for transactions sent now: twice the latest base fee plus the node's suggested tip,
 * so a transaction stays includable through ~6 full blocks of rising base fee.
 */
export async function feesPerGas(client: PublicClient): Promise<FeesPerGas> {
  const [block, maxPriorityFeePerGas] = await Promise.all([client.getBlock(), client.estimateMaxPriorityFeePerGas()]);
  return { maxFeePerGas: (block.baseFeePerGas ?? 0n) * 2n + maxPriorityFeePerGas, maxPriorityFeePerGas };
}

/**
 * `feesPerGas` re-read at most every `refreshMs`; a failed read is not cached.
 *
 * @example
 * const fees = cachedFeesPerGas(client, 1_000);
 * const { maxFeePerGas } = await fees();
 */
export function cachedFeesPerGas(client: PublicClient, refreshMs: number): () => Promise<FeesPerGas> {
  let cached: { at: number; fees: Promise<FeesPerGas> } | undefined;
  return () => {
    if (!cached || Date.now() - cached.at > refreshMs) {
      const pending = feesPerGas(client);
      cached = { at: Date.now(), fees: pending };
      pending.catch(() => {
        if (cached?.fees === pending) cached = undefined;
      });
    }
    return cached.fees;
  };
}

/** `10.5 VANA` on Vana chains, `10.5 ETH` elsewhere. */
export function formatNative(wei: bigint, chainId: number): string {
  return `${formatEther(wei)} ${chainId === 1480 || chainId === 14800 ? 'VANA' : 'ETH'}`;
}
