/**
 * Everything the engine takes from the vana-load harness, imported here and only here: when a
 * harness module moves (e.g. flowEnvironment.ts to another folder), this is the one file to fix.
 */
export { openFlowEnvironment, type FlowEnvironment } from '../../../src/run/flowEnvironment.ts';
export { LOCAL_USERS_MNEMONIC } from '../../../src/client/userWallets.ts';
export { dataSizeFor, generateUserData } from '../../../src/client/syntheticData.ts';
export { seedFromString } from '../../../src/util/seededRandom.ts';
export { STEP_NAMES, type FlowResult, type StepName } from '../../../src/flow.ts';
export type { StepRetry } from '../../../src/client/VanaLoadTestClient.ts';
export { configOptions } from '../../../src/config/configOptions.ts';
export { loadConfig, type ConfigFlags } from '../../../src/config/loadConfig.ts';
export type { VanaLoadConfig } from '../../../src/config/schema.ts';
export { ConfigError, InfrastructureError, VanaLoadError } from '../../../src/errors.ts';
export { withRetry } from '../../../src/util/retry.ts';
export { createLogger, silentLogger } from '../../../src/logger.ts';
export { hdRootFromMnemonic } from '../../../src/wallets/hdWallets.ts';
export { DEFAULT_MANIFEST_PATH, readManifest } from '../../../src/stack/manifest.ts';
export { isStackHealthy } from '../../../src/stack/ensureStack.ts';
export {
  ARTILLERY_METRICS,
  artilleryErrorCode,
  errorMetric,
  stepMetric,
} from '../../../src/report/artilleryMetrics.ts';
export { formatError } from '../../../src/cli/errorOutput.ts';
