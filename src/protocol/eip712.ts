/**
 * The EIP-712 domain and types of `DataPortabilityPermissions.addServerFilesAndPermissions`
 * (PROTOCOL.md 2.3). The field order is part of the type hash: changing it makes every signature
 * fail on chain with `InvalidSignature`, so a test pins the type hash to the contract's constant.
 */
import type { Address, TypedDataDomain } from 'viem';

/** EIP-712 domain name of the Permissions contract. */
export const PERMISSIONS_DOMAIN_NAME = 'VanaDataPortabilityPermissions';
/** EIP-712 domain version of the Permissions contract. */
export const PERMISSIONS_DOMAIN_VERSION = '1';

/**
 * The EIP-712 domain of the Permissions contract: name, version, chainId, verifyingContract, no salt.
 *
 * @param chainId - Chain the contract lives on (14800 for Moksha, 31337 for the local anvil).
 * @param verifyingContract - The Permissions proxy address.
 * @returns The domain to pass to viem's `signTypedData` / `recoverTypedDataAddress`.
 *
 * @example
 * const domain = permissionsDomain(14800, '0xD54523048AdD05b4d734aFaE7C68324Ebb7373eF');
 */
export function permissionsDomain(chainId: number, verifyingContract: Address): PermissionsDomain {
  return { name: PERMISSIONS_DOMAIN_NAME, version: PERMISSIONS_DOMAIN_VERSION, chainId, verifyingContract };
}

/** The Permissions EIP-712 domain, with every field present. */
export interface PermissionsDomain extends TypedDataDomain {
  name: typeof PERMISSIONS_DOMAIN_NAME;
  version: typeof PERMISSIONS_DOMAIN_VERSION;
  chainId: number;
  verifyingContract: Address;
}

/**
 * EIP-712 types for primaryType `ServerFilesAndPermission`, in the contract's field order.
 * No `EIP712Domain` entry: viem derives it from the domain, and relay requests carry none
 * (PROTOCOL.md 8).
 */
export const serverFilesAndPermissionTypes = {
  ServerFilesAndPermission: [
    { name: 'nonce', type: 'uint256' },
    { name: 'granteeId', type: 'uint256' },
    { name: 'grant', type: 'string' },
    { name: 'fileUrls', type: 'string[]' },
    { name: 'schemaIds', type: 'uint256[]' },
    { name: 'serverAddress', type: 'address' },
    { name: 'serverUrl', type: 'string' },
    { name: 'serverPublicKey', type: 'string' },
    { name: 'filePermissions', type: 'Permission[][]' },
  ],
  Permission: [
    { name: 'account', type: 'address' },
    { name: 'key', type: 'string' },
  ],
} as const;

/** One entry of `filePermissions[i]`: who may read file i and its ECIES-wrapped key. */
export interface FilePermission {
  account: Address;
  /** The file key ECIES-encrypted to `account`'s public key, lowercase hex without 0x. */
  key: string;
}

/** The `ServerFilesAndPermission` message, with the bigint uint256 values viem expects. */
export interface ServerFilesAndPermissionMessage {
  /** Must equal `Permissions.userNonce(signer)`. */
  nonce: bigint;
  granteeId: bigint;
  /** URL of the grant file (PROTOCOL.md 7). */
  grant: string;
  fileUrls: readonly string[];
  /** One per file URL; 0 means no schema. */
  schemaIds: readonly bigint[];
  serverAddress: Address;
  serverUrl: string;
  serverPublicKey: string;
  /** One list per file URL. */
  filePermissions: readonly (readonly FilePermission[])[];
}

/** `encodeType` of `ServerFilesAndPermission`, as the contract's constant spells it. */
export const SERVER_FILES_AND_PERMISSION_TYPE_STRING =
  'ServerFilesAndPermission(uint256 nonce,uint256 granteeId,string grant,string[] fileUrls,uint256[] schemaIds,address serverAddress,string serverUrl,string serverPublicKey,Permission[][] filePermissions)Permission(address account,string key)';

/** keccak256 of {@link SERVER_FILES_AND_PERMISSION_TYPE_STRING}, the contract's `SERVER_FILES_AND_PERMISSION_TYPEHASH`. */
export const SERVER_FILES_AND_PERMISSION_TYPEHASH = '0xaadba5e5d798a00ee9890b1a8838ff5ef09b769bea8b22ad4e0e9c8ff6a12e41';
