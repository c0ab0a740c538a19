/**
 * After a relay asked more than once: the permission an earlier attempt put on chain, if any.
 *
 * The client repeats `/api/relay` after a timeout, and the first request may have been submitted
 * all the same. Our API server answers a repeat with the first hash; a relayer that does not
 * submits it again, and the repeat fails (InvalidNonce: refused by its simulation, or reverted)
 * although the user's permission landed. Such a flow succeeded: its permission is found by the
 * `PermissionAdded` of this user and grantee whose grant is the flow's own grant URL (unique per
 * flow), among the last `lookbackBlocks` blocks.
 */
import type { Address, Hash, PublicClient } from 'viem';
import { dataPortabilityPermissionsAbi } from '../../protocol/abis.ts';

export interface LandedPermissionQuery {
  publicClient: PublicClient;
  permissionsAddress: Address;
  user: Address;
  granteeId: bigint;
  /** The grant URL the flow signed. */
  grant: string;
  /** Default 2048: more than a flow's deadline at 0.2 s blocks, and within the log ranges RPC providers allow. */
  lookbackBlocks?: bigint;
}

/** The hash of the transaction that added the flow's permission, or undefined when none did. */
export async function findLandedPermission({ publicClient, permissionsAddress, user, granteeId, grant, lookbackBlocks = 2_048n }: LandedPermissionQuery): Promise<Hash | undefined> {
  const head = await publicClient.getBlockNumber({ cacheTime: 0 });
  const events = await publicClient.getContractEvents({
    address: permissionsAddress,
    abi: dataPortabilityPermissionsAbi,
    eventName: 'PermissionAdded',
    args: { user, granteeId },
    fromBlock: head > lookbackBlocks ? head - lookbackBlocks : 0n,
    toBlock: head,
  });
  return events.find((e) => e.args.grant === grant)?.transactionHash ?? undefined;
}
