/**
 * Whether a scenario can run against the configured target, checked for every scenario before any
 * starts (exit 2 naming the scenario and the fault): process faults need the local stack, a
 * boundary with faults must be one the run crosses, and a drain needs relayers to drain.
 */
import type { VanaLoadConfig } from '../../config/schema.ts';
import { ConfigError } from '../../errors.ts';
import type { Boundary } from '../../faults/faultSpec.ts';
import type { Scenario } from '../../faults/scenario.ts';
import { remoteTargets } from './remoteTargets.ts';

/** Why the run does not cross `boundary` with this config, or undefined when it does. */
function notCrossed(config: Readonly<VanaLoadConfig>, boundary: Boundary): string | undefined {
  if (config.target.kind === 'remote') {
    return (remoteTargets(config)[boundary]?.length ?? 0) > 0 ? undefined : `the remote target has no ${boundary} endpoint in the config`;
  }
  switch (boundary) {
    case 'api':
      // The local stack's API server takes relays (relay api) and inference requests (inference proxy).
      return config.relay.mode !== 'api' && config.inference.mode !== 'proxy' ? 'neither relay api nor inference proxy sends anything to the API server' : undefined;
    case 'storage':
      // S3 signs the Host header: a proxy in front of the local S3 server would break every signature.
      return config.stack.storage === 's3' ? 'the stack stores files on its S3 server (VANA_STACK_STORAGE=s3), which the proxy cannot front' : undefined;
    case 'rpc':
    case 'personal_server':
      return undefined;
  }
}

/**
 * Throws a `ConfigError` naming the scenario, the fault and the reason.
 *
 * @example
 * for (const scenario of scenarios) checkScenarioTarget(scenario, config);
 */
export function checkScenarioTarget(scenario: Scenario, config: Readonly<VanaLoadConfig>): void {
  const fail = (fault: string, reason: string): never => {
    throw new ConfigError(`Scenario ${scenario.name} (${scenario.source}) cannot run here: ${fault}: ${reason}`, { code: 'SCENARIO_TARGET_MISMATCH' });
  };
  for (const fault of scenario.processFaults) {
    if (config.target.kind === 'remote') fail(fault.name, `${fault.kind} is a process fault of the local stack; a remote target refuses it (run it with --target local)`);
    if (fault.kind === 'relayer_drain') {
      if (config.relay.mode !== 'api') fail(fault.name, `relayer_drain drains the local stack's relayers, which only relay mode api uses (relay is ${config.relay.mode})`);
      const count = config.stack.relayerPrivateKeys.length > 0 ? config.stack.relayerPrivateKeys.length : config.stack.relayerCount;
      if (fault.relayer >= count) fail(fault.name, `relayer ${fault.relayer} does not exist: the stack has ${count} relayers (0-${count - 1})`);
    }
  }
  for (const fault of scenario.faults) {
    const reason = notCrossed(config, fault.boundary);
    if (reason !== undefined) fail(fault.name, `the run does not cross boundary ${fault.boundary}: ${reason}`);
  }
}
