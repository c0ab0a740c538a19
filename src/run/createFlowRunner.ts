/**
 * The `RunFlow` a load model drives: for each task, a user wallet (derived, or a funded one in direct
 * mode), the synthetic data of that flow, and the client's flow, followed by the run's signals.
 */
import type { LocalAccount } from 'viem';
import { dataSizeFor, flowDataSeed, generateUserData } from '../client/syntheticData.ts';
import type { VanaLoadConfig } from '../config/schema.ts';
import type { FlowResult, StepName } from '../flow.ts';
import type { RunFlow } from '../load/types.ts';
import { followSignals } from '../util/deadlineSignal.ts';
import type { FlowEnvironment } from './flowEnvironment.ts';
import { fundingFailure, type RunFunding } from './runFunding.ts';

export interface CreateFlowRunnerParameters {
  env: FlowEnvironment;
  config: Readonly<VanaLoadConfig>;
  /** Names the flows' files and data (`ms-03-ab12`). */
  testId: string;
  funding: RunFunding | undefined;
  /** Aborts flows in flight (a second Ctrl-C, a failed infrastructure). */
  force: AbortSignal;
  onStep?: (flowId: number, step: StepName, ms: number, ok: boolean) => void;
}

/**
 * @example
 * const runFlow = createFlowRunner({ env, config, testId, funding: undefined, force });
 * startLoadRun(model, { runFlow, signal: stop });
 */
export function createFlowRunner({ env, config, testId, funding, force, onStep }: CreateFlowRunnerParameters): RunFlow {
  return async (task, signal): Promise<FlowResult> => {
    // Not AbortSignal.any(): over these two run-long signals it would keep every flow's signal (src/util/deadlineSignal.ts).
    const followed = followSignals([signal, force]);
    try {
      let account: LocalAccount;
      let userIndex = task.userIndex;
      if (funding) {
        const wallet = await funding.worker.acquire({ signal: followed.signal }).catch((err: unknown) => err as Error);
        if (wallet instanceof Error) return fundingFailure(task, testId, wallet);
        account = wallet.account;
        userIndex = wallet.index;
      } else {
        account = env.wallets.account(task.userIndex);
      }
      const dataSize = dataSizeFor(task.flowId, config.data.size);
      const data = generateUserData(flowDataSeed(task.flowId, { seed: config.load.seed, testId }), dataSize);
      const result = await env.client.executeDataPortabilityFlow(data, config.data.prompt, testId, env.personalServerUrl, {
        account,
        flowId: task.flowId,
        userIndex,
        dataSize,
        scheduledAt: task.scheduledAt,
        ...(task.phase !== undefined ? { phase: task.phase } : {}),
        ...(onStep ? { onStep: (step: StepName, ms: number, ok: boolean) => onStep(task.flowId, step, ms, ok) } : {}),
        signal: followed.signal,
      });
      // A network failure may be the stack dying before the watcher saw it: then it is that.
      const infra = !result.success && (result.error?.errorClass === 'network' || result.error?.errorClass === 'timeout') ? env.confirmAlive() : undefined;
      return infra && result.error ? { ...result, error: { ...result.error, errorClass: 'infra', code: infra.code, message: infra.shortMessage.slice(0, 300) } } : result;
    } finally {
      followed.clear();
    }
  };
}
