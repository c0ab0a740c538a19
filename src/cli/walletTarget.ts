/**
 * Where the wallet manager moves funds: the chain (RPC URL and id), the funder and the BatchFunder
 * contract, found either through the running local stack's manifest or from `--rpc-url` (or the
 * remote config) with the funder key from `VANA_FUNDER_PRIVATE_KEY`.
 */
import type { Address, LocalAccount } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { configField, type VanaLoadConfig } from '../config/schema.ts';
import { ConfigError, InfrastructureError, VanaLoadError } from '../errors.ts';
import { deployerAccount } from '../stack/devAccounts.ts';
import { readManifest, type StackManifest } from '../stack/manifest.ts';
import { readChainId, refuseMainnet } from '../wallets/walletChain.ts';

/** anvil's default chain id, which the local stack keeps. */
export const LOCAL_CHAIN_ID = 31337;

/** How long a liveness probe of the RPC may take: a running local chain answers in milliseconds. */
const PROBE_TIMEOUT_MS = 5_000;

export interface WalletTarget {
  rpcUrl: string;
  chainId: number;
  /** Undefined when no funder key is known (then --fund and --sweep are refused). */
  funder: LocalAccount | undefined;
  /** Where the funder comes from, for the output: never the key. */
  funderSource: string;
  batchFunder: Address | undefined;
  /** Undefined = no cap: the funder is the local dev account and no --max-spend was given. */
  maxSpendWei: bigint | undefined;
  allowMainnet: boolean;
  description: string;
}

export interface ResolveWalletTargetParameters {
  config: VanaLoadConfig;
  /** `--rpc-url`, when given. */
  rpcUrl: string | undefined;
  manifestPath: string;
  /** Whether funds will be sent (--fund, --sweep): then known mainnets are refused without --allow-mainnet. */
  sends: boolean;
  /** Config flags given on the command line, by attribute name. */
  given: { maxSpend: boolean; chainId: boolean };
}

/** The RPC URL of the stack `npm run dev` starts, for messages. */
async function defaultLocalRpcUrl(): Promise<string> {
  return `http://127.0.0.1:${configField('stack.anvilPort').spec.default as number}`;
}

const startStackHints = (): string[] => [
  'fix: start the local stack in another terminal with `npm run dev` and run this again,',
  '     or point at a running chain: --rpc-url <url> (funder key in VANA_FUNDER_PRIVATE_KEY).',
  'A stack started just for this command would stop, funded chain and all, when it exits.',
];

/**
 * The chain to fund, validate or sweep. Checked before anything is written or sent: the RPC must
 * answer (else an `InfrastructureError`, exit 3, naming the URL and `npm run dev`), serve the
 * expected chain id, and not be a known mainnet when funds will move without `allowMainnet`.
 *
 * @example
 * const target = await resolveWalletTarget({ config, rpcUrl: undefined, manifestPath: DEFAULT_MANIFEST_PATH, sends: true, given });
 */
export async function resolveWalletTarget({ config, rpcUrl, manifestPath, sends, given }: ResolveWalletTargetParameters): Promise<WalletTarget> {
  const explicitRpcUrl = rpcUrl ?? (config.target.kind === 'remote' ? config.chain.rpcUrls[0] : undefined);
  // With an RPC URL the manifest only helps (the stack's BatchFunder); without one it is the target.
  const manifest = explicitRpcUrl === undefined ? await readStackManifest(manifestPath) : await readManifest(manifestPath).catch(() => undefined);
  const target =
    explicitRpcUrl === undefined ? await localStackTarget(config, manifest, manifestPath, given) : await rpcTarget(config, explicitRpcUrl, manifest, given);
  if (sends && !target.allowMainnet) refuseMainnet(target.chainId);
  return target;
}

async function localStackTarget(
  config: VanaLoadConfig,
  manifest: StackManifest | undefined,
  manifestPath: string,
  given: ResolveWalletTargetParameters['given'],
): Promise<WalletTarget> {
  if (manifest === undefined) {
    throw new InfrastructureError(`No local stack is running: there is no stack manifest at ${manifestPath}, so no chain to reach (npm run dev serves one at ${await defaultLocalRpcUrl()})`, {
      code: 'STACK_NOT_RUNNING',
      metaMessages: startStackHints(),
    });
  }
  const chainId = await probeChainId(manifest.rpcUrl, `the local stack of ${manifestPath}`);
  if (chainId !== manifest.chainId) {
    throw new InfrastructureError(`The local stack of ${manifestPath} is not running: ${manifest.rpcUrl} serves chain ${chainId}, not its chain ${manifest.chainId}`, {
      code: 'STACK_NOT_RUNNING',
      metaMessages: startStackHints(),
    });
  }
  return {
    rpcUrl: manifest.rpcUrl,
    chainId,
    funder: deployerAccount(),
    funderSource: 'anvil dev account 0',
    batchFunder: config.contracts.batchFunderAddress ?? manifest.contracts.batchFunder,
    maxSpendWei: given.maxSpend ? config.wallets.maxSpendWei : undefined,
    allowMainnet: config.wallets.allowMainnet,
    description: `local stack chain ${chainId} at ${manifest.rpcUrl} (manifest ${manifestPath})`,
  };
}

async function rpcTarget(
  config: VanaLoadConfig,
  rpcUrl: string,
  manifest: StackManifest | undefined,
  given: ResolveWalletTargetParameters['given'],
): Promise<WalletTarget> {
  const chainId = await probeChainId(rpcUrl, rpcUrl === manifest?.rpcUrl ? 'the local stack' : undefined);
  const expected = given.chainId || config.target.kind === 'remote' ? config.chain.chainId : undefined;
  if (expected !== undefined && expected !== chainId) {
    throw new ConfigError(`Expected chain id ${expected} (VANA_CHAIN_ID / --chain-id) at ${rpcUrl}, got ${chainId}`, { code: 'CHAIN_ID_MISMATCH' });
  }
  const { funderPrivateKey, maxSpendWei, allowMainnet } = config.wallets;
  // Without a key, a local anvil chain is funded by its pre-funded dev account 0; nothing else is.
  const devFunder = funderPrivateKey === undefined && chainId === LOCAL_CHAIN_ID && config.target.kind === 'local';
  const funder = funderPrivateKey !== undefined ? privateKeyToAccount(funderPrivateKey) : devFunder ? deployerAccount() : undefined;
  return {
    rpcUrl,
    chainId,
    funder,
    funderSource: funderPrivateKey !== undefined ? 'VANA_FUNDER_PRIVATE_KEY' : devFunder ? 'anvil dev account 0' : 'none',
    batchFunder: config.contracts.batchFunderAddress ?? (manifest?.rpcUrl === rpcUrl ? manifest.contracts.batchFunder : undefined),
    // Dev funds are free; anything else is capped by --max-spend (default 1).
    maxSpendWei: devFunder && !given.maxSpend ? undefined : maxSpendWei,
    allowMainnet,
    description: `chain ${chainId} at ${rpcUrl}`,
  };
}

async function readStackManifest(manifestPath: string): Promise<StackManifest | undefined> {
  try {
    return await readManifest(manifestPath);
  } catch (cause) {
    throw new InfrastructureError(`Cannot read the local stack manifest ${manifestPath}`, { code: 'STACK_MANIFEST_INVALID', metaMessages: startStackHints(), cause });
  }
}

/** The chain id at `rpcUrl`; an `InfrastructureError` naming the URL and how to start the stack when it does not answer. */
async function probeChainId(rpcUrl: string, what: string | undefined): Promise<number> {
  try {
    return await readChainId(rpcUrl, PROBE_TIMEOUT_MS);
  } catch (err) {
    if (!(err instanceof VanaLoadError) || err.code !== 'RPC_UNREACHABLE') throw err;
    throw new InfrastructureError(`No chain answers at ${rpcUrl}${what === undefined ? '' : ` (${what})`}`, {
      code: 'RPC_UNREACHABLE',
      metaMessages: startStackHints(),
      cause: err,
    });
  }
}

/**
 * The chain id a new wallet file is generated for, without sending anything: `--chain-id`, the
 * remote config's, the chain at `--rpc-url`, the running stack's, or anvil's 31337.
 */
export async function chainIdForNewWallets({ config, rpcUrl, manifestPath, given }: Omit<ResolveWalletTargetParameters, 'sends'>): Promise<number> {
  if (given.chainId || config.target.kind === 'remote') return config.chain.chainId;
  if (rpcUrl !== undefined) return await probeChainId(rpcUrl, undefined);
  const manifest = await readManifest(manifestPath).catch(() => undefined);
  return manifest?.chainId ?? LOCAL_CHAIN_ID;
}
