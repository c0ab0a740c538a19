/**
 * The flow environment of a run, with what the run needs around it: the notices of its start (the
 * stack started or attached, the local chain's advice for the run's size), the stack's log next to
 * the run's, and its infrastructure failing (the stack or anvil died, the relayer keys ran dry)
 * turned into the run's interruption: stop, flows in flight cut off (class infra), exit 3.
 */
import { join } from 'node:path';
import type { StepRetry } from '../client/VanaLoadTestClient.ts';
import type { VanaLoadConfig } from '../config/schema.ts';
import { InfrastructureError } from '../errors.ts';
import { expectedFlows, peakArrivalRate } from '../load/modelFacts.ts';
import type { LoadModel } from '../load/types.ts';
import type { Logger } from '../logger.ts';
import { localChainAdvice } from '../stack/chainAdvice.ts';
import type { StackHandle } from '../stack/ensureStack.ts';
import { openFlowEnvironment, type FlowEnvironment } from './flowEnvironment.ts';
import type { Interruption } from './interruption.ts';

export interface OpenRunEnvironmentParameters {
  config: Readonly<VanaLoadConfig>;
  model: LoadModel;
  logger: Logger;
  retry: StepRetry;
  interruption: Interruption;
  /** `results/<run-id>`: a stack this run spawns logs to its `stack.log`. */
  dir: string;
  manifestPath?: string;
  /** A local stack the caller started and stops (see `OpenFlowEnvironmentParameters.stack`). */
  stack?: StackHandle;
  notice: (line: string) => void;
}

/**
 * @example
 * const env = await openRunEnvironment({ config, model, logger, retry, interruption, dir: writer.dir, notice: report.onNotice });
 */
export async function openRunEnvironment({ config, model, logger, retry, interruption, dir, manifestPath, stack, notice }: OpenRunEnvironmentParameters): Promise<FlowEnvironment> {
  const t0 = performance.now();
  notice(config.target.kind === 'remote' ? '\n📡 Connecting to the remote target...' : stack ? '\n📡 Connecting to the local stack...' : '\n📡 Starting the local stack (anvil, storage, personal server, API)...');
  const env = await openFlowEnvironment({
    config,
    logger,
    retry,
    ...(manifestPath !== undefined ? { manifestPath } : {}),
    ...(stack !== undefined ? { stack } : {}),
    ...(config.data.s2kCountByte !== undefined ? { s2kIterationCountByte: config.data.s2kCountByte } : {}),
    stackOptions: { logFile: join(dir, 'stack.log'), logLevel: config.log.level === 'debug' || config.log.level === 'trace' ? config.log.level : 'info' },
  });
  const onFatal = (): void => {
    const reason: unknown = env.fatal.reason;
    const fatal = reason instanceof InfrastructureError ? reason : new InfrastructureError(String(reason), { code: 'INFRA_FAILED' });
    logger.error({ code: fatal.code, err: fatal.message }, 'infrastructure failed: stopping the run');
    notice(`\n❌ ${fatal.shortMessage}: stopping the run (flows in flight are cut off)`);
    for (const line of fatal.metaMessages) notice(`   ${line}`);
    interruption.fail(fatal);
  };
  if (env.fatal.aborted) onFatal();
  else env.fatal.addEventListener('abort', onFatal, { once: true });
  notice(
    env.stack
      ? `✅ Stack ${env.stack.owned ? 'started' : 'attached'} in ${((performance.now() - t0) / 1000).toFixed(1)}s: chain ${env.chainId}, API ${env.apiUrl}`
      : `✅ Connected: chain ${env.chainId} · relay ${config.relay.mode} · inference ${config.inference.mode}`,
  );
  // An attached stack has its own settings, unknown here.
  const advice = env.stack?.owned
    ? localChainAdvice({ flows: expectedFlows(model), peakRate: peakArrivalRate(model), blockTimeSeconds: config.chain.blockTimeSeconds, blockGasLimit: config.stack.blockGasLimit, stateRoot: config.stack.stateRoot })
    : [];
  for (const line of advice) {
    notice(`⚠️  ${line}`);
    logger.warn({ advice: line }, 'local chain');
  }
  return env;
}
