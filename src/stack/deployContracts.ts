/**
 * Deploys the local stack's contracts from `contracts/artifacts/*.json`, wires their roles, and
 * seeds the grantee. Local chain only: the deployer is a dev account.
 */
import { readFile } from 'node:fs/promises';
import {
  createPublicClient,
  encodeDeployData,
  encodeFunctionData,
  getContractAddress,
  isAddressEqual,
  keccak256,
  parseEventLogs,
  toHex,
  type Abi,
  type Address,
  type Hex,
  type LocalAccount,
  type PublicClient,
} from 'viem';
import type { Logger } from 'pino';
import { InfrastructureError } from '../errors.ts';
import { silentLogger } from '../logger.ts';
import {
  batchFunderAbi,
  dataPortabilityGranteesAbi,
  dataPortabilityPermissionsAbi,
  dataPortabilityServersAbi,
  dataRegistryAbi,
} from '../protocol/abis.ts';
import { rpcHttp } from '../chain/rpcTransport.ts';

/** Addresses of the deployed local contracts (the stack manifest's `contracts`). */
export interface DeployedContracts {
  dataRegistry: Address;
  dataPortabilityServers: Address;
  dataPortabilityGrantees: Address;
  dataPortabilityPermissions: Address;
  batchFunder: Address;
}

export interface DeployContractsParameters {
  rpcUrl: string;
  chainId: number;
  /** Pays for and administers the contracts (DEFAULT_ADMIN_ROLE, MAINTAINER_ROLE on Grantees). */
  deployer: LocalAccount;
  logger?: Logger;
}

export interface RegisterGranteeParameters {
  rpcUrl: string;
  chainId: number;
  /** The DataPortabilityGrantees contract. */
  grantees: Address;
  /** The app: registers itself as owner and grantee, with its uncompressed public key. */
  account: LocalAccount;
  logger?: Logger;
}

/** `keccak256(name)`, the id of an OZ AccessControl role. */
export const roleId = (name: string): Hex => keccak256(toHex(name));

const ARTIFACTS_URL = new URL('../../contracts/artifacts/', import.meta.url);
// Gas estimates of deployments are exact for the constructor; the margin covers nothing but
// rounding. Role grants cannot be estimated before their contract exists, hence a fixed limit
// (one grant writes two slots: ~52k).
const DEPLOY_GAS_MARGIN_PERCENT = 10n;
const GRANT_ROLE_GAS = 120_000n;
const PRIORITY_FEE = 1_000_000_000n;

async function readBytecode(contractName: string): Promise<Hex> {
  const path = new URL(`${contractName}.json`, ARTIFACTS_URL);
  try {
    const artifact = JSON.parse(await readFile(path, 'utf8')) as { bytecode?: unknown };
    if (typeof artifact.bytecode !== 'string' || !/^0x[0-9a-f]+$/.test(artifact.bytecode)) throw new Error('no bytecode');
    return artifact.bytecode as Hex;
  } catch (cause) {
    throw new InfrastructureError(`Could not read the ${contractName} artifact`, {
      code: 'CONTRACT_ARTIFACT_INVALID',
      metaMessages: [`path: ${path.pathname}`, 'fix: npm run contracts'],
      cause,
    });
  }
}

async function checkChainId(client: PublicClient, rpcUrl: string, chainId: number): Promise<void> {
  let actual: number;
  try {
    actual = await client.getChainId();
  } catch (cause) {
    throw new InfrastructureError(`Could not reach the chain at ${rpcUrl}`, { code: 'RPC_UNREACHABLE', cause });
  }
  if (actual !== chainId) {
    throw new InfrastructureError(`Expected chain id ${chainId} at ${rpcUrl}, got ${actual}`, { code: 'CHAIN_ID_MISMATCH' });
  }
}

interface PlannedTx {
  label: string;
  to?: Address;
  data: Hex;
  gas: bigint;
  /** For a deployment: the address it must create. */
  creates?: Address;
}

/**
 * Deploys DataRegistry, DataPortabilityServers, DataPortabilityGrantees,
 * DataPortabilityPermissions and BatchFunder, then gives Permissions DATA_PORTABILITY_ROLE on
 * DataRegistry and PERMISSION_MANAGER_ROLE on Servers and Grantees. All eight transactions are
 * signed locally with consecutive nonces and sent back to back (Permissions' constructor takes
 * the predicted addresses of the others), then awaited together.
 *
 * @example
 * const contracts = await deployContracts({ rpcUrl: anvil.rpcUrl, chainId: anvil.chainId, deployer: deployerAccount() });
 */
export async function deployContracts({
  rpcUrl,
  chainId,
  deployer,
  logger = silentLogger(),
}: DeployContractsParameters): Promise<DeployedContracts> {
  const t0 = performance.now();
  const client = createPublicClient({ transport: rpcHttp(rpcUrl, { retryCount: 0 }) });
  await checkChainId(client, rpcUrl, chainId);

  const [bytecodes, startNonce, block] = await Promise.all([
    Promise.all(
      ['DataRegistry', 'DataPortabilityServers', 'DataPortabilityGrantees', 'DataPortabilityPermissions', 'BatchFunder'].map(readBytecode),
    ),
    client.getTransactionCount({ address: deployer.address, blockTag: 'pending' }),
    client.getBlock(),
  ]);
  const [registryCode, serversCode, granteesCode, permissionsCode, funderCode] = bytecodes as [Hex, Hex, Hex, Hex, Hex];
  const at = (offset: number): Address => getContractAddress({ from: deployer.address, nonce: BigInt(startNonce + offset) });
  const contracts: DeployedContracts = {
    dataRegistry: at(0),
    dataPortabilityServers: at(1),
    dataPortabilityGrantees: at(2),
    dataPortabilityPermissions: at(3),
    batchFunder: at(4),
  };

  const deployments: Array<{ label: string; abi: Abi; bytecode: Hex; args: readonly unknown[]; creates: Address }> = [
    { label: 'DataRegistry', abi: dataRegistryAbi, bytecode: registryCode, args: [deployer.address], creates: contracts.dataRegistry },
    { label: 'DataPortabilityServers', abi: dataPortabilityServersAbi, bytecode: serversCode, args: [deployer.address], creates: contracts.dataPortabilityServers },
    { label: 'DataPortabilityGrantees', abi: dataPortabilityGranteesAbi, bytecode: granteesCode, args: [deployer.address], creates: contracts.dataPortabilityGrantees },
    {
      label: 'DataPortabilityPermissions',
      abi: dataPortabilityPermissionsAbi,
      bytecode: permissionsCode,
      args: [contracts.dataRegistry, contracts.dataPortabilityServers, contracts.dataPortabilityGrantees],
      creates: contracts.dataPortabilityPermissions,
    },
    { label: 'BatchFunder', abi: batchFunderAbi, bytecode: funderCode, args: [], creates: contracts.batchFunder },
  ];
  const deployTxs: PlannedTx[] = await Promise.all(
    deployments.map(async ({ label, abi, bytecode, args, creates }) => {
      const data = encodeDeployData({ abi, bytecode, args });
      const estimate = await client.estimateGas({ account: deployer.address, data });
      return { label, data, gas: estimate + (estimate * DEPLOY_GAS_MARGIN_PERCENT) / 100n, creates };
    }),
  );
  const grant = (label: string, to: Address, role: string): PlannedTx => ({
    label,
    to,
    data: encodeFunctionData({ abi: dataRegistryAbi, functionName: 'grantRole', args: [roleId(role), contracts.dataPortabilityPermissions] }),
    gas: GRANT_ROLE_GAS,
  });
  const txs = [
    ...deployTxs,
    grant('DataRegistry.grantRole(DATA_PORTABILITY_ROLE)', contracts.dataRegistry, 'DATA_PORTABILITY_ROLE'),
    grant('DataPortabilityServers.grantRole(PERMISSION_MANAGER_ROLE)', contracts.dataPortabilityServers, 'PERMISSION_MANAGER_ROLE'),
    grant('DataPortabilityGrantees.grantRole(PERMISSION_MANAGER_ROLE)', contracts.dataPortabilityGrantees, 'PERMISSION_MANAGER_ROLE'),
  ];

  const maxFeePerGas = (block.baseFeePerGas ?? 0n) * 2n + PRIORITY_FEE;
  const hashes: Hex[] = [];
  // Sent one after another (not in parallel) so the node receives the nonces in order.
  for (const [i, tx] of txs.entries()) {
    const raw = await deployer.signTransaction({
      type: 'eip1559',
      chainId,
      nonce: startNonce + i,
      ...(tx.to ? { to: tx.to } : {}),
      data: tx.data,
      gas: tx.gas,
      maxFeePerGas,
      maxPriorityFeePerGas: PRIORITY_FEE,
    });
    hashes.push(await client.sendRawTransaction({ serializedTransaction: raw }));
  }
  const receipts = await Promise.all(hashes.map((hash) => client.waitForTransactionReceipt({ hash, pollingInterval: 50 })));
  for (const [i, receipt] of receipts.entries()) {
    const tx = txs[i]!;
    const wrongAddress = tx.creates && !(receipt.contractAddress && isAddressEqual(receipt.contractAddress, tx.creates));
    if (receipt.status !== 'success' || wrongAddress) {
      throw new InfrastructureError(`Deployment step failed: ${tx.label}`, {
        code: 'CONTRACT_DEPLOY_FAILED',
        metaMessages: [`tx: ${receipt.transactionHash}`, `status: ${receipt.status}`, `gas used: ${receipt.gasUsed} of ${tx.gas}`, `rpc: ${rpcUrl}`],
      });
    }
  }
  logger.child({ module: 'deploy' }).info({ contracts, ms: Math.round(performance.now() - t0) }, 'contracts deployed');
  return contracts;
}

/**
 * Registers `account` as a grantee that owns itself, with its uncompressed public key, and returns
 * the grantee id. Idempotent: an account that is registered already gets its existing id back.
 *
 * @example
 * const granteeId = await registerGrantee({ rpcUrl, chainId, grantees: contracts.dataPortabilityGrantees, account: appAccount() });
 */
export async function registerGrantee({
  rpcUrl,
  chainId,
  grantees,
  account,
  logger = silentLogger(),
}: RegisterGranteeParameters): Promise<bigint> {
  const client = createPublicClient({ transport: rpcHttp(rpcUrl, { retryCount: 0 }) });
  const contract = { address: grantees, abi: dataPortabilityGranteesAbi } as const;
  const existing = await client.readContract({ ...contract, functionName: 'granteeAddressToId', args: [account.address] });
  if (existing !== 0n) return existing;

  const args = [account.address, account.address, account.publicKey] as const;
  // Simulating first turns a revert into a decoded contract error (e.g. EmptyPublicKey).
  await client.simulateContract({ ...contract, account: account.address, functionName: 'registerGrantee', args });
  const data = encodeFunctionData({ abi: dataPortabilityGranteesAbi, functionName: 'registerGrantee', args });
  const [nonce, gas, block] = await Promise.all([
    client.getTransactionCount({ address: account.address, blockTag: 'pending' }),
    client.estimateGas({ account: account.address, to: grantees, data }),
    client.getBlock(),
  ]);
  const raw = await account.signTransaction({
    type: 'eip1559',
    chainId,
    nonce,
    to: grantees,
    data,
    gas,
    maxFeePerGas: (block.baseFeePerGas ?? 0n) * 2n + PRIORITY_FEE,
    maxPriorityFeePerGas: PRIORITY_FEE,
  });
  const hash = await client.sendRawTransaction({ serializedTransaction: raw });
  const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 50 });
  const [event] = parseEventLogs({ abi: dataPortabilityGranteesAbi, eventName: 'GranteeRegistered', logs: receipt.logs });
  if (receipt.status !== 'success' || !event) {
    throw new InfrastructureError('Grantee registration failed', {
      code: 'GRANTEE_REGISTRATION_FAILED',
      metaMessages: [`tx: ${hash}`, `grantee: ${account.address}`, `contract: ${grantees}`],
    });
  }
  logger.child({ module: 'deploy' }).info({ granteeId: event.args.granteeId.toString(), grantee: account.address }, 'grantee registered');
  return event.args.granteeId;
}

/**
 * The addresses of contracts already deployed on a chain (a fork of Moksha, say), read through the
 * Permissions contract's views as the client does, plus a BatchFunder of ours deployed there
 * (direct mode funds user wallets with it). Fails with an `InfrastructureError` when `permissions`
 * is no Permissions contract on that chain.
 *
 * @example
 * const contracts = await discoverContracts({ rpcUrl, chainId, permissions: '0xD545…73eF', deployer: deployerAccount() });
 */
export async function discoverContracts({
  rpcUrl,
  chainId,
  permissions,
  deployer,
  logger = silentLogger(),
}: DeployContractsParameters & { permissions: Address }): Promise<DeployedContracts> {
  const client = createPublicClient({ transport: rpcHttp(rpcUrl, { retryCount: 0 }) });
  await checkChainId(client, rpcUrl, chainId);
  const contract = { address: permissions, abi: dataPortabilityPermissionsAbi } as const;
  let views: [Address, Address, Address];
  try {
    views = await Promise.all([
      client.readContract({ ...contract, functionName: 'dataRegistry' }),
      client.readContract({ ...contract, functionName: 'dataPortabilityServers' }),
      client.readContract({ ...contract, functionName: 'dataPortabilityGrantees' }),
    ]);
  } catch (cause) {
    throw new InfrastructureError(`No DataPortabilityPermissions contract at ${permissions} on chain ${chainId}`, { code: 'CONTRACTS_NOT_FOUND', cause });
  }
  const [bytecode, nonce, block] = await Promise.all([
    readBytecode('BatchFunder'),
    client.getTransactionCount({ address: deployer.address, blockTag: 'pending' }),
    client.getBlock(),
  ]);
  const data = encodeDeployData({ abi: batchFunderAbi, bytecode });
  const estimate = await client.estimateGas({ account: deployer.address, data });
  const raw = await deployer.signTransaction({
    type: 'eip1559',
    chainId,
    nonce,
    data,
    gas: estimate + (estimate * DEPLOY_GAS_MARGIN_PERCENT) / 100n,
    maxFeePerGas: (block.baseFeePerGas ?? 0n) * 2n + PRIORITY_FEE,
    maxPriorityFeePerGas: PRIORITY_FEE,
  });
  const receipt = await client.waitForTransactionReceipt({ hash: await client.sendRawTransaction({ serializedTransaction: raw }), pollingInterval: 50 });
  if (receipt.status !== 'success' || !receipt.contractAddress) {
    throw new InfrastructureError('Deployment step failed: BatchFunder', { code: 'CONTRACT_DEPLOY_FAILED', metaMessages: [`tx: ${receipt.transactionHash}`] });
  }
  const [dataRegistry, dataPortabilityServers, dataPortabilityGrantees] = views;
  const contracts = { dataRegistry, dataPortabilityServers, dataPortabilityGrantees, dataPortabilityPermissions: permissions, batchFunder: receipt.contractAddress };
  logger.child({ module: 'deploy' }).info({ contracts }, 'contracts discovered on the forked chain');
  return contracts;
}
