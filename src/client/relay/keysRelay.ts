/**
 * `keys` relay mode: the harness relays itself, with the relayer keys the user gives it
 * (`VANA_RELAYER_PRIVATE_KEYS`), through a relayer pool on the run's RPC, as the original load
 * test did in process. The calldata is exactly what a relayer built on the SDK sends.
 */
import { encodeFunctionData, type Address } from 'viem';
import type { RelayerPool } from '../../chain/relayerPool.ts';
import { dataPortabilityPermissionsAbi } from '../../protocol/abis.ts';
import { normalizeSignatureV } from '../../protocol/signature.ts';
import type { FlowRelay } from './flowRelay.ts';

export interface CreateKeysRelayParameters {
  pool: RelayerPool;
  permissionsAddress: Address;
}

/**
 * @example
 * const relay = createKeysRelay({ pool, permissionsAddress });
 * const { hash } = await relay.submit(request, { account, signal });
 */
export function createKeysRelay({ pool, permissionsAddress }: CreateKeysRelayParameters): FlowRelay {
  return {
    mode: 'keys',
    retryable: false,
    async submit(request) {
      const data = encodeFunctionData({
        abi: dataPortabilityPermissionsAbi,
        functionName: 'addServerFilesAndPermissions',
        args: [request.typedData.message, normalizeSignatureV(request.signature)],
      });
      const { hash } = await pool.submit({ to: permissionsAddress, data, abi: dataPortabilityPermissionsAbi });
      return { kind: 'submitted', hash };
    },
    awaitOperation: () => Promise.reject(new Error('keys relay has no pending operations')),
    close: () => pool.stop(),
  };
}
