/**
 * `keys` relay mode: the harness relays itself, with the relayer keys the user gives it
 * (`VANA_RELAYER_PRIVATE_KEYS`), through a relayer pool on the run's RPC, as the original load
 * test did in process. The calldata is exactly what a relayer built on the SDK sends.
 */
import { encodeFunctionData, type Address } from 'viem';
import type { RelayPreflight } from '../../chain/relayPreflight.ts';
import type { RelayerPool } from '../../chain/relayerPool.ts';
import { dataPortabilityPermissionsAbi } from '../../protocol/abis.ts';
import { normalizeSignatureV } from '../../protocol/signature.ts';
import type { FlowRelay } from './flowRelay.ts';

export interface CreateKeysRelayParameters {
  pool: RelayerPool;
  permissionsAddress: Address;
  /** Refuses what would revert before the user's keys pay for it (src/chain/relayPreflight.ts). */
  preflight: RelayPreflight;
}

/**
 * @example
 * const relay = createKeysRelay({ pool, permissionsAddress });
 * const { hash } = await relay.submit(request, { account, signal });
 */
export function createKeysRelay({ pool, permissionsAddress, preflight }: CreateKeysRelayParameters): FlowRelay {
  return {
    mode: 'keys',
    retryable: false,
    async submit(request, { account }) {
      const { message } = request.typedData;
      const signature = normalizeSignatureV(request.signature);
      const data = encodeFunctionData({ abi: dataPortabilityPermissionsAbi, functionName: 'addServerFilesAndPermissions', args: [message, signature] });
      // The harness signed as `account` itself: no recovery needed to know the signer.
      const pass = await preflight.check({ signer: account.address, nonce: message.nonce, fileUrls: message.fileUrls, signature, data });
      const submitted = pool.submit({ to: permissionsAddress, data, abi: dataPortabilityPermissionsAbi });
      pass.track(submitted);
      return { kind: 'submitted', hash: (await submitted).hash };
    },
    awaitOperation: () => Promise.reject(new Error('keys relay has no pending operations')),
    close: () => pool.stop(),
  };
}
