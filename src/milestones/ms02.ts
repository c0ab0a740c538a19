/**
 * MS-02 — Single E2E flow. One user's whole journey through the shared runner (results/, funding
 * in direct mode, exit codes as every milestone), each step printed as it ends, then the flow's
 * details, the final report and the verdict. Thresholds (seed): the flow succeeds and takes under
 * 60 s (MILESTONE_THRESHOLDS['ms-02']).
 */
import { MILESTONE_THRESHOLDS } from './thresholds.ts';
import { STEP_NAMES, type StepName } from '../flow.ts';
import { intFlag } from '../cli/flagParsers.ts';
import type { FlowResult } from '../flow.ts';
import type { ClosedLoadModel } from '../load/types.ts';
import { defineMilestone, runMilestone } from './defineMilestone.ts';

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

/** The step line MS-02 prints as a step ends. */
export function formatStepLine(step: StepName, took: number, ok: boolean): string {
  const n = STEP_NAMES.indexOf(step) + 1;
  return `  ${ok ? '✅' : '❌'} ${String(n).padStart(2)}. ${STEP_LABELS[step].padEnd(32)} ${ms(took).padStart(9)}`;
}

/** The flow's details after its steps: transaction, permission, operation, result or error. */
export function formatFlowDetails(result: FlowResult): string[] {
  const excerpt = result.result ? `${result.result.excerpt.slice(0, 100)}${result.result.excerpt.length > 100 ? '…' : ''}` : undefined;
  return [
    '',
    `  Success:        ${result.success ? '✅ yes' : '❌ no'}   Duration: ${ms(result.e2eMs)}   Data: ${result.dataBytes} bytes (${result.dataSize})`,
    `  User:           ${result.userAddress} (index ${result.userIndex})`,
    ...(result.txHash ? [`  Transaction:    ${result.txHash}`] : []),
    ...(result.permissionId ? [`  Permission id:  ${result.permissionId}`] : []),
    ...(result.operationId ? [`  Operation id:   ${result.operationId}`] : []),
    ...(excerpt ? [`  Result:         ${excerpt}`] : []),
    ...(result.error ? [`  Failed step:    ${result.error.step} (${result.error.errorClass})`, `  Error:          ${result.error.message}`] : []),
  ];
}

export const ms02 = defineMilestone<{ userIndex: number }>({
  id: 'ms-02',
  command: 'test-single-e2e',
  description: 'MS-02: one complete data-portability flow, end to end, each step timed',
  title: 'Milestone 2: Single E2E Flow',
  loadFields: [],
  thresholds: MILESTONE_THRESHOLDS['ms-02'],
  options: (c) => c.option('--user-index <n>', 'HD index of the user wallet (default 0)', intFlag('--user-index', 0, 2 ** 31 - 1), 0),
  defaults: () => ({ load: { model: 'closed', users: 1, concurrency: 1 } }),
  model: ({ own }): ClosedLoadModel => ({ kind: 'closed', users: 1, iterations: 1, firstUserIndex: own.userIndex }),
  run: ({ config, own }) => {
    const out = process.stdout;
    return {
      intro: [`👤 one flow, user index ${own.userIndex} · data ${config.data.size} · relay ${config.relay.mode} · inference ${config.inference.mode}`],
      // One user: fund exactly one wallet in direct mode.
      funding: { poolSize: 1, workers: 1, batchSize: 1 },
      // MS-02's own output: each step as it ends, then the flow's details.
      reporters: [
        {
          onStep: (_flowId, step, took, ok) => void out.write(`${formatStepLine(step, took, ok)}\n`),
          onFlowFinished: (result) => void out.write(`${formatFlowDetails(result).join('\n')}\n`),
        },
      ],
    };
  },
});

/** MS-02's main: `npx tsx milestones/ms-02/test-single-e2e.ts`. */
export function runSingleFlowMilestone(argv: readonly string[]): Promise<number> {
  return runMilestone(ms02, argv);
}
