/**
 * The vocabulary every part of vana-load shares: the steps of a flow, the classes of its errors,
 * and what one flow produces (`FlowResult`). The client writes it; load models, metrics, results
 * and reports read it. Names are fixed: they appear in metrics, JSON and reports.
 */
import type { Address, Hex } from 'viem';

/** Flow steps, in execution order. Names are fixed: they appear in metrics, JSON and reports. */
export const STEP_NAMES = [
  'encrypt',
  'upload_data',
  'upload_grant',
  'identity',
  'wrap_key',
  'sign',
  'relay',
  'confirm',
  'inference_submit',
  'inference_wait',
  'verify',
] as const;
export type StepName = (typeof STEP_NAMES)[number];

/** Error classes used for counters, retry decisions and the circuit breaker. */
export const ERROR_CLASSES = [
  'nonce',
  'underpriced',
  'revert',
  'timeout',
  'rate_limited',
  'http_4xx',
  'http_5xx',
  'network',
  'integrity',
  /** The harness's own infrastructure went away mid-flow (the stack or anvil died, relayer keys ran dry). */
  'infra',
  'other',
] as const;
export type ErrorClass = (typeof ERROR_CLASSES)[number];

export type DataSize = 'small' | 'medium' | 'large';

export interface FlowError {
  step: StepName;
  errorClass: ErrorClass;
  /** Stable machine-readable code, e.g. `HTTP_STATUS`, `OPERATION_FAILED`, `INTEGRITY_MISMATCH`. */
  code: string;
  /** One line, no secrets. */
  message: string;
  httpStatus?: number;
}

export interface FlowResult {
  /** Sequence number of the flow in its run (0-based, in scheduling order). */
  flowId: number;
  /** HD index of the user wallet. */
  userIndex: number;
  userAddress: Address;
  testId: string;
  dataSize: DataSize;
  /** Plaintext bytes of the synthetic user data. */
  dataBytes: number;
  /** Epoch ms when the load model scheduled the flow; e2e is measured from here (no coordinated omission). */
  scheduledAt: number;
  /** Epoch ms when the client actually started the first step. */
  startedAt: number;
  endedAt: number;
  success: boolean;
  /** Milliseconds per step that ran; the failed step is included with its time until failure. */
  steps: Partial<Record<StepName, number>>;
  /** endedAt - scheduledAt, in ms. */
  e2eMs: number;
  txHash?: Hex;
  /**
   * The block that included the transaction, once its receipt came (mined, reverted or not): joins
   * the flow to its line of `blocks.jsonl`. The `relay` step is request → a node held the tx, the
   * `confirm` step held → receipt seen.
   */
  txBlock?: number;
  permissionId?: string;
  operationId?: string;
  /** sha256 (hex, no 0x) the personal server reported for the plaintext it decrypted, and a short excerpt of its result. */
  result?: { plaintextSha256: string; excerpt: string };
  error?: FlowError;
  /** Step retries spent by this flow (0 when none). */
  retries: number;
  /** Load-model phase the flow was scheduled in (`ramp_up`, `sustain`, ...), when the model has phases. */
  phase?: string;
}
