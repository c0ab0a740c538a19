/**
 * Direct mode (users pay gas): a background worker keeps funded wallets ready ahead of arrivals
 * (src/wallets/fundingWorker.ts), sized to the run so no wallet is paid for and left unused.
 */
import { privateKeyToAccount } from 'viem/accounts';
import type { FlowResult } from '../flow.ts';
import type { VanaLoadConfig } from '../config/schema.ts';
import type { FlowTask } from '../load/types.ts';
import type { Logger } from '../logger.ts';
import { LatencyHistogram } from '../metrics/latencyHistogram.ts';
import type { Percentiles } from '../metrics/types.ts';
import { deployerAccount } from '../stack/devAccounts.ts';
import { LOCAL_USERS_MNEMONIC } from '../client/userWallets.ts';
import { createHdWallets } from '../wallets/hdWallets.ts';
import { startFundingWorker, type FundingWorker } from '../wallets/fundingWorker.ts';
import type { FlowEnvironment } from './flowEnvironment.ts';

export interface FundingPoolOptions {
  /** Funded wallets kept ready ahead of arrivals. */
  poolSize: number;
  /** Funding transactions in flight at once. */
  workers: number;
  /** Wallets per funding transaction. */
  batchSize?: number;
}

export const DEFAULT_FUNDING: Required<FundingPoolOptions> = { poolSize: 100, workers: 2, batchSize: 50 };

/** The worker of a run, with the request → funded latency it measured. */
export interface RunFunding {
  worker: FundingWorker;
  poolSize: number;
  /** For summary.json: wallets funded and their funding latency. */
  summary(): { funded: number; latencyMs: Percentiles | null };
}

/**
 * Starts the funding worker of a direct-mode run. `plannedFlows` caps the wallets funded in all:
 * on a real network each one costs money.
 *
 * @example
 * const funding = await startRunFunding({ env, config, options: DEFAULT_FUNDING, plannedFlows: 1000, logger });
 * const wallet = await funding.worker.acquire({ signal });
 */
export async function startRunFunding({
  env,
  config,
  options,
  plannedFlows,
  logger,
}: {
  env: FlowEnvironment;
  config: Readonly<VanaLoadConfig>;
  options: FundingPoolOptions;
  plannedFlows: number | undefined;
  logger: Logger;
}): Promise<RunFunding> {
  const cap = (n: number): number => (plannedFlows === undefined ? n : Math.min(n, plannedFlows));
  const poolSize = cap(options.poolSize);
  const batchSize = Math.max(1, Math.min(cap(options.batchSize ?? DEFAULT_FUNDING.batchSize), poolSize));
  const local = env.stack !== undefined;
  const latency = new LatencyHistogram();
  const worker = await startFundingWorker({
    rpcUrl: local ? env.stack!.manifest.rpcUrl : config.chain.rpcUrls[0]!,
    chainId: env.chainId,
    funder: local ? deployerAccount() : privateKeyToAccount(config.wallets.funderPrivateKey!),
    batchFunder: local ? env.stack!.manifest.contracts.batchFunder : config.contracts.batchFunderAddress!,
    wallets: createHdWallets(config.wallets.mnemonic ?? LOCAL_USERS_MNEMONIC),
    amountWei: config.wallets.fundingAmountWei,
    batchSize,
    bufferSize: Math.max(poolSize, batchSize),
    workers: options.workers,
    ...(plannedFlows !== undefined ? { lastIndex: plannedFlows - 1 } : {}),
    // The local chain's dev funds cost nothing: the spend cap guards real networks only.
    ...(!local ? { maxSpendWei: config.wallets.maxSpendWei } : {}),
    allowMainnet: config.wallets.allowMainnet,
    onFunded: (event) => latency.record(event.latencyMs),
    logger,
  });
  return { worker, poolSize, summary: () => ({ funded: worker.stats().funded, latencyMs: latency.percentiles() }) };
}

/** A flow that never started because no funded wallet could be had. */
export function fundingFailure(task: FlowTask, testId: string, error: Error): FlowResult {
  const now = Date.now();
  return {
    flowId: task.flowId,
    userIndex: task.userIndex,
    userAddress: '0x0000000000000000000000000000000000000000',
    testId,
    dataSize: 'small',
    dataBytes: 0,
    scheduledAt: task.scheduledAt,
    startedAt: now,
    endedAt: now,
    e2eMs: now - task.scheduledAt,
    success: false,
    steps: {},
    retries: 0,
    ...(task.phase !== undefined ? { phase: task.phase } : {}),
    error: { step: 'encrypt', errorClass: 'other', code: 'FUNDING_FAILED', message: `no funded wallet: ${error.message.split('\n')[0]}` },
  };
}
