/**
 * The on-chain reads of the personal server (PROTOCOL.md 2, 3, 5): the permission, its grantee's
 * address, each file's URL and the file key wrapped for the server. Contract addresses are
 * discovered from the Permissions contract's address views, as against a remote chain.
 *
 * Only values that cannot change are cached: a grantee id always names the same address. A
 * permission can be revoked and a file key re-set, so those are read every time: a cache there
 * could hide exactly the failure a load test is looking for.
 */
import { createPublicClient, isAddressEqual, zeroAddress, type Address, type PublicClient } from 'viem';
import type { Logger } from 'pino';
import { InfrastructureError } from '../../errors.ts';
import { silentLogger } from '../../logger.ts';
import { dataPortabilityGranteesAbi, dataPortabilityPermissionsAbi, dataRegistryAbi } from '../../protocol/abis.ts';
import { createLruCache } from './lruCache.ts';
import { rpcHttp } from '../../chain/rpcTransport.ts';

/** `permissions(id)` (PermissionInfo of PROTOCOL.md 2.1). */
export interface PermissionInfo {
  id: bigint;
  grantor: Address;
  nonce: bigint;
  granteeId: bigint;
  /** URL of the grant file. */
  grant: string;
  startBlock: bigint;
  endBlock: bigint;
  fileIds: readonly bigint[];
}

export interface ChainReader {
  readonly addresses: { permissions: Address; dataRegistry: Address; grantees: Address };
  /** The permission, or undefined when no permission has this id. */
  permission(permissionId: bigint): Promise<PermissionInfo | undefined>;
  /** The grantee's address, or undefined when no grantee has this id. Cached. */
  granteeAddress(granteeId: bigint): Promise<Address | undefined>;
  /** `files(fileId).url`; undefined when no file has this id. */
  fileUrl(fileId: bigint): Promise<string | undefined>;
  /** `filePermissions(fileId, account)`: the ECIES-wrapped key hex, `''` when none was granted. */
  fileKey(fileId: bigint, account: Address): Promise<string>;
}

export interface CreateChainReaderParameters {
  rpcUrl: string;
  permissionsAddress: Address;
  /** Per-call RPC timeout, ms. Default 10_000. */
  timeoutMs?: number;
  logger?: Logger;
}

/**
 * Connects to the chain and discovers the DataRegistry and Grantees addresses. Throws an
 * `InfrastructureError` when the RPC cannot be reached or the address is no Permissions contract.
 *
 * @example
 * const chain = await createChainReader({ rpcUrl, permissionsAddress });
 * const permission = await chain.permission(1n);
 */
export async function createChainReader({
  rpcUrl,
  permissionsAddress,
  timeoutMs = 10_000,
  logger = silentLogger(),
}: CreateChainReaderParameters): Promise<ChainReader> {
  const client: PublicClient = createPublicClient({ transport: rpcHttp(rpcUrl, { timeout: timeoutMs, retryCount: 0 }) });
  const permissionsContract = { address: permissionsAddress, abi: dataPortabilityPermissionsAbi } as const;

  let dataRegistry: Address;
  let grantees: Address;
  try {
    [dataRegistry, grantees] = await Promise.all([
      client.readContract({ ...permissionsContract, functionName: 'dataRegistry' }),
      client.readContract({ ...permissionsContract, functionName: 'dataPortabilityGrantees' }),
    ]);
  } catch (cause) {
    throw new InfrastructureError('Could not discover contract addresses from the Permissions contract', {
      code: 'PERSONAL_SERVER_DISCOVERY_FAILED',
      metaMessages: [`rpc: ${rpcUrl}`, `permissions: ${permissionsAddress}`],
      cause,
    });
  }
  logger.debug({ dataRegistry, grantees }, 'contracts discovered');

  const granteeCache = createLruCache<bigint, Address>(1_000);

  return {
    addresses: { permissions: permissionsAddress, dataRegistry, grantees },

    async permission(permissionId) {
      const p = await client.readContract({ ...permissionsContract, functionName: 'permissions', args: [permissionId] });
      // A missing permission reads as the zero struct.
      if (p.id === 0n || isAddressEqual(p.grantor, zeroAddress)) return undefined;
      return {
        id: p.id,
        grantor: p.grantor,
        nonce: p.nonce,
        granteeId: p.granteeId,
        grant: p.grant,
        startBlock: p.startBlock,
        endBlock: p.endBlock,
        fileIds: p.fileIds,
      };
    },

    async granteeAddress(granteeId) {
      const cached = granteeCache.get(granteeId);
      if (cached) return cached;
      // `grantees(id)`, as the real personal server reads it. Its answer carries every permission id
      // of the grantee and grows with each flow: hence the cache (an id never changes address).
      const info = await client.readContract({ address: grantees, abi: dataPortabilityGranteesAbi, functionName: 'grantees', args: [granteeId] });
      if (isAddressEqual(info.granteeAddress, zeroAddress)) return undefined;
      granteeCache.set(granteeId, info.granteeAddress);
      return info.granteeAddress;
    },

    async fileUrl(fileId) {
      const file = await client.readContract({ address: dataRegistry, abi: dataRegistryAbi, functionName: 'files', args: [fileId] });
      return file.id === 0n ? undefined : file.url;
    },

    async fileKey(fileId, account) {
      return await client.readContract({ address: dataRegistry, abi: dataRegistryAbi, functionName: 'filePermissions', args: [fileId, account] });
    },
  };
}
