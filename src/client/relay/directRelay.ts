/**
 * `direct` relay mode: the user's own wallet submits `addServerFilesAndPermissions` and pays gas,
 * so it must be funded (the funding worker keeps wallets ready in streaming runs).
 */
import { createWalletClient, custom, type Address, type PublicClient } from 'viem';
import { dataPortabilityPermissionsAbi } from '../../protocol/abis.ts';
import { normalizeSignatureV } from '../../protocol/signature.ts';
import type { FlowRelay } from './flowRelay.ts';

export interface CreateDirectRelayParameters {
  publicClient: PublicClient;
  permissionsAddress: Address;
}

/**
 * @example
 * const relay = createDirectRelay({ publicClient, permissionsAddress });
 */
export function createDirectRelay({ publicClient, permissionsAddress }: CreateDirectRelayParameters): FlowRelay {
  // One transport over the run's client (its RPC fallback and state-race retry included).
  const transport = custom({ request: (args) => publicClient.request(args as never) });
  return {
    mode: 'direct',
    retryable: false,
    async submit(request, { account }) {
      const wallet = createWalletClient({ account, transport });
      const hash = await wallet.writeContract({
        chain: null,
        address: permissionsAddress,
        abi: dataPortabilityPermissionsAbi,
        functionName: 'addServerFilesAndPermissions',
        args: [request.typedData.message, normalizeSignatureV(request.signature)],
      });
      return { kind: 'submitted', hash };
    },
    awaitOperation: () => Promise.reject(new Error('direct relay has no pending operations')),
    close: async () => {},
  };
}
