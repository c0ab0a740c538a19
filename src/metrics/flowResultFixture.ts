/**
 * Builds `FlowResult`s for the metrics tests: a successful flow with every step by default, or a
 * flow that failed at `failAt`, which then has times for the steps up to and including that one.
 */
import { STEP_NAMES, type ErrorClass, type StepName } from '../errors.ts';
import type { FlowResult } from '../client/types.ts';

export interface FlowResultFixtureParameters {
  flowId?: number;
  scheduledAt?: number;
  e2eMs?: number;
  /** The same time for every step that ran. */
  stepMs?: number;
  failAt?: { step: StepName; errorClass: ErrorClass; message?: string };
  retries?: number;
  phase?: string;
}

/**
 * @example
 * flowResultFixture({ e2eMs: 1_200, failAt: { step: 'relay', errorClass: 'nonce' } });
 */
export function flowResultFixture({
  flowId = 0,
  scheduledAt = 1_800_000_000_000,
  e2eMs = 1_000,
  stepMs = 10,
  failAt,
  retries = 0,
  phase,
}: FlowResultFixtureParameters = {}): FlowResult {
  const ran = failAt ? STEP_NAMES.slice(0, STEP_NAMES.indexOf(failAt.step) + 1) : STEP_NAMES;
  const result: FlowResult = {
    flowId,
    userIndex: flowId,
    userAddress: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
    testId: `test-${flowId}`,
    dataSize: 'small',
    dataBytes: 1_024,
    scheduledAt,
    startedAt: scheduledAt,
    endedAt: scheduledAt + e2eMs,
    success: failAt === undefined,
    steps: Object.fromEntries(ran.map((step) => [step, stepMs])),
    e2eMs,
    retries,
  };
  if (failAt) {
    result.error = {
      step: failAt.step,
      errorClass: failAt.errorClass,
      code: 'TEST_FAILURE',
      message: failAt.message ?? `${failAt.step} failed (${failAt.errorClass})`,
    };
  }
  if (phase !== undefined) result.phase = phase;
  return result;
}
