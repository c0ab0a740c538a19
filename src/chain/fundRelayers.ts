/**
 * Tops up relayer accounts from a funder on a chain we control (the local stack, a test chain).
 */
import { createPublicClient, formatEther, parseEther, type Address, type Hex, type LocalAccount } from 'viem';
import type { Logger } from 'pino';
import { silentLogger } from '../logger.ts';
import { rpcHttp } from './rpcTransport.ts';

export interface FundRelayersParameters {
  rpcUrl: string;
  chainId: number;
  /** Local funder account (the deployer on the local stack). */
  funder: LocalAccount;
  relayers: readonly Address[];
  /** Each relayer below this balance is topped up to it. Default 100 ETH. */
  balance?: bigint;
  logger?: Logger;
}

/**
 * Tops up relayers from a funder so each holds at least `balance`, and waits until the transfers
 * are mined. Returns the hashes of the transfers it sent (none when all were funded already).
 *
 * @example
 * await fundRelayers({ rpcUrl, chainId, funder: deployerAccount(), relayers: pool.addresses });
 */
export async function fundRelayers({
  rpcUrl,
  chainId,
  funder,
  relayers,
  balance = parseEther('100'),
  logger = silentLogger(),
}: FundRelayersParameters): Promise<Hex[]> {
  const client = createPublicClient({ transport: rpcHttp(rpcUrl, { retryCount: 0 }) });
  const balances = await Promise.all(relayers.map((address) => client.getBalance({ address })));
  const needy = relayers.flatMap((address, i) => (balances[i]! < balance ? [{ address, value: balance - balances[i]! }] : []));
  if (needy.length === 0) return [];
  let nonce = Number(await client.request({ method: 'eth_getTransactionCount', params: [funder.address, 'pending'] }));
  const block = await client.getBlock();
  const maxPriorityFeePerGas = 1_000_000_000n;
  const maxFeePerGas = (block.baseFeePerGas ?? 0n) * 2n + maxPriorityFeePerGas;
  const hashes: Hex[] = [];
  for (const { address, value } of needy) {
    const raw = await funder.signTransaction({ type: 'eip1559', chainId, nonce: nonce++, to: address, value, gas: 21_000n, maxFeePerGas, maxPriorityFeePerGas });
    hashes.push(await client.request({ method: 'eth_sendRawTransaction', params: [raw] }));
  }
  await Promise.all(hashes.map((hash) => client.waitForTransactionReceipt({ hash, pollingInterval: 100 })));
  logger.child({ module: 'relayerPool' }).info({ funded: needy.map((n) => ({ address: n.address, eth: formatEther(n.value) })) }, 'relayers funded');
  return hashes;
}

