/**
 * What a run will send and spend, before anything is sent (`--dry-run` on every milestone): flows,
 * transactions and who pays for them, gas × the fee cap as an upper bound of the spend, wallets to
 * fund, bytes to store, requests to the personal server. Pure: the fee comes from the caller (the
 * config's cap, or one read of the chain's current base fee), so it can be tested as is.
 */
import { formatEther, formatGwei } from 'viem';
import type { VanaLoadConfig } from '../config/schema.ts';
import { DATA_SIZE_BYTES } from '../client/syntheticData.ts';
import type { LoadModel } from '../load/types.ts';

/**
 * Gas of one `addServerFilesAndPermissions` with one file for a user's first flow (it registers the
 * user's server): 1,257,950 on the local contracts (`npm run bench -- flow`, PROGRESS.md). A repeat
 * flow of a user costs ~944k. The plan counts every flow as a first one.
 */
export const GAS_PER_FLOW = 1_260_000n;
/** A BatchFunder transaction: ~21k + ~30k per wallet funded (BatchFunder benchmark). */
const GAS_PER_FUNDED_WALLET = 30_000n;
const GAS_PER_FUNDING_TX = 21_000n;
/** OpenPGP adds a few hundred bytes (SKESK, SEIPD, MDC) to the plaintext; the grant file is ~200 bytes. */
const ENCRYPTION_OVERHEAD_BYTES = 300;
const GRANT_FILE_BYTES = 220;

export interface RunPlan {
  /** Flows the model starts at most; undefined when only a duration bounds it (then `flowsEstimated`). */
  flows: number;
  /** True when `flows` is an estimate (rate × duration). */
  flowsEstimated: boolean;
  transactions: { permissions: number; funding: number; payer: string };
  gas: { total: bigint; perFlow: bigint };
  /** Fee per gas the spend bound uses, and where it came from. */
  feePerGasWei: bigint | undefined;
  feeSource: string;
  /** gas × fee, plus the value sent to fund wallets: the most the run can cost. */
  spendBoundWei: bigint | undefined;
  /** Wallets funded (direct mode) and what they receive. */
  wallets: { funded: number; valueWei: bigint };
  storage: { files: number; bytes: number; where: string };
  personalServer: { identity: number; operations: number; pollsPerFlow: number; where: string };
  /** Sentences a user should read before sending anything. */
  warnings: string[];
}

export interface PlanRunParameters {
  config: Readonly<VanaLoadConfig>;
  model: LoadModel;
  /** Current maxFeePerGas the harness would use (2 × base fee + tip), when it could be read. */
  chainFeePerGasWei?: bigint;
}

function flowsOf(model: LoadModel): { flows: number; estimated: boolean } {
  switch (model.kind) {
    case 'closed':
      return model.iterations === 0 ? { flows: Math.ceil(model.users * ((model.durationMs ?? 0) / 1000)), estimated: true } : { flows: model.users * (model.iterations ?? 1), estimated: false };
    case 'batched':
      return { flows: model.users, estimated: false };
    case 'poisson':
      return model.users !== undefined ? { flows: model.users, estimated: false } : { flows: Math.ceil(model.rate * ((model.durationMs ?? 0) / 1000)), estimated: true };
    case 'phased': {
      if (model.totalUsers !== undefined) return { flows: model.totalUsers, estimated: false };
      // Mean of each linear ramp × its duration.
      const flows = model.phases.reduce((sum, p) => sum + (p.unit === 'rate' ? ((p.from + p.to) / 2) * (p.durationMs / 1000) : Math.max(p.from, p.to)), 0);
      return { flows: Math.ceil(flows), estimated: true };
    }
  }
}

/**
 * @example
 * const plan = planRun({ config, model: { kind: 'closed', users: 25 }, chainFeePerGasWei: 40_000_000_000n });
 * plan.spendBoundWei; // 25 × 1.26M gas × 40 gwei
 */
export function planRun({ config, model, chainFeePerGasWei }: PlanRunParameters): RunPlan {
  const { flows, estimated } = flowsOf(model);
  const relay = config.relay.mode;
  const local = config.target.kind === 'local';
  const direct = relay === 'direct';
  const walletsFunded = direct ? flows : 0;
  const fundingTxs = direct ? Math.ceil(flows / 50) : 0;
  const gasTotal = GAS_PER_FLOW * BigInt(flows) + (direct ? GAS_PER_FUNDING_TX * BigInt(fundingTxs) + GAS_PER_FUNDED_WALLET * BigInt(walletsFunded) : 0n);
  const cap = config.chain.maxFeePerGasWei;
  const fee = cap !== undefined && chainFeePerGasWei !== undefined ? (cap < chainFeePerGasWei ? cap : chainFeePerGasWei) : (cap ?? chainFeePerGasWei);
  const feeSource =
    cap !== undefined && (chainFeePerGasWei === undefined || cap <= chainFeePerGasWei)
      ? 'the cap VANA_MAX_FEE_PER_GAS'
      : chainFeePerGasWei !== undefined
        ? "the chain's current base fee × 2 + tip"
        : 'nowhere (set VANA_MAX_FEE_PER_GAS to bound it)';
  const valueWei = direct ? config.wallets.fundingAmountWei * BigInt(walletsFunded) : 0n;
  // With relay api the app's relayer pays; the harness spends nothing on gas.
  const harnessPaysGas = relay !== 'api';
  const spendBoundWei = !harnessPaysGas ? 0n : fee === undefined ? undefined : gasTotal * fee + valueWei;
  const sizes = config.data.size === 'mixed' ? 0.6 * DATA_SIZE_BYTES.small + 0.3 * DATA_SIZE_BYTES.medium + 0.1 * DATA_SIZE_BYTES.large : DATA_SIZE_BYTES[config.data.size];
  const grantsToStorage = config.storage.grantStorage === 'storage';
  const pollsPerFlow = Math.max(1, Math.ceil((config.stack.simLatencyP50Ms || 1_000) / config.timeouts.pollIntervalMs));

  const warnings: string[] = [];
  if (!local && harnessPaysGas && spendBoundWei !== undefined && spendBoundWei > config.wallets.maxSpendWei) {
    warnings.push(`The spend bound ${formatEther(spendBoundWei)} exceeds VANA_MAX_SPEND ${formatEther(config.wallets.maxSpendWei)}: the run will stop (exit 3) when it reaches the cap.`);
  }
  if (!local && harnessPaysGas && fee === undefined) warnings.push('The fee per gas is unknown: set VANA_MAX_FEE_PER_GAS to cap and bound what the run pays.');
  if (!local && config.inference.mode === 'personal-server' && flows > 100) {
    warnings.push(`${flows} operations on a hosted personal server: the hosted one allows 100 operations/hour per IP and per app signature by default (429 + Retry-After).`);
  }
  if (estimated) warnings.push('Flows are estimated from rate × duration: the model is bounded by time, not by users.');

  return {
    flows,
    flowsEstimated: estimated,
    transactions: {
      permissions: flows,
      funding: fundingTxs,
      payer: relay === 'api' ? "the app's relayer (relay api)" : relay === 'keys' ? 'VANA_RELAYER_PRIVATE_KEYS (relay keys)' : 'each user wallet, funded by VANA_FUNDER_PRIVATE_KEY (relay direct)',
    },
    gas: { total: gasTotal, perFlow: GAS_PER_FLOW },
    feePerGasWei: fee,
    feeSource,
    spendBoundWei,
    wallets: { funded: walletsFunded, valueWei },
    storage: {
      files: flows * (grantsToStorage ? 2 : 1),
      bytes: Math.round(flows * (sizes + ENCRYPTION_OVERHEAD_BYTES + (grantsToStorage ? GRANT_FILE_BYTES : 0))),
      where: config.storage.provider === 's3' ? `S3 bucket ${config.storage.s3Bucket ?? '?'}${config.storage.s3Endpoint ? ` at ${config.storage.s3Endpoint}` : ''}` : local ? 'the local storage service' : (config.storage.url ?? '?'),
    },
    personalServer: {
      identity: flows,
      operations: flows,
      pollsPerFlow,
      where: local ? 'the local personal server' : (config.services.personalServerUrl ?? '?'),
    },
    warnings,
  };
}

const thousands = (n: number | bigint): string => n.toLocaleString('en-US');

function bytes(n: number): string {
  return n >= 1_048_576 ? `${(n / 1_048_576).toFixed(1)} MiB` : n >= 1_024 ? `${(n / 1_024).toFixed(1)} KiB` : `${n} B`;
}

/** The plan as the lines `--dry-run` prints. */
export function formatRunPlan(plan: RunPlan, config: Readonly<VanaLoadConfig>): string[] {
  const local = config.target.kind === 'local';
  const spend =
    plan.spendBoundWei === undefined
      ? 'unknown (no fee per gas)'
      : plan.spendBoundWei === 0n
        ? "0 (the app's relayer pays)"
        : `at most ${formatEther(plan.spendBoundWei)} (native token)${local ? ', local dev funds: free' : ''}`;
  return [
    '🧾 Dry run: nothing is sent. The run would:',
    `   flows            ${thousands(plan.flows)}${plan.flowsEstimated ? ' (estimated)' : ''} on ${local ? 'the local stack' : `chain ${config.chain.chainId} via ${config.chain.rpcUrls.map((u) => new URL(u).host).join(', ')}`}`,
    `   transactions     ${thousands(plan.transactions.permissions)} addServerFilesAndPermissions${plan.transactions.funding > 0 ? ` + ${thousands(plan.transactions.funding)} BatchFunder` : ''}, paid by ${plan.transactions.payer}`,
    `   gas              ≤ ${thousands(plan.gas.total)} (${thousands(plan.gas.perFlow)} per flow, a user's first)`,
    local
      ? '   fee per gas      the local anvil chain: dev funds, nothing real is spent'
      : `   fee per gas      ${plan.feePerGasWei === undefined ? 'unknown' : `${formatGwei(plan.feePerGasWei)} gwei, from ${plan.feeSource}`}`,
    `   spend            ${spend}; cap VANA_MAX_SPEND ${formatEther(config.wallets.maxSpendWei)} (native token)`,
    `   wallets funded   ${thousands(plan.wallets.funded)}${plan.wallets.funded > 0 ? ` × ${formatEther(config.wallets.fundingAmountWei)} = ${formatEther(plan.wallets.valueWei)}` : ''}`,
    `   storage          ${thousands(plan.storage.files)} files, ≈ ${bytes(plan.storage.bytes)} to ${plan.storage.where}`,
    `   personal server  ${thousands(plan.personalServer.identity)} identity + ${thousands(plan.personalServer.operations)} operations (${config.inference.mode}) + ~${plan.personalServer.pollsPerFlow} polls each at ${plan.personalServer.where}`,
    ...plan.warnings.map((w) => `⚠️  ${w}`),
  ];
}
