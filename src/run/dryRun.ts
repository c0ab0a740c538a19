/**
 * `--dry-run` on a milestone: checks the thresholds and the model as a run would, reads the chain's
 * current fee once (a read, nothing sent) for a remote target, and prints the run plan.
 */
import { createPublicClient } from 'viem';
import type { VanaLoadConfig } from '../config/schema.ts';
import { ConfigError } from '../errors.ts';
import type { LoadModel } from '../load/types.ts';
import { validateLoadModel } from '../load/validateLoadModel.ts';
import { mergeThresholds, parseThresholds, type Threshold } from '../metrics/thresholds.ts';
import { rpcHttp } from '../chain/rpcTransport.ts';
import { formatRunPlan, planRun } from './runPlan.ts';

export interface DryRunParameters {
  milestone: string | null;
  /** The thresholds a run would be judged by unless `thresholds` overrides them. */
  defaultThresholds?: readonly Threshold[];
  config: Readonly<VanaLoadConfig>;
  model: LoadModel;
  thresholds?: readonly string[];
  print?: (line: string) => void;
}

/**
 * Prints the plan; returns exit code 0. Throws a `ConfigError` (exit 2) for bad thresholds or model.
 *
 * @example
 * if (opts.dryRun) return await dryRun({ milestone: 'ms-03', defaultThresholds: MILESTONE_THRESHOLDS['ms-03'], config, model, thresholds: opts.threshold });
 */
export async function dryRun({ milestone, defaultThresholds = [], config, model, thresholds = [], print = (line) => void process.stdout.write(`${line}\n`) }: DryRunParameters): Promise<number> {
  mergeThresholds(defaultThresholds, parseThresholds(thresholds, 'flag'));
  try {
    validateLoadModel(model);
  } catch (err) {
    throw err instanceof ConfigError ? err : new ConfigError((err as Error).message, { code: 'LOAD_MODEL_INVALID' });
  }
  let chainFeePerGasWei: bigint | undefined;
  if (config.target.kind === 'remote') {
    // What the relayer pool would sign with now: 2 × base fee + tip.
    const client = createPublicClient({ transport: rpcHttp(config.chain.rpcUrls[0]!, { timeout: Math.min(config.timeouts.httpMs, 10_000), retryCount: 0 }) });
    const fee = await Promise.all([client.getBlock(), client.estimateMaxPriorityFeePerGas()]).catch((err: unknown) => err as Error);
    if (fee instanceof Error) print(`⚠️  Could not read the fee from ${new URL(config.chain.rpcUrls[0]!).host}: ${fee.message.split('\n')[0]}`);
    else chainFeePerGasWei = (fee[0].baseFeePerGas ?? 0n) * 2n + fee[1];
  }
  for (const line of formatRunPlan(planRun({ config, model, ...(chainFeePerGasWei !== undefined ? { chainFeePerGasWei } : {}) }), config)) print(line);
  return 0;
}
