/**
 * MS-02 — Single E2E flow. One user's whole journey, each step printed as it ends, then the
 * result block and the verdict. Thresholds (seed): the flow succeeds and takes under 60 s.
 */
import { createWalletClient, custom, parseEther, type LocalAccount } from 'viem';
import { STEP_NAMES, type StepName } from '../errors.ts';
import { intFlag, loadMilestoneConfig, milestoneProgram } from '../cli/milestoneCli.ts';
import { openFlowEnvironment, type FlowEnvironment } from '../client/flowEnvironment.ts';
import { dataSizeFor, flowDataSeed, generateUserData } from '../client/syntheticData.ts';
import type { FlowResult } from '../client/types.ts';
import { configForDisplay } from '../config/configForDisplay.ts';
import { createLogger } from '../logger.ts';
import { createMetricsCollector } from '../metrics/collector.ts';
import { buildSummary } from '../metrics/summary.ts';
import { evaluateThresholds, mergeThresholds, MILESTONE_THRESHOLDS, parseThresholds } from '../metrics/thresholds.ts';
import { deployerAccount } from '../stack/devAccounts.ts';

const STEP_LABELS: Record<StepName, string> = {
  encrypt: 'Derive key + encrypt data',
  upload_data: 'Upload encrypted file',
  upload_grant: 'Upload grant file',
  identity: 'Fetch personal-server identity',
  wrap_key: 'Wrap file key (ECIES)',
  sign: 'Sign ServerFilesAndPermission',
  relay: 'Submit transaction',
  confirm: 'Wait for PermissionAdded',
  inference_submit: 'Submit inference request',
  inference_wait: 'Wait for inference result',
  verify: 'Verify result hash',
};

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(0)} ms`;
}

/** In direct mode the user pays gas: on the local chain, fund them from the dev deployer. */
async function fundLocalUser(env: FlowEnvironment, user: LocalAccount): Promise<void> {
  const balance = await env.publicClient.getBalance({ address: user.address });
  if (balance >= parseEther('0.05')) return;
  const deployer = deployerAccount();
  const wallet = createWalletClient({ account: deployer, transport: custom({ request: (args) => env.publicClient.request(args as never) }) });
  const hash = await wallet.sendTransaction({ chain: null, to: user.address, value: parseEther('0.1') });
  await env.receiptWatcher.waitForReceipt(hash, { timeoutMs: 30_000 });
}

export async function runSingleFlowMilestone(argv: readonly string[]): Promise<number> {
  const program = milestoneProgram('test-single-e2e', 'MS-02: one complete data-portability flow, end to end, each step timed', (c) =>
    c.option('--user-index <n>', 'HD index of the user wallet (default 0)', intFlag('--user-index', 0, 2 ** 31 - 1), 0),
  );
  program.parse(argv as string[]);
  const opts = program.opts<{ userIndex: number; threshold: string[] }>();
  const config = loadMilestoneConfig(program);
  // Checked before anything starts: a typo exits 2 at once.
  const thresholds = mergeThresholds(MILESTONE_THRESHOLDS['ms-02'], parseThresholds(opts.threshold, 'flag'));
  const logger = createLogger({ level: config.log.level === 'info' ? 'warn' : config.log.level });

  console.log('🚀 MS-02: Single E2E Flow');
  console.log('='.repeat(50));
  console.log(`Target: ${config.target.kind}${config.target.kind === 'local' ? ' (embedded stack)' : ''} · tx mode: ${config.chain.txMode} · data: ${config.data.size}`);

  const t0 = performance.now();
  const env = await openFlowEnvironment({ config, logger });
  let interrupted = false;
  const abort = new AbortController();
  const onSignal = (): void => {
    interrupted = true;
    abort.abort(new Error('interrupted'));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (env.stack) {
      console.log(`Stack: ${env.stack.owned ? 'spawned' : 'attached to'} (chain ${env.chainId}, API ${env.apiUrl}) in ${ms(performance.now() - t0)}`);
    } else {
      console.log(`Chain ${env.chainId} · API ${env.apiUrl}`);
    }
    const user = env.wallets.account(opts.userIndex);
    if (config.chain.txMode === 'direct' && env.target === 'local') await fundLocalUser(env, user);
    console.log(`User: ${user.address} (index ${opts.userIndex})\n`);

    const testId = `ms02-${Date.now().toString(36)}`;
    const dataSize = dataSizeFor(opts.userIndex, config.data.size);
    const data = generateUserData(flowDataSeed(opts.userIndex, { seed: config.load.seed, testId }), dataSize);
    const result: FlowResult = await env.client.executeDataPortabilityFlow(data, config.data.prompt, testId, env.personalServerUrl, {
      account: user,
      userIndex: opts.userIndex,
      dataSize,
      signal: abort.signal,
      onStep: (step, took, ok) => {
        const n = STEP_NAMES.indexOf(step) + 1;
        console.log(`  ${ok ? '✅' : '❌'} ${String(n).padStart(2)}. ${STEP_LABELS[step].padEnd(32)} ${ms(took).padStart(9)}`);
      },
    });

    console.log('\n📊 Result');
    console.log('-'.repeat(50));
    console.log(`Success:        ${result.success ? '✅ yes' : '❌ no'}`);
    console.log(`Duration:       ${ms(result.e2eMs)}`);
    console.log(`Data:           ${result.dataBytes} bytes (${result.dataSize})`);
    if (result.txHash) console.log(`Transaction:    ${result.txHash}`);
    if (result.permissionId) console.log(`Permission id:  ${result.permissionId}`);
    if (result.operationId) console.log(`Operation id:   ${result.operationId}`);
    if (result.result) console.log(`Result:         ${result.result.excerpt.slice(0, 100)}${result.result.excerpt.length > 100 ? '…' : ''}`);
    if (result.error) console.log(`Failed step:    ${result.error.step} (${result.error.errorClass})\nError:          ${result.error.message}`);

    // The same thresholds module as every milestone: defaults from the README, --threshold on top.
    const collector = createMetricsCollector();
    collector.flowStarted(result.flowId, result.scheduledAt);
    collector.flowFinished(result);
    const summary = buildSummary({
      totals: collector.totals(result.endedAt),
      samples: [],
      runId: testId,
      milestone: 'MS-02',
      startedAt: result.scheduledAt,
      endedAt: result.endedAt,
      config: configForDisplay(config) as unknown as Record<string, unknown>,
      environment: { chainId: env.chainId, target: env.target, loadModel: 'single' },
      thresholds: (subject) => evaluateThresholds(thresholds, subject),
    });
    console.log('\n🎯 Thresholds');
    const width = Math.max(...summary.thresholds.map((t) => t.expression.length));
    for (const t of summary.thresholds) console.log(`  ${t.pass ? '✅' : '❌'} ${t.expression.padEnd(width)}  ${t.actualText.padStart(8)}  ${t.source}`);
    const pass = !interrupted && summary.verdict === 'pass';
    console.log(`\nVERDICT: ${pass ? 'PASS ✅' : `FAIL ❌${interrupted ? ' (interrupted)' : ''}`}`);
    return pass ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await env.close();
  }
}
