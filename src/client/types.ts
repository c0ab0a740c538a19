/**
 * What one flow (one virtual user's journey) produces. Every other part reads this: the metrics
 * collector, `flows.jsonl`, the summary builder, the terminal and HTML reports.
 */
import type { Address, Hex } from 'viem';
import type { ErrorClass, StepName } from '../errors.ts';

export type DataSize = 'small' | 'medium' | 'large';
export type TransactionMode = 'relayed' | 'direct';

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
